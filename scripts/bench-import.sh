#!/usr/bin/env bash
# `just bench-import [rows]`: `rungs people import` of a generated CSV of `rows` people (a
# reporting tree ten wide, every row placed on the python template's matrix) into a fresh
# SQLite file, timed with its peak RSS (GNU time), at 10% and 100% of `rows` so that a
# quadratic cost shows. Figures go in docs/performance.md.
#
# Needs: GNU time (/usr/bin/time) and awk.
set -euo pipefail

ROWS=${1:-100000}
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$HERE/target/bench-import
[ -x /usr/bin/time ] || { echo "bench-import needs GNU time (/usr/bin/time)" >&2; exit 1; }
cd "$HERE"
cargo build --release --bin rungs
BIN=$HERE/target/release/rungs
rm -rf "$OUT" && mkdir -p "$OUT"

csv() { # rows file
  awk -v n="$1" -f "$HERE/scripts/bench/people-csv.awk" >"$2"
}

run() { # rows
  local db="$OUT/import-$1.db"
  export RUNGS_DATABASE_URL="sqlite://$db"
  "$BIN" db migrate >/dev/null
  "$BIN" org create bench --name Bench >/dev/null
  "$BIN" matrix import --template python --org bench >/dev/null
  csv "$1" "$OUT/people-$1.csv"
  /usr/bin/time -f "%e %M" -o "$OUT/time-$1" "$BIN" people import "$OUT/people-$1.csv" --org bench >"$OUT/import-$1.log"
  read -r secs kib <"$OUT/time-$1"
  printf "people import of %7d rows (SQLite): %6.2f s, peak RSS %4d MiB\n" "$1" "$secs" $((kib / 1024))
}

run $((ROWS / 10))
run "$ROWS"
