"""Runs bench/schema: for each file, N times in turn, the pandas read (peer.py read) and
`modelgate data validate` (the whole process), then frictionless on the 20k-row slice;
prints the medians as a Markdown table and writes every run to results/latest.json.

    bench.py [--repeat 3] [--modelgate target/release/modelgate] [--rows 1m]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYTHON = os.environ.get("PYTHON", sys.executable)


def peer(phase, path):
    out = subprocess.run([PYTHON, str(HERE / "peer.py"), phase, str(path)], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def modelgate(binary, path):
    schema = HERE / "data" / "schema.json"
    start = time.perf_counter()
    out = subprocess.run(
        [binary, "data", "validate", "--schema", str(schema), str(path), "--format", "json"],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"modelgate failed on {path}:\n{out.stderr}")
    report = json.loads(out.stdout)
    return elapsed, report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", default="1m")
    parser.add_argument("--modelgate", default=str(ROOT / "target" / "release" / "modelgate"))
    args = parser.parse_args()
    runs = {}
    lines = ["| file | rows | pandas read (s) | modelgate validate (s) | ratio pandas/modelgate |", "|---|---|---|---|---|"]
    for suffix in ["parquet", "csv"]:
        path = HERE / "data" / f"people_{args.rows}.{suffix}"
        reads, ours = [], []
        for attempt in range(args.repeat):
            reads.append(peer("read", path))
            elapsed, report = modelgate(args.modelgate, path)
            ours.append(elapsed)
            print(f"{path.name} run {attempt + 1}: pandas {reads[-1]:.3f}s modelgate {elapsed:.3f}s", file=sys.stderr)
        counts = {f"{v['field']}/{v['check']}": v["failing_rows"] for v in report["violations"]}
        runs[path.name] = {"pandas_read": reads, "modelgate": ours, "rows": report["rows"], "violations": counts}
        read, mine = statistics.median(reads), statistics.median(ours)
        lines.append(f"| {path.name} | {report['rows']:,} | {read:.3f} | {mine:.3f} | {read / mine:.2f}x |")
    slice_path = HERE / "data" / "people_20k.csv"
    friction = [peer("frictionless", slice_path) for _ in range(args.repeat)]
    ours_slice = [modelgate(args.modelgate, slice_path)[0] for _ in range(args.repeat)]
    runs["frictionless_20k"] = {"frictionless": friction, "modelgate": ours_slice}
    f, m = statistics.median(friction), statistics.median(ours_slice)
    lines.append("")
    lines.append("| file | rows | frictionless validate (s) | modelgate validate (s) | ratio frictionless/modelgate |")
    lines.append("|---|---|---|---|---|")
    lines.append(f"| people_20k.csv | 20,000 | {f:.3f} | {m:.3f} | {f / m:.0f}x |")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(runs, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
