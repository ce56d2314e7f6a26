#!/usr/bin/env bash
# Side-by-side benchmark of `modelgate fairness` against pandas + scikit-learn + fairlearn.
#
#   bench/fairness/run.sh [--rows 1m|10m|all] [--repeat N] [--peer-repeat N]
#                         [--formats parquet,csv] [--modelgate PATH]
#
# Needs target/release/modelgate (cargo build --release) and the peer's venv
# (see README.md; PYTHON=... to use another interpreter). Generates the data files on
# first use. Markdown table on stdout, everything in bench/fairness/results/latest.json;
# exits 1 if modelgate's numbers and the peer's differ by more than 1e-9.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-$HOME/.cache/modelgate/pyenv-bench/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python at $python: create the venv (bench/fairness/README.md) or set PYTHON" >&2
  exit 2
fi
exec "$python" "$here/bench.py" --python "$python" "$@"
