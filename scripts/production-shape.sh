#!/usr/bin/env bash
# The production shape on one machine: one PostgreSQL, a Redis Cluster of three
# masters, two `mcpgate api` and three `mcpgate proxy` processes, a demo MCP server,
# and nginx (Debian's nginx-light) in front: round robin, no stickiness, one listener
# for the proxies and one for the APIs. Everything listens on 127.0.0.1.
#
# It prints KEY=VALUE lines (the URLs, each process's address and pid; also written
# to $PRODUCTION_SHAPE_ENV_FILE when set), then the line `production shape is up`,
# and runs until Ctrl-C (or SIGTERM), which stops everything it started.
# crates/mcpgate/tests/proxy_processes/production_shape.rs drives it.
#
# Environment:
#   MCPGATE_BIN            the mcpgate binary (default: build target/release/mcpgate)
#   MCPGATE_DATABASE_URL   a database to use (migrated here); default: a private
#                          PostgreSQL started with `mcpgate up --deps-only`
#   DEMO_LATENCY_MS        added latency of the demo server's calls (default 0)
#   PRODUCTION_SHAPE_ENV_FILE  also write the KEY=VALUE lines there
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh

if [ -z "${MCPGATE_BIN:-}" ]; then
  ensure_rust
  ensure_servers
  ensure_nginx
  log "Building mcpgate (release)"
  cargo build --release --locked -p mcpgate
  MCPGATE_BIN=target/release/mcpgate
fi
bin=$MCPGATE_BIN
for tool in python3 redis-server redis-cli nginx; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/prereqs.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/mcpgate-shape.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # url [pid]: until the URL answers 2xx, while the process lives
  for _ in $(seq 1 600); do
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null && return 0
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then echo "the process behind $1 exited" >&2; return 1; fi
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2; return 1
}
out=()
say() { out+=("$1=$2"); }
# Progress on stderr: when a start-up stalls, the last line says at which step.
step() { echo "production shape: $(date -u +%T) $*" >&2; }

# PostgreSQL: the one given, or a private one (its Redis is not used).
if [ -z "${MCPGATE_DATABASE_URL:-}" ]; then
  "$bin" up --deps-only --data-dir "$work/deps" --env-file "$work/deps.env" --log warn >"$work/deps.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do [ -f "$work/deps.env" ] && break; sleep 0.1; done
  [ -f "$work/deps.env" ] || { cat "$work/deps.log" >&2; echo "PostgreSQL did not start" >&2; exit 1; }
  MCPGATE_DATABASE_URL=$(grep '^MCPGATE_DATABASE_URL=' "$work/deps.env" | cut -d= -f2-)
fi
export MCPGATE_DATABASE_URL

# A Redis Cluster: three masters (a short node timeout, as in the topology tests).
seeds=()
for i in 1 2 3; do
  port=$(free_port); bus=$(free_port)
  mkdir -p "$work/redis-$i"
  (cd "$work/redis-$i" && exec redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes \
    --cluster-port "$bus" --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
    --save '' --appendonly no --daemonize no --logfile "$work/redis-$i/redis.log") &
  pids+=($!)
  say "REDIS_${i}_PID" $!
  seeds+=("127.0.0.1:$port")
done
for seed in "${seeds[@]}"; do
  for _ in $(seq 1 100); do redis-cli -h 127.0.0.1 -p "${seed##*:}" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
step "creating the Redis Cluster (${seeds[*]})"
# Bounded: redis-cli waits for the nodes to join without end when their bus cannot meet.
timeout 60 redis-cli --cluster create "${seeds[@]}" --cluster-replicas 0 --cluster-yes >"$work/cluster-create.log" 2>&1 \
  || { cat "$work/cluster-create.log" "$work"/redis-*/redis.log >&2; echo "creating the Redis Cluster failed" >&2; exit 1; }
for _ in $(seq 1 200); do
  redis-cli -h 127.0.0.1 -p "${seeds[0]##*:}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
  sleep 0.1
done
MCPGATE_REDIS_URL="redis+cluster://$(IFS=,; echo "${seeds[*]}")"
export MCPGATE_REDIS_URL

set -a; eval "$("$bin" keygen | grep '^MCPGATE_')"; set +a
export MCPGATE_ALLOW_PRIVATE_UPSTREAMS=true MCPGATE_LOG=${MCPGATE_LOG:-warn}
export MCPGATE_PROXY_DRAIN_SECONDS=${MCPGATE_PROXY_DRAIN_SECONDS:-5}
proxy_lb=127.0.0.1:$(free_port); api_lb=127.0.0.1:$(free_port)
export MCPGATE_PUBLIC_PROXY_URL=http://$proxy_lb MCPGATE_PUBLIC_API_URL=http://$api_lb
# The APIs believe nginx's X-Forwarded-For (login rate limits, the admin trail).
export MCPGATE_API_TRUSTED_PROXIES=127.0.0.1/32
step "migrating the database"
"$bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }

demo=127.0.0.1:$(free_port)
"$bin" demo --demo-listen "$demo" --demo-latency-ms "${DEMO_LATENCY_MS:-0}" >"$work/demo.log" 2>&1 &
pids+=($!)
say DEMO_URL "http://$demo/mcp"

apis=(); proxies=()
for i in 1 2; do
  addr=127.0.0.1:$(free_port)
  MCPGATE_API_LISTEN=$addr "$bin" api >"$work/api-$i.log" 2>&1 &
  pids+=($!)
  say "API_$i" "$addr"; say "API_${i}_PID" $!
  apis+=("$addr:$!")
done
# The three proxies share one audit spool, as replicas on one host (or a pod's
# restarted container) would: a proxy that dies leaves its journal, and a survivor
# writes its rows within 2 s.
export MCPGATE_PROXY_AUDIT_SPOOL_DIR=${MCPGATE_PROXY_AUDIT_SPOOL_DIR:-$work/audit-spool}
say AUDIT_SPOOL_DIR "$MCPGATE_PROXY_AUDIT_SPOOL_DIR"
for i in 1 2 3; do
  addr=127.0.0.1:$(free_port)
  MCPGATE_PROXY_LISTEN=$addr "$bin" proxy >"$work/proxy-$i.log" 2>&1 &
  pids+=($!)
  say "PROXY_$i" "$addr"; say "PROXY_${i}_PID" $!
  proxies+=("$addr:$!")
done
for entry in "${apis[@]}" "${proxies[@]}"; do
  addr=${entry%:*}; pid=${entry##*:}
  step "waiting for http://$addr/readyz"
  wait_for "http://$addr/readyz" "$pid" || { tail -n 20 "$work"/*.log >&2; exit 1; }
done
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/${demo%:*}/${demo##*:}") 2>/dev/null && break; sleep 0.1; done

# nginx: its own prefix, pid, logs and temp folders in the work folder, in the
# foreground as the current user. Round robin (nginx's default), no stickiness; no
# buffering, so held calls' SSE keep-alives and streamed answers pass as they come;
# X-Mcpgate-Upstream names the replica that answered (the test counts by it). A POST
# is passed to the next replica only when the first refused the connection: nginx
# never sends a request that may have run twice.
mkdir -p "$work/nginx"
upstream_servers() { for entry in "$@"; do echo "    server ${entry%:*} max_fails=1 fail_timeout=5s;"; done; }
{
  [ "$(id -u)" -eq 0 ] && echo "user root;"
  cat <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream proxies {
$(upstream_servers "${proxies[@]}")
    keepalive 32;
  }
  upstream apis {
$(upstream_servers "${apis[@]}")
    keepalive 16;
  }
  map \$http_upgrade \$connection_upgrade { default ""; websocket upgrade; }
  server {
    listen $proxy_lb;
    location / {
      proxy_pass http://proxies;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 600s;
      proxy_next_upstream error timeout;
      add_header X-Mcpgate-Upstream \$upstream_addr always;
    }
  }
  server {
    listen $api_lb;
    location / {
      proxy_pass http://apis;
      proxy_http_version 1.1;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      add_header X-Mcpgate-Upstream \$upstream_addr always;
    }
  }
}
EOF
} >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
pids+=($!)
say NGINX_PID $!
step "waiting for nginx"
wait_for "http://$proxy_lb/healthz" || { cat "$work/nginx/error.log" >&2; exit 1; }
wait_for "http://$api_lb/readyz" || { cat "$work/nginx/error.log" >&2; exit 1; }

say PROXY_URL "http://$proxy_lb"
say API_URL "http://$api_lb"
say MCPGATE_DATABASE_URL "$MCPGATE_DATABASE_URL"
say MCPGATE_REDIS_URL "$MCPGATE_REDIS_URL"
say LOGS "$work"
printf '%s\n' "${out[@]}"
if [ -n "${PRODUCTION_SHAPE_ENV_FILE:-}" ]; then printf '%s\n' "${out[@]}" >"$PRODUCTION_SHAPE_ENV_FILE"; fi
echo "production shape is up: agents use http://$proxy_lb/mcp/<server id>/, people http://$api_lb/ (Ctrl-C stops everything)"
# Until a signal (a process that dies meanwhile, as a killed proxy, stays dead).
while :; do sleep 1 & wait $! || true; done
