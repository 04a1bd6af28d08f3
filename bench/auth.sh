#!/usr/bin/env bash
# Token verification and principal resolution on the request path, in
# process (no network): prints p50/p99 and throughput for
# docs/BENCHMARKS.md. Needs PostgreSQL (a scratch database per run).
#
#   bench/auth.sh          # 100k verifications, 10k requests, 5k sessions
#   N=20000 bench/auth.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services
SQLX_OFFLINE=true cargo run --release --locked --quiet -p prep-tests --example auth_bench
