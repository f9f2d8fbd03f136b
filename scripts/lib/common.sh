#!/usr/bin/env bash
# Shared helpers for Drover's scripts. Source it; do not run it.
#   drover_root            print the repo root (also set as $ROOT)
#   drover_log MSG...      print a "==> MSG" line on stderr
#   drover_die MSG...      print an error and exit 1
#   ensure_deps            install missing apt packages and dbmate; export PG_BIN, DROVER_DBMATE, PATH;
#                          as root, create the system user drover-job (sandboxed jobs run as it)
#                          (scripts/install, run by `drover install`, takes the same steps)
#   drover_pg_bin          print the PostgreSQL 15 bin folder
#   build_drover [DIR] [CMAKE ARGS...]   configure + build (default DIR: $ROOT/build)
#   free_port              print a free TCP port on 127.0.0.1
# The scripts that source this run under `set -euo pipefail`; so do these helpers.
set -euo pipefail

# Sourced twice (e.g. by pg.sh and by a script) must stay harmless.
if [[ -n "${_DROVER_COMMON_SH:-}" ]]; then
  return 0
fi
_DROVER_COMMON_SH=1

DROVER_DBMATE_VERSION=2.36.0
DROVER_PG_MAJOR=15

drover_root() {
  # This file is scripts/lib/common.sh, so the root is two levels up.
  (cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
}

ROOT="$(drover_root)"

drover_log() { printf '==> %s\n' "$*" >&2; }
drover_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
_drover_as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    drover_die "need root (or sudo) to run: $*"
  fi
}

# Print the packages among "$@" that dpkg does not report as installed.
# One dpkg-query call for all of them keeps the common "nothing to do" case fast.
_drover_missing_pkgs() {
  local name flag state pkg
  local -A ok=()
  # Status is "<want> <error-flag> <state>", e.g. "install ok installed" or
  # "hold ok installed". dpkg-query exits 1 (and complains on stderr) for
  # packages it has never heard of; those simply count as missing.
  while read -r name _ flag state; do
    if [[ "$flag $state" == "ok installed" ]]; then
      ok["$name"]=1
    fi
  done < <(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || true)
  for pkg in "$@"; do
    [[ -n "${ok[$pkg]:-}" ]] || printf '%s\n' "$pkg"
  done
}

drover_pg_bin() {
  # Prefer the versioned folder: a pg_config from another major version
  # (libpq-dev from PGDG, say) would point at the wrong server binaries.
  local dir="/usr/lib/postgresql/${DROVER_PG_MAJOR}/bin"
  if [[ -x "$dir/initdb" ]]; then
    printf '%s\n' "$dir"
  elif command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
    pg_config --bindir
  else
    drover_die "PostgreSQL ${DROVER_PG_MAJOR} server binaries not found (install postgresql-${DROVER_PG_MAJOR}, or run ensure_deps)"
  fi
}

# Put PG_BIN first on PATH: dbmate shells out to pg_dump for schema dumps,
# and a fresh Debian has no pg_dump/initdb on PATH at all.
_drover_export_pg_path() {
  PG_BIN="$(drover_pg_bin)"
  export PG_BIN
  case ":$PATH:" in
    *":$PG_BIN:"*) ;;
    *) PATH="$PG_BIN:$PATH" ;;
  esac
  export PATH
}

_drover_dbmate_path() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) drover_die "no dbmate build known for $(uname -m)" ;;
  esac
  # The real static binary; node_modules/.bin/dbmate is only a node wrapper.
  printf '%s\n' "$ROOT/.tools/node_modules/@dbmate/linux-$arch/bin/dbmate"
}

# A root worker runs sandboxed command jobs as this dedicated user (never
# root; `nobody` when it is missing). A worker that is not root runs them
# as itself, in a user namespace, and needs no such user.
_drover_ensure_job_user() {
  if [[ "$(id -u)" -eq 0 ]] && ! getent passwd drover-job >/dev/null 2>&1; then
    drover_log "creating the system user drover-job (sandboxed command jobs run as it)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin drover-job
  fi
}

# The Debian packages Drover needs, one a line (ensure_deps and drover install).
drover_required_pkgs() {
  printf '%s\n' build-essential cmake pkg-config libpistache-dev rapidjson-dev \
    libspdlog-dev libfmt-dev libarchive-dev libboost-test-dev libpq-dev libssl-dev libcurl4-openssl-dev \
    "postgresql-${DROVER_PG_MAJOR}" git ca-certificates curl nginx pgbouncer \
    "postgresql-${DROVER_PG_MAJOR}-cron" libarchive-tools bubblewrap util-linux prometheus jq zip
  # jq, zip: lines of README.md's tour (run as written by readme_tour_e2etest).
  # bubblewrap: the command-job sandbox (worker/executors/sandbox.hpp), instead
  # of hand-written namespace and mount code; util-linux: setpriv, with which
  # a root worker's jobs become their unprivileged user; prometheus: its
  # promtool checks GET /metrics in tests/e2e/metrics_e2etest (test-only, like
  # nginx and pgbouncer; the package's server is not started). postgresql-N-cron:
  # pg_cron, for the test that schedules the SQL sweeps from inside Postgres
  # (tests/e2e/pg_cron_e2etest.cpp); libarchive-tools: bsdtar, the baseline
  # of bench/files; Drover itself needs neither.
  # A node from elsewhere (nvm, nodesource) is fine; only dbmate's install needs npm.
  if ! command -v npm >/dev/null 2>&1; then
    printf '%s\n' nodejs npm
  fi
}

# _drover_install check|apply: every install step, in one place. Sets
# DROVER_MISSING_PKGS (array), DROVER_NEEDS_JOB_USER and DROVER_NEEDS_DBMATE
# (0/1) to what was missing; `apply` installs it, `check` only looks.
_drover_install() {
  local mode="$1" pkgs=()
  mapfile -t pkgs < <(drover_required_pkgs)
  DROVER_MISSING_PKGS=()
  mapfile -t DROVER_MISSING_PKGS < <(_drover_missing_pkgs "${pkgs[@]}")
  if [[ ${#DROVER_MISSING_PKGS[@]} -gt 0 && "$mode" == apply ]]; then
    drover_log "installing apt packages: ${DROVER_MISSING_PKGS[*]}"
    _drover_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    _drover_as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${DROVER_MISSING_PKGS[@]}"
  fi

  if [[ "$mode" == apply ]]; then
    _drover_export_pg_path
  fi

  DROVER_NEEDS_JOB_USER=0
  if [[ "$(id -u)" -eq 0 ]] && ! getent passwd drover-job >/dev/null 2>&1; then
    DROVER_NEEDS_JOB_USER=1
    if [[ "$mode" == apply ]]; then
      _drover_ensure_job_user
    fi
  fi

  local dbmate
  dbmate="$(_drover_dbmate_path)"
  DROVER_NEEDS_DBMATE=0
  # Reinstall also when the pin changed, not only when the binary is missing.
  if [[ ! -x "$dbmate" ]] || [[ "$("$dbmate" --version 2>/dev/null || true)" != *" $DROVER_DBMATE_VERSION" ]]; then
    DROVER_NEEDS_DBMATE=1
    if [[ "$mode" == apply ]]; then
      drover_log "installing dbmate $DROVER_DBMATE_VERSION into $ROOT/.tools"
      mkdir -p "$ROOT/.tools"
      npm install --no-audit --no-fund --prefix "$ROOT/.tools" "dbmate@$DROVER_DBMATE_VERSION"
      [[ -x "$dbmate" ]] || drover_die "npm did not install $dbmate"
    fi
  fi
  DROVER_DBMATE="$dbmate"
  export DROVER_DBMATE
}

ensure_deps() {
  _drover_install apply
}

# build_drover [BUILD_DIR] [EXTRA CMAKE ARGS...]
# A relative BUILD_DIR is taken relative to the repo root, not the caller's cwd.
build_drover() {
  local dir="$ROOT/build"
  if [[ $# -gt 0 && "$1" != -* ]]; then
    dir="$1"
    shift
  fi
  [[ "$dir" == /* ]] || dir="$ROOT/$dir"
  cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  cmake --build "$dir" -j"$(nproc)"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local port
  # Let the kernel pick when python3 works (a pyenv shim may exist and fail).
  if command -v python3 >/dev/null 2>&1 &&
    port="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null)" && [[ "$port" =~ ^[0-9]+$ ]]; then
    printf '%s\n' "$port"
    return 0
  fi
  # Fallback: probe random ports below Linux's ephemeral range (32768+), so
  # outgoing connections are unlikely to take the port before we bind it.
  local i
  for ((i = 0; i < 200; i++)); do
    port=$((15000 + RANDOM % 17000))
    if ! port_in_use "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  drover_die "no free TCP port found on 127.0.0.1"
}
