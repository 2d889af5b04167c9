#!/usr/bin/env bash
# Load scenarios, each bounded in time and count, against 127.0.0.1 only.
#   load-tests/run.sh collector   single touches: bare-Kestrel and Kestrel→Kafka ceilings vs the collector, alternately
#   load-tests/run.sh batch       POST /v1/touches/batch, 100 touches per request, vs the broker's produce ceiling
#   load-tests/run.sh pipeline    COPY ceiling, then a fixed number of touches through collector → Kafka → worker → Postgres
#   load-tests/run.sh chaos       TOUCHES (default 1,035,000 sent: ~3 % are deliberate duplicates, so ≥ 1,000,000 distinct) through
#                                 the pipeline while faults are injected at random, logged
#                                 moments (CHAOS_SEED, CHAOS_WINDOW s); then every acknowledged id checked stored exactly once
#   load-tests/run.sh attribution the attribution report (every model, one request) over ATTRIBUTION_LEADS (100,000) leads with
#                                 ATTRIBUTION_TOUCHES_PER_LEAD (20) touches each, seeded once into database ingest_attribution
#   load-tests/run.sh fuzz        FUZZ_REQUESTS_PER_DOOR (10000) hostile requests to each of the 16 doors (FUZZ_SEED), topic read back
# Settings: DURATION (s, default 20), CONNECTIONS (64), ROUNDS (2), CEILING_RECORDS (batch, 200000), TOUCHES (pipeline, 300000), RATE (paced run, 5000/s),
#           PHASES (pipeline: any of worker,pipeline,paced; default all), WARMUP_TOUCHES (30000),
#           PACED_WARMUP_SECONDS (10; paced-only runs), COLLECTOR_ENV (runtime settings for the collector alone, e.g. DOTNET_GCHeapCount=1).
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/local/infra.sh

scenario=${1:-}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-64}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-5}
export INGEST_WRITE_KEY=${INGEST_WRITE_KEY:-load-write-key}
OUT=load-tests/out
mkdir -p "$OUT"

case "$scenario" in collector|batch|pipeline|chaos|fuzz|attribution) ;; *) echo "usage: load-tests/run.sh collector|batch|pipeline|chaos|fuzz|attribution" >&2; exit 2;; esac

if [ "$scenario" = fuzz ]; then
  # The fuzz run is the same seeded test ./test.sh runs as a short slice, at full size: the collector on real Kestrel
  # (a loopback port of its own) with the Kafka mock in-process, the test's own Postgres database.
  start_postgres
  start_redis
  export_connection_settings
  export FUZZ_REQUESTS_PER_DOOR=${FUZZ_REQUESTS_PER_DOOR:-10000} FUZZ_SEED=${FUZZ_SEED:-20261202} FUZZ_SUMMARY_FILE=$INGEST_ROOT/$OUT/fuzz.txt
  rm -f "$FUZZ_SUMMARY_FILE"
  log "Building (Release)…"
  dotnet build tests/Ingest.IntegrationTests -c Release -nologo -v quiet >/dev/null
  log "Fuzzing every door: $FUZZ_REQUESTS_PER_DOOR requests each, seed $FUZZ_SEED (log: $OUT/fuzz.log)…"
  status=0
  timeout 3600 dotnet test tests/Ingest.IntegrationTests -c Release --no-build -nologo --filter "FullyQualifiedName~Fuzz.FuzzTests" \
    >"$OUT/fuzz.log" 2>&1 || status=$?
  [ -f "$FUZZ_SUMMARY_FILE" ] || die "the fuzz run wrote no summary (exit $status); see $OUT/fuzz.log"
  cat "$FUZZ_SUMMARY_FILE"
  exit "$status"
fi

ensure_packages wrk
start_postgres
start_redis
reusing=false
curl -fs -o /dev/null http://127.0.0.1:8080/health/ready && reusing=true
if [ "$scenario" = attribution ]; then
  [ "$reusing" = false ] || die "attribution reads a store of its own (database ingest_attribution): stop the running pipeline first"
  # Seeded once and kept between runs (seeding 2,000,000 touches takes minutes); the tool reseeds when the size changes.
  PG_DB=ingest_attribution
  as_pg "$(pg_bin)/psql" -h "$INGEST_DATA_DIR/postgres" -p "$PG_PORT" -U "$PG_USER" -d postgres -Atqc "select 1 from pg_database where datname = '$PG_DB'" | grep -q 1 \
    || as_pg "$(pg_bin)/psql" -h "$INGEST_DATA_DIR/postgres" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "create database $PG_DB" >/dev/null
elif [ "$reusing" = false ] && [ -z "${ConnectionStrings__Postgres:-}" ] && [ -z "${ConnectionStrings__Redis:-}" ]; then
  # Every run that starts its own services starts from an empty store of its own (database ingest_load, Redis db 1),
  # so figures compare between runs: the development database (and earlier runs' millions of rows) stay out of it.
  PG_DB=ingest_load
  as_pg "$(pg_bin)/psql" -h "$INGEST_DATA_DIR/postgres" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "drop database if exists $PG_DB with (force)" >/dev/null
  as_pg "$(pg_bin)/psql" -h "$INGEST_DATA_DIR/postgres" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "create database $PG_DB" >/dev/null
  redis_cli -n 1 flushdb >/dev/null
  export ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT,defaultDatabase=1"
fi
export_connection_settings
export Collector__WriteKeys__0=$INGEST_WRITE_KEY Api__ReadKeys__0=${Api__ReadKeys__0:-load-read-key}
export Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production
# Load runs send far more than one key's default budget would allow in a real deployment.
export Collector__RateLimit__PermitsPerSecond=10000000 Collector__RateLimit__Burst=10000000

log "Building (Release)…"
dotnet build Ingest.sln -c Release -nologo -v quiet >/dev/null
bin() { echo "$INGEST_ROOT/$1/bin/Release/net10.0"; }

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Workers the chaos run started (and restarted) itself.
  if [ "$scenario" = chaos ]; then pkill -f "Ingest.Worker.dll --urls http://127.0.0.1:808[13]" 2>/dev/null || true; fi
}
trap cleanup INT TERM EXIT
start() { local dir=$1 dll=$2; shift 2; (cd "$(bin "$dir")" && exec env ${START_ENV:-} dotnet "$dll.dll" "$@" >"$INGEST_ROOT/$OUT/$dll.log" 2>&1) & pids+=($!); }
wait_http() { for _ in $(seq 1 150); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done; die "$1 did not come up"; }
wait_port() { for _ in $(seq 1 150); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.2; done; die "port $1 did not open"; }

if [ "$reusing" = true ]; then
  log "Reusing the running pipeline on :8080 (its write key must be \$INGEST_WRITE_KEY)"
else
  if ! (echo >/dev/tcp/127.0.0.1/29092) 2>/dev/null; then
    start src/Ingest.DevKafka Ingest.DevKafka
    wait_port 29092
  fi
  (cd "$(bin src/Ingest.Worker)" && dotnet Ingest.Worker.dll migrate >/dev/null)
  # COLLECTOR_ENV: runtime settings for the collector alone (e.g. DOTNET_GCHeapCount=1), so the ceilings keep the defaults.
  START_ENV=${COLLECTOR_ENV:-} start src/Ingest.Collector Ingest.Collector
  [ "$scenario" = pipeline ] && start src/Ingest.Worker Ingest.Worker
  wait_http http://127.0.0.1:8080/health/ready
fi

# wrk prints our SUMMARY line (scenarios/*.lua done()); pull one field out of it.
field() { sed -n "s/.*[ ]$2=\([0-9.]*\).*/\1/p" "$1" | tail -n 1; }
run_wrk() { # url script seconds label
  local out="$OUT/$4.txt"
  wrk -t1 -c"$CONNECTIONS" -d"$3"s --timeout 10s -s "load-tests/scenarios/$2" "$1" >"$out" 2>&1 || true
  echo "$out"
}
rate() { awk -v r="$(field "$1" requests)" -v d="$(field "$1" duration_us)" -v m="${2:-1}" 'BEGIN { printf "%.0f", r * m / (d / 1e6) }'; }

case "$scenario" in
collector)
  # Two ceilings in the same run: bare Kestrel (read the body, 202) and bare Kestrel → Kafka with the collector's
  # producer settings (202 after the delivery report: the limit for "ack after Kafka" on this machine).
  CEILING_URL=http://127.0.0.1:8090 KAFKA_CEILING_URL=http://127.0.0.1:8092
  ASPNETCORE_URLS=$CEILING_URL start load-tests/Ingest.LoadTests.Ceiling Ingest.LoadTests.Ceiling
  start load-tests/Ingest.LoadTests.KafkaCeiling Ingest.LoadTests.KafkaCeiling --urls "$KAFKA_CEILING_URL"
  wait_port 8090
  wait_port 8092
  log "Warm-up ${WARMUP}s each…"
  run_wrk "$CEILING_URL/v1/touches" touches.lua "$WARMUP" warm-ceiling >/dev/null
  run_wrk "$KAFKA_CEILING_URL/v1/touches" touches.lua "$WARMUP" warm-kafka-ceiling >/dev/null
  run_wrk http://127.0.0.1:8080/v1/touches touches.lua "$WARMUP" warm-collector >/dev/null
  best_c=0 best_k=0 best_x=0 p50=0 p99=0 errors=0
  for round in $(seq 1 "$ROUNDS"); do
    c=$(run_wrk "$CEILING_URL/v1/touches" touches.lua "$DURATION" "ceiling-$round")
    k=$(run_wrk "$KAFKA_CEILING_URL/v1/touches" touches.lua "$DURATION" "kafka-ceiling-$round")
    x=$(run_wrk http://127.0.0.1:8080/v1/touches touches.lua "$DURATION" "collector-$round")
    rc=$(rate "$c") rk=$(rate "$k") rx=$(rate "$x")
    log "round $round: ceiling ${rc}/s, kafka ceiling ${rk}/s (non-2xx $(field "$k" non2xx)), collector ${rx}/s (p99 $(field "$x" p99_us) µs)"
    [ "$rc" -gt "$best_c" ] && best_c=$rc
    [ "$rk" -gt "$best_k" ] && best_k=$rk
    if [ "$rx" -gt "$best_x" ]; then best_x=$rx; p50=$(field "$x" p50_us); p99=$(field "$x" p99_us); fi
    errors=$((errors + $(field "$x" non2xx) + $(field "$x" socket_errors)))
  done
  awk -v x="$best_x" -v c="$best_c" -v k="$best_k" -v p50="$p50" -v p99="$p99" -v e="$errors" \
    'BEGIN { printf "collector: touches/s=%d ceiling/s=%d ratio=%.2f kafka_ceiling/s=%d kafka_ratio=%.2f p50_ms=%.2f p99_ms=%.2f errors=%d\n", x, c, x / c, k, x / k, p50 / 1000, p99 / 1000, e }'
  ;;
batch)
  log "Warm-up ${WARMUP}s…"
  run_wrk http://127.0.0.1:8080/v1/touches/batch batch.lua "$WARMUP" warm-batch >/dev/null
  out=$(run_wrk http://127.0.0.1:8080/v1/touches/batch batch.lua "$DURATION" batch)
  # The broker's own ceiling for such records, same run: an in-process producer with the collector's settings.
  log "Produce ceiling (best of 3 × ${CEILING_RECORDS:-200000} records)…"
  produce=$(cd "$(bin load-tests/Ingest.LoadTests.Pipeline)" && dotnet Ingest.LoadTests.Pipeline.dll produce-ceiling \
    --touches "${CEILING_RECORDS:-200000}" --kafka "${Kafka__BootstrapServers:-127.0.0.1:29092}" | sed -n 's/^produce_ceiling\/s=//p')
  awk -v t="$(rate "$out" 100)" -v c="$produce" -v p99="$(field "$out" p99_us)" -v e="$(( $(field "$out" non2xx) + $(field "$out" socket_errors) ))" \
    'BEGIN { printf "batch: touches/s=%d produce_ceiling/s=%d ratio=%.2f p99_ms=%.2f errors=%d\n", t, c, t / c, p99 / 1000, e }'
  ;;
chaos)
  [ "$reusing" = false ] || die "chaos restarts Postgres, Redis and the broker: stop the running pipeline first"
  faults=$OUT/chaos-faults.log
  : >"$faults"
  worker_pid=
  start_worker() { # port → pid of a worker process (its own health port)
    (cd "$(bin src/Ingest.Worker)" && exec dotnet Ingest.Worker.dll --urls "http://127.0.0.1:$1" >>"$INGEST_ROOT/$OUT/Ingest.Worker-$1.log" 2>&1) &
    echo $!
  }
  worker_pid=$(start_worker 8081)
  wait_http http://127.0.0.1:8081/health/live
  fault() { echo "fault $(( $(date +%s) - chaos_start ))s $*" >>"$faults"; log "fault: $*"; }
  inject() { # the faults, in a random order at random moments of the window, each logged
    local window=${CHAOS_WINDOW:-150} names=(broker_down worker_kill worker_kill postgres_restart redis_flush redis_restart worker_join_leave)
    RANDOM=${CHAOS_SEED:-7}
    local -a at=()
    for _ in "${names[@]}"; do at+=($((15 + RANDOM % (window - 15)))); done
    mapfile -t at < <(printf '%s
' "${at[@]}" | sort -n)
    mapfile -t names < <(printf '%s
' "${names[@]}" | shuf --random-source=<(yes "${CHAOS_SEED:-7}"))
    for i in "${!names[@]}"; do
      local wait_s=$(( chaos_start + at[i] - $(date +%s) ))
      (( wait_s > 0 )) && sleep "$wait_s"
      case "${names[i]}" in
        broker_down) fault "broker down for 10 s"; curl -fs -X POST http://127.0.0.1:29080/brokers/1/down >/dev/null; sleep 10
          curl -fs -X POST http://127.0.0.1:29080/brokers/1/up >/dev/null; echo "recovered broker up" >>"$faults" ;;
        worker_kill) fault "worker SIGKILL (pid $worker_pid), restarted after 3 s"; kill -KILL "$worker_pid" 2>/dev/null || true; sleep 3
          worker_pid=$(start_worker 8081) ;;
        postgres_restart) fault "postgres restart -m immediate"
          as_pg "$(pg_bin)/pg_ctl" -D "$INGEST_DATA_DIR/postgres" -m immediate -w -t 60 restart -l "$INGEST_DATA_DIR/postgres/server.log" >/dev/null ;;
        redis_flush) fault "redis flushdb"; redis_cli -n 1 flushdb >/dev/null ;;
        redis_restart) fault "redis restart"; stop_redis; sleep 2; start_redis ;;
        worker_join_leave) fault "second worker joins for 20 s, then leaves"; local second; second=$(start_worker 8083); sleep 20
          kill -TERM "$second" 2>/dev/null || true
          for _ in $(seq 1 100); do kill -0 "$second" 2>/dev/null || break; sleep 0.3; done ;;
      esac
    done
    echo "done" >>"$faults"
  }
  chaos_start=$(date +%s)
  inject &
  injector=$!
  (cd "$(bin load-tests/Ingest.LoadTests.Pipeline)" && dotnet Ingest.LoadTests.Pipeline.dll chaos \
    --touches "${TOUCHES:-1035000}" --collector http://127.0.0.1:8080 --write-key "$INGEST_WRITE_KEY" \
    --kafka "${Kafka__BootstrapServers:-127.0.0.1:29092}" --fault-log "$INGEST_ROOT/$faults") || chaos_status=$?
  wait "$injector" 2>/dev/null || true
  # Non-zero unless every acknowledged touch was stored exactly once and every lead agrees with its rows.
  exit "${chaos_status:-0}"
  ;;
attribution)
  tool=$(bin load-tests/Ingest.LoadTests.Attribution)
  log "Seeding (once per size): ${ATTRIBUTION_LEADS:-100000} leads × ${ATTRIBUTION_TOUCHES_PER_LEAD:-20} touches…"
  (cd "$tool" && dotnet Ingest.LoadTests.Attribution.dll seed --postgres "$ConnectionStrings__Postgres" \
    --leads "${ATTRIBUTION_LEADS:-100000}" --touches-per-lead "${ATTRIBUTION_TOUCHES_PER_LEAD:-20}")
  for conversion in ${ATTRIBUTION_CONVERSIONS:-lead sql}; do
    (cd "$tool" && dotnet Ingest.LoadTests.Attribution.dll measure --postgres "$ConnectionStrings__Postgres" \
      --collector http://127.0.0.1:8080 --read-key "$Api__ReadKeys__0" --conversion "$conversion" --rounds "${ATTRIBUTION_ROUNDS:-3}")
  done
  ;;
pipeline)
  (cd "$(bin load-tests/Ingest.LoadTests.Pipeline)" && dotnet Ingest.LoadTests.Pipeline.dll \
    --touches "${TOUCHES:-300000}" --rate "${RATE:-5000}" --collector http://127.0.0.1:8080 --write-key "$INGEST_WRITE_KEY" \
    --kafka "${Kafka__BootstrapServers:-127.0.0.1:29092}" ${PHASES:+--phases "$PHASES"} ${WARMUP_TOUCHES:+--warmup "$WARMUP_TOUCHES"} \
    ${PACED_WARMUP_SECONDS:+--paced-warmup-seconds "$PACED_WARMUP_SECONDS"})
  ;;
esac
