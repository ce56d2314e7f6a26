#!/usr/bin/env python3
"""A governance team's own 30-rule policy set (bench/opa/team/) on 10,000 documents:
`modelgate eval --batch` against OPA's Go engine, same documents, same run.

    team_bench.py [--count 10000] [--repeat 3] [--threads 2] [--modelgate BIN]
    team_bench.py --reference bench/opa/team/reference.jsonl --count 60   # OPA's answers, checked in

The documents come from team_docs.py (seeded, so every run judges the same bytes) and are
written once to a JSON Lines file. Each repeat times, as wall clock:

* modelgate: the whole `BIN eval --batch --input DOCS --policies bench/opa/team --no-record
  --format json --threads T` process (start, bundle load and compile, reading and checking
  every document, evaluation on T workers, one JSON report per line written to a file);
* OPA v1.20.2 (opa-golib-python-bindings, see opa_engine.py): one process with the bundle
  loaded and its query prepared before the clock starts, then every line of the same file
  read and evaluated as `data.modelgate` (Go parses the JSON, evaluates, serialises the
  result) on T threads (ctypes releases the GIL), and the deny/warn sets taken from each.

Medians of the repeats, and their ratio. Then the two engines' deny/warn sets are compared
document by document (conformance.compare: numbers by value; a difference only in how
sprintf wrote a number is reported apart). Exit 1 if any document disagrees.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import conformance  # noqa: E402
import opa_engine  # noqa: E402
import team_docs  # noqa: E402

REPO = HERE.parents[1]
TEAM = HERE / "team"


def modelgate_items(report: dict) -> list[tuple]:
    return [
        (entry["policy"]["package"], entry["policy"]["rule"], entry["raw"])
        for array in conformance.ENTRY_ARRAYS
        for entry in report.get(array, [])
        if entry["policy"]["package"] != "modelgate"
    ]


def run_modelgate(binary: Path, docs: Path, out: Path, threads: int) -> float:
    started = time.perf_counter()
    with open(out, "wb") as sink:
        done = subprocess.run(
            [str(binary), "eval", "--batch", "--input", str(docs), "--policies", str(TEAM), "--no-record",
             "--format", "json", "--threads", str(threads)],
            stdout=sink, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
        )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"modelgate failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def run_opa(engine: opa_engine.PolicyEngine, docs: Path, threads: int) -> tuple[float, list]:
    started = time.perf_counter()
    with open(docs, "rb") as lines:
        inputs = [line.rstrip(b"\n") for line in lines]
    judge = lambda raw: engine.deny_warn(engine.evaluate(raw))  # noqa: E731
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(judge, inputs, chunksize=64))
    return time.perf_counter() - started, results


def opa_items(sets: dict) -> list[tuple]:
    return [(pkg, rule, raw) for pkg, rules in sets.items() for rule, values in rules.items() for raw in values]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--modelgate", help="the binary (default: target/release/modelgate)")
    parser.add_argument("--reference", help="write OPA's deny/warn sets of each document to this JSON Lines file and stop")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as work:
        docs = Path(work) / "docs.jsonl"
        with open(docs, "w") as out:
            team_docs.write(out, args.count, args.seed)
        size = docs.stat().st_size
        engine = opa_engine.PolicyEngine.from_dir(TEAM)
        if args.reference:
            _, results = run_opa(engine, docs, args.threads)
            with open(args.reference, "w") as out:
                for line, sets in enumerate(results, 1):
                    out.write(json.dumps({"line": line, "sets": sets}, sort_keys=True, separators=(",", ":")) + "\n")
            print(f"wrote OPA's answers for {len(results)} documents (seed {args.seed}) to {args.reference}")
            return 0
        binary = Path(args.modelgate) if args.modelgate else conformance.find_modelgate(None)
        reports = Path(work) / "reports.jsonl"
        mg_times, opa_times, opa_results = [], [], None
        for _ in range(args.repeat):
            mg_times.append(run_modelgate(binary, docs, reports, args.threads))
            elapsed, opa_results = run_opa(engine, docs, args.threads)
            opa_times.append(elapsed)
        mg, opa = statistics.median(mg_times), statistics.median(opa_times)
        print(f"documents: {args.count} (seed {args.seed}), {size / 2**20:.1f} MiB of JSON Lines; "
              f"30 rules in 5 packages; {args.threads} threads each; medians of {args.repeat}")
        print(f"| engine | median | per document | runs |")
        print(f"|---|---:|---:|---|")
        print(f"| modelgate eval --batch (whole process) | {mg:.2f} s | {mg / args.count * 1e6:.0f} µs | "
              + ", ".join(f"{t:.2f}" for t in mg_times) + " |")
        print(f"| OPA {opa_engine.opa_version()} (prepared, in process) | {opa:.2f} s | {opa / args.count * 1e6:.0f} µs | "
              + ", ".join(f"{t:.2f}" for t in opa_times) + " |")
        print(f"ratio OPA / modelgate: {opa / mg:.2f}x")

        statuses: dict[str, int] = {}
        disagreements = []
        with open(reports) as lines:
            ours = [json.loads(line) for line in lines]
        summary = ours.pop()["summary"]
        for index, (report, sets) in enumerate(zip(ours, opa_results), 1):
            result = conformance.compare(opa_items(sets), modelgate_items(report))
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            if result["status"] == "disagree" and len(disagreements) < 5:
                disagreements.append((index, result))
        print(f"modelgate: {summary['allow']} allow, {summary['deny']} deny, {summary['error']} error; "
              f"agreement with OPA per document: {statuses}")
        for index, result in disagreements:
            print(f"  document {index}: only OPA {result['only_opa'][:2]}, only modelgate {result['only_modelgate'][:2]}, "
                  f"changed {result['changed'][:1]}")
        return 1 if statuses.get("disagree") or summary["error"] or len(ours) != args.count else 0


if __name__ == "__main__":
    sys.exit(main())
