#!/usr/bin/env bash
# `just bench-web [people]`: the web app's pages, rendered one request at a time, p50 and p95
# of BENCH_REQUESTS requests each (curl's time to the last byte), on the demo organisation
# (`serve --demo`, SQLite) and on an organisation of `people` people on PostgreSQL (database
# `rungs_bench_web`, dropped and made again). Figures go in docs/web.md.
#
# Needs: psql and a PostgreSQL server (RUNGS_BENCH_POSTGRES, default
# postgres://postgres@127.0.0.1:5432) and curl.
set -euo pipefail

PEOPLE=${1:-100000}
PG=${RUNGS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=rungs_bench_web
N=${BENCH_REQUESTS:-200}
ADDR=127.0.0.1:8096
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$HERE/target/bench-web

command -v psql >/dev/null || { echo "bench-web needs psql" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench-web needs curl" >&2; exit 1; }
cd "$HERE"
cargo build --release --bin rungs
BIN=$HERE/target/release/rungs
rm -rf "$OUT" && mkdir -p "$OUT"
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true' EXIT

start() { # args...
  if curl -sf "http://$ADDR/readyz" >/dev/null; then
    echo "something already answers on $ADDR: stop it first" >&2
    exit 1
  fi
  "$BIN" serve --addr "$ADDR" "$@" >"$OUT/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do
    curl -sf "http://$ADDR/readyz" >/dev/null && return 0
    sleep 0.2
  done
  echo "the server did not start: $OUT/serve.log" >&2
  exit 1
}

sign_in() { # email jar (the organisation is the first label of the email's domain)
  local form csrf code org
  org=${1#*@}; org=${org%%.*}
  rm -f "$2"
  form=$(curl -s -c "$2" -b "$2" "http://$ADDR/signin")
  csrf=$(grep -o 'name="_csrf" value="[^"]*"' <<<"$form" | head -1 | sed 's/.*value="//;s/"$//')
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$2" -b "$2" "http://$ADDR/signin" \
    --data-urlencode "organisation=$org" --data-urlencode "email=$1" --data-urlencode "password=rungs-demo-password" --data-urlencode "_csrf=$csrf")
  [ "$code" = 303 ] || { echo "could not sign in as $1 (HTTP $code)" >&2; exit 1; }
}

measure() { # label jar path
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$2" "http://$ADDR$3")
  [ "$code" = 200 ] || { echo "$3 answered $code" >&2; exit 1; }
  for _ in $(seq 1 "$N"); do
    curl -s -o /dev/null -w '%{time_total}\n' -b "$2" "http://$ADDR$3"
  done | sort -n >"$OUT/times"
  local p50 p95
  p50=$(sed -n "$(( (N + 1) / 2 ))p" "$OUT/times")
  p95=$(sed -n "$(( (N * 95 + 99) / 100 ))p" "$OUT/times")
  awk -v l="$1" -v p="$3" -v a="$p50" -v b="$p95" \
    'BEGIN { printf "%-24s %-44s p50 %7.1f ms   p95 %7.1f ms\n", l, p, a * 1000, b * 1000 }'
}

pages() { # org-label employee manager
  sign_in "$2" "$OUT/employee.jar"
  sign_in "$3" "$OUT/manager.jar"
  local report
  report=$(curl -s -b "$OUT/manager.jar" "http://$ADDR/team?scope=direct&sort=name" \
    | grep -o 'href="/people/[^"]*"' | head -1 | sed 's/href="//;s/"$//')
  for p in /growth "/explore?to=data-analyst/intermediate" /history /matrix; do
    measure "$1 employee" "$OUT/employee.jar" "$p"
  done
  for p in /team "/team?scope=direct&sort=level" "$report"; do
    measure "$1 manager" "$OUT/manager.jar" "$p"
  done
}

stop() {
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=
}

echo "== the demo organisation (serve --demo, SQLite, 30 people)"
RUNGS_DATABASE_URL="sqlite://$OUT/demo.db" start --demo
pages demo employee@demo.rungs.test manager@demo.rungs.test
sign_in hr@demo.rungs.test "$OUT/hr.jar"
for p in /people /promotions /promotions/rule /analytics /audit /matrices/python "/matrices/python/diff?from=1&to=1"; do
  measure "demo hr" "$OUT/hr.jar" "$p"
done
stop

echo "== an organisation of $PEOPLE people (PostgreSQL)"
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>&1 | grep -v NOTICE || true
export RUNGS_DATABASE_URL="$PG/$DB"
export RUNGS_JWT_SECRET=bench-only-secret-bench-only-secret-0123456789
"$BIN" db migrate >/dev/null
"$BIN" demo seed --org bench --people "$PEOPLE" >"$OUT/seed.log" 2>&1
start
pages "$PEOPLE people" employee@bench.rungs.test manager@bench.rungs.test
sign_in head@bench.rungs.test "$OUT/head.jar"
measure "$PEOPLE people head" "$OUT/head.jar" /team
measure "$PEOPLE people head" "$OUT/head.jar" "/team?sort=name"
sign_in hr@bench.rungs.test "$OUT/hr.jar"
measure "$PEOPLE people hr" "$OUT/hr.jar" /people
measure "$PEOPLE people hr" "$OUT/hr.jar" "/people?q=berg5&inactive=1"
measure "$PEOPLE people hr" "$OUT/hr.jar" "/people?track=python-developer&manager=manager%40bench.rungs.test"
for p in /promotions "/promotions?status=all" /promotions/rule /analytics \
  "/analytics?manager=head%40bench.rungs.test" /audit \
  "/audit?person=employee%40bench.rungs.test" /matrices/python; do
  measure "$PEOPLE people hr" "$OUT/hr.jar" "$p"
done
stop
