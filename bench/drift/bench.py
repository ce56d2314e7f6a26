#!/usr/bin/env python3
"""Side-by-side: `modelgate drift` against scipy (same data, same run) and Evidently's
DataDriftPreset (on 20k rows, all it manages in a few seconds). Medians of --repeat runs.

modelgate figures are the whole command (reading both Parquet files, sorting, every measure,
JSON out); scipy's are in-process, its Parquet loading reported apart. Wall-clock and CPU
time (user + system; modelgate uses two threads) are both reported: on a shared machine the
CPU time is the steadier figure. Each repeat runs every contender once, interleaved, so
they meet the same load. Markdown table on stdout, raw figures in results/latest.json.

    python bench/drift/bench.py [--rows 1000000] [--repeat 3] [--modelgate target/release/modelgate]
"""

import argparse
import json
import resource
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


def timed(command):
    """(wall, cpu) seconds of a command run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed: {done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
    runs = {"auto": [], **RUNS}
    modelgate = {name: [] for name in runs}
    peer, evidently = [], []
    for _ in range(args.repeat):
        for name, extra in runs.items():
            modelgate[name].append(timed(base + extra))
        out = subprocess.run([args.python, str(HERE / "peer_scipy.py"), reference, current],
                             check=True, capture_output=True, text=True).stdout
        peer.append(json.loads(out))
        out = subprocess.run([args.python, str(HERE / "peer_evidently.py"), reference, current,
                              str(args.evidently_rows)], check=True, capture_output=True, text=True).stdout
        evidently.append(json.loads(out)["preset"])
    results = {
        "modelgate": {name: statistics.median(wall for wall, _ in times) for name, times in modelgate.items()},
        "modelgate_cpu": {name: statistics.median(cpu for _, cpu in times) for name, times in modelgate.items()},
        "scipy": {key: statistics.median(run[key] for run in peer) for key in peer[0]},
        "evidently": {"preset": statistics.median(evidently), "rows": args.evidently_rows},
    }
    for key in ("modelgate", "modelgate_cpu"):
        results[key]["all"] = sum(results[key][name] for name in RUNS)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/latest.json").write_text(json.dumps(results, indent=1) + "\n")
    m, c, s = results["modelgate"], results["modelgate_cpu"], results["scipy"]
    print(f"{args.rows:,} reference + {args.rows:,} current rows, 10 numeric + 5 string columns, "
          f"medians of {args.repeat}\n")
    print("| measure | modelgate wall | modelgate CPU | scipy wall | scipy CPU | ratio wall | ratio CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in [*RUNS, "all"]:
        label = "all five (5 runs, 5 reads)" if name == "all" else name
        print(f"| {label} | {m[name]:.3f} s | {c[name]:.3f} s | {s[name]:.3f} s | {s[name + '_cpu']:.3f} s "
              f"| {s[name] / m[name]:.1f}x | {s[name + '_cpu'] / c[name]:.1f}x |")
    print(f"| auto (Evidently's choice per column) | {m['auto']:.3f} s | {c['auto']:.3f} s | | | | |")
    print(f"\nscipy's Parquet load (pandas): {s['load']:.2f} s, not counted above; modelgate's figures "
          "include reading.")
    e = results["evidently"]
    print(f"\nEvidently DataDriftPreset on {e['rows']:,} + {e['rows']:,} rows: {e['preset']:.2f} s "
          f"({e['preset'] / m['auto']:.1f}x modelgate auto on {args.rows:,} + {args.rows:,})")


if __name__ == "__main__":
    main()
