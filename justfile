# Everyday commands. CI runs the same ones (.ci/run).

# Show the recipes.
default:
    @just --list

# Try Rungs: the API server on the demo organisation of ./rungs.db.
demo:
    cargo run --release --bin rungs -- serve --demo

# Tests on SQLite only (set RUNGS_TEST_POSTGRES_URL / RUNGS_TEST_MYSQL_URL for the servers).
test:
    cargo test --workspace

# Tests on all three backends, against the local servers.
test-all:
    RUNGS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres RUNGS_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test --workspace

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Regenerate the committed matrix-file JSON Schema and GraphQL SDL.
schema:
    UPDATE_SCHEMA=1 cargo test -p rungs-format --test matrix_file committed_json_schema_matches_the_code
    UPDATE_SCHEMA=1 cargo test -p rungs-api --test api committed_sdl_matches_the_code

# What CI runs.
ci:
    bash .ci/run

# Growth at scale (release build, SQLite): generate 100,000 people, then time readiness for
# one manager's subtree and for everyone. Figures go in docs/growth.md.
bench-growth people="100000":
    cargo build --release --bin rungs
    rm -rf target/bench-growth && mkdir -p target/bench-growth
    cd target/bench-growth && time ../release/rungs demo seed --org bench --people {{people}}
    cd target/bench-growth && time ../release/rungs readiness --org bench --manager manager@bench.rungs.test --format json > subtree.json
    cd target/bench-growth && time ../release/rungs readiness --org bench --format json > everyone.json

# The API under load (release build, PostgreSQL, wrk; PostGraphile 4.14.1 from npm for
# comparison): seeds `people`, measures each query and prints requests/s, p50, p99, the ratios
# and the server's peak RSS. Figures go in docs/performance.md. See scripts/bench-api.sh.
bench-api people="100000":
    bash scripts/bench-api.sh {{people}}

# Fuzz one parser (needs nightly and `cargo install cargo-fuzz`): matrix_yaml, matrix_json,
# matrix_csv, mapping or people_csv. See docs/versions.md.
fuzz target="matrix_yaml" secs="300":
    mkdir -p fuzz/corpus/{{target}}
    cd fuzz && cargo +nightly fuzz run {{target}} corpus/{{target}} seeds/{{target}} -- -max_total_time={{secs}}

# The web app's pages, one request at a time: p50 and p95 on the demo organisation and on an
# organisation of `people` on PostgreSQL. Figures go in docs/web.md. See scripts/bench-web.sh.
bench-web people="100000":
    bash scripts/bench-web.sh {{people}}

# `rungs people import` of a generated CSV (10% of `rows`, then all) into a fresh SQLite file:
# time and peak RSS. Figures go in docs/performance.md. See scripts/bench-import.sh.
bench-import rows="100000":
    bash scripts/bench-import.sh {{rows}}

# Bulk writes on SQLite, PostgreSQL and MariaDB: `demo seed` and `people import` of `rows`
# people on each, timed with peak RSS, each server as a multiple of SQLite's time. Figures go
# in docs/performance.md. See scripts/bench-bulk.sh.
bench-bulk rows="100000":
    bash scripts/bench-bulk.sh {{rows}}

# The server under attack (release build, PostgreSQL, wrk): hostile documents against a victim
# client, then failed sign-in floods from one address and from many, with the server's memory
# before, at the peak and after. Figures go in docs/operations.md. See scripts/bench-hardening.sh.
bench-hardening people="20000":
    bash scripts/bench-hardening.sh {{people}}
