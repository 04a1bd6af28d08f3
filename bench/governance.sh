#!/usr/bin/env bash
# Traffic governance under load (release build, real TCP, the machine's
# Redis): the limiter and bulkhead per request, and the noisy-neighbour
# scenario (tenant B steady while tenant A floods at 10x its limit).
# Prints figures for docs/BENCHMARKS.md.
#
#   bench/governance.sh          # 15 s per phase
#   SECS=30 bench/governance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services
SQLX_OFFLINE=true cargo build --release --locked --quiet -p prep-tests --example governance_bench
/usr/bin/time -f "bench process: max RSS %M KiB" target/release/examples/governance_bench
