#!/usr/bin/env bash
# `just bench-hardening [people]`: the server under attack (issue 13), measured in one run
# (docs/operations.md, "Measured under attack").
#
# Builds release, seeds `people` people on PostgreSQL (database `rungs_hardening`, dropped and
# made again), starts `rungs serve` (trusting 127.0.0.1 as a proxy, so the flood below can
# speak for many client addresses), then:
#
# 1. Hostile documents: while a victim (wrk, 2 connections) reads `me`, three attackers keep
#    sending 1,000 aliases of `me`, 1,000 aliases of `growthPlan` (signed in) and an anonymous
#    fragment bomb (2^26 spreads). Prints each attack's answers, p50 and max time, and the
#    victim's p50/p99 with and without the attack.
# 2. Sign-in floods: failed sign-ins from 25 connections for BENCH_SECONDS, first from one
#    address (the per-address limit answers), then from a new random address and email each
#    time (every one asks for a password check). Prints the server's resident memory before,
#    at the peak and 30 s after each, and whether the right password still works.
#
# Needs: psql and a PostgreSQL server (RUNGS_BENCH_POSTGRES, default
# postgres://postgres@127.0.0.1:5432), wrk (Debian: apt-get install wrk), curl, python3.
set -euo pipefail

PEOPLE=${1:-20000}
PG=${RUNGS_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
DB=rungs_hardening
SECONDS_EACH=${BENCH_SECONDS:-20}
ADDR=127.0.0.1:8099
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=$HERE/target/bench-hardening
POST=$HERE/scripts/bench/post.lua
FLOOD=$HERE/scripts/bench/flood.lua

need() { command -v "$1" >/dev/null || { echo "bench-hardening needs $1: $2" >&2; exit 1; }; }
need psql "the PostgreSQL client"
need wrk "apt-get install wrk"
need curl "apt-get install curl"
need python3 "apt-get install python3"

cd "$HERE"
cargo build --release --bin rungs
BIN=$HERE/target/release/rungs
rm -rf "$OUT" && mkdir -p "$OUT"

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>&1 | grep -v NOTICE || true
export RUNGS_DATABASE_URL="$PG/$DB"
export RUNGS_JWT_SECRET=bench-only-secret-bench-only-secret-0123456789
export RUNGS_CONFIG=$OUT/rungs.toml
cat >"$RUNGS_CONFIG" <<'TOML'
# The bench's attacker speaks for many addresses through a proxy at 127.0.0.1.
trusted_proxies = ["127.0.0.1"]
TOML
"$BIN" db migrate >/dev/null
echo "== seeding $PEOPLE people (PostgreSQL, release build)"
"$BIN" demo seed --org bench --people "$PEOPLE" >"$OUT/seed.log" 2>&1

"$BIN" serve --addr "$ADDR" >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://$ADDR/readyz" >/dev/null && break
  sleep 0.2
done
curl -sf "http://$ADDR/readyz" >/dev/null || { echo "the server did not start: $OUT/serve.log" >&2; exit 1; }

API=http://$ADDR/graphql
EMPLOYEE=$("$BIN" token issue employee@bench.rungs.test --org bench --ttl 2h 2>/dev/null)
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status"; }

# The hostile documents, written once.
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def save(name, query):
    with open(f"{out}/{name}.json", "w") as f:
        json.dump({"query": query}, f)
save("aliases-me", "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(1000)) + " }")
save("aliases-growth", "{ " + " ".join(f"a{i}: growthPlan {{ total }}" for i in range(1000)) + " }")
bomb = "query { ...F26 }\nfragment F0 on Query { apiVersion }\n"
bomb += "".join(f"fragment F{i} on Query {{ ...F{i-1} ...F{i-1} }}\n" for i in range(1, 27))
save("fragment-bomb", bomb)
save("me", "{ me { id email displayName current { track level } } }")
PY

# victim label seconds: the victim's p50 and p99 reading `me` (wrk, 1 thread, 2 connections).
victim() {
  TOKEN=$EMPLOYEE BODY=$(cat "$OUT/me.json") wrk -t1 -c2 -d"$2s" --latency -s "$POST" "$API" >"$OUT/victim-$1.txt"
  awk -v l="$1" '$1 == "50%" {p50=$2} $1 == "99%" {p99=$2} /^Requests\/sec:/ {rps=$2}
    END {printf "  victim reading me, %-16s %8s req/s   p50 %8s   p99 %8s\n", l, rps, p50, p99}' "$OUT/victim-$1.txt"
}

# attack name token: sends the document again and again until told to stop; one line per answer.
attack() {
  local name=$1 tok=$2
  while [ ! -f "$OUT/stop" ]; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$API" -H 'content-type: application/json' \
      ${tok:+-H "authorization: Bearer $tok"} --data-binary "@$OUT/$name.json" >>"$OUT/attack-$name.txt"
  done
}

echo "== hostile documents against a victim (${SECONDS_EACH} s)"
victim "alone" "$SECONDS_EACH"
rm -f "$OUT/stop"
ATTACKERS=()
attack aliases-me "$EMPLOYEE" &
ATTACKERS+=($!)
attack aliases-growth "$EMPLOYEE" &
ATTACKERS+=($!)
attack fragment-bomb "" &
ATTACKERS+=($!)
victim "under attack" "$SECONDS_EACH"
touch "$OUT/stop"
wait "${ATTACKERS[@]}" 2>/dev/null || true
for name in aliases-me aliases-growth fragment-bomb; do
  sort -k2 -g "$OUT/attack-$name.txt" | awk -v n="$name" '
    { code[$1]++; t[NR] = $2 }
    END {
      codes = ""; for (c in code) codes = codes c "x" code[c] " ";
      printf "  %-15s %6d sent   answers %-12s p50 %7.1f ms   max %7.1f ms\n", n, NR, codes, t[int((NR + 1) / 2)] * 1000, t[NR] * 1000
    }'
done
echo "  server RSS after the attacks: $(rss_mib) MiB"

# flood label lua-env...: failed sign-ins from 25 connections; RSS sampled every 0.2 s.
flood() {
  local label=$1; shift
  sleep 5
  local before peak=0 now after
  before=$(rss_mib)
  env "$@" ORG=bench wrk -t2 -c25 -d"${SECONDS_EACH}s" -s "$FLOOD" "$API" >"$OUT/flood-$label.txt" &
  local w=$!
  while kill -0 "$w" 2>/dev/null; do
    now=$(rss_mib); [ "$now" -gt "$peak" ] && peak=$now
    sleep 0.2
  done
  local right
  right=$(curl -s "$API" -H 'content-type: application/json' -d \
    '{"query":"mutation { login(organisation: \"bench\", email: \"hr@bench.rungs.test\", password: \"rungs-demo-password\") { accessToken } }"}')
  [[ "$right" == *accessToken* ]] && right="signs in" || right="REFUSED: ${right:0:120}"
  sleep 30
  after=$(rss_mib)
  awk -v l="$label" -v b="$before" -v p="$peak" -v a="$after" -v r="$right" '
    /^Requests\/sec:/ {rps=$2} /Non-2xx/ {non=$5}
    END {printf "  %-22s %7s req/s (%s not 2xx)   RSS before %4d MiB, peak %4d MiB, 30 s after %4d MiB (%+.0f%%)   right password just after: %s\n",
      l, rps, non == "" ? 0 : non, b, p, a, (a - b) * 100 / b, r}' "$OUT/flood-$label.txt"
}

echo "== failed sign-ins from 25 connections (${SECONDS_EACH} s each)"
flood "one address" SAME_ADDRESS=1
flood "a new address each" NONE=1
echo "  server peak RSS through the run: $(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status") MiB"
