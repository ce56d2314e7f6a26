#!/usr/bin/env python3
"""Driver of the side-by-side benchmark (see README.md). Every timed thing is its own
process; medians of --repeat runs; Markdown table on stdout, all runs in
results/latest.json."""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(command):
    """Wall clock and peak RSS (MB) of a child process, its stdout."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stdout, stderr = process.stdout.read(), process.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({code}):\n{stderr.decode()}")
    return seconds, usage.ru_maxrss / 1024, stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--modelgate", default=os.path.join(ROOT, "target/release/modelgate"))
    args = parser.parse_args()
    base = os.path.join(HERE, "data", f"train_{args.rows}")
    if not os.path.exists(base + ".parquet"):
        subprocess.run([args.python, os.path.join(HERE, "generate.py"), "--rows", str(args.rows)], check=True)
    results = {}
    for fmt in args.formats.split(","):
        path = f"{base}.{fmt}"
        with open(path, "rb") as warm:
            while warm.read(1 << 24):
                pass
        runs = {"modelgate full": [], "modelgate sample": [], "pandas read": [], "pandas regex scan": []}
        rss = {name: 0.0 for name in runs}
        for attempt in range(args.repeat):
            print(f"{fmt}: run {attempt + 1}/{args.repeat}", file=sys.stderr)
            for name, command in [
                ("modelgate full", [args.modelgate, "data", "scan", path, "--full", "--format", "json"]),
                ("modelgate sample", [args.modelgate, "data", "scan", path, "--format", "json"]),
            ]:
                seconds, peak, _ = run(command)
                runs[name].append(seconds)
                rss[name] = max(rss[name], peak)
            for name, phase in [("pandas read", "read"), ("pandas regex scan", "regex")]:
                _, peak, stdout = run([args.python, os.path.join(HERE, "peer.py"), "--phase", phase, path])
                runs[name].append(json.loads(stdout)["seconds"])
                rss[name] = max(rss[name], peak)
        results[fmt] = {"runs": runs, "peak_rss_mb": rss, "medians": {k: statistics.median(v) for k, v in runs.items()}}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "latest.json"), "w") as out:
        json.dump(results, out, indent=2)
    print(f"| file ({args.rows} rows) | tool | median s | peak RSS MB | pandas read / tool |")
    print("|---|---|---:|---:|---:|")
    for fmt, result in results.items():
        read = result["medians"]["pandas read"]
        for name, median in result["medians"].items():
            print(f"| {fmt} | {name} | {median:.3f} | {result['peak_rss_mb'][name]:.0f} | {read / median:.2f} |")


if __name__ == "__main__":
    main()
