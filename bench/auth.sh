#!/usr/bin/env bash
# Token verification and principal resolution on the request path, in
# process (no network): prints p50/p99 and throughput for
# docs/BENCHMARKS.md. Needs PostgreSQL (a scratch database per run).
#
#   bench/auth.sh          # 100k verifications, 20k fresh tokens, 10k requests, 5k sessions
#   N=20000 bench/auth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services
SQLX_OFFLINE=true cargo build --release --locked --quiet -p prep-tests --example auth_bench
/usr/bin/time -f "bench process: max RSS %M KiB" target/release/examples/auth_bench
