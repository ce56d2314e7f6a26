#!/usr/bin/env bash
# modelgate's document reader against huggingface_hub on model cards (README.md).
#   bench/docs/run.sh [--skip-command]
# 1. criterion: `cargo bench --bench docs` (short measurement);
# 2. bench/docs/peer.py: the same reads with huggingface_hub, and the table of both;
# 3. the whole command: `modelgate docs check examples/credit-scoring` (release build) against
#    `python -c` loading the same three documents with huggingface_hub/PyYAML, process start
#    included (hyperfine if installed, else 20 runs each timed with `date +%s%N`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-/work/venv-docs/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python at $python: python3 -m venv, pip install -r bench/docs/requirements.txt, or set PYTHON" >&2
  exit 2
fi
target="${CARGO_TARGET_DIR:-$root/target}"
results="$here/results"
mkdir -p "$results"
cd "$root"

echo "== criterion: cargo bench --bench docs" >&2
cargo bench --bench docs -- --warm-up-time 1 --measurement-time 3 >&2

echo "== huggingface_hub: bench/docs/peer.py" >&2
"$python" "$here/peer.py" --criterion "$target/criterion" --json "$results/latest.json"

[[ "${1:-}" == "--skip-command" ]] && exit 0

echo "== the whole command" >&2
cargo build --release --quiet
modelgate="$target/release/modelgate"
project=examples/credit-scoring
peer_code="
import yaml
from huggingface_hub import DatasetCard, ModelCard
card = ModelCard.load('$project/model/README.md')
assert card.data.eval_results
sheet = DatasetCard.load('$project/docs/datasheet.md')
with open('$project/docs/risk-assessment.yaml', encoding='utf-8') as f:
    risk = yaml.safe_load(f)
"
"$modelgate" docs check "$project" >/dev/null || true   # warm the page cache
"$python" -c "$peer_code"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs 20 -i -N "$modelgate docs check $project" "$python -c \"$peer_code\""
  exit 0
fi
median_ms() {  # command... : the median of 20 runs' wall time, ms
  local samples=() started ended
  for _ in $(seq 20); do
    started=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    ended=$(date +%s%N)
    samples+=($(( (ended - started) / 1000 )))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", (a[10]+a[11])/2000}'
}
ours=$(median_ms "$modelgate" docs check "$project")
peer=$(median_ms "$python" -c "$peer_code")
echo
echo "| command (20 runs, process start included) | median |"
echo "|---|---:|"
echo "| modelgate docs check $project | $ours ms |"
echo "| python -c: ModelCard.load + DatasetCard.load + yaml.safe_load | $peer ms |"
awk -v a="$peer" -v b="$ours" 'BEGIN {printf "\npython / modelgate: %.2fx\n", a/b}'
