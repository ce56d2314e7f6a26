#!/bin/sh
# bench/schema: generate the data on first use, then time pandas, modelgate and frictionless.
# Usage: bench/schema/run.sh [--repeat N] [--modelgate PATH]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$HOME/.cache/modelgate/pyenv-schema/bin/python}
if [ ! -f "$here/data/people_1m.parquet" ]; then
    "$python" "$here/generate.py" --rows 1000000
fi
PYTHON=$python exec "$python" "$here/bench.py" "$@"
