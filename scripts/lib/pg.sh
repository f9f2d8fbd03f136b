#!/usr/bin/env bash
# A private PostgreSQL cluster kept in one folder. Source it; do not run it.
#   pg_init DIR                 initdb into DIR/data (once)
#   pg_start DIR PORT [MODE]    start it; MODE is test (no fsync) or prod (default)
#   pg_stop DIR                 stop it fast; fine if it is not running
#   pg_running DIR              true when the cluster is up
#   pg_port DIR                 print the port it runs (or last ran) on
#   pg_url DIR [DBNAME]         print postgres://postgres@127.0.0.1:PORT/DBNAME?sslmode=disable
#   pg_createdb DIR NAME        create database NAME unless it exists
#
# Layout of DIR: data/ (PGDATA), sock/ (Unix socket), postgres.log, port,
# and sockdir when the socket lives in /tmp instead (see _pg_sockdir).
#
# Postgres refuses to run as root. As root, DIR is chowned to the postgres
# user and every server tool runs through `runuser -u postgres --`; as a
# normal user the tools run directly and DIR stays yours.
set -euo pipefail

if [[ -n "${_DROVER_PG_SH:-}" ]]; then
  return 0
fi
_DROVER_PG_SH=1

# shellcheck source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

_pg_is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a PG tool as the cluster's owner. cd / first: as postgres, the
# caller's cwd (often /root) may be unreadable and initdb/pg_ctl warn or fail.
_pg_as_owner() {
  if _pg_is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

_pg_bin() {
  if [[ -z "${PG_BIN:-}" ]]; then
    PG_BIN="$(drover_pg_bin)"
    export PG_BIN
  fi
  printf '%s\n' "$PG_BIN"
}

# Absolute path of DIR (created if needed): postgres runs from / and cannot
# resolve paths relative to the caller's cwd.
_pg_abs() {
  [[ -n "${1:-}" ]] || drover_die "missing cluster folder argument"
  mkdir -p -- "$1"
  (cd -- "$1" && pwd -P)
}

# As root, the postgres user must be able to reach DIR. Folders such as /root
# (mode 700) block it. We add o+x (traverse only, no listing) to exactly the
# ancestors that block it. That is the simplest robust fix: the data stays in
# DIR, where the caller asked for it, and nothing else becomes readable.
# Moving the data elsewhere would need a second location to track and clean up.
_pg_make_reachable() {
  local dir="$1" path="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${dir#/}"
  for part in "${parts[@]}"; do
    path="$path/$part"
    [[ "$path" == "$dir" ]] && break
    if ! runuser -u postgres -- test -x "$path" 2>/dev/null; then
      drover_log "chmod o+x $path (so the postgres user can reach $dir)"
      chmod o+x -- "$path"
    fi
  done
}

# Socket folder. Unix socket paths are limited to ~107 bytes, and the path also
# goes through pg_ctl's shell command line. So a long or odd DIR gets a short
# socket folder under /tmp instead of DIR/sock. Its path is recorded in
# DIR/sockdir, and pg_start makes a new one when it is gone (/tmp may be wiped).
_pg_sockdir() {
  local dir="$1" sock
  if [[ -f "$dir/sockdir" ]]; then
    sock="$(<"$dir/sockdir")"
    if [[ -d "$sock" ]]; then
      printf '%s\n' "$sock"
      return 0
    fi
  fi
  sock="$dir/sock"
  # 20 bytes of room for "/.s.PGSQL.65535.lock".
  if [[ ${#sock} -gt 80 || "$sock" =~ [^A-Za-z0-9._/-] ]]; then
    sock="$(mktemp -d /tmp/drover-pg.XXXXXX)"
    printf '%s\n' "$sock" >"$dir/sockdir"
  else
    rm -f -- "$dir/sockdir"
    mkdir -p -- "$sock"
  fi
  if _pg_is_root; then
    chown postgres:postgres -- "$sock"
  fi
  printf '%s\n' "$sock"
}

pg_init() {
  local dir entry
  dir="$(_pg_abs "${1:-}")"
  # As root we chown DIR: refuse a folder that holds anything but a cluster
  # (a typo like `scripts/pg start ~` must not hand $HOME to postgres).
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    for entry in "$dir"/* "$dir"/.[!.]*; do
      [[ -e "$entry" ]] || continue
      case "${entry##*/}" in
        data | sock | port | sockdir | initdb.log | postgres.log) ;;
        *) drover_die "refusing to create a cluster in $dir: it is not empty (found ${entry##*/})" ;;
      esac
    done
  fi
  if _pg_is_root; then
    id postgres >/dev/null 2>&1 || drover_die "no 'postgres' user: install postgresql-${DROVER_PG_MAJOR} (ensure_deps)"
    chown postgres:postgres -- "$dir"
    _pg_make_reachable "$dir"
  fi
  if [[ -f "$dir/data/PG_VERSION" ]]; then
    return 0
  fi
  local bin
  bin="$(_pg_bin)"
  # Quiet on success; show initdb's output only when it fails.
  if ! _pg_as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync \
    -E UTF8 --locale=C --no-instructions >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    drover_die "initdb failed for $dir/data"
  fi
}

pg_running() {
  local dir="$1"
  [[ -f "$dir/data/postmaster.pid" ]] || return 1
  _pg_as_owner "$(_pg_bin)/pg_ctl" status -D "$dir/data" >/dev/null 2>&1
}

pg_port() {
  local dir="$1" port=""
  # Line 4 of postmaster.pid is the live port; DIR/port is what we last asked for.
  if [[ -f "$dir/data/postmaster.pid" ]] && pg_running "$dir"; then
    port="$(sed -n 4p "$dir/data/postmaster.pid")"
  elif [[ -f "$dir/port" ]]; then
    port="$(<"$dir/port")"
  fi
  [[ "$port" =~ ^[0-9]+$ ]] || drover_die "no port known for the cluster in $dir (not started?)"
  printf '%s\n' "$port"
}

pg_start() {
  local dir port="${2:-}" mode="${3:-prod}"
  dir="$(_pg_abs "${1:-}")"
  [[ "$port" =~ ^[0-9]+$ ]] || drover_die "pg_start: bad port '$port'"
  [[ -f "$dir/data/PG_VERSION" ]] || drover_die "pg_start: no cluster in $dir (run pg_init first)"

  if pg_running "$dir"; then
    local live
    live="$(pg_port "$dir")"
    if [[ "$live" != "$port" ]]; then
      drover_log "cluster in $dir is already running on port $live; keeping it"
    fi
    return 0
  fi

  local -a opts=(-c listen_addresses=127.0.0.1 -c max_connections=200)
  case "$mode" in
    # Throwaway test clusters: durability buys nothing, speed does.
    test) opts+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off) ;;
    # Spelled out, since a cluster may have been started in test mode before.
    prod) opts+=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on) ;;
    *) drover_die "pg_start: mode must be test or prod, not '$mode'" ;;
  esac

  local sock bin
  sock="$(_pg_sockdir "$dir")"
  bin="$(_pg_bin)"
  printf '%s\n' "$port" >"$dir/port"
  # pg_ctl -o is a string re-split by a shell. _pg_sockdir keeps the socket
  # path free of spaces and quotes, so plain words are safe here.
  if ! _pg_as_owner "$bin/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $sock ${opts[*]}" >/dev/null; then
    tail -n 20 "$dir/postgres.log" >&2 || true
    drover_die "postgres did not start in $dir (port $port); log: $dir/postgres.log"
  fi
  # pg_ctl -w watches postmaster.pid; also check that TCP really answers.
  local i
  for ((i = 0; i < 100; i++)); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
      return 0
    fi
    sleep 0.1
  done
  drover_die "postgres in $dir does not answer on 127.0.0.1:$port"
}

pg_stop() {
  local dir="${1:-}"
  [[ -n "$dir" ]] || drover_die "pg_stop: missing cluster folder"
  [[ -d "$dir" ]] || return 0
  dir="$(cd -- "$dir" && pwd -P)"
  if pg_running "$dir"; then
    _pg_as_owner "$(_pg_bin)/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null ||
      drover_log "pg_ctl stop failed for $dir (ignored)"
  fi
  # Drop a /tmp socket folder we made; the next start makes a fresh one.
  if [[ -f "$dir/sockdir" ]]; then
    rmdir -- "$(<"$dir/sockdir")" 2>/dev/null || true
    rm -f -- "$dir/sockdir"
  fi
}

pg_url() {
  local dir="${1:-}" db="${2:-postgres}"
  [[ -n "$dir" ]] || drover_die "pg_url: missing cluster folder"
  printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable\n' "$(pg_port "$dir")" "$db"
}

pg_createdb() {
  local dir="${1:-}" name="${2:-}"
  [[ -n "$name" ]] || drover_die "pg_createdb: missing database name"
  # psql variables (:'name') quote the name safely, but psql expands them only
  # in scripts read from stdin or a file, not with -c; \gexec runs the CREATE
  # only when the SELECT returns a row.
  "$(_pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -v name="$name" "$(pg_url "$dir" postgres)" <<'SQL' >/dev/null
SELECT format('CREATE DATABASE %I', :'name')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name')
\gexec
SQL
}
