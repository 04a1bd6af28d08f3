#!/usr/bin/env bash
# Load benchmark of the request path. Not a test: it prints figures for
# docs/BENCHMARKS.md. Needs `wrk` (apt-get install wrk) and pgbench.
#
#   bench/run.sh            # 20 s per scenario, 16 connections
#   DURATION=10s CONNS=8 bench/run.sh
#   APART=1 bench/run.sh    # the domains served on their own
#                           # (`serve --subgraph platform` on PORT+1) behind
#                           # a gateway that declares them as a remote
#   APART=workforce bench/run.sh   # one domain served on its own, the
#                           # others in process
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
CONNS=${CONNS:-16}
PORT=${PORT:-18080}
DB=prep_bench
OUT=bench/out
mkdir -p "$OUT"
scripts/services
command -v wrk >/dev/null || { echo "install wrk: apt-get install -y wrk" >&2; exit 1; }

export SQLX_OFFLINE=true
cargo build --release --locked -p prep-gateway --quiet
BIN=target/release/prep-gateway
export PREP_DATABASE__NAME=$DB PREP_SERVER__LISTEN=127.0.0.1:$PORT PREP_SERVER__PUBLIC_URL=http://127.0.0.1:$PORT \
  PREP_AUTH__MASTER_KEY_FILE=$OUT/master.key PREP_TELEMETRY__FILTER=warn \
  PREP_COMPLIANCE__REVIEW_INTERVAL_SECS=0 PREP_DATABASE__MAX_CONNECTIONS=${POOL:-8}

$BIN migrate
if [ "$(psql -h 127.0.0.1 -U postgres -d $DB -Atc "select count(*) from tenants where slug = 'bench'")" = 0 ]; then
  echo "seeding 500 locations / 10k employees"
  /usr/bin/time -f "seed: %e s, max RSS %M KiB" $BIN seed --tenant bench --size bench
fi
# The mutation scenario of earlier runs leaves dead rows behind (a list
# read 10 % slower after two runs): every run starts from vacuumed tables.
psql -h 127.0.0.1 -U postgres -d $DB -qc "vacuum (analyze)"
METRICS=http://127.0.0.1:$PORT/metrics
APART_NAME=${APART:-}
[ "$APART_NAME" = 1 ] && APART_NAME=platform
if [ -n "$APART_NAME" ]; then
  SERVICE_PORT=$((PORT + 1))
  printf '[federation]\nreload_secs = 0\n[[federation.subgraphs]]\nname = "%s"\nurl = "http://127.0.0.1:%s/graphql"\n' \
    "$APART_NAME" $SERVICE_PORT > $OUT/apart.toml
  export PREP_CONFIG=$OUT/apart.toml
  export PREP_TELEMETRY__FILTER=warn,prep_gateway::federation=info   # to see it compose
  SERVICE_METRICS=http://127.0.0.1:$SERVICE_PORT/metrics   # part of the SQL runs there
fi
# The figures are the request path's, not the plan's limits: lift them.
$BIN tenant limits --tenant bench --plan enterprise --set requests_per_second=100000 \
  --set burst=1000000 --set credential_requests_per_second=100000 --set credential_burst=1000000 \
  --set cost_maximum=10000000 --set cost_restore_rate=10000000 --set max_query_cost=10000000 --set max_concurrent_operations=10000 > /dev/null
$BIN serve --dev > $OUT/serve.log 2>&1 &
GW=$!
trap 'kill $GW ${SERVICE:-} 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.2; done
if [ -n "${APART:-}" ]; then
  # The domains' own service (after `serve --dev` made the master key);
  # until the supergraph composes the gateway runs the domains itself.
  PREP_SERVER__LISTEN=127.0.0.1:$SERVICE_PORT $BIN serve --subgraph "$APART_NAME" > $OUT/service.log 2>&1 &
  SERVICE=$!
  for _ in $(seq 1 150); do grep -q "supergraph composed" $OUT/serve.log && break; sleep 0.2; done
  grep -q "supergraph composed" $OUT/serve.log || { echo "the supergraph did not compose" >&2; exit 1; }
fi
export TOKEN=$($BIN token mint --tenant bench --email bench@bench.example --ttl-secs 3600 --role owner)
TENANT=$(psql -h 127.0.0.1 -U postgres -d $DB -Atc "select id from tenants where slug = 'bench'")
LOC_UUID=$(psql -h 127.0.0.1 -U postgres -d $DB -Atc "select id from locations where tenant_id = '$TENANT' order by store_number limit 1")
LOC_ID=$(printf 'Location:%s' "$LOC_UUID" | base64 -w0 | tr '+/' '-_' | tr -d '=')

cat > $OUT/list.json <<JSON
{"query":"{ locations(first: 50) { pageInfo { hasNextPage endCursor } nodes { id storeNumber name address { city state } complianceStatus compliance { reason } } } }"}
JSON
cat > $OUT/detail.json <<JSON
{"query":"query(\$id: ID!) { location(id: \$id) { name complianceStatus employees(first: 50) { nodes { firstName lastName jobTitle credentials { kind expiresOn status } } } } }","variables":{"id":"$LOC_ID"}}
JSON
cat > $OUT/mutation.json <<JSON
{"query":"mutation(\$id: ID!) { updateLocation(input: { id: \$id, name: \"Bench Kitchen\" }) { location { id complianceStatus } userErrors { message } } }","variables":{"id":"$LOC_ID"}}
JSON

# SQL statements: those of both processes, per operation the gateway served
# (the gateway counts only those it ran; the service, those it ran)
stat() {
  for m in $METRICS ${SERVICE_METRICS:-}; do curl -s $m | awk -v k="$1" '$1==k {print $2}'; done \
    | awk '{s += $1} END {print s + 0}'
}
ops() { curl -s http://127.0.0.1:$PORT/metrics | awk '$1 ~ /^prep_http_requests_total/ && /route="\/graphql"/ {s += $2} END {print s + 0}'; }
for scenario in list detail mutation; do
  # warm-up
  BODY_FILE=$OUT/$scenario.json wrk -t2 -c$CONNS -d3s -s bench/post.lua http://127.0.0.1:$PORT/graphql >/dev/null
  s0=$(stat prep_graphql_statements_per_operation_sum); n0=$(ops)
  result=$(BODY_FILE=$OUT/$scenario.json wrk -t2 -c$CONNS -d$DURATION -s bench/post.lua http://127.0.0.1:$PORT/graphql | grep RESULT)
  s1=$(stat prep_graphql_statements_per_operation_sum); n1=$(ops)
  rss=$(ps -o rss= -p $GW | tr -d ' ')
  [ -n "${SERVICE:-}" ] && rss="$rss service_rss_kib=$(ps -o rss= -p $SERVICE | tr -d ' ')"
  per_op=$(awk -v a="$s0" -v b="$s1" -v c="$n0" -v d="$n1" 'BEGIN { printf "%.2f", (b-a)/(d-c) }')
  echo "${APART_NAME:+$APART_NAME-apart-}$scenario $result statements_per_op=$per_op rss_kib=$rss" | tee -a $OUT/results.txt
done

[ -n "$APART_NAME" ] && exit 0
echo "== pgbench ceiling: the same SQL in the same transaction shape"
for scenario in list detail; do
  sed "s/:tenant/'$TENANT'/; s/:location/'$LOC_UUID'/" bench/pgbench/$scenario.sql > $OUT/pgbench-$scenario.sql
  result=$(pgbench -h 127.0.0.1 -U prep_app -n -M prepared -c $CONNS -j 2 -T ${DURATION%s} -f $OUT/pgbench-$scenario.sql $DB 2>&1 \
    | awk '/latency average/ {lat=$4} /^tps/ {tps=$3} END {printf "tps=%s latency_avg_ms=%s", tps, lat}')
  echo "pgbench-$scenario $result" | tee -a $OUT/results.txt
done
