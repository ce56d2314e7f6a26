"""Runs bench/schema: for each file, N times in turn, the pandas read (peer.py read) and
`modelgate data validate` (the whole process), then frictionless on the 20k-row slice;
prints the medians as a Markdown table and writes every run to results/latest.json.

    bench.py [--repeat 3] [--modelgate target/release/modelgate] [--rows 1m]
"""

import argparse
import json
import os
import resource
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
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def modelgate(binary, path):
    schema = HERE / "data" / "schema.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [binary, "data", "validate", "--schema", str(schema), str(path), "--format", "json"],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode not in (0, 1):
        raise SystemExit(f"modelgate failed on {path}:\n{out.stderr}")
    report = json.loads(out.stdout)
    return (elapsed, cpu), report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", default="1m")
    parser.add_argument("--modelgate", default=str(ROOT / "target" / "release" / "modelgate"))
    args = parser.parse_args()
    runs = {}
    med = lambda pairs, i: statistics.median(pair[i] for pair in pairs)  # noqa: E731
    lines = [
        "| file | rows | pandas read: wall (CPU) s | modelgate validate: wall (CPU) s | ratio pandas/modelgate wall (CPU) |",
        "|---|---|---|---|---|",
    ]
    for suffix in ["parquet", "csv"]:
        path = HERE / "data" / f"people_{args.rows}.{suffix}"
        reads, ours = [], []
        for attempt in range(args.repeat):
            reads.append(peer("read", path))
            timing, report = modelgate(args.modelgate, path)
            ours.append(timing)
            print(f"{path.name} run {attempt + 1}: pandas {reads[-1]} modelgate {timing}", file=sys.stderr)
        counts = {f"{v['field']}/{v['check']}": v["failing_rows"] for v in report["violations"]}
        runs[path.name] = {"pandas_read": reads, "modelgate": ours, "rows": report["rows"], "violations": counts}
        rw, rc, mw, mc = med(reads, 0), med(reads, 1), med(ours, 0), med(ours, 1)
        lines.append(
            f"| {path.name} | {report['rows']:,} | {rw:.3f} ({rc:.3f}) | {mw:.3f} ({mc:.3f}) "
            f"| {rw / mw:.2f}x ({rc / mc:.2f}x) |"
        )
    slice_path = HERE / "data" / "people_20k.csv"
    friction = [peer("frictionless", slice_path) for _ in range(args.repeat)]
    ours_slice = [modelgate(args.modelgate, slice_path)[0] for _ in range(args.repeat)]
    runs["frictionless_20k"] = {"frictionless": friction, "modelgate": ours_slice}
    fw, mw = med(friction, 0), med(ours_slice, 0)
    lines.append("")
    lines.append("| file | rows | frictionless validate (s) | modelgate validate (s) | ratio frictionless/modelgate |")
    lines.append("|---|---|---|---|---|")
    lines.append(f"| people_20k.csv | 20,000 | {fw:.3f} | {mw:.3f} | {fw / mw:.0f}x |")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(runs, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
