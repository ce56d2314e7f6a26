#!/usr/bin/env bash
# Side by side, in one run: one warm evaluation of the built-in policy library on the
# example evidence, under modelgate (regorus, in-process) and under OPA's Go engine
# (prepared query through libopabridge.so), plus modelgate's fleet run of 10,000 varied
# documents on every core. Prints both JSON results and the ratio of the medians.
#
#   bench/compare_opa.sh [EVIDENCE.json] [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
evidence=${1:-tests/fixtures/examples/credit-scoring-blocked.json}
iterations=${2:-2000}

bash bench/opa/fetch_opa.sh >/dev/null
cargo bench --quiet --bench side_by_side --no-run >/dev/null 2>&1
modelgate_json=$(cargo bench --quiet --bench side_by_side -- "$evidence" policies "$iterations" 10000 2>/dev/null | tail -n 1)
opa_json=$(python3 bench/opa/bench_opa.py policies "$evidence" --iterations "$iterations")
echo "modelgate: $modelgate_json"
echo "opa:       $opa_json"
python3 - "$modelgate_json" "$opa_json" <<'PY'
import json, sys
mg, opa = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"median: modelgate {mg['median_us']:.1f} us, OPA {opa['median_us']:.1f} us, "
      f"OPA/modelgate = {opa['median_us'] / mg['median_us']:.2f}x")
print(f"fleet: {mg['fleet_size']} documents in {mg['fleet_seconds']:.2f} s on {mg['fleet_threads']} threads "
      f"({mg['fleet_denied']} denied, {mg['fleet_errors']} errors)")
PY
