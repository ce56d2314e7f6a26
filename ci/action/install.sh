#!/usr/bin/env bash
# The modelgate binary the action runs: the `binary` input, else modelgate on PATH, else
# one built from the action's own source (the checkout GitHub made of this repository at
# the ref the workflow names), cached under the runner's tool cache.
set -euo pipefail

if [[ -n "${INPUT_BINARY:-}" ]]; then
    path=$INPUT_BINARY
elif command -v modelgate >/dev/null 2>&1; then
    path=$(command -v modelgate)
else
    root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/modelgate"
    if [[ ! -x "$root/bin/modelgate" ]]; then
        echo "building modelgate from $GITHUB_ACTION_PATH (cargo install --locked)"
        cargo install --locked --quiet --path "$GITHUB_ACTION_PATH" --root "$root"
    fi
    path=$root/bin/modelgate
fi
if [[ ! -x "$path" ]]; then
    echo "::error title=modelgate::no modelgate binary at $path" >&2
    exit 2
fi
"$path" --version
echo "path=$path" >>"$GITHUB_OUTPUT"
