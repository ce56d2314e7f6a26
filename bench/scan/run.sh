#!/usr/bin/env bash
# Side-by-side benchmark of `modelgate scan` against picklescan, modelscan and fickling (README.md).
#   bench/scan/run.sh [--out DIR] [--repeat N] [--large-gib G] [--skip-generate] [--modelgate PATH]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-/work/venv-bench/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python at $python: create the venv (bench/scan/README.md) or set PYTHON" >&2
  exit 2
fi
exec "$python" "$here/bench.py" --python "$python" "$@"
