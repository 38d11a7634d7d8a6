#!/usr/bin/env bash
# `just bench-bulk [rows]`: bulk writes on every backend, measured in one run
# (docs/performance.md). Builds release, then on SQLite (a fresh file), PostgreSQL and MariaDB
# (a fresh database `rungs_bulk` on each) times with GNU time, with peak RSS:
#   - `rungs demo seed --people rows` (people, positions, credentials, assessments, cases);
#   - `rungs people import` of a generated CSV of `rows` people (a reporting tree ten wide,
#     everyone placed on the python template's matrix) into an organisation holding only the
#     matrix.
# and prints each server backend's time as a multiple of SQLite's (issue 12: within 3x).
#
# Needs GNU time (/usr/bin/time), awk, and for the servers the `psql` and `mysql` clients.
# RUNGS_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432) and RUNGS_BENCH_MYSQL
# (default mysql://root@127.0.0.1:3306); a server that does not answer is skipped with a note.
set -euo pipefail

ROWS=${1:-100000}
PG=${RUNGS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
MY=${RUNGS_BENCH_MYSQL:-mysql://root@127.0.0.1:3306}
DB=rungs_bulk
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$HERE/target/bench-bulk
[ -x /usr/bin/time ] || { echo "bench-bulk needs GNU time (/usr/bin/time)" >&2; exit 1; }
cd "$HERE"
cargo build --release --bin rungs
BIN=$HERE/target/release/rungs
rm -rf "$OUT" && mkdir -p "$OUT"

awk -v n="$ROWS" -f "$HERE/scripts/bench/people-csv.awk" >"$OUT/people.csv"

# fresh backend: a URL to an empty database of that backend (or nothing: not available)
fresh() {
  case $1 in
  sqlite)
    rm -f "$OUT/bulk.db"*
    echo "sqlite://$OUT/bulk.db"
    ;;
  postgres)
    command -v psql >/dev/null && psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" \
      -c "CREATE DATABASE $DB" >/dev/null 2>&1 && echo "$PG/$DB"
    ;;
  mariadb)
    local hostport=${MY#mysql://}
    hostport=${hostport#*@}
    command -v mysql >/dev/null && mysql -h "${hostport%:*}" -P "${hostport#*:}" -uroot \
      -e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB" >/dev/null 2>&1 && echo "$MY/$DB"
    ;;
  esac
}

timed() { # name command...: runs it, prints and records "seconds MiB"
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1 || {
    echo "$name failed: $OUT/$name.log" >&2
    exit 1
  }
  read -r secs kib <"$OUT/$name.time"
  printf '%-34s %8.2f s  peak RSS %5d MiB\n' "$name" "$secs" $((kib / 1024))
  echo "$secs" >"$OUT/$name.secs"
}

export RUNGS_JWT_SECRET=bench-only-secret-bench-only-secret-0123456789
DONE=()
for backend in sqlite postgres mariadb; do
  url=$(fresh "$backend" || true)
  if [ -z "$url" ]; then
    echo "$backend: not available, skipped"
    continue
  fi
  export RUNGS_DATABASE_URL=$url
  "$BIN" db migrate >/dev/null
  timed "$backend: demo seed $ROWS" "$BIN" demo seed --org seeded --people "$ROWS"
  "$BIN" org create imported --name Imported >/dev/null
  "$BIN" matrix import --template python --org imported >/dev/null
  timed "$backend: people import $ROWS" "$BIN" people import "$OUT/people.csv" --org imported
  DONE+=("$backend")
done

echo
for what in "demo seed" "people import"; do
  base="$OUT/sqlite: $what $ROWS.secs"
  [ -f "$base" ] || continue
  for backend in "${DONE[@]}"; do
    [ "$backend" = sqlite ] && continue
    python3 -c "import sys; print(f'{sys.argv[1]}: {sys.argv[2]} / SQLite: {float(open(sys.argv[3]).read()) / float(open(sys.argv[4]).read()):.2f}x')" \
      "$what" "$backend" "$OUT/$backend: $what $ROWS.secs" "$base"
  done
done
