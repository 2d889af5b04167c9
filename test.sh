#!/usr/bin/env bash
# Runs the whole test suite against real Postgres and Redis (started here) and the in-process Kafka mock cluster.
#   ./test.sh                      every test
#   ./test.sh --filter Governance  extra arguments go to dotnet test
set -euo pipefail
cd "$(dirname "$0")"
source deploy/local/infra.sh

ensure_packages
start_postgres
start_redis
export_connection_settings

log "Building (Release, warnings are errors)…"
dotnet build Ingest.sln -c Release -nologo -v quiet
log "Running tests…"
out=$(mktemp)
status=0
dotnet test Ingest.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$out" || status=$?
# One closing line over every test project (dotnet test prints one summary per project).
passed=$(awk '/^ +Passed: +[0-9]+$/ { n += $2 } END { print n + 0 }' "$out")
failed=$(awk '/^ +Failed: +[0-9]+$/ { n += $2 } END { print n + 0 }' "$out")
rm -f "$out"
echo "${passed} passed, ${failed} failed"
exit "$status"
