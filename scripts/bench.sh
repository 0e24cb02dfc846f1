#!/usr/bin/env bash
# The proxy side by side with the same fast upstream reached directly, through
# nginx (Debian's nginx-light, plain proxy_pass with upstream keep-alive) and
# through a peer, another Rust MCP proxy (crates.io mcp-proxy 0.6.0: bearer token,
# an in-process rate limit, no audit), in one run: for each target, alternating,
# several rounds of
#   - open loop at 1,000 calls/s with oha --latency-correction (a fixed number of
#     calls, over which the CPU time of the proxy, the upstream, Redis and Postgres
#     is read from /proc), then mcpgate-bench's own open loop;
#   - closed loop with 32 connections (oha) and 32 workers (mcpgate-bench).
# Then the proxy's own time split, with PERF=1 a CPU profile of the proxy, and its
# memory with 1,000 open SSE streams. Everything runs on 127.0.0.1. Results go to
# stdout (copy them into docs/benchmarks.md).
#
# Usage: scripts/bench.sh [seconds per closed-loop run, default 10]
#        scripts/bench.sh --check   only mcpgate's CPU per call over 20,000 calls at
#                                   1,000/s, over the upstream's in the same run; exit 1
#                                   when that ratio is more than 25% above the
#                                   <!-- cpu-per-call-ratio: N --> of docs/benchmarks.md
#        scripts/bench.sh --instructions   the proxy's instructions per call under
#                                   callgrind (valgrind, installed by the script):
#                                   deterministic to about 0.3% whatever the machine
#                                   is doing, so it measures each change on a busy box
#        scripts/bench.sh --allocations   the proxy's heap allocations per call, by site,
#                                   under valgrind's DHAT: two runs ALLOCATION_CALLS
#                                   (default 4000) calls apart, differenced
# Environment: ROUNDS (default 3), OPEN_CALLS (calls per open-loop run, default
# 20000), PERF=1 (profile), CALLGRIND_OUT (with --instructions: keep the profile
# there), DHAT_OUT (with --allocations: keep both profiles as DHAT_OUT.few.json and
# .many.json), STRACE=1 (with --check: the proxy's system calls per call), PROXY_THREADS (the
# proxy's serving threads, MCPGATE_PROXY_THREADS for it alone), REDIS_UNIX=1 (the proxy on a
# Redis of its own over a Unix socket), BENCH_BIN (prebuilt binaries), MCPGATE_BENCH_CACHE (where
# oha and, for the full run, the peer are built, default
# ~/.cache/mcpgate-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh

mode=full
if [ "${1:-}" = --check ]; then mode=check; shift; fi
if [ "${1:-}" = --instructions ]; then mode=instructions; shift; fi
if [ "${1:-}" = --allocations ]; then mode=allocations; shift; fi
seconds=${1:-10}
rounds=${ROUNDS:-3}
open_calls=${OPEN_CALLS:-20000}
open_rate=1000
tolerance_percent=25
oha_version=1.16.0
peer_version=0.6.0
report() { python3 scripts/bench_report.py "$@"; }
load_average() { cut -d' ' -f1-3 /proc/loadavg; }
# The machine is shared: before measuring, wait (up to SETTLE seconds, default 180)
# for the 1-minute load average to fall to 1.5, which our own build raised.
settle() {
  local waited=0
  while python3 -c "import sys; sys.exit(0 if float(open('/proc/loadavg').read().split()[0]) > 1.5 else 1)" \
    && [ "$waited" -lt "${SETTLE:-180}" ]; do
    sleep 5; waited=$((waited + 5))
  done
}

# oha, built once per version into a cache folder (crates.io, its own lock file);
# its default TLS (rustls) stays in: oha 1.16 does not build without one.
ensure_oha() {
  local root="${MCPGATE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcpgate-bench}/oha-$oha_version"
  oha="$root/bin/oha"
  if [ "$("$oha" --version 2>/dev/null)" != "oha $oha_version" ]; then
    log "Building oha $oha_version into $root (once)"
    cargo install oha --version "$oha_version" --locked --root "$root" --force
  fi
}
# The peer, mcp-proxy, built the same way (its own lock file, its own target folder in
# the cache) with none of its default features (OpenTelemetry, Prometheus metrics,
# OAuth/JWT, OpenAPI, WebSocket, BM25 discovery, YAML, skills): static bearer tokens,
# HTTP backends and per-backend rate limits are in its core. Its binary has no
# --version, so cargo's own record of what it installed in that root (version and
# features) is checked.
ensure_peer() {
  local root="${MCPGATE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcpgate-bench}/mcp-proxy-$peer_version"
  peer_bin="$root/bin/mcp-proxy"
  if ! [ -x "$peer_bin" ] || ! python3 -c "import json, sys; installs = json.load(open(sys.argv[1]))['installs']
sys.exit(0 if any(k.startswith('mcp-proxy $peer_version ') and i['no_default_features'] and not i['features']
                  for k, i in installs.items()) else 1)" "$root/.crates2.json" 2>/dev/null; then
    log "Building mcp-proxy $peer_version into $root (once)"
    CARGO_TARGET_DIR="$root/target" cargo install mcp-proxy --version "$peer_version" --locked \
      --no-default-features --root "$root" --force
  fi
}

ensure_rust
ensure_servers
[ "$mode" = full ] && ensure_nginx
ensure_oha
[ "$mode" = full ] && ensure_peer
case $mode in instructions | allocations) command -v valgrind >/dev/null || apt_install valgrind ;; esac
if [ "${STRACE:-0}" = 1 ] && ! command -v strace >/dev/null; then apt_install strace; fi

# BENCH_BIN: a folder holding already built mcpgate and mcpgate-bench (another
# commit's, to compare binaries in turn on this machine); unset, this tree's are built.
if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
  built_from="the binaries in $bin"
  [ -x "$bin/mcpgate" ] && [ -x "$bin/mcpgate-bench" ] || { echo "BENCH_BIN=$bin holds no mcpgate and mcpgate-bench" >&2; exit 1; }
else
  log "Building release binaries"
  cargo build --release --locked -p mcpgate -p mcpgate-bench
  bin=target/release
  built_from=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- crates Cargo.lock || built_from="$built_from with uncommitted changes"
fi

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
deps_pid=$!
pids+=($deps_pid)
for _ in $(seq 1 600); do [ -f "$work/env" ] && break; sleep 0.1; done
set -a; source "$work/env"; eval "$("$bin/mcpgate" keygen | grep '^MCPGATE_')"; set +a
export MCPGATE_ALLOW_PRIVATE_UPSTREAMS=true MCPGATE_LOG=warn
api=127.0.0.1:$(free_port); proxy=127.0.0.1:$(free_port); demo=127.0.0.1:$(free_port)
redis_pid=$(report find-child "$deps_pid" redis-server)
postgres_pid=$(report find-child "$deps_pid" postgres)
# REDIS_UNIX=1: the proxy reaches a Redis of its own over a Unix socket instead of the
# deployment's on loopback TCP (what a single-host install can do; see docs/benchmarks.md).
if [ "${REDIS_UNIX:-0}" = 1 ]; then
  redis-server --port 0 --unixsocket "$work/redis.sock" --unixsocketperm 700 --save "" \
    --appendonly no --daemonize no --dir "$work" --logfile "$work/redis-unix.log" &
  redis_pid=$!
  pids+=($redis_pid)
  for _ in $(seq 1 100); do [ -S "$work/redis.sock" ] && break; sleep 0.1; done
  [ -S "$work/redis.sock" ] || { echo "REDIS_UNIX: redis-server made no socket; see $work/redis-unix.log" >&2; exit 1; }
  export MCPGATE_REDIS_URL="unix://$work/redis.sock"
fi

"$bin/mcpgate" demo --demo-listen "$demo" >"$work/demo.log" 2>&1 &
demo_pid=$!
pids+=($demo_pid)
MCPGATE_API_LISTEN=$api "$bin/mcpgate" api >"$work/api.log" 2>&1 &
pids+=($!)
# The memory run holds 1,000 streams on one grant: above the default cap of 50.
# PROXY_THREADS: the proxy's serving threads (MCPGATE_PROXY_THREADS for it alone).
proxy_env=(MCPGATE_PROXY_LISTEN=$proxy MCPGATE_PUBLIC_PROXY_URL=http://$proxy)
[ -n "${PROXY_THREADS:-}" ] && proxy_env+=(MCPGATE_PROXY_THREADS=$PROXY_THREADS)
env "${proxy_env[@]}" MCPGATE_PROXY_MAX_STREAMS_PER_GRANT=2000 "$bin/mcpgate" proxy >"$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
wait_for "http://$api/readyz"; wait_for "http://$proxy/readyz"

# nginx with its own prefix, pid, logs and temp folders in the bench's folder, in
# the foreground as the current user (as root, its workers stay root too).
nginx_pid=""
if [ "$mode" = full ]; then
  nginx=127.0.0.1:$(free_port)
  mkdir -p "$work/nginx"
  {
    [ "$(id -u)" -eq 0 ] && echo "user root;"
    cat <<EOF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream demo { server $demo; keepalive 64; }
  server {
    listen $nginx;
    location / {
      proxy_pass http://demo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
    }
  }
}
EOF
  } >"$work/nginx/nginx.conf"
  nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
  nginx_pid=$!
  pids+=($nginx_pid)
fi

# The peer, mcp-proxy, in front of the same upstream: one HTTP backend named demo (its
# tools are exposed as demo/<tool>), a bearer token of this run on its front, and a
# rate limit on the backend that never refuses (mcpgate's rule counts in Redis, shared
# by every replica; mcp-proxy's limiter is a counter inside the process). Its audit
# log, access log, metrics and tracing are off, its logs at warn, hot reload off; it
# answers MCP at / and binds only its listen address.
peer_pid=""
if [ "$mode" = full ]; then
  peer=127.0.0.1:$(free_port)
  peer_token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
  mkdir -p "$work/peer"
  cat >"$work/peer/proxy.toml" <<EOF
[proxy]
name = "bench-peer"
separator = "/"
hot_reload = false
shutdown_timeout_seconds = 2

[proxy.listen]
host = "127.0.0.1"
port = ${peer##*:}

[[backends]]
name = "demo"
transport = "http"
url = "http://$demo/mcp"

[backends.rate_limit]
requests = 100000000
period_seconds = 60

[auth]
type = "bearer"
tokens = ["$peer_token"]

[observability]
audit = false
log_level = "warn"

[observability.metrics]
enabled = false

[observability.access_log]
enabled = false
EOF
  "$peer_bin" --config "$work/peer/proxy.toml" >"$work/peer.log" 2>&1 &
  peer_pid=$!
  pids+=($peer_pid)
  wait_for "http://$peer/readyz"
fi

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

declare -A url=([direct]="http://$demo/mcp" [mcpgate]="http://$proxy/mcp/$server/")
declare -A auth=([direct]="" [mcpgate]="$token")
targets=(mcpgate)
if [ "$mode" = full ]; then
  url[nginx]="http://$nginx/mcp"
  auth[nginx]=""
  url[peer]="http://$peer/"
  auth[peer]=$peer_token
  targets=(direct nginx mcpgate peer)
fi
proxy_url=${url[mcpgate]}

# One MCP session per target for oha, opened as mcpgate-bench opens its own
# (initialize, then notifications/initialized, at 2025-06-18); every oha call is
# the same tools/call in it. The demo server keeps the session, nginx passes it
# through, mcpgate relays it to the demo server; mcp-proxy keeps sessions of its own
# (it answers every initialize with 2025-11-25, its aggregate's fixed version, and
# takes 2025-06-18 on the later requests) and calls the upstream in the one session
# its backend client opened at start. The tool's name is the target's: mcp-proxy
# prefixes its backend's name.
declare -A tool_of=([direct]=k8s_get_namespaces [nginx]=k8s_get_namespaces [mcpgate]=k8s_get_namespaces
  [peer]=demo/k8s_get_namespaces)
declare -A call_body_of
for target in "${targets[@]}"; do
  call_body_of[$target]='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"'"${tool_of[$target]}"'","arguments":{"context":"bench"}}}'
done
declare -A session
mcp_post() { # url token session body -> the answer, headers included
  local args=(-sS -i -X POST "$1" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream')
  [ -n "$2" ] && args+=(-H "authorization: Bearer $2")
  [ -n "$3" ] && args+=(-H "mcp-session-id: $3" -H 'mcp-protocol-version: 2025-06-18')
  curl "${args[@]}" -d "$4"
}
for target in "${targets[@]}"; do
  for _ in $(seq 1 50); do mcp_post "${url[$target]}" "" "" '{}' >/dev/null 2>&1 && break; sleep 0.1; done
  session[$target]=$(mcp_post "${url[$target]}" "${auth[$target]}" "" \
    '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench.sh","version":"1"}}}' \
    | tr -d '\r' | awk 'tolower($1) == "mcp-session-id:" {print $2}')
  [ -n "${session[$target]}" ] || { echo "no session id from $target (${url[$target]})" >&2; exit 1; }
  mcp_post "${url[$target]}" "${auth[$target]}" "${session[$target]}" '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
  answer=$(mcp_post "${url[$target]}" "${auth[$target]}" "${session[$target]}" "${call_body_of[$target]}")
  if ! grep -q '"result"' <<<"$answer" || grep -q '"isError":true' <<<"$answer"; then
    echo "the benchmarked call fails through $target:" >&2; echo "$answer" >&2; exit 1
  fi
done

oha_run() { # target output-file oha-arguments...
  local target=$1 out=$2; shift 2
  local args=(--no-tui --output-format json -m POST -H 'content-type: application/json'
    -H 'accept: application/json, text/event-stream' -H "mcp-session-id: ${session[$target]}"
    -H 'mcp-protocol-version: 2025-06-18' -d "${call_body_of[$target]}")
  [ -n "${auth[$target]}" ] && args+=(-H "authorization: Bearer ${auth[$target]}")
  "$oha" "${args[@]}" "$@" "${url[$target]}" >"$out"
}
watched() { # the processes whose CPU is read, as name=pid
  echo "proxy=$proxy_pid" "upstream=$demo_pid" "redis=$redis_pid" "postgres=$postgres_pid"
  if [ -n "$nginx_pid" ]; then echo "nginx=$nginx_pid"; fi
  if [ -n "$peer_pid" ]; then echo "peer=$peer_pid"; fi
}
results=$work/results.tsv
record() { # round target tool prefix < "metric<TAB>value" lines
  while IFS=$'\t' read -r metric value; do printf '%s\t%s\t%s\t%s%s\t%s\n' "$1" "$2" "$3" "$4" "$metric" "$value"; done >>"$results"
}
# Open loop at 1,000/s over a fixed number of calls, with CPU from /proc around it.
open_loop() { # round target
  report ticks $(watched) >"$work/before.json"
  oha_run "$2" "$work/oha.json" -n "$open_calls" -q "$open_rate" --latency-correction -c 16
  report ticks $(watched) >"$work/after.json"
  report oha "$work/oha.json" | record "$1" "$2" oha open_
  report cpu "$work/before.json" "$work/after.json" "$open_calls" | record "$1" "$2" oha ""
}
show_round() { # round target
  awk -F'\t' -v r="$1" -v t="$2" '$1 == r && $2 == t {printf "%s %s=%s ", $3, $4, $5} END {print ""}' "$results" \
    | sed "s/^/round $1 $2: /"
}

case $mode in instructions | allocations) ;; *) settle ;; esac
load_at_start=$(load_average)
report others-start $$ >"$work/others.json"
# The load average at the end counts this benchmark's own processes; what others
# used meanwhile is the machine's busy time less this script's process tree.
quiet_enough() {
  local others
  others=$(report others-since "$work/others.json" $$)
  echo "load average at the end: $(load_average); other processes kept $others cores busy on average meanwhile"
  python3 -c "import sys; sys.exit(0 if float('${load_at_start%% *}') <= 1.5 and $others <= 0.3 else 1)"
}
# Instructions per call: the proxy again, under callgrind with instrumentation off
# until it has warmed up (connections, caches), then on for INSTRUCTION_CALLS calls
# at 200/s; everything the process executes meanwhile (HTTP on both sides, the
# decision, the Redis reservation, the audit writer) divided by the calls.
if [ "$mode" = instructions ]; then
  calls=${INSTRUCTION_CALLS:-1000}
  kill -INT "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
  env "${proxy_env[@]}" valgrind --tool=callgrind \
    --instr-atstart=no --callgrind-out-file="$work/callgrind.out" "$bin/mcpgate" proxy >"$work/proxy.log" 2>&1 &
  proxy_pid=$!
  pids+=($proxy_pid)
  for _ in $(seq 1 1200); do curl -sf "http://$proxy/readyz" >/dev/null && break; sleep 0.1; done
  oha_run mcpgate "$work/warmup.json" -n 300 -q 100 -c 16
  callgrind_control -i on "$proxy_pid" >/dev/null
  oha_run mcpgate "$work/oha.json" -n "$calls" -q 200 -c 16
  callgrind_control -d "$proxy_pid" >/dev/null
  sleep 2
  failed=$(report oha "$work/oha.json" | awk -F'\t' '$1 == "errors" {print $2}')
  # (awk reads every line: a reader that stops early would end the script with SIGPIPE)
  dump=$(ls -S "$work"/callgrind.out* | awk 'NR == 1')
  if [ -n "${CALLGRIND_OUT:-}" ]; then cp "$dump" "$CALLGRIND_OUT"; dump=$CALLGRIND_OUT; fi
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ && !seen {gsub(",", "", $1); print $1; seen = 1}')
  echo "## Instructions per call $(date -u +%FT%TZ) ($built_from)"
  echo "mcpgate proxy: $((total / calls)) instructions per proxied tools/call over $calls calls ($failed failed)"
  echo "top functions (inclusive), from: callgrind_annotate --inclusive=yes $dump"
  callgrind_annotate --inclusive=yes "$dump" 2>/dev/null | awk '/mcpgate_[a-z]+::/ && shown++ < 15' | cut -c1-160
  [ "$failed" = 0 ] || { echo "FAIL: $failed calls failed through the proxy" >&2; exit 1; }
  exit 0
fi
# Allocations per call: the proxy under DHAT twice, warmed up alike, then FEW and
# FEW + ALLOCATION_CALLS calls at 200/s; DHAT writes its profile when the proxy
# exits, so start-up and shutdown are in both and the difference is the calls'.
if [ "$mode" = allocations ]; then
  calls=${ALLOCATION_CALLS:-4000}
  few=200
  for run in few many; do
    kill -INT "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
    env "${proxy_env[@]}" valgrind --tool=dhat --num-callers=40 --dhat-out-file="$work/dhat.$run.json" \
      "$bin/mcpgate" proxy >"$work/proxy.log" 2>&1 &
    proxy_pid=$!
    pids+=($proxy_pid)
    for _ in $(seq 1 1200); do curl -sf "http://$proxy/readyz" >/dev/null && break; sleep 0.1; done
    oha_run mcpgate "$work/warmup.json" -n 300 -q 100 -c 16
    n=$few; [ "$run" = many ] && n=$((few + calls))
    oha_run mcpgate "$work/oha.$run.json" -n "$n" -q 200 -c 16
    failed=$(report oha "$work/oha.$run.json" | awk -F'\t' '$1 == "errors" {print $2}')
    [ "$failed" = 0 ] || { echo "FAIL: $failed calls failed through the proxy" >&2; exit 1; }
    kill -INT "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true
    [ -s "$work/dhat.$run.json" ] || { echo "DHAT wrote no profile; see $work/proxy.log" >&2; exit 1; }
    # The next run (or the cleanup) needs a proxy to stop.
    env "${proxy_env[@]}" "$bin/mcpgate" proxy >>"$work/proxy.log" 2>&1 &
    proxy_pid=$!
    pids+=($proxy_pid)
    wait_for "http://$proxy/readyz"
  done
  echo "## Allocations per call $(date -u +%FT%TZ) ($built_from), DHAT over $calls calls"
  report dhat-sites "$work/dhat.few.json" "$work/dhat.many.json" "$calls"
  if [ -n "${DHAT_OUT:-}" ]; then cp "$work/dhat.few.json" "$DHAT_OUT.few.json"; cp "$work/dhat.many.json" "$DHAT_OUT.many.json"; fi
  exit 0
fi
if [ "$mode" = check ]; then
  # The gate is the proxy's CPU per call over the upstream's in the same run: the
  # upstream is the same HTTP stack doing less, so the ratio follows the proxy's own
  # cost when the shared machine runs faster or slower. The µs figure is shown too.
  recorded=$(report recorded docs/benchmarks.md cpu-per-call-ratio)
  recorded_us=$(report recorded docs/benchmarks.md cpu-per-call-us)
  limit=$(python3 -c "print(round($recorded * (100 + $tolerance_percent) / 100, 2))")
  echo "## CPU-per-call check $(date -u +%FT%TZ), $(nproc) cores, load average $load_at_start"
  oha_run mcpgate "$work/warmup.json" -n 2000 -q "$open_rate" --latency-correction -c 16
  # A regression shows in every run; a busy neighbour only in some: the best of up
  # to three runs is compared.
  metric() { awk -F'\t' -v r="$1" -v m="$2" '$1 == r && $4 == m {print $5}' "$results"; } # round metric
  best=""
  for attempt in 1 2 3; do
    open_loop "$attempt" mcpgate
    measured=$(metric "$attempt" cpu_us_proxy); upstream=$(metric "$attempt" cpu_us_upstream)
    errors=$(metric "$attempt" open_errors); switches=$(metric "$attempt" switches_proxy)
    redis_us=$(metric "$attempt" cpu_us_redis); postgres_us=$(metric "$attempt" cpu_us_postgres)
    kernel_us=$(metric "$attempt" kernel_us_proxy); upstream_kernel_us=$(metric "$attempt" kernel_us_upstream)
    ratio=$(python3 -c "print(round($measured / max($upstream, 0.1), 2))")
    echo "run $attempt: mcpgate proxy ${measured} µs of CPU (${kernel_us} in the kernel; ${ratio}× the upstream's ${upstream} µs, ${upstream_kernel_us} in the kernel; Redis ${redis_us} µs, Postgres ${postgres_us} µs) and ${switches} context switches per call over $open_calls calls at $open_rate/s ($errors failed calls)"
    [ "$errors" = 0 ] || { echo "FAIL: $errors calls failed through the proxy" >&2; exit 1; }
    best=$(python3 -c "print(min(x for x in ($ratio, ${best:-$ratio})))")
    python3 -c "import sys; sys.exit(0 if $best <= $limit else 1)" && break
  done
  # STRACE=1: the proxy's system calls per call (strace slows it down; counts only).
  if [ "${STRACE:-0}" = 1 ]; then
    strace -c -f -p "$proxy_pid" -o "$work/strace.txt" & strace_pid=$!
    sleep 1
    oha_run mcpgate "$work/strace.json" -n 2000 -q 500 -c 16
    kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
    echo "system calls of the proxy per call (strace -c -f over 2,000 calls at 500/s):"
    awk 'NR > 2 && $4 ~ /^[0-9]+$/ {printf "  %-12s %.2f\n", $NF, $4 / 2000}' "$work/strace.txt"
  fi
  quiet_enough || echo "warning: the machine was busy (load above 1.5 at the start or others using the CPU): a failure may be the neighbours'" >&2
  if python3 -c "import sys; sys.exit(0 if $best <= $limit else 1)"; then
    echo "ok: the proxy used ${best}× the upstream's CPU per call, within ${tolerance_percent}% of the recorded ${recorded}× (limit ${limit}×; ${recorded_us} µs recorded on a quiet machine)"
    exit 0
  fi
  echo "FAIL: mcpgate's proxy used ${best}× the upstream's CPU per call, more than ${tolerance_percent}% above the ${recorded}× recorded in docs/benchmarks.md (limit ${limit}×)" >&2
  exit 1
fi

echo "## $(date -u +%FT%TZ) $(nproc) cores, $rounds rounds, ${seconds}s per closed-loop run, $open_calls calls per open-loop run at $open_rate/s"
echo "load average at the start: $load_at_start"
for target in "${targets[@]}"; do # warm-up: connections, caches, the JIT-free steady state
  oha_run "$target" "$work/warmup.json" -n 2000 -q "$open_rate" --latency-correction -c 16
done
for round in $(seq 1 "$rounds"); do
  # Alternate the order too, so no target always runs right after another.
  offset=$(( (round - 1) % ${#targets[@]} ))
  ordered=("${targets[@]:offset}" "${targets[@]:0:offset}")
  for target in "${ordered[@]}"; do
    open_loop "$round" "$target"
    "$bin/mcpgate-bench" rate --label "$target" --url "${url[$target]}" ${auth[$target]:+--token "${auth[$target]}"} \
      --tool "${tool_of[$target]}" --rate "$open_rate" --seconds "$seconds" >"$work/bench.out"
    report mcpgate-bench "$(cat "$work/bench.out")" | record "$round" "$target" mcpgate-bench open_
    oha_run "$target" "$work/oha.json" -c 32 -z "${seconds}s" -w
    report oha "$work/oha.json" | record "$round" "$target" oha max_
    "$bin/mcpgate-bench" max --label "$target" --url "${url[$target]}" ${auth[$target]:+--token "${auth[$target]}"} \
      --tool "${tool_of[$target]}" --workers 32 --seconds "$seconds" >"$work/bench.out"
    report mcpgate-bench "$(cat "$work/bench.out")" | record "$round" "$target" mcpgate-bench max_
    show_round "$round" "$target"
  done
done
report report "$results"

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
  oha_run mcpgate "$work/oha.json" -w -z 7s -q "$open_rate" --latency-correction -c 16
  wait "$perf_pid" || true
  echo "perf: where the proxy's CPU samples fall at $open_rate calls/s (by binary, then by symbol)"
  perf report -i "$work/perf.data" --no-children --stdio -g none --sort dso --percent-limit 1 2>/dev/null \
    | grep '%' | sed 's/ \{2,\}/ /g' | head -8
  perf report -i "$work/perf.data" --no-children --stdio -g none --sort symbol --percent-limit 0.7 2>/dev/null \
    | grep '%' | sed 's/ \{2,\}/ /g' | cut -c1-110 | head -30
  echo "perf: the same samples summed by crate (the first path segment of each symbol)"
  perf report -i "$work/perf.data" --no-children --stdio -g none --sort dso,symbol --percent-limit 0 \
    >"$work/perf.txt" 2>/dev/null
  report perf-groups "$work/perf.txt"
fi

rss() { awk '/VmRSS/ {print $2}' "/proc/$proxy_pid/status"; }
before=$(rss)
"$bin/mcpgate-bench" streams --label proxy --url "$proxy_url" --token "$token" --count 1000 --hold 5 &
streams_pid=$!
sleep 4
during=$(rss)
wait "$streams_pid"
echo "proxy RSS: ${before} KiB idle, ${during} KiB with 1000 open SSE streams ($(( (during - before) / 1000 )) KiB per stream)"
if ! quiet_enough; then
  echo "warning: the machine was busy (load above 1.5 at the start or others using more than 0.3 cores): run again for figures to record" >&2
fi
