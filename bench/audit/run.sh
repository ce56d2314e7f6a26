#!/usr/bin/env bash
# The audit store's figures in one run (bench/audit/README.md):
#   1. criterion (benches/audit.rs): recording one decision with a durable commit, judging and
#      recording 10,000 deployed models in-process, queries on a million decisions;
#   2. the whole `modelgate reevaluate` command on a copy of the 10,000-deployment store
#      (process start, policy load, store reads, 10,000 evaluations, 10,000 records), and
#      `modelgate eval` with and without recording, as medians of repeated runs.
# Usage: bench/audit/run.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/../.."
repeat="${1:-5}"

cargo bench --bench audit -- --noplot 2>&1 | grep -E "^(record|reevaluate|query-1m)/|time:" || true
cargo build --release --quiet
bin=target/release/modelgate
fleet=target/bench-audit/fleet-10k.db
[ -f "$fleet" ] || { echo "no $fleet: the criterion run above builds it" >&2; exit 2; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s.%N); echo "$end - $start" | bc; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq "$repeat"); do
    cp "$fleet" "$work/audit.db"
    rm -f "$work/audit.db-wal" "$work/audit.db-shm"
    seconds "$bin" reevaluate --policies policies --store "$work/audit.db" --no-notify --format json --output "$work/out.json"
done | median | xargs printf 'reevaluate 10,000 deployed models (whole command): median %.3f s\n'
python3 - "$work/out.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print("  summary:", report["summary"])
PY

evidence=tests/fixtures/examples/credit-scoring.json
for mode in record no-record; do
    flag=""; [ "$mode" = no-record ] && flag="--no-record"
    for i in $(seq $((repeat * 4))); do
        seconds "$bin" eval --input "$evidence" --policies policies --store "$work/eval.db" $flag
    done | median | xargs printf "eval credit-scoring ($mode): median %.4f s\n"
done
