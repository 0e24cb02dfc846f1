#!/usr/bin/env bash
# The README's second command: install and start what the tests need, then run
# the format check, clippy and the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh

ensure_rust
# A whole-suite run is not an edit-compile loop: incremental state would only take disk
# (several GB across ~40 test targets) and CI's disk is not large.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
ensure_servers
# redis-sentinel for the Sentinel topology tests (crates/mcpgate-proxy/tests/proxy/topologies.rs).
ensure_redis_sentinel
# nginx for the production shape (scripts/production-shape.sh, driven by
# crates/mcpgate/tests/proxy_processes/production_shape.rs).
ensure_nginx
# The official MCP SDKs and server-everything for tests/rust/sdk.rs; sets MCPGATE_E2E_DIR.
ensure_e2e_clients
# aiosmtpd, the SMTP receiver of the invitation and password-reset mail tests.
ensure_smtp_sink
# The real helm for the chart test (crates/mcpgate/src/deployment_check/).
ensure_helm
# kubernetes-validate: the rendered chart against Kubernetes' schemas.
ensure_kubernetes_validate
# Headless Chromium and chromedriver for tests/rust/browser.rs (the dashboard in a browser).
ensure_browser

log "cargo fmt --check"
cargo fmt --all -- --check

# The benchmark is run by hand (scripts/bench.sh, scripts/bench.sh --check), not in
# CI; CI only checks that it parses.
bash -n scripts/bench.sh
bash -n scripts/audit-scale.sh
bash -n scripts/production-shape.sh
python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' scripts/bench_report.py

log "cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

log "Building the test suite"
# One build: `cargo test --workspace` also builds the mcpgate binary (its own integration
# tests need it) with the workspace's features. A separate `cargo build -p mcpgate`
# would resolve other features and compile most dependencies a second time.
cargo test --locked --workspace --no-run
[ -x target/debug/mcpgate ] || { echo "target/debug/mcpgate was not built" >&2; exit 1; }

# One private PostgreSQL (and Redis) for the whole run, started by mcpgate itself;
# each test creates its own database there.
deps_dir=$(mktemp -d /tmp/mcpgate-test-deps.XXXXXX)
chmod 755 "$deps_dir"
target/debug/mcpgate up --deps-only --data-dir "$deps_dir" --env-file "$deps_dir/env" \
  --log warn >"$deps_dir/deps.log" 2>&1 &
deps_pid=$!
cleanup() {
  kill -INT "$deps_pid" 2>/dev/null || true
  wait "$deps_pid" 2>/dev/null || true
  rm -rf "$deps_dir"
}
trap cleanup EXIT
for _ in $(seq 1 600); do
  [ -f "$deps_dir/env" ] && break
  if ! kill -0 "$deps_pid" 2>/dev/null; then
    cat "$deps_dir/deps.log" >&2
    echo "the private PostgreSQL/Redis did not start" >&2
    exit 1
  fi
  sleep 0.1
done
[ -f "$deps_dir/env" ] || { cat "$deps_dir/deps.log" >&2; echo "timed out starting PostgreSQL/Redis" >&2; exit 1; }
database_url=$(grep '^MCPGATE_DATABASE_URL=' "$deps_dir/env" | cut -d= -f2-)
export MCPGATE_TEST_DATABASE_URL="${database_url%/*}/postgres"

log "cargo test"
cargo test --locked --workspace --no-fail-fast "$@"
