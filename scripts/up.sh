#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the whole
# product locally (private PostgreSQL and Redis, API, dashboard, proxy, and a
# demo MCP server). Extra arguments go to `mcpgate up` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh

ensure_rust
ensure_servers
log "Building mcpgate (release; the first build takes a few minutes)"
cargo build --release --locked -p mcpgate
exec target/release/mcpgate up --demo "$@"
