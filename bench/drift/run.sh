#!/usr/bin/env bash
# Side-by-side benchmark of `modelgate drift` against scipy and Evidently (see README.md).
#   bench/drift/run.sh [--rows N] [--repeat N] [--modelgate PATH]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-$HOME/.cache/modelgate/pyenv-drift/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python at $python: create the venv (bench/drift/README.md) or set PYTHON" >&2
  exit 2
fi
exec "$python" "$here/bench.py" --python "$python" "$@"
