#!/usr/bin/env bash
# Connector API key authentication on the request path, revocation reaching
# another replica, and HRIS batch sync throughput, in process (no network):
# prints p50/p99 and throughput for docs/BENCHMARKS.md. Needs PostgreSQL (a
# scratch database per run).
#
#   bench/connectors.sh                  # 100k key checks, 25 batch pairs
#   N=20000 BATCHES=10 bench/connectors.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services
SQLX_OFFLINE=true cargo build --release --locked --quiet -p prep-tests --example connector_bench
/usr/bin/time -f "bench process: max RSS %M KiB" target/release/examples/connector_bench
