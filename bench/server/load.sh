#!/usr/bin/env bash
# `modelgate server` under load: sustained decisions per second and latency percentiles for
# the credit-scoring-blocked evidence, each decision durably committed to PostgreSQL, from
# CLIENTS concurrent clients over loopback, for SECONDS seconds, REPEAT runs (medians).
# The driver is `modelgate loadtest` (keep-alive connections, one thread per client); the
# server runs the release build with its defaults.
# Usage: bench/server/load.sh [CLIENTS] [SECONDS] [REPEAT]
# MODELGATE_BENCH_POSTGRES names the database server (default postgres://root@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/../.."
clients="${1:-16}"
seconds="${2:-30}"
repeat="${3:-3}"
server_db="${MODELGATE_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test}"
schema=modelgate_bench_server
store="$server_db?sslmode=disable&schema=$schema"

cargo build --release --quiet
bin="$PWD/target/release/modelgate"
work=$(mktemp -d)
pid=""
drop_schema() { psql -q "$server_db" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; }
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; drop_schema; }
trap cleanup EXIT
drop_schema
"$bin" audit init --store "$store" >/dev/null

"$bin" server --store "$store" --data "$work/data" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/server.log")
token() { "$bin" server token create --store "$store" --data "$work/data" --format json "$@" | jq -r .token; }
governance=$(token --name bench-governance --role governance)
pipeline=$(token --name bench-pipeline --role pipeline --models 'credit-*' --environments production)

"$bin" policy init "$work/policies" >/dev/null
digest=$(MODELGATE_TOKEN=$governance "$bin" policy publish "$work/policies" --server "$url" | grep -o 'sha256:[0-9a-f]*' | head -1)
MODELGATE_TOKEN=$governance "$bin" policy activate "$digest" -e production --server "$url" >/dev/null 2>&1

# One request body: the evidence collected once, as a pipeline would submit it.
MODELGATE_NO_RECORD=1 "$bin" collect examples/credit-scoring-blocked --output "$work/evidence.json"
jq -c '{evidence: .}' "$work/evidence.json" >"$work/requests.jsonl"
echo "request body: $(wc -c <"$work/requests.jsonl") bytes; server $url; store PostgreSQL (synchronous_commit on)"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/runs"
export MODELGATE_TOKEN=$pipeline
for run in $(seq "$repeat"); do
    "$bin" loadtest "$url/v1/decisions" --requests-file "$work/requests.jsonl" \
        --header 'Authorization: Bearer ${MODELGATE_TOKEN}' --concurrency "$clients" \
        --duration "$seconds" --warmup 50 --timeout-ms 10000 --format json --output "$work/run.json"
    jq -r '[.throughput_rps, .latency_ms.p50, .latency_ms.p95, .latency_ms.p99, .error_rate] | @tsv' "$work/run.json" >>"$work/runs"
    printf 'run %s: %s decisions/s, p50 %s ms, p95 %s ms, p99 %s ms, error rate %s\n' "$run" $(tail -n 1 "$work/runs")
done
printf 'medians of %s runs, %s clients, %s s each: %.1f decisions/s, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n' \
    "$repeat" "$clients" "$seconds" \
    "$(cut -f1 "$work/runs" | median)" "$(cut -f2 "$work/runs" | median)" \
    "$(cut -f3 "$work/runs" | median)" "$(cut -f4 "$work/runs" | median)"
recorded=$(psql -tA "$server_db" -c "SELECT count(*) FROM $schema.entries WHERE kind = 'decision'")
echo "decisions recorded in the store: $recorded (warm-up included)"
"$bin" audit verify --store "$store" | tail -n 1
