#!/usr/bin/env bash
# SCIM provisioning through the HTTP endpoint (loopback, 8 concurrent
# connections): 10,000 users, 500 groups with memberships, then userName
# look-ups. Prints p50/p99, throughput and SQL statements per request for
# docs/BENCHMARKS.md. Needs PostgreSQL (a scratch database per run).
#
#   bench/scim.sh                      # USERS=10000 GROUPS=500 C=8
#   USERS=2000 GROUPS=100 bench/scim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services
SQLX_OFFLINE=true cargo build --release --locked --quiet -p prep-tests --example scim_bench
/usr/bin/time -f "bench process: max RSS %M KiB" target/release/examples/scim_bench
