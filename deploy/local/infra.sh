#!/usr/bin/env bash
# Shared by run.sh, test.sh and load-tests/run.sh: install and start the local Postgres and Redis.
# Source it; every function is idempotent (a running server is reused, data is kept).

INGEST_ROOT=${INGEST_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
INGEST_DATA_DIR=${INGEST_DATA_DIR:-$INGEST_ROOT/.data}
PG_PORT=${INGEST_PG_PORT:-55432}
REDIS_PORT=${INGEST_REDIS_PORT:-56379}
PG_USER=ingest
PG_PASSWORD=ingest
PG_DB=ingest

log() { printf '\033[1;34m[ingest]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[ingest]\033[0m %s\n' "$*" >&2; exit 1; }

ensure_packages() {
  local missing=()
  command -v dotnet >/dev/null || die "The .NET SDK is required (dotnet not on PATH)."
  pg_bin >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  for extra in "$@"; do command -v "$extra" >/dev/null || missing+=("$extra"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "Missing packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}"
  fi
  command -v apt-get >/dev/null || die "Missing packages: ${missing[*]} (no apt-get: install them with your package manager)."
  log "Installing ${missing[*]} (apt-get)…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  # Debian starts a system cluster on 5432 and a system redis on 6379; ours use their own ports and data dirs.
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] || return 1
  echo "$dir"
}

# Postgres refuses to run as root: use the 'postgres' system user when we are root.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin pgdata="$INGEST_DATA_DIR/postgres"
  bin=$(pg_bin) || die "Postgres binaries not found under /usr/lib/postgresql"
  mkdir -p "$INGEST_DATA_DIR"
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    log "Creating Postgres cluster in $pgdata"
    mkdir -p "$pgdata"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdata"
    local pwfile
    pwfile=$(mktemp)
    echo "$PG_PASSWORD" >"$pwfile"
    chmod 644 "$pwfile"
    as_pg "$bin/initdb" -D "$pgdata" -U "$PG_USER" --pwfile="$pwfile" --auth-host=scram-sha-256 --auth-local=trust -E UTF8 >/dev/null \
      || { rm -f "$pwfile"; die "initdb failed"; }
    rm -f "$pwfile"
    cat >>"$pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$pgdata'
max_connections = 200
shared_buffers = 512MB
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_timeout = 15min
CONF
  fi
  # Commit timestamps let the pipeline load test measure when a touch became visible (pg_xact_commit_timestamp).
  if ! grep -q '^track_commit_timestamp' "$pgdata/postgresql.conf"; then
    echo 'track_commit_timestamp = on' >>"$pgdata/postgresql.conf"
    as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1 && as_pg "$bin/pg_ctl" -D "$pgdata" -m fast -w restart -l "$pgdata/server.log" >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    log "Postgres already running on 127.0.0.1:$PG_PORT"
  else
    as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 60 start >/dev/null || { tail -n 20 "$pgdata/server.log" >&2; die "Postgres failed to start"; }
    log "Postgres started on 127.0.0.1:$PG_PORT"
  fi
  if ! as_pg "$bin/psql" -h "$pgdata" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atqc "select 1 from pg_database where datname='$PG_DB'" | grep -q 1; then
    as_pg "$bin/psql" -h "$pgdata" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "create database $PG_DB" >/dev/null
  fi
}

stop_postgres() {
  local bin
  bin=$(pg_bin) || return 0
  as_pg "$bin/pg_ctl" -D "$INGEST_DATA_DIR/postgres" -m fast -w stop >/dev/null 2>&1 || true
}

redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

start_redis() {
  mkdir -p "$INGEST_DATA_DIR/redis"
  if redis_cli ping 2>/dev/null | grep -q PONG; then
    log "Redis already running on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  # No persistence: Postgres is the system of record and the identity cache rebuilds itself from it.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --dir "$INGEST_DATA_DIR/redis" --pidfile "$INGEST_DATA_DIR/redis/redis.pid" --logfile "$INGEST_DATA_DIR/redis/redis.log" >/dev/null
  for _ in $(seq 1 50); do
    redis_cli ping 2>/dev/null | grep -q PONG && { log "Redis started on 127.0.0.1:$REDIS_PORT"; return 0; }
    sleep 0.1
  done
  die "Redis failed to start (see $INGEST_DATA_DIR/redis/redis.log)"
}

stop_redis() {
  redis_cli shutdown nosave >/dev/null 2>&1 || true
}

export_connection_settings() {
  export ConnectionStrings__Postgres=${ConnectionStrings__Postgres:-"Host=127.0.0.1;Port=$PG_PORT;Username=$PG_USER;Password=$PG_PASSWORD;Database=$PG_DB"}
  export ConnectionStrings__Redis=${ConnectionStrings__Redis:-"127.0.0.1:$REDIS_PORT"}
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}
