#!/usr/bin/env bash
# The HTML report against Evidently's, one run, interleaved, REPEAT times (default 3):
# `modelgate check examples/credit-scoring-blocked --report html=…` (the whole command:
# collecting every section from the example's files, judging, recording nothing, writing
# the page) and Evidently's DataDriftPreset report on the same training and serving data
# (`save_html`). Prints each run and the medians, the files' sizes and what each loads from
# elsewhere. Needs a release build and the drift peers' environment
# (bench/drift/requirements.txt in ~/.cache/modelgate/pyenv-drift).
set -euo pipefail
cd "$(dirname "$0")/../.."
repeat=${1:-3}
python=${PYTHON:-$HOME/.cache/modelgate/pyenv-drift/bin/python}
modelgate=target/release/modelgate
out=$(mktemp -d)
for i in $(seq 1 "$repeat"); do
    start=$(date +%s.%N)
    MODELGATE_NO_RECORD=1 "$modelgate" check examples/credit-scoring-blocked --report "html=$out/modelgate.html" >/dev/null || true
    end=$(date +%s.%N)
    echo "modelgate $(echo "$end - $start" | bc)"
    echo "evidently $("$python" bench/report/peer_evidently.py "$out/evidently.html")"
done | tee "$out/runs.txt"
python3 - "$out" <<'PY'
import json, re, statistics, sys
from pathlib import Path
out = Path(sys.argv[1])
mg, ev, read = [], [], []
for line in (out / "runs.txt").read_text().splitlines():
    name, rest = line.split(" ", 1)
    if name == "modelgate":
        mg.append(float(rest))
    else:
        record = json.loads(rest)
        ev.append(record["report"]); read.append(record["read"]); external = record["external"]; scripts = record["scripts"]
page = (out / "modelgate.html").read_text()
loads = sorted(set(re.findall(r'(?:src="|<link[^>]*href=")(https?://[^"]+)"', page)))
own_scripts = len(re.findall(r"<script", page))
print(f"modelgate check --report html (whole command): median {statistics.median(mg):.3f} s, {len(page.encode()):,} bytes, {own_scripts} scripts, loads {loads or 'nothing'}")
print(f"Evidently DataDriftPreset save_html: median {statistics.median(ev):.3f} s (+{statistics.median(read):.3f} s reading), {(out / 'evidently.html').stat().st_size:,} bytes, {scripts} scripts, loads {external or 'nothing'}")
print(f"ratio (Evidently / modelgate): {statistics.median(ev) / statistics.median(mg):.2f}x")
PY
