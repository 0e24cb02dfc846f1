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

# The servers the product runs on: PostgreSQL (server binaries) and Redis.
ensure_servers() {
  local missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing+=(postgresql)
  fi
  apt_install "${missing[@]}"
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install the Rust toolchain (https://rustup.rs) and try again." >&2
    return 1
  fi
}
