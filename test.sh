#!/usr/bin/env bash
# Runs the whole test suite against real Postgres and Redis (started here) and the in-process Kafka mock cluster.
#   ./test.sh                      every test
#   ./test.sh --filter Governance  extra arguments go to dotnet test
set -euo pipefail
cd "$(dirname "$0")"
source scripts/infra.sh

ensure_packages
start_postgres
start_redis
export_connection_settings

log "Building (Release, warnings are errors)…"
dotnet build Ingest.sln -c Release -nologo -v quiet
log "Running tests…"
dotnet test Ingest.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@"
