#!/usr/bin/env bash
# Runs the whole test suite against real Postgres and Redis (started here), the in-process Kafka mock cluster and
# Debian's chromium (installed here when missing; the browser tests drive it with Playwright), then the snippet's own
# unit tests with node.
#   ./test.sh                      every test
#   ./test.sh --filter Governance  extra arguments go to dotnet test
set -euo pipefail
cd "$(dirname "$0")"
source deploy/local/infra.sh

ensure_packages chromium
start_postgres
start_redis
export_connection_settings

log "Building (Release, warnings are errors)…"
dotnet build Ingest.sln -c Release -nologo -v quiet

# The contract, checked by a tool nobody here wrote: Redocly CLI's recommended rules (tools/openapi-lint/redocly.yaml),
# pinned in package-lock.json. Errors and warnings both fail the run; accepted findings live in .redocly.lint-ignore.yaml.
log "Linting openapi.yaml (Redocly CLI, recommended rules)…"
lint_dir=tools/openapi-lint
if [[ ! -f $lint_dir/node_modules/.package-lock.json || $lint_dir/package-lock.json -nt $lint_dir/node_modules/.package-lock.json ]]; then
  (cd "$lint_dir" && npm ci --no-audit --no-fund --silent)
fi
lint_status=0
lint_out=$(cd "$lint_dir" && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  npx --no-install redocly lint ../../openapi.yaml --format=stylish 2>&1) || lint_status=$?
# Drop Redocly's boxed Node.js deprecation notice; keep the findings.
grep -v '[║╔╚]' <<<"$lint_out" | sed '/^[[:space:]]*$/d' || true
if (( lint_status != 0 )) || grep -Eq '^[[:space:]]+[0-9]+:[0-9]+[[:space:]]+warning[[:space:]]' <<<"$lint_out"; then
  die "openapi.yaml fails Redocly's lint (above): fix the collector's OpenAPI setup (src/Ingest.Collector/OpenApi/), then INGEST_UPDATE_OPENAPI=1 ./test.sh --filter OpenApi"
fi
log "Running tests…"
out=$(mktemp)
status=0
dotnet test Ingest.sln -c Release --no-build -nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$out" || status=$?
# One closing line over every test project (dotnet test prints one summary per project).
passed=$(awk '/^ +Passed: +[0-9]+$/ { n += $2 } END { print n + 0 }' "$out")
failed=$(awk '/^ +Failed: +[0-9]+$/ { n += $2 } END { print n + 0 }' "$out")

# The snippet's unit tests (node --test; its tools were installed from the lock file by the collector's build), unless
# a filter picked some .NET tests only.
if [ $# -eq 0 ]; then
  log "Running the snippet's tests (node)…"
  (cd src/Ingest.Snippet && npm test --silent) 2>&1 | tee "$out" || status=$?
  passed=$((passed + $(awk '/^# pass [0-9]+$/ { n += $3 } END { print n + 0 }' "$out")))
  failed=$((failed + $(awk '/^# fail [0-9]+$/ { n += $3 } END { print n + 0 }' "$out")))
fi
rm -f "$out"
echo "${passed} passed, ${failed} failed"
exit "$status"
