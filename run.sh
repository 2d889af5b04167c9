#!/usr/bin/env bash
# Runs the whole pipeline locally in the foreground: Postgres, Redis, the dev Kafka broker (librdkafka mock cluster),
# database migrations, the collector (http://127.0.0.1:8080), the worker and a demo site wired with the snippet
# (http://127.0.0.1:8088). Ctrl-C stops everything it started.
# Your environment is passed through to the services (Kafka__BootstrapServers, ConnectionStrings__Postgres, …).
set -euo pipefail
cd "$(dirname "$0")"
source deploy/local/infra.sh

ensure_packages
started_pg=0 started_redis=0
as_pg "$(pg_bin)/pg_ctl" -D "$INGEST_DATA_DIR/postgres" status >/dev/null 2>&1 || started_pg=1
redis_cli ping >/dev/null 2>&1 || started_redis=1
start_postgres
start_redis
export_connection_settings

# Development keys: printed below, overridable from the environment. Never use them outside your machine.
export Collector__WriteKeys__0=${Collector__WriteKeys__0:-dev-write-key}
export Api__ReadKeys__0=${Api__ReadKeys__0:-dev-read-key}
export Collector__ServerKeys__0=${Collector__ServerKeys__0:-dev-server-key}
export Webhooks__HubSpot__ClientSecret=${Webhooks__HubSpot__ClientSecret:-dev-hubspot-client-secret}
# The demo site is a browser origin of its own: the collector accepts its touches and its contact form.
export Collector__CorsOrigins__0=${Collector__CorsOrigins__0:-http://127.0.0.1:8088}
export Forms__contact__AllowedOrigins__0=${Forms__contact__AllowedOrigins__0:-http://127.0.0.1:8088}
export Forms__contact__RedirectUrl=${Forms__contact__RedirectUrl:-http://127.0.0.1:8088/thanks.html}
export Demo__CollectorUrl=${Demo__CollectorUrl:-http://127.0.0.1:8080}
export Demo__WriteKey=${Demo__WriteKey:-$Collector__WriteKeys__0}
export Demo__ReadKeyHint=${Demo__ReadKeyHint:-$Api__ReadKeys__0}
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}

log "Building (Release)…"
dotnet build Ingest.sln -c Release -nologo -v quiet >/dev/null || dotnet build Ingest.sln -c Release -nologo -v quiet
bin() { echo "$INGEST_ROOT/src/$1/bin/Release/net10.0"; }

pids=()
cleanup() {
  trap - INT TERM EXIT
  log "Stopping…"
  # In reverse start order, each one gone before the next: the worker commits its offsets while Kafka still runs.
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  [ "$started_redis" = 1 ] && stop_redis
  [ "$started_pg" = 1 ] && stop_postgres
  log "Stopped."
}
trap cleanup INT TERM EXIT

# Each service runs from its output folder so it finds its appsettings.json; `exec` keeps the PID ours to signal.
service() { local name=$1; shift; (cd "$(bin "$name")" && exec dotnet "$name.dll" "$@") & pids+=($!); }

if [ -z "${Kafka__BootstrapServers:-}" ]; then
  service Ingest.DevKafka
  export Kafka__BootstrapServers=127.0.0.1:29092
  for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/29092) 2>/dev/null && break; sleep 0.2; done
else
  log "Using Kafka at $Kafka__BootstrapServers"
fi

(cd "$(bin Ingest.Worker)" && dotnet Ingest.Worker.dll migrate)
service Ingest.Worker
service Ingest.Collector
service Ingest.DemoSite

for _ in $(seq 1 150); do
  curl -fs http://127.0.0.1:8080/health/ready >/dev/null 2>&1 && break
  sleep 0.2
done

cat <<INFO

  Ingest is running.
    Collector      http://127.0.0.1:8080   (Swagger UI: http://127.0.0.1:8080/swagger)
    Demo site      http://127.0.0.1:8088   (click a campaign link, browse, send the contact form, then read the lead back)
    Health         http://127.0.0.1:8080/health/ready · worker http://127.0.0.1:8081/health/ready
    Kafka          $Kafka__BootstrapServers   (dev broker admin: http://127.0.0.1:29080/brokers)
    Postgres       127.0.0.1:$PG_PORT (ingest/ingest)   Redis 127.0.0.1:$REDIS_PORT
    Write key      $Collector__WriteKeys__0
    Read key       $Api__ReadKeys__0
    Server key     $Collector__ServerKeys__0   (outcomes: stages, deals, responses)

  Send a touch:
    curl -i http://127.0.0.1:8080/v1/touches -H 'Authorization: Bearer $Collector__WriteKeys__0' \\
      -H 'Content-Type: application/json' \\
      -d '{"kind":"form","email":"ada@example.com","page_url":"https://example.com/?utm_source=google&utm_medium=cpc"}'

  Ctrl-C stops everything.
INFO

# Stop everything as soon as any service exits on its own.
wait -n "${pids[@]}" || true
log "A service exited; shutting down the rest."
