#!/usr/bin/env bash
# The audit log at scale (issue 17, item 3): the proxy's real audit writer fills a fresh
# database with AUDIT_SCALE_ROWS rows (default 10,000,000) over ten daily partitions,
# then the API's audit list query is timed (first and deep cursor pages, with and
# without filters). Prints the insert rate and a latency table for docs/benchmarks.md.
# Not run by CI: it takes a quarter of an hour and some gigabytes of disk.
#
#   scripts/audit-scale.sh                 # needs MCPGATE_TEST_DATABASE_URL (scripts/test.sh sets it)
#   AUDIT_SCALE_ROWS=1000000 scripts/audit-scale.sh
#   PROFILE=release scripts/audit-scale.sh # an optimised build of the proxy crate
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MCPGATE_TEST_DATABASE_URL:?set it to a Postgres URL where databases may be created (see scripts/test.sh)}"
export AUDIT_SCALE_ROWS="${AUDIT_SCALE_ROWS:-10000000}"
profile=()
if [[ "${PROFILE:-debug}" == release ]]; then
    profile=(--release)
fi
echo "audit scale: ${AUDIT_SCALE_ROWS} rows, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo test "${profile[@]}" -p mcpgate-proxy --lib audit::scale::audit_log_at_scale \
    -- --ignored --nocapture --test-threads 1
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
