#!/usr/bin/env bash
# Side-by-side benchmark of `modelgate data scan` against pandas (see README.md).
#
#   bench/prohibited/run.sh [--rows N] [--repeat N] [--formats parquet,csv] [--modelgate PATH]
#
# Needs target/release/modelgate (cargo build --release) and the venv of bench/fairness
# (pandas + pyarrow + numpy; PYTHON=... to use another interpreter).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-$HOME/.cache/modelgate/pyenv-bench/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python at $python: create the venv (bench/fairness/README.md) or set PYTHON" >&2
  exit 2
fi
exec "$python" "$here/bench.py" --python "$python" "$@"
