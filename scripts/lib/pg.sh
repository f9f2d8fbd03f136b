#!/usr/bin/env bash
# A private PostgreSQL cluster kept in one folder. Source it; do not run it.
#   pg_init DIR                 initdb into DIR/data (once)
#   pg_start DIR PORT [MODE]    start it; MODE is test (no fsync) or prod (default)
#   pg_stop DIR                 stop it fast; fine if it is not running
#   pg_running DIR              true when the cluster is up
#   pg_port DIR                 print the port it runs (or last ran) on
#   pg_postmaster_pid DIR       print the postmaster's pid (fails when it does not run)
#   pg_url DIR [DBNAME]         print postgres://postgres@127.0.0.1:PORT/DBNAME?sslmode=disable&gssencmode=disable&passfile=DIR/pgpass
#   pg_url_inline DIR [DBNAME]  the same with the password in the URL (for dbmate, which has no passfile)
#   pg_createdb DIR NAME        create database NAME unless it exists
#
# Safe on a shared machine, where any local user may try to connect:
#  - the Unix socket is in a folder only the cluster's owner can enter
#    (mode 0700), and only it is trusted;
#  - TCP (127.0.0.1 only) needs the superuser's password (scram-sha-256),
#    generated at init and kept in DIR/pgpass (mode 0600, libpq's passfile
#    format), which pg_url hands to libpq clients; its gssencmode=disable
#    spares each client libpq's Kerberos probe at connect (no Kerberos here;
#    it kept ~0.8 MiB of libkrb5 resident in every idle worker);
#  - the server log and everything the cluster writes are owner-only.
# (Clusters made before this, with `initdb -A trust`, are converted on their
# next start: a password is set and pg_hba.conf rewritten.)
#
# Layout: DIR/pgpass and DIR/home (see below) are ours; the cluster itself,
# HOME = DIR or elsewhere, holds data/ (PGDATA), sock/ (Unix socket),
# postgres.log, port, and sockdir when the socket lives in /tmp instead (see
# _pg_sockdir).
#
# Postgres refuses to run as root. As root every server tool runs through
# `runuser -u postgres --`, and the cluster must be where the postgres user
# can reach it: in DIR when it can (DIR is then chowned to postgres), else in
# a folder of postgres's own (/var/lib/postgresql/drover/<hash of DIR>,
# recorded in DIR/home). No permission outside DIR is ever changed. As a
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

# True when the postgres user can reach (traverse to) $1.
_pg_reachable() {
  runuser -u postgres -- test -x "$1" 2>/dev/null
}

# The folder that holds the cluster of DIR: DIR itself, unless we are root and
# the postgres user cannot reach DIR (say under /root, mode 700). Then a folder
# of postgres's own, named after DIR, so that no permission outside DIR has to
# change (the old way, chmod o+x on the ancestors, opened /root to everyone).
_pg_home() {
  local dir="$1" home base
  if [[ -f "$dir/home" ]]; then
    cat -- "$dir/home"
    return 0
  fi
  # A cluster already in DIR stays there (made before clusters could live elsewhere).
  if [[ -f "$dir/data/PG_VERSION" ]] || ! _pg_is_root || _pg_reachable "$dir"; then
    printf '%s\n' "$dir"
    return 0
  fi
  base="$(getent passwd postgres | cut -d: -f6)"
  [[ -n "$base" && -d "$base" ]] || base=/var/lib/postgresql
  home="$base/drover/$(printf '%s' "$dir" | sha256sum | cut -c1-16)"
  printf '%s\n' "$home"
}

# Creates HOME for DIR (as root: owned by postgres, mode 0700) and records it.
_pg_make_home() {
  local dir="$1" home="$2"
  [[ "$home" == "$dir" ]] && return 0
  install -d -m 0755 -o postgres -g postgres -- "$(dirname -- "$home")"
  install -d -m 0700 -o postgres -g postgres -- "$home"
  printf '%s\n' "$home" >"$dir/home"
  chmod 0600 -- "$dir/home"
}

# The superuser's password, made once: 32 random characters, kept in DIR/pgpass
# as "host:port:db:user:password" lines (mode 0600; libpq ignores a passfile
# others can read).
_pg_password() {
  local dir="$1" pw
  if [[ -f "$dir/pgpass" ]]; then
    sed -n '1s/^[^:]*:[^:]*:[^:]*:[^:]*://p' "$dir/pgpass"
    return 0
  fi
  pw="$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n' | head -c 32)"
  (
    umask 077
    printf '127.0.0.1:*:*:postgres:%s\nlocalhost:*:*:postgres:%s\n' "$pw" "$pw" >"$dir/pgpass"
  )
  chmod 0600 -- "$dir/pgpass"
  printf '%s\n' "$pw"
}

# pg_hba.conf: the socket (in an owner-only folder) is trusted, TCP needs the password.
_pg_write_hba() {
  local home="$1"
  _pg_as_owner sh -c 'umask 077; cat >"$1"' sh "$home/data/pg_hba.conf" <<'HBA'
# Written by Drover (scripts/lib/pg.sh). The Unix socket's folder can be
# entered only by the cluster's owner, so it is trusted; TCP needs the
# superuser's password (scram-sha-256), kept in the state folder's pgpass.
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
host    all   all   ::1/128        scram-sha-256
HBA
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
  # Only the cluster's owner may enter it: the socket itself is trusted.
  chmod 0700 -- "$sock"
  if _pg_is_root; then
    chown postgres:postgres -- "$sock"
  fi
  printf '%s\n' "$sock"
}

pg_init() {
  local dir home entry
  dir="$(_pg_abs "${1:-}")"
  # As root DIR may be chowned: refuse a folder that holds anything but a
  # cluster (a typo like `scripts/pg start ~` must not hand $HOME to postgres).
  if [[ ! -f "$dir/data/PG_VERSION" && ! -f "$dir/home" ]]; then
    for entry in "$dir"/* "$dir"/.[!.]*; do
      [[ -e "$entry" ]] || continue
      case "${entry##*/}" in
        data | sock | port | sockdir | initdb.log | postgres.log | pgpass | home) ;;
        *) drover_die "refusing to create a cluster in $dir: it is not empty (found ${entry##*/})" ;;
      esac
    done
  fi
  home="$dir"
  if _pg_is_root; then
    id postgres >/dev/null 2>&1 || drover_die "no 'postgres' user: install postgresql-${DROVER_PG_MAJOR} (ensure_deps)"
    if [[ -f "$dir/data/PG_VERSION" ]] || { [[ ! -f "$dir/home" ]] && _pg_reachable "$(dirname -- "$dir")"; }; then
      chown postgres:postgres -- "$dir"
      chmod 0700 -- "$dir"
    else
      home="$(_pg_home "$dir")"
      _pg_make_home "$dir" "$home"
      chmod 0700 -- "$dir"
    fi
  else
    chmod 0700 -- "$dir"
  fi
  local pw
  pw="$(_pg_password "$dir")"
  if [[ -f "$home/data/PG_VERSION" ]]; then
    return 0
  fi
  local bin
  bin="$(_pg_bin)"
  # initdb reads the password from a file the cluster's owner can read; it
  # goes as soon as initdb is done.
  printf '%s\n' "$pw" | _pg_as_owner sh -c 'umask 077; cat >"$1"' sh "$home/initdb.pw"
  # Quiet on success; show initdb's output only when it fails.
  if ! _pg_as_owner "$bin/initdb" -D "$home/data" --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$home/initdb.pw" -U postgres --no-sync -E UTF8 --locale=C --no-instructions \
    >"$home/initdb.log" 2>&1; then
    rm -f -- "$home/initdb.pw"
    cat "$home/initdb.log" >&2
    drover_die "initdb failed for $home/data"
  fi
  rm -f -- "$home/initdb.pw"
  chmod 0600 -- "$home/initdb.log"
  _pg_write_hba "$home"
}

pg_running() {
  local dir="$1" home
  home="$(_pg_home "$dir")"
  [[ -f "$home/data/postmaster.pid" ]] || return 1
  _pg_as_owner "$(_pg_bin)/pg_ctl" status -D "$home/data" >/dev/null 2>&1
}

pg_postmaster_pid() {
  local dir="$1" home
  home="$(_pg_home "$dir")"
  pg_running "$dir" || drover_die "the cluster in $dir does not run"
  head -n 1 -- "$home/data/postmaster.pid"
}

pg_port() {
  local dir="$1" home port=""
  home="$(_pg_home "$dir")"
  # Line 4 of postmaster.pid is the live port; HOME/port is what we last asked for.
  if [[ -f "$home/data/postmaster.pid" ]] && pg_running "$dir"; then
    port="$(sed -n 4p "$home/data/postmaster.pid")"
  elif [[ -f "$home/port" ]]; then
    port="$(<"$home/port")"
  fi
  [[ "$port" =~ ^[0-9]+$ ]] || drover_die "no port known for the cluster in $dir (not started?)"
  printf '%s\n' "$port"
}

pg_start() {
  local dir home port="${2:-}" mode="${3:-prod}"
  dir="$(_pg_abs "${1:-}")"
  home="$(_pg_home "$dir")"
  [[ "$port" =~ ^[0-9]+$ ]] || drover_die "pg_start: bad port '$port'"
  [[ -f "$home/data/PG_VERSION" ]] || drover_die "pg_start: no cluster in $dir (run pg_init first)"

  if pg_running "$dir"; then
    local live
    live="$(pg_port "$dir")"
    if [[ "$live" != "$port" ]]; then
      drover_log "cluster in $dir is already running on port $live; keeping it"
    fi
    return 0
  fi

  local -a opts=(-c listen_addresses=127.0.0.1 -c max_connections=200 -c password_encryption=scram-sha-256)
  case "$mode" in
    # Throwaway test clusters: durability buys nothing, speed does.
    test) opts+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off) ;;
    # Spelled out, since a cluster may have been started in test mode before.
    prod) opts+=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on) ;;
    *) drover_die "pg_start: mode must be test or prod, not '$mode'" ;;
  esac

  local sock bin pw
  sock="$(_pg_sockdir "$home")"
  bin="$(_pg_bin)"
  pw="$(_pg_password "$dir")"
  # Also converts a cluster made with `initdb -A trust` (password set below).
  _pg_write_hba "$home"
  printf '%s\n' "$port" | _pg_as_owner sh -c 'cat >"$1"' sh "$home/port"
  # pg_ctl -o is a string re-split by a shell. _pg_sockdir keeps the socket
  # path free of spaces and quotes, so plain words are safe here. The server
  # log is the owner's only (pg_ctl creates it under umask 077: data/ is 0700).
  if ! _pg_as_owner "$bin/pg_ctl" start -D "$home/data" -l "$home/postgres.log" -w -t 60 \
    -o "-p $port -k $sock ${opts[*]}" >/dev/null; then
    tail -n 20 "$home/postgres.log" >&2 || true
    drover_die "postgres did not start in $dir (port $port); log: $home/postgres.log"
  fi
  _pg_as_owner chmod 0600 -- "$home/postgres.log"
  # The password in pgpass is the superuser's (idempotent; through the
  # owner-only socket, which is trusted).
  if ! "$bin/psql" -X -q -v ON_ERROR_STOP=1 -v pw="$pw" -h "$sock" -p "$port" -U postgres -d postgres \
    >/dev/null <<'SQL'; then
ALTER ROLE postgres PASSWORD :'pw';
SQL
    drover_die "could not set the superuser's password of the cluster in $dir"
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
  local dir="${1:-}" home
  [[ -n "$dir" ]] || drover_die "pg_stop: missing cluster folder"
  [[ -d "$dir" ]] || return 0
  dir="$(cd -- "$dir" && pwd -P)"
  home="$(_pg_home "$dir")"
  if pg_running "$dir"; then
    _pg_as_owner "$(_pg_bin)/pg_ctl" stop -D "$home/data" -m fast -w -t 60 >/dev/null ||
      drover_log "pg_ctl stop failed for $dir (ignored)"
  fi
  # Drop a /tmp socket folder we made; the next start makes a fresh one.
  if [[ -f "$home/sockdir" ]]; then
    rmdir -- "$(<"$home/sockdir")" 2>/dev/null || true
    rm -f -- "$home/sockdir"
  fi
}

# Removes DIR and, when the cluster lived elsewhere (see _pg_home), that too.
pg_destroy() {
  local dir="${1:-}" home
  [[ -n "$dir" && -d "$dir" ]] || return 0
  dir="$(cd -- "$dir" && pwd -P)"
  home="$(_pg_home "$dir")"
  pg_stop "$dir"
  if [[ "$home" != "$dir" ]]; then
    rm -rf -- "$home"
  fi
  rm -rf -- "$dir"
}

pg_url() {
  local dir="${1:-}" db="${2:-postgres}"
  [[ -n "$dir" ]] || drover_die "pg_url: missing cluster folder"
  dir="$(cd -- "$dir" && pwd -P)"
  printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable&gssencmode=disable&passfile=%s\n' "$(pg_port "$dir")" "$db" "$dir/pgpass"
}

pg_url_inline() {
  local dir="${1:-}" db="${2:-postgres}"
  [[ -n "$dir" ]] || drover_die "pg_url_inline: missing cluster folder"
  dir="$(cd -- "$dir" && pwd -P)"
  printf 'postgres://postgres:%s@127.0.0.1:%s/%s?sslmode=disable\n' "$(_pg_password "$dir")" "$(pg_port "$dir")" "$db"
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
