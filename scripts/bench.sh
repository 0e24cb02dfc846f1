#!/usr/bin/env bash
# The proxy against a direct connection to the same fast upstream, side by side
# in one run: open-loop latency at fixed rates with a rate-limit rule active,
# closed-loop maximum throughput, and the proxy's memory with open SSE streams.
# Everything runs on 127.0.0.1. Results go to stdout (copy them into
# docs/benchmarks.md). Usage: scripts/bench.sh [seconds per run, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
ensure_rust
ensure_servers
seconds=${1:-20}

log "Building release binaries"
cargo build --release --locked -p mcpgate -p mcpgate-bench
bin=target/release

work=$(mktemp -d /tmp/mcpgate-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 1 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for $1" >&2; exit 1; }

"$bin/mcpgate" up --deps-only --data-dir "$work/deps" --env-file "$work/env" --log warn >"$work/deps.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -f "$work/env" ] && break; sleep 0.1; done
set -a; source "$work/env"; eval "$("$bin/mcpgate" keygen | grep '^MCPGATE_')"; set +a
export MCPGATE_ALLOW_PRIVATE_UPSTREAMS=true MCPGATE_LOG=warn
api=127.0.0.1:$(free_port); proxy=127.0.0.1:$(free_port); demo=127.0.0.1:$(free_port)

"$bin/mcpgate" demo --demo-listen "$demo" >"$work/demo.log" 2>&1 &
pids+=($!)
MCPGATE_API_LISTEN=$api "$bin/mcpgate" api >"$work/api.log" 2>&1 &
pids+=($!)
MCPGATE_PROXY_LISTEN=$proxy MCPGATE_PUBLIC_PROXY_URL=http://$proxy "$bin/mcpgate" proxy >"$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
wait_for "http://$api/readyz"; wait_for "http://$proxy/readyz"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
key=$(curl -sf -X POST "http://$api/api/v1/signup" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"benchmark-password","tenant_name":"bench"}' | json '["api_key"]["key_secret"]')
server=$(curl -sf -X POST "http://$api/api/v1/servers" -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d "{\"name\":\"demo\",\"url\":\"http://$demo/mcp\"}" | json '["id"]')
# A rate-limit rule on the benchmarked tool, so every call takes the limiter's
# Redis round trip; its budget is large enough never to refuse.
curl -sf -X PUT "http://$api/api/v1/servers/$server/policy" -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"version":"1","default":"deny","tools":{"k8s_get_namespaces":{"limits":[{"counter":"bench","window":"minute","max":100000000,"scope":"grant"}]}}}' >/dev/null
token=$(curl -sf -X POST "http://$api/api/v1/grants" -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d "{\"name\":\"bench\",\"servers\":[\"$server\"]}" | json '["token"]')

direct_url="http://$demo/mcp"
proxy_url="http://$proxy/mcp/$server/"
echo "## $(date -u +%FT%TZ) $(nproc) cores, ${seconds}s per run"
for rate in 500 1000 2000; do
  "$bin/mcpgate-bench" rate --label direct --url "$direct_url" --rate "$rate" --seconds "$seconds"
  "$bin/mcpgate-bench" rate --label proxy --url "$proxy_url" --token "$token" --rate "$rate" --seconds "$seconds"
done
# Where the proxy's time goes: its own histograms (time before forwarding, and
# the upstream's share), and with PERF=1 a CPU profile of the proxy at 1000/s.
curl -sf "http://$proxy/metrics" | python3 -c '
import sys, re
sums, counts = {}, {}
for line in sys.stdin:
    m = re.match(r"(mcpgate_proxy_(overhead|upstream)_seconds)_(sum|count)(\{[^}]*\})? ([0-9.e+-]+)", line)
    if m:
        (sums if m.group(3) == "sum" else counts)[m.group(2)] = (sums if m.group(3) == "sum" else counts).get(m.group(2), 0) + float(m.group(5))
for k in sorted(sums):
    if counts.get(k):
        print(f"proxy metrics: mean {k} {sums[k] / counts[k] * 1e6:.0f}us over {int(counts[k])} calls")
'
if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  perf record -F 999 -g -p "$proxy_pid" -o "$work/perf.data" -- sleep 8 >/dev/null 2>&1 &
  perf_pid=$!
  "$bin/mcpgate-bench" rate --label proxy-profiled --url "$proxy_url" --token "$token" --rate 1000 --seconds 7
  wait "$perf_pid" || true
  echo "perf: where the proxy's CPU samples fall (by binary, then by symbol)"
  perf report -i "$work/perf.data" --no-children --stdio -g none --sort dso --percent-limit 1 2>/dev/null \
    | grep '%' | sed 's/ \{2,\}/ /g' | head -8
  perf report -i "$work/perf.data" --no-children --stdio -g none --sort symbol --percent-limit 0.7 2>/dev/null \
    | grep '%' | sed 's/ \{2,\}/ /g' | cut -c1-110 | head -25
fi
"$bin/mcpgate-bench" max --label direct --url "$direct_url" --workers 32 --seconds "$seconds"
"$bin/mcpgate-bench" max --label proxy --url "$proxy_url" --token "$token" --workers 32 --seconds "$seconds"

rss() { awk '/VmRSS/ {print $2}' "/proc/$proxy_pid/status"; }
before=$(rss)
"$bin/mcpgate-bench" streams --label proxy --url "$proxy_url" --token "$token" --count 1000 --hold 5 &
streams_pid=$!
sleep 4
during=$(rss)
wait "$streams_pid"
echo "proxy RSS: ${before} KiB idle, ${during} KiB with 1000 open SSE streams ($(( (during - before) / 1000 )) KiB per stream)"
