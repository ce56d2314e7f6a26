#!/usr/bin/env python3
"""Side-by-side: `modelgate drift` against scipy (same data, same run) and Evidently's
DataDriftPreset (on 20k rows, all it manages in a few seconds). Medians of --repeat runs.

modelgate figures are wall-clock of the whole command (reading both Parquet files, sorting,
every measure, JSON out); scipy's are in-process, its Parquet loading reported apart.
Markdown table on stdout, raw figures in bench/drift/results/latest.json.

    python bench/drift/bench.py [--rows 1000000] [--repeat 3] [--modelgate target/release/modelgate]
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NUMERIC = ",".join(f"n{i}" for i in range(10))
STRINGS = ",".join(f"c{i}" for i in range(5))
RUNS = {
    "ks": ["--method", "ks", "--columns", NUMERIC],
    "wasserstein": ["--method", "wasserstein", "--columns", NUMERIC],
    "jensenshannon": ["--method", "jensenshannon"],
    "psi": ["--method", "psi"],
    "chisquare": ["--method", "chisquare", "--columns", STRINGS],
}


def wall(command):
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed: {done.stderr}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evidently-rows", type=int, default=20_000)
    parser.add_argument("--modelgate", default=str(ROOT / "target/release/modelgate"))
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    subprocess.run([args.python, str(HERE / "generate.py"), "--rows", str(args.rows)], check=True)
    reference = str(HERE / f"data/reference_{args.rows}.parquet")
    current = str(HERE / f"data/current_{args.rows}.parquet")
    base = [args.modelgate, "drift", "--reference", reference, "--current", current, "--format", "json"]
    results = {"modelgate": {}, "scipy": {}, "evidently": {}}
    for name, extra in {"auto": [], **RUNS}.items():
        results["modelgate"][name] = statistics.median(wall(base + extra) for _ in range(args.repeat))
    results["modelgate"]["all"] = sum(results["modelgate"][name] for name in RUNS)
    peer = []
    for _ in range(args.repeat):
        out = subprocess.run([args.python, str(HERE / "peer_scipy.py"), reference, current],
                             check=True, capture_output=True, text=True).stdout
        peer.append(json.loads(out))
    results["scipy"] = {key: statistics.median(run[key] for run in peer) for key in peer[0]}
    evidently = []
    for _ in range(args.repeat):
        out = subprocess.run([args.python, str(HERE / "peer_evidently.py"), reference, current,
                              str(args.evidently_rows)], check=True, capture_output=True, text=True).stdout
        evidently.append(json.loads(out)["preset"])
    results["evidently"] = {"preset": statistics.median(evidently), "rows": args.evidently_rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/latest.json").write_text(json.dumps(results, indent=1) + "\n")
    m, s = results["modelgate"], results["scipy"]
    print(f"{args.rows:,} reference + {args.rows:,} current rows, 10 numeric + 5 string columns, "
          f"medians of {args.repeat}\n")
    print("| measure | modelgate (whole command) | scipy (compute only) | ratio |")
    print("|---|---:|---:|---:|")
    for name in RUNS:
        print(f"| {name} | {m[name]:.3f} s | {s[name]:.3f} s | {s[name] / m[name]:.1f}x |")
    print(f"| all five | {m['all']:.3f} s (5 reads) | {s['all']:.3f} s (+{s['load']:.2f} s load) "
          f"| {s['all'] / m['all']:.1f}x |")
    print(f"| auto (Evidently's choice per column) | {m['auto']:.3f} s | | |")
    e = results["evidently"]
    print(f"\nEvidently DataDriftPreset on {e['rows']:,} + {e['rows']:,} rows: {e['preset']:.2f} s "
          f"({e['preset'] / m['auto']:.1f}x modelgate auto on {args.rows:,} + {args.rows:,})")


if __name__ == "__main__":
    main()
