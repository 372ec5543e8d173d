#!/usr/bin/env bash
# A throw-away PostgreSQL for tests: a fresh cluster in a temp dir, listening on a free 127.0.0.1 port.
#
#   eval "$(scripts/pg-test-server.sh start)"   # exports GSMCP_TEST_PG_URL, GSMCP_TEST_PG_PW_URL, GSMCP_TEST_PG_DIR
#   scripts/pg-test-server.sh stop "$GSMCP_TEST_PG_DIR"
#
# stdout carries only the export lines (they hold generated passwords: capture them, do not log them); progress and
# errors go to stderr and never contain a password. Authentication: every TCP connection uses scram-sha-256 (the
# superuser `postgres` and the password user `gsmcp_pw` get random passwords); trust only on the Unix socket inside
# the cluster's own 0700 directory. As root, initdb and pg_ctl run as the `postgres` user (initdb refuses root).
# Binaries: $PG_BINDIR, else Debian's /usr/lib/postgresql/<newest>/bin, else pg_config --bindir, else PATH.
set -euo pipefail

say() { echo "pg-test-server: $*" >&2; }
die() { say "$*"; exit 1; }

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/pg_ctl" ]; then echo "$PG_BINDIR"; return 0; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  return 1
}

# Runs a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})'
}

random_hex() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

cmd_start() {
  local bindir dir port admin_pw user_pw attempt started=0
  bindir="$(find_bindir)" || die "PostgreSQL not found: install Debian's postgresql or set GSMCP_TEST_PG_URL"
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then die "running as root but there is no postgres user"; fi

  dir="$(mktemp -d "${TMPDIR:-/tmp}/gsmcp-pg.XXXXXX")"
  touch "$dir/.gsmcp-pg-test"
  chmod 0700 "$dir"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
  # From here on a failure removes the half-built cluster.
  trap 'as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' ERR

  admin_pw="$(random_hex)"
  user_pw="$(random_hex)"
  # initdb reads the superuser's password from a file (never a command line: ps shows those); removed right after.
  (umask 077; printf '%s\n' "$admin_pw" >"$dir/pwfile")
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pwfile"
  as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" -A scram-sha-256 --auth-local=trust \
    -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || { tail -n 20 "$dir/initdb.log" >&2; false; }
  rm -f "$dir/pwfile"
  cat >"$dir/data/pg_hba.conf" <<'EOF'
# gsmcp throw-away test cluster: trust only on the socket in this 0700 directory; passwords (SCRAM) over TCP.
local   all   all                   trust
host    all   all   127.0.0.1/32    scram-sha-256
EOF

  # A free port can be taken between the probe and the bind: retry with another.
  for attempt in 1 2 3; do
    port="$(free_port)"
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "${PG_START_TIMEOUT:-30}" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      started=1
      break
    fi
    say "start on port $port failed (attempt $attempt)"
    tail -n 5 "$dir/server.log" >&2 || true
    # pg_ctl gives up waiting after -t seconds but the server may still come up: make sure it is down before a retry.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  done
  [ "$started" = 1 ] || false

  # Passwords travel on stdin to psql over the socket; log_statement is off, so they are not in server.log.
  printf "CREATE ROLE gsmcp_pw LOGIN PASSWORD '%s';\nGRANT CREATE ON DATABASE postgres TO gsmcp_pw;\n" "$user_pw" |
    as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null

  echo "$port" >"$dir/port"
  trap - ERR
  say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (dir $dir)"
  echo "export GSMCP_TEST_PG_URL='postgres://postgres:$admin_pw@127.0.0.1:$port/postgres'"
  echo "export GSMCP_TEST_PG_PW_URL='postgres://gsmcp_pw:$user_pw@127.0.0.1:$port/postgres'"
  echo "export GSMCP_TEST_PG_DIR='$dir'"
}

cmd_stop() {
  local dir="${1:-${GSMCP_TEST_PG_DIR:-}}" bindir
  [ -n "$dir" ] || die "usage: $0 stop DIR"
  [ -d "$dir" ] || { say "$dir: already gone"; return 0; }
  # Only ever delete a directory this script made.
  [ -f "$dir/.gsmcp-pg-test" ] || die "$dir was not made by $0; not touching it"
  if [ -f "$dir/data/postmaster.pid" ]; then
    bindir="$(find_bindir)" || die "PostgreSQL binaries not found to stop $dir"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  say "stopped and removed $dir"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
