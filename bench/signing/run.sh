#!/usr/bin/env bash
# Side-by-side benchmark of `modelgate sign key` / `verify key` against model_signing (README.md).
#   bench/signing/run.sh [--files N] [--file-gb G] [--repeat N] [--keep] [--modelgate PATH]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-/work/venv-bench/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python at $python: create the venv (bench/signing/README.md) or set PYTHON" >&2
  exit 2
fi
exec "$python" "$here/bench.py" --python "$python" "$@"
