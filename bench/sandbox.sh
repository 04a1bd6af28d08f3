#!/usr/bin/env bash
# The playground's cold load in headless Chromium from a release gateway
# (new browser profile per run): when GraphiQL's editor is ready, the load
# event, and the bytes transferred. Needs Debian's chromium and
# chromium-driver (scripts/test-deps installs them).
#
#   bench/sandbox.sh          # 10 cold loads
#   RUNS=30 bench/sandbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services
SQLX_OFFLINE=true cargo build --release --locked --quiet -p prep-tests --example sandbox_bench
target/release/examples/sandbox_bench
