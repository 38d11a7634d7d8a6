#!/usr/bin/env bash
# `just bench-api [people]`: the API under load, measured in one run (docs/performance.md).
#
# Builds release, seeds `people` people on PostgreSQL (database `rungs_bench`, dropped and made
# again), measures the seed and the CLI's readiness report (time and peak RSS), checkpoints, starts
# `rungs serve`, and drives each query with wrk (2 threads, 8 connections, BENCH_SECONDS each).
# Then starts PostGraphile 4.14.1 (npm) on the same database and drives the query that fetches
# the same growth plan's raw data. Prints requests/s, p50 and p99 for each, the ratios, and the
# server's peak RSS.
#
# Both servers talk to PostgreSQL over loopback without TLS (`sslmode=disable`), as
# PostGraphile's client does by default; BENCH_PG_SSLMODE=prefer measures Rungs with TLS to the
# database (sqlx's default, which negotiates TLS with a server that offers it), for the cost
# of TLS per statement; PostGraphile stays without TLS.
#
# Needs: psql and a PostgreSQL server (RUNGS_BENCH_POSTGRES, default
# postgres://postgres@127.0.0.1:5432), wrk (Debian: apt-get install wrk), curl, GNU time
# (/usr/bin/time) and Node.js with npm (PostGraphile only; set BENCH_SKIP_POSTGRAPHILE=1 to
# skip it).
set -euo pipefail

PEOPLE=${1:-100000}
PG=${RUNGS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=rungs_bench
SSLMODE=${BENCH_PG_SSLMODE:-disable}
SECONDS_EACH=${BENCH_SECONDS:-10}
ADDR=127.0.0.1:8097
GRAPHILE_PORT=8098
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$HERE/target/bench-api
LUA=$HERE/scripts/bench/post.lua

need() { command -v "$1" >/dev/null || { echo "bench-api needs $1: $2" >&2; exit 1; }; }
need psql "the PostgreSQL client"
need wrk "apt-get install wrk"
need curl "apt-get install curl"
[ -x /usr/bin/time ] || { echo "bench-api needs GNU time: apt-get install time" >&2; exit 1; }

cd "$HERE"
cargo build --release --bin rungs
BIN=$HERE/target/release/rungs
rm -rf "$OUT" && mkdir -p "$OUT"

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>&1 | grep -v NOTICE || true
export RUNGS_DATABASE_URL="$PG/$DB?sslmode=$SSLMODE"
export RUNGS_JWT_SECRET=bench-only-secret-bench-only-secret-0123456789
"$BIN" db migrate >/dev/null

echo "== seed and report (PostgreSQL, release build)"
/usr/bin/time -f "%e %M" -o "$OUT/seed.time" "$BIN" demo seed --org bench --people "$PEOPLE" >"$OUT/seed.log" 2>&1
read -r seed_s seed_kb <"$OUT/seed.time"
/usr/bin/time -f "%e %M" -o "$OUT/readiness.time" "$BIN" readiness --org bench --format json >"$OUT/readiness.json"
read -r rep_s rep_kb <"$OUT/readiness.time"
printf '%-44s %8s s  peak RSS %6d MiB\n' "demo seed --people $PEOPLE" "$seed_s" $((seed_kb / 1024))
printf '%-44s %8s s  peak RSS %6d MiB\n' "readiness (everyone, JSON)" "$rep_s" $((rep_kb / 1024))
# Write the seed's pages out now, so that the checkpoint's I/O does not fall on the first
# queries measured (the ceiling).
psql "$PG/$DB" -qc "CHECKPOINT"

"$BIN" serve --addr "$ADDR" >"$OUT/serve.log" 2>&1 &
SERVER=$!
GRAPHILE=
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  [ -n "$GRAPHILE" ] && kill "$GRAPHILE" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://$ADDR/readyz" >/dev/null && break
  sleep 0.2
done
curl -sf "http://$ADDR/readyz" >/dev/null || { echo "the server did not start: $OUT/serve.log" >&2; exit 1; }

token() { "$BIN" token issue "$1" --org bench --ttl 2h 2>/dev/null; }
HR=$(token hr@bench.rungs.test)
MANAGER=$(token manager@bench.rungs.test)
EMPLOYEE=$(token employee@bench.rungs.test)

# POST one query; fail loudly on a GraphQL error.
gql() { # url token body
  local reply
  reply=$(curl -s "$1" -H 'content-type: application/json' ${2:+-H "authorization: Bearer $2"} -d "$3") || {
    echo "no answer from $1" >&2
    exit 1
  }
  if [[ "$reply" != *'"data"'* || "$reply" == *'"errors"'* ]]; then
    echo "the query failed: $3 -> ${reply:0:400}" >&2
    exit 1
  fi
  printf '%s' "$reply"
}
json_body() { python3 -c 'import json,sys; print(json.dumps({"query": sys.argv[1], "variables": json.loads(sys.argv[2])}))' "$1" "${2:-{\}}"; }

EMPLOYEE_ID=$(gql "http://$ADDR/graphql" "$EMPLOYEE" "$(json_body '{ me { id } }')" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["me"]["id"])')

declare -A RPS P50 P99
ORDER=()
# drive name url token body: wrk for SECONDS_EACH, after one checked request.
drive() {
  local name=$1 url=$2 tok=$3 body=$4
  gql "$url" "$tok" "$body" >/dev/null
  TOKEN=$tok BODY=$body wrk -t2 -c8 -d"${SECONDS_EACH}s" --latency -s "$LUA" "$url" >"$OUT/wrk-$name.txt"
  RPS[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/wrk-$name.txt")
  P50[$name]=$(awk '$1 == "50%" {print $2}' "$OUT/wrk-$name.txt")
  P99[$name]=$(awk '$1 == "99%" {print $2}' "$OUT/wrk-$name.txt")
  if grep -q "Non-2xx" "$OUT/wrk-$name.txt"; then
    echo "$name: some requests failed: $OUT/wrk-$name.txt" >&2
  fi
  ORDER+=("$name")
}

API=http://$ADDR/graphql
echo "== Rungs (wrk: 2 threads, 8 connections, ${SECONDS_EACH} s each; PostgreSQL sslmode=$SSLMODE)"
drive ceiling "$API" "$HR" "$(json_body '{ organisation { name } }')"
drive me "$API" "$EMPLOYEE" "$(json_body '{ me { id email displayName current { track level } } }')"
drive people "$API" "$HR" "$(json_body '{ people(first: 20) { edges { node { id email displayName } } pageInfo { endCursor hasNextPage } } }')"
drive person "$API" "$HR" "$(json_body 'query($id: ID!) { person(id: $id) { id email displayName current { track level } } }' "{\"id\": \"$EMPLOYEE_ID\"}")"
drive search "$API" "$HR" "$(json_body '{ people(first: 20, filter: { search: "mira.berg5" }) { totalCount edges { node { id email displayName } } } }')"
drive growthPlan "$API" "$EMPLOYEE" "$(json_body '{ growthPlan { current { level { key } } target { level { key } } met total progress gaps { expectation { key name } status } } }')"
drive team "$API" "$MANAGER" "$(json_body '{ team(first: 50) { edges { node { person { email } score ready monthsInLevel } } pageInfo { endCursor hasNextPage } } }')"
drive dashboard "$API" "$MANAGER" "$(json_body '{ team(first: 20) { edges { node { person { email displayName growthPlan { total gaps { expectation { key label } } } } current { track level } target { level { key name } } score ready reasons { kind ok message } openCase { id status proposedAt proposer { email } events { kind actor { email } } } } } } }')"
# HR's calibration of the whole organisation: counts per placement, grouped in SQL.
drive calibration "$API" "$HR" "$(json_body '{ calibration { people unplaced matrices { people cells { track level count openCases } } } }')"
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")

if [ -z "${BENCH_SKIP_POSTGRAPHILE:-}" ]; then
  need npm "Node.js and npm, for PostGraphile"
  echo "== PostGraphile 4.14.1 on the same database"
  (cd "$OUT" && npm init -y >/dev/null && npm install --silent postgraphile@4.14.1 >/dev/null)
  "$OUT/node_modules/.bin/postgraphile" -c "$PG/$DB?sslmode=disable" --schema public --host 127.0.0.1 \
    --port "$GRAPHILE_PORT" --disable-query-log --simple-collections only >"$OUT/postgraphile.log" 2>&1 &
  GRAPHILE=$!
  for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$GRAPHILE_PORT/graphql" -H 'content-type: application/json' \
      -d '{"query":"{ __typename }"}' >/dev/null && break
    sleep 0.2
  done
  # The raw data of the same growth plan: the person, their latest assignment, its track's
  # cells with their criteria, and the person's assessments.
  RAW='query($id: UUID!) { personById(id: $id) { email displayName
    levelAssignmentsByPersonIdList(orderBy: [EFFECTIVE_DESC, RECORDED_AT_DESC], first: 1) { effective
      levelByLevelId { key rank } trackByTrackId { key cellsByTrackIdList { levelByLevelId { key rank } titles
        cellExpectationsByCellIdList(orderBy: POSITION_ASC) { expectationByExpectationId { key name } } } } }
    assessmentsByPersonIdList(orderBy: ASSESSED_AT_DESC) { rating assessorRole assessedAt expectationByExpectationId { key } } } }'
  drive postgraphile "http://127.0.0.1:$GRAPHILE_PORT/graphql" "" "$(json_body "$RAW" "{\"id\": \"$EMPLOYEE_ID\"}")"
fi

echo
printf '%-14s %10s %10s %10s %8s\n' query 'req/s' p50 p99 ratio
for name in "${ORDER[@]}"; do
  ratio=$(python3 -c "print(f'{float(\"${RPS[$name]}\") / float(\"${RPS[ceiling]}\"):.2f}')")
  printf '%-14s %10s %10s %10s %8s\n' "$name" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "$ratio"
done
if [ -n "${RPS[postgraphile]:-}" ]; then
  python3 -c "print(f'growthPlan / PostGraphile raw data: {float(\"${RPS[growthPlan]}\") / float(\"${RPS[postgraphile]}\"):.2f}')"
fi
echo "server peak RSS: $((RSS_KB / 1024)) MiB"
