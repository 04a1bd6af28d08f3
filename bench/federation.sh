#!/usr/bin/env bash
# The Guild's federation gateway benchmark (graphql-hive/graphql-gateways-benchmark), run on this
# machine: its four Rust subgraphs (accounts, inventory, products, reviews), its supergraph and its
# query, driven by wrk instead of k6 (k6 is not installable offline, and its script imports a
# jslib module from the network). Prints a markdown table; not a test.
#
#   bench/federation.sh                                   # GATEWAYS="prep hive-gateway", 30 s each
#   GATEWAYS=hive-gateway SECS=60 bench/federation.sh
#   BUILD=1 bench/federation.sh                           # build target/release/prep-gateway first
#   HIVE_ROUTER_BIN=/path/to/hive_router GATEWAYS="prep hive-router" bench/federation.sh
#
# Gateways (GATEWAYS, space separated, run in that order):
#   prep          $GATEWAY_BIN (default <repo>/target/release/prep-gateway)
#                 `federation serve --supergraph FILE --listen 127.0.0.1:PORT`, health /healthz
#   hive-gateway  npm @graphql-hive/gateway@$HIVE_GATEWAY_VERSION (2.15.1) installed into
#                 $HIVE_GATEWAY_DIR (/tmp/hive-gateway); run like the benchmark does: NODE_ENV=production,
#                 --jit, inboundInflightRequestDeduplication, one process (--fork 1); health /healthcheck
#   hive-router   only if HIVE_ROUTER_BIN is set (build: docs/BENCHMARKS.md, `cargo install hive-router
#                 --version 0.2.19 --locked --features graphiql`); the benchmark's router.config.yaml
#                 (request dedupe on), health /health
# A gateway that is not available is skipped; one whose answer to the query is wrong is not measured.
#
# Environment (defaults in brackets):
#   SECS [30] measured seconds; WARMUP [5] warm-up seconds; CONNS [50] connections (the benchmark's
#   50 VUs); GATEWAY_PORT [4100]; SUBGRAPH_PORT [4201] (not 4200: the federation audit uses it);
#   GATEWAY_CPU [1] and LOAD_CPU [0] (taskset cores; the subgraphs are not pinned); SUBGRAPH_DELAY_MS
#   [unset] artificial subgraph latency; BENCH_DIR [/tmp/gw-bench] work dir (results in
#   $BENCH_DIR/run/); BENCH_TARGET_DIR [/tmp/gw-bench-target] cargo target dir for the subgraphs;
#   BENCH_MIRROR bare git mirror of the benchmark repo; DISTINCT=1 makes every request distinct (a
#   variable of its own: no in-flight sharing or dedupe applies); INTROSPECT=1 adds
#   `__type(name: "Query") { name kind }` to the query's root fields; BUILD=1 builds prep-gateway
#   (SQLX_OFFLINE=true cargo build --release --locked -p prep-gateway).
#
# Method: the mirror is unpacked into $BENCH_DIR (its code is never copied into this repo) and its
# `subgraphs` crate is built there with its own Cargo.lock and target dir (nice'd). The subgraphs
# run on 127.0.0.1:$SUBGRAPH_PORT; the supergraph (gateways/hive-router/supergraph.graphql, whose
# join__Graph URLs are http://0.0.0.0:4200/<name>) is copied with those URLs rewritten. The query
# is read from k6.js at run time. Each gateway is started pinned to GATEWAY_CPU, its response is
# checked against the expected response in k6.js (same data, no errors), then wrk (pinned to
# LOAD_CPU, closed loop like k6 VUs) warms up for WARMUP s and measures for SECS s. Errors are
# non-200 responses + 200 responses whose body contains "errors" + socket errors/timeouts (10 s).
# Peak RSS is the sum of VmHWM over the gateway's process group when the run ends; CPU is the
# gateway's CPU time during the measured run as % of one core. On 2 cores the gateway, the
# subgraphs and wrk share the CPUs, so compare gateways with each other, not with published figures.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=${BENCH_MIRROR:-/work/.mirror/graphql-hive+graphql-gateways-benchmark/repo}
WORK=${BENCH_DIR:-/tmp/gw-bench}
TARGET=${BENCH_TARGET_DIR:-/tmp/gw-bench-target}
GATEWAYS=${GATEWAYS:-prep hive-gateway${HIVE_ROUTER_BIN:+ hive-router}}
SECS=${SECS:-30}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-50}
GATEWAY_PORT=${GATEWAY_PORT:-4100}
SUBGRAPH_PORT=${SUBGRAPH_PORT:-4201}
GATEWAY_CPU=${GATEWAY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
HIVE_GATEWAY_DIR=${HIVE_GATEWAY_DIR:-/tmp/hive-gateway}
HIVE_GATEWAY_VERSION=${HIVE_GATEWAY_VERSION:-2.15.1}
URL="http://127.0.0.1:$GATEWAY_PORT/graphql"

die() { echo "federation.sh: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_http() { # url seconds pid
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# Background processes are started with setsid, so each is the leader of its own process group
# and can be stopped with everything it spawned.
SUB_PID="" GW_PID=""
stop_group() { # pid
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() { stop_group "$GW_PID"; stop_group "$SUB_PID"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- prerequisites -------------------------------------------------------------------------
[ -d "$MIRROR" ] || die "benchmark mirror not found: $MIRROR"
for c in node curl taskset setsid pgrep cargo; do command -v $c >/dev/null || die "$c is required"; done
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  apt-get install -y wrk >/dev/null || die "could not install wrk (apt-get install -y wrk)"
fi
[ "$(nproc)" -gt "$(( GATEWAY_CPU > LOAD_CPU ? GATEWAY_CPU : LOAD_CPU ))" ] || die "not enough CPUs for GATEWAY_CPU=$GATEWAY_CPU LOAD_CPU=$LOAD_CPU"
for p in "$GATEWAY_PORT" "$SUBGRAPH_PORT"; do port_busy "$p" && die "port $p is already in use"; done

HEAD=$(git --git-dir="$MIRROR" rev-parse HEAD)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
if [ "$(cat "$WORK/.extracted" 2>/dev/null)" != "$HEAD" ]; then
  log "unpacking the benchmark ($HEAD) into $WORK"
  git --git-dir="$MIRROR" archive HEAD | tar -x -C "$WORK"
  echo "$HEAD" > "$WORK/.extracted"
fi
RUN="$WORK/run"
mkdir -p "$RUN"

# Only the `subgraphs` member (also the workspace's default member; `toolkit` is its report TUI).
log "building the subgraphs (cargo target dir $TARGET)"
(cd "$WORK" && CARGO_TARGET_DIR="$TARGET" nice -n 10 cargo build --release --locked -p subgraphs --quiet)

# ---- supergraph and query, from the benchmark repo -------------------------------------------
SUPERGRAPH="$RUN/supergraph.graphql"
sed "s#http://0\.0\.0\.0:4200/#http://127.0.0.1:$SUBGRAPH_PORT/#g" "$WORK/gateways/hive-router/supergraph.graphql" > "$SUPERGRAPH"
[ "$(grep -c "@join__graph(.*url: \"http://127.0.0.1:$SUBGRAPH_PORT/" "$SUPERGRAPH")" = 4 ] \
  || die "could not rewrite the four subgraph URLs in $SUPERGRAPH"

# body.json is {"query": <k6.js's TestQuery>}; expected.json is the response k6.js checks for.
node - "$WORK/k6.js" "$RUN" <<'EOF'
const fs = require("fs");
const [k6, run] = process.argv.slice(2);
const src = fs.readFileSync(k6, "utf8");
const query = (src.match(/query:\s*`([\s\S]*?)`/) || [])[1];
if (!query || !/query TestQuery/.test(query)) throw new Error(`no TestQuery in ${k6}`);
// INTROSPECT=1: the same query with introspection among its root fields.
const introspect = process.env.INTROSPECT === "1";
const asked = introspect ? query.replace(/query TestQuery\s*\{/, '$& __type(name: "Query") { name kind }') : query;
fs.writeFileSync(`${run}/body.json`, JSON.stringify({ query: asked }));
const expected = (src.match(/const expectedStructure = (\{[\s\S]*?\n  \});/) || [])[1];
if (!expected) throw new Error(`no expectedStructure in ${k6}`);
const want = new Function(`return ${expected}`)();
if (introspect) want.data.__type = { name: "Query", kind: "OBJECT" };
fs.writeFileSync(`${run}/expected.json`, JSON.stringify(want, null, 1));
EOF

# A correct answer: no "errors", and data equal to expected.json (same keys and values, lists of
# the same length). Prints the first difference.
cat > "$RUN/verify.js" <<'EOF'
const fs = require("fs");
const [expectedFile, gotFile] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectedFile, "utf8"));
let got;
try { got = JSON.parse(fs.readFileSync(gotFile, "utf8")); } catch (e) { fail(`not JSON: ${e.message}`); }
if (got.errors !== undefined) fail(`errors: ${JSON.stringify(got.errors).slice(0, 500)}`);
compare(expected.data, got.data, "data");
function compare(want, have, path) {
  if (want === null || typeof want !== "object") {
    if (want !== have) fail(`${path}: expected ${JSON.stringify(want)}, got ${JSON.stringify(have)}`);
  } else if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) fail(`${path}: expected a list of ${want.length}, got ${JSON.stringify(have)?.slice(0, 200)}`);
    want.forEach((w, i) => compare(w, have[i], `${path}[${i}]`));
  } else {
    if (have === null || typeof have !== "object" || Array.isArray(have)) fail(`${path}: expected an object, got ${JSON.stringify(have)?.slice(0, 200)}`);
    for (const k of Object.keys(want)) compare(want[k], have[k], `${path}.${k}`);
    const extra = Object.keys(have).filter((k) => !(k in want));
    if (extra.length) fail(`${path}: unexpected keys ${extra.join(", ")}`);
  }
}
function fail(msg) { console.log(msg); process.exit(1); }
EOF

# wrk script. response() runs in the thread's Lua state, done() in the main one, so the counters
# are globals read back through the thread handles collected in setup().
cat > "$RUN/federation.lua" <<'EOF'
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local threads = {}
function setup(thread) table.insert(threads, thread) end

-- DISTINCT=1: every request carries a variable of its own (unused by the
-- query), so no two are identical and no gateway can share an answer.
if os.getenv("DISTINCT") then
  local query = wrk.body:sub(1, -2)
  local n = 0
  function request()
    n = n + 1
    return wrk.format(nil, nil, nil, query .. ',"variables":{"distinct":' .. n .. '}}')
  end
end

non200 = 0
graphql_errors = 0
function response(status, headers, body)
  local bad = false
  if status ~= 200 then non200 = non200 + 1; bad = true
  elseif string.find(body, '"errors"', 1, true) then graphql_errors = graphql_errors + 1; bad = true end
  if bad and non200 + graphql_errors == 1 then
    io.stderr:write("first bad response (" .. status .. "): " .. string.sub(body, 1, 300) .. "\n")
  end
end

function done(summary, latency, requests)
  local n2, ge = 0, 0
  for _, t in ipairs(threads) do n2 = n2 + t:get("non200"); ge = ge + t:get("graphql_errors") end
  local e = summary.errors
  local ms = function(p) return latency:percentile(p) / 1000 end
  io.write(string.format("RESULT requests=%d rps=%.1f p50=%.2f p75=%.2f p90=%.2f p95=%.2f p99=%.2f max=%.2f non200=%d graphql_errors=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), ms(50), ms(75), ms(90), ms(95), ms(99),
    latency.max / 1000, n2, ge, e.connect + e.read + e.write + e.timeout))
end
EOF

# ---- subgraphs -----------------------------------------------------------------------------
log "starting the subgraphs on 127.0.0.1:$SUBGRAPH_PORT"
env HOST=127.0.0.1 PORT="$SUBGRAPH_PORT" ${SUBGRAPH_DELAY_MS:+SUBGRAPH_DELAY_MS=$SUBGRAPH_DELAY_MS} \
  setsid "$TARGET/release/subgraphs" > "$RUN/subgraphs.log" 2>&1 &
SUB_PID=$!
wait_http "http://127.0.0.1:$SUBGRAPH_PORT/health" 30 "$SUB_PID" || die "subgraphs did not start (see $RUN/subgraphs.log)"

# ---- gateways ------------------------------------------------------------------------------
group_pids() { pgrep -g "$1" || true; }
peak_rss_kib() { # sum of VmHWM over the process group
  local pid total=0 kb
  for pid in $(group_pids "$1"); do
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
cpu_ticks() { # utime + stime over the process group
  local pid total=0 t
  for pid in $(group_pids "$1"); do
    t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || true)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# Sets GW_CMD (array), GW_HEALTH, GW_DIR (cwd) and GW_ENV (array) for a gateway, or returns 1
# with a reason in SKIP.
configure() {
  GW_ENV=() GW_DIR="$RUN" SKIP=""
  case "$1" in
    prep)
      local bin=${GATEWAY_BIN:-$REPO/target/release/prep-gateway}
      if [ "${BUILD:-0}" = 1 ]; then
        log "building prep-gateway"
        (cd "$REPO" && SQLX_OFFLINE=true cargo build --release --locked -p prep-gateway)
      fi
      [ -x "$bin" ] || { SKIP="binary not found: $bin (set GATEWAY_BIN or BUILD=1)"; return 1; }
      GW_ENV=(PREP_TELEMETRY__FILTER="${PREP_TELEMETRY__FILTER:-warn}")
      GW_CMD=("$bin" federation serve --supergraph "$SUPERGRAPH" --listen "127.0.0.1:$GATEWAY_PORT")
      GW_HEALTH=/healthz ;;
    hive-gateway)
      if [ ! -x "$HIVE_GATEWAY_DIR/node_modules/.bin/hive-gateway" ]; then
        log "installing @graphql-hive/gateway@$HIVE_GATEWAY_VERSION into $HIVE_GATEWAY_DIR"
        mkdir -p "$HIVE_GATEWAY_DIR"
        [ -f "$HIVE_GATEWAY_DIR/package.json" ] || echo '{"name":"hive-gateway-local","private":true}' > "$HIVE_GATEWAY_DIR/package.json"
        (cd "$HIVE_GATEWAY_DIR" && npm install --no-audit --no-fund --loglevel=error \
          "@graphql-hive/gateway@$HIVE_GATEWAY_VERSION" "graphql@^16" >&2) || { SKIP="npm install failed"; return 1; }
      fi
      echo 'export const gatewayConfig = { inboundInflightRequestDeduplication: true };' > "$RUN/hive-gateway.config.mjs"
      GW_ENV=(NODE_ENV=production)
      GW_CMD=("$HIVE_GATEWAY_DIR/node_modules/.bin/hive-gateway" supergraph "$SUPERGRAPH" --jit --fork 1
        -c "$RUN/hive-gateway.config.mjs" --host 127.0.0.1 --port "$GATEWAY_PORT")
      GW_HEALTH=/healthcheck ;;
    hive-router)
      [ -n "${HIVE_ROUTER_BIN:-}" ] || { SKIP="HIVE_ROUTER_BIN is not set"; return 1; }
      [ -x "$HIVE_ROUTER_BIN" ] || { SKIP="not executable: $HIVE_ROUTER_BIN"; return 1; }
      GW_DIR="$RUN/hive-router"
      mkdir -p "$GW_DIR"
      cp "$WORK/gateways/hive-router/router.config.yaml" "$SUPERGRAPH" "$GW_DIR/"
      # Newer routers read SUPERGRAPH_FILE_PATH/HOST/PORT, older ones HIVE__SUPERGRAPH__*.
      GW_ENV=(SUPERGRAPH_FILE_PATH=./supergraph.graphql HIVE__SUPERGRAPH__SOURCE=file
        HIVE__SUPERGRAPH__PATH=./supergraph.graphql HOST=127.0.0.1 PORT="$GATEWAY_PORT" RUST_LOG=warn)
      GW_CMD=("$HIVE_ROUTER_BIN")
      GW_HEALTH=/health ;;
    *) SKIP="unknown gateway (known: prep hive-gateway hive-router)"; return 1 ;;
  esac
}

ROWS=()
STATUS=0
row() { ROWS+=("| $1 | $2 |"); }
note_row() { row "$1" "$2 | | | | | | | |"; }   # a row with a note instead of figures
get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }   # a field of wrk's RESULT line
for gw in $GATEWAYS; do
  if ! configure "$gw"; then
    log "$gw: skipped: $SKIP"
    note_row "$gw" "skipped: $SKIP"
    continue
  fi
  port_busy "$GATEWAY_PORT" && die "port $GATEWAY_PORT is in use before starting $gw"
  log "$gw: starting on core $GATEWAY_CPU: ${GW_CMD[*]}"
  (cd "$GW_DIR" && exec env "${GW_ENV[@]}" setsid taskset -c "$GATEWAY_CPU" "${GW_CMD[@]}") > "$RUN/$gw.log" 2>&1 &
  GW_PID=$!
  if ! wait_http "http://127.0.0.1:$GATEWAY_PORT$GW_HEALTH" 60 "$GW_PID"; then
    log "$gw: did not become healthy within 60 s (see $RUN/$gw.log)"
    note_row "$gw" "failed: did not start"
    STATUS=1; stop_group "$GW_PID"; GW_PID=""; continue
  fi
  curl -sS --max-time 10 -H 'Content-Type: application/json' --data-binary "@$RUN/body.json" \
    -o "$RUN/$gw.response.json" "$URL" || true
  if ! why=$(node "$RUN/verify.js" "$RUN/expected.json" "$RUN/$gw.response.json"); then
    log "$gw: wrong response, not measured: $why (see $RUN/$gw.response.json)"
    note_row "$gw" "failed: wrong response"
    STATUS=1; stop_group "$GW_PID"; GW_PID=""; continue
  fi
  log "$gw: response verified; warm-up ${WARMUP}s"
  BODY_FILE="$RUN/body.json" taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" --timeout 10s \
    -s "$RUN/federation.lua" "$URL" > /dev/null
  log "$gw: measuring ${SECS}s, $CONNS connections"
  ticks0=$(cpu_ticks "$GW_PID")
  BODY_FILE="$RUN/body.json" taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 10s --latency \
    -s "$RUN/federation.lua" "$URL" > "$RUN/$gw.wrk.txt"
  ticks1=$(cpu_ticks "$GW_PID")
  rss=$(peak_rss_kib "$GW_PID")
  kill -0 "$GW_PID" 2>/dev/null || { log "$gw: exited during the run"; STATUS=1; }
  stop_group "$GW_PID"; GW_PID=""
  res=$(grep '^RESULT ' "$RUN/$gw.wrk.txt") || die "no RESULT line in $RUN/$gw.wrk.txt"
  errors=$(( $(get non200) + $(get graphql_errors) + $(get socket_errors) ))
  [ "$errors" = 0 ] || STATUS=1
  cpu=$(awk -v t=$((ticks1 - ticks0)) -v hz="$(getconf CLK_TCK)" -v s="$SECS" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
  rss_mib=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
  echo "$(date -u +%FT%TZ) $gw $res peak_rss_kib=$rss cpu_pct=$cpu" >> "$RUN/results.txt"
  log "$gw: $res peak_rss_kib=$rss cpu_pct=$cpu"
  row "$gw" "$(get rps) | $(get p50) | $(get p90) | $(get p95) | $(get p99) | $errors | $(get requests) | $rss_mib | $cpu"
done

echo
echo "Federation benchmark: $(nproc) cores, gateway on core $GATEWAY_CPU, wrk on core $LOAD_CPU" \
  "(-t1 -c$CONNS), ${SECS}s after ${WARMUP}s warm-up, subgraphs on 127.0.0.1:$SUBGRAPH_PORT" \
  "(unpinned${SUBGRAPH_DELAY_MS:+, ${SUBGRAPH_DELAY_MS} ms delay}), benchmark ${HEAD:0:7}, $(date -u +%Y-%m-%dT%H:%MZ)."
echo
echo "| gateway | RPS | p50 ms | p90 ms | p95 ms | p99 ms | errors | requests | peak RSS MiB | gateway CPU % |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
exit "$STATUS"
