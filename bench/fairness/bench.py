#!/usr/bin/env python3
"""Driver of the fairness benchmark (run it through run.sh).

For each predictions file, N times in turn: the peer's read alone (peer.py --phase read),
`modelgate fairness`, and the peer's full computation (peer.py --phase full; that one
only the first --peer-repeat times, as it takes minutes at 10M rows). Each is its own
process; its wall clock is time.perf_counter around it and its peak RSS is the child's
ru_maxrss (os.wait4). The peer also reports its own in-process timings.

Reports the medians and the ratios as a Markdown table on stdout and everything in
results/latest.json, and checks that modelgate's numbers are the peer's to 1e-9: every
overall metric, the confusion matrix, every group's count and rates and every aggregate
of every sensitive spec, and the file's sha256. Any difference fails the run (exit 1)
after the table is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
PEER = RESULTS / "peer"
SIZES = {"1m": 1_000_000, "10m": 10_000_000}
SPECS = ["race", "sex", "race,sex"]
TOLERANCE = 1e-9
# The headline values the brief names; every other value is checked too.
HEADLINE = [
    ("metrics", "accuracy"),
    ("metrics", "roc_auc"),
    ("metrics", "log_loss"),
    ("fairness", "race", "demographic_parity_difference"),
    ("fairness", "race,sex", "equalized_odds_difference"),
]


def run(cmd: list[str]) -> dict:
    """Runs cmd; its wall clock (s), peak RSS (MiB), stdout, stderr, exit code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "code": proc.returncode, "stdout": stdout.decode(), "stderr": stderr.decode()}


def run_measured(cmd: list[str]) -> dict:
    """Like run(), with the child's own peak RSS from wait4 (not our other children's)."""
    t0 = time.perf_counter()
    out_r, out_w = os.pipe()
    err_path = RESULTS / f".stderr.{os.getpid()}"
    with open(err_path, "wb") as err, open(os.devnull, "rb") as devnull:
        pid = os.fork()
        if pid == 0:  # child
            os.close(out_r)
            os.dup2(devnull.fileno(), 0)
            os.dup2(out_w, 1)
            os.dup2(err.fileno(), 2)
            try:
                os.execvp(cmd[0], cmd)
            finally:
                os._exit(127)
        os.close(out_w)
        chunks = []
        with os.fdopen(out_r, "rb") as r:
            while chunk := r.read(1 << 16):
                chunks.append(chunk)
        _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    stderr = err_path.read_text(errors="replace")
    err_path.unlink()
    return {
        "wall_s": wall,
        "rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "code": os.waitstatus_to_exitcode(status),
        "stdout": b"".join(chunks).decode(),
        "stderr": stderr,
    }


def run_peer_full(cmd: list[str], path: Path, i: int, n: int) -> dict:
    """One run of the full peer, saved as results/peer/NAME.I.json; its output."""
    r = run_measured(cmd)
    if r["code"] != 0:
        fail(" ".join(cmd), r)
    inner = json.loads(r["stdout"])
    inner.update(wall_s=r["wall_s"], process_rss_mib=r["rss_mib"], finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 loadavg=os.getloadavg())
    PEER.mkdir(parents=True, exist_ok=True)
    (PEER / f"{path.name}.{i + 1}.json").write_text(json.dumps(inner, indent=1) + "\n")
    print(f"[{path.name} {i + 1}/{n}] fairlearn {inner['timings']['total_s']:.2f} s "
          f"(read {inner['timings']['read_s']:.2f} s; process {r['wall_s']:.2f} s, {r['rss_mib']:.0f} MiB)",
          file=sys.stderr)
    return inner


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def warm(path: Path) -> None:
    """Reads the file once so every measured run finds it in the page cache."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def fail(what: str, result: dict) -> None:
    print(f"\n!!! {what} failed (exit {result['code']}):\n{result['stderr']}", file=sys.stderr)
    sys.exit(2)


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(float(a) - float(b)) <= TOLERANCE


def compare(mg: dict, peer: dict) -> tuple[list[str], list[dict]]:
    """Differences between modelgate's JSON and the peer's values (empty: they agree),
    and the headline values side by side."""
    diffs: list[str] = []

    def check(path: str, a, b):
        if not close(a, b):
            diffs.append(f"{path}: modelgate {a!r} vs peer {b!r}")

    if mg["test_set"]["digest"] != peer["digest"]:
        diffs.append(f"digest: modelgate {mg['test_set']['digest']} vs peer {peer['digest']}")
    for name, value in peer["metrics"].items():
        check(f"metrics.{name}", mg["metrics"].get(name), value)
    labels = mg["confusion_matrix"]["labels"]
    matrix = mg["confusion_matrix"]["matrix"]
    if labels != ["0", "1"]:
        diffs.append(f"confusion_matrix.labels: {labels}")
    else:
        for (i, j), key in {(0, 0): "tn", (0, 1): "fp", (1, 0): "fn", (1, 1): "tp"}.items():
            check(f"confusion_matrix.{key}", matrix[i][j], peer["confusion_matrix"][key])
    for spec in SPECS:
        ours, theirs = mg["fairness"].get(spec), peer["fairness"][spec]
        if ours is None:
            diffs.append(f"fairness.{spec}: missing from modelgate's output")
            continue
        for name, value in theirs.items():
            if name != "groups":
                check(f"fairness.{spec}.{name}", ours.get(name), value)
        if sorted(ours["groups"]) != sorted(theirs["groups"]):
            diffs.append(f"fairness.{spec}.groups: {sorted(ours['groups'])} vs {sorted(theirs['groups'])}")
            continue
        for group, values in theirs["groups"].items():
            g = ours["groups"][group]
            for name, value in values.items():
                a = g.get(name) if name in ("count", "positives", "negatives") else g.get("metrics", {}).get(name)
                check(f"fairness.{spec}.groups.{group}.{name}", a, value)
    headline = []
    for path in HEADLINE:
        a, b = mg, peer
        for k in path:
            a, b = a[k], b[k]
        headline.append({"value": ".".join(path[1:]) if path[0] == "metrics" else f"{path[1]}: {path[2]}",
                         "modelgate": a, "peer": b,
                         "abs_diff": None if a is None or b is None else abs(a - b)})
    return diffs, headline


def median(xs):
    return statistics.median(xs) if xs else None


def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "memory": mem, "kernel": platform.release(),
            "loadavg_at_start": os.getloadavg()}


def fmt_s(x):
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def fmt_x(x):
    return "-" if x is None else (f"{x:.2f}×" if x < 10 else f"{x:.0f}×")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="1m", help="1m, 10m, all (both), or a number of rows (a smoke test)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--peer-repeat", type=int, default=None,
                    help="runs of the full peer (fairlearn), default --repeat; the read-only peer always runs --repeat times")
    ap.add_argument("--formats", default="parquet,csv")
    ap.add_argument("--modelgate", default=str(REPO / "target/release/modelgate"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--out", default=str(RESULTS / "latest.json"))
    ap.add_argument("--peer-only", action="store_true",
                    help="run only the full peer (--peer-repeat times per file), saving each run in results/peer/")
    ap.add_argument("--reuse-peer", action="store_true",
                    help="take the full peer's runs from results/peer/ (saved by an earlier run) instead of running it")
    args = ap.parse_args()
    peer_repeat = args.repeat if args.peer_repeat is None else min(args.peer_repeat, args.repeat)

    RESULTS.mkdir(parents=True, exist_ok=True)
    sizes = list(SIZES) if args.rows == "all" else [args.rows]
    formats = args.formats.split(",")
    modelgate = str(Path(args.modelgate).resolve())
    if not os.access(modelgate, os.X_OK):
        print(f"no modelgate binary at {modelgate}: cargo build --release first", file=sys.stderr)
        return 2
    for size in sizes:
        if not all((DATA / f"predictions_{size}.{fmt}").exists() for fmt in formats):
            subprocess.run([args.python, str(HERE / "generate.py"), "--rows", size], check=True)

    version = run([modelgate, "--version"])["stdout"].strip()
    git = run(["git", "-C", str(REPO), "describe", "--always", "--dirty"])["stdout"].strip()
    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "modelgate": {"binary": modelgate, "version": version, "sha256": sha256(Path(modelgate)), "git": git},
        "repeat": args.repeat,
        "peer_repeat": peer_repeat,
        "tolerance": TOLERANCE,
        "files": [],
    }
    failures = []
    for size in sizes:
        for fmt in formats:
            path = DATA / f"predictions_{size}.{fmt}"
            warm(path)
            mg_cmd = [modelgate, "fairness", "--predictions", str(path), "--label", "y", "--prediction", "yhat",
                      "--score", "p", "--sensitive", "race", "--sensitive", "sex", "--sensitive", "race,sex",
                      "--format", "json"]
            read_cmd = [args.python, str(HERE / "peer.py"), "--phase", "read", str(path)]
            full_cmd = [args.python, str(HERE / "peer.py"), "--phase", "full", str(path)]
            vec_cmd = [args.python, str(HERE / "peer.py"), "--phase", "vectorized", str(path)]
            entry = {"file": str(path.relative_to(REPO)), "format": fmt, "rows": SIZES.get(size) or int(size),
                     "bytes": path.stat().st_size, "commands": {"modelgate": mg_cmd, "peer_read": read_cmd,
                                                                 "peer_full": full_cmd, "peer_vectorized": vec_cmd},
                     "runs": {"modelgate": [], "peer_read": [], "peer_vectorized": [], "peer_full": []}}
            mg_json = peer_values = vec_values = None
            saved = sorted(PEER.glob(f"{path.name}.*.json"))
            if args.peer_only:
                for i in range(peer_repeat):
                    run_peer_full(full_cmd, path, i, peer_repeat)
                continue
            if args.reuse_peer:
                if not saved:
                    print(f"--reuse-peer: no saved run of the peer for {path.name} in {PEER}", file=sys.stderr)
                    return 2
                for f in saved[:peer_repeat]:
                    inner = json.loads(f.read_text())
                    peer_values = inner["values"]
                    report.setdefault("peer_versions", inner["versions"])
                    entry["runs"]["peer_full"].append(
                        {"wall_s": inner["wall_s"], "rss_mib": inner["process_rss_mib"], "saved": str(f.relative_to(REPO)),
                         "finished": inner["finished"], **inner["timings"]})
                entry["peer_reused"] = True
            for i in range(args.repeat):
                r = run_measured(read_cmd)
                if r["code"] != 0:
                    fail(" ".join(read_cmd), r)
                inner = json.loads(r["stdout"])
                entry["runs"]["peer_read"].append({"wall_s": r["wall_s"], "rss_mib": r["rss_mib"], **inner["timings"]})
                print(f"[{path.name} {i + 1}/{args.repeat}] pandas read {inner['timings']['read_s']:.3f} s "
                      f"(process {r['wall_s']:.2f} s, {r['rss_mib']:.0f} MiB)", file=sys.stderr)

                r = run_measured(mg_cmd)
                if r["code"] != 0:
                    fail(" ".join(mg_cmd), r)
                entry["runs"]["modelgate"].append({k: r[k] for k in ("wall_s", "rss_mib", "user_s", "sys_s")})
                mg_json = json.loads(r["stdout"])
                print(f"[{path.name} {i + 1}/{args.repeat}] modelgate {r['wall_s']:.3f} s "
                      f"(user {r['user_s']:.2f} s, sys {r['sys_s']:.2f} s, {r['rss_mib']:.0f} MiB)", file=sys.stderr)

                r = run_measured(vec_cmd)
                if r["code"] != 0:
                    fail(" ".join(vec_cmd), r)
                inner = json.loads(r["stdout"])
                vec_values = inner["values"]
                entry["runs"]["peer_vectorized"].append({"wall_s": r["wall_s"], "rss_mib": r["rss_mib"],
                                                         **inner["timings"]})
                print(f"[{path.name} {i + 1}/{args.repeat}] pandas groupby + sklearn {inner['timings']['total_s']:.2f} s "
                      f"(process {r['wall_s']:.2f} s, {r['rss_mib']:.0f} MiB)", file=sys.stderr)

                if i < peer_repeat and not args.reuse_peer:
                    inner = run_peer_full(full_cmd, path, i, peer_repeat)
                    peer_values = inner["values"]
                    report.setdefault("peer_versions", inner["versions"])
                    entry["runs"]["peer_full"].append({"wall_s": inner["wall_s"], "rss_mib": inner["process_rss_mib"],
                                                       **inner["timings"]})

            diffs, headline = compare(mg_json, peer_values)
            vec_diffs, _ = compare(mg_json, vec_values)
            entry["agreement"] = {"ok": not diffs, "differences": diffs, "headline": headline,
                                  "vectorized_ok": not vec_diffs, "vectorized_differences": vec_diffs}
            if diffs:
                failures.append((path.name + " (fairlearn)", diffs))
            if vec_diffs:
                failures.append((path.name + " (pandas groupby)", vec_diffs))
            runs = entry["runs"]
            med = {
                "modelgate_s": median([r["wall_s"] for r in runs["modelgate"]]),
                "modelgate_rss_mib": median([r["rss_mib"] for r in runs["modelgate"]]),
                "pandas_read_s": median([r["read_s"] for r in runs["peer_read"]]),
                "pandas_read_process_s": median([r["wall_s"] for r in runs["peer_read"]]),
                "pandas_read_rss_mib": median([r["rss_mib"] for r in runs["peer_read"]]),
                "peer_s": median([r["total_s"] for r in runs["peer_full"]]),
                "peer_process_s": median([r["wall_s"] for r in runs["peer_full"]]),
                "peer_rss_mib": median([r["rss_mib"] for r in runs["peer_full"]]),
                "peer_sklearn_overall_s": median([r["overall_s"] for r in runs["peer_full"]]),
                "peer_fairlearn_s": median([r["fairness_s"] for r in runs["peer_full"]]),
                "vectorized_s": median([r["total_s"] for r in runs["peer_vectorized"]]),
                "vectorized_process_s": median([r["wall_s"] for r in runs["peer_vectorized"]]),
                "vectorized_rss_mib": median([r["rss_mib"] for r in runs["peer_vectorized"]]),
                "vectorized_sklearn_overall_s": median([r["overall_s"] for r in runs["peer_vectorized"]]),
                "vectorized_groupby_s": median([r["fairness_s"] for r in runs["peer_vectorized"]]),
            }
            med["modelgate_over_pandas_read"] = med["modelgate_s"] / med["pandas_read_s"]
            med["peer_over_modelgate"] = med["peer_s"] / med["modelgate_s"]
            med["vectorized_over_modelgate"] = med["vectorized_s"] / med["modelgate_s"]
            entry["median"] = med
            report["files"].append(entry)
            Path(args.out).write_text(json.dumps(report, indent=1) + "\n")

    if args.peer_only:
        return 0
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    report["machine"]["loadavg_at_end"] = os.getloadavg()
    report["ok"] = not failures
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    if failures:
        print("\n" + "!" * 78, file=sys.stderr)
        print("!!! modelgate and the peer DISAGREE (tolerance 1e-9):", file=sys.stderr)
        for name, diffs in failures:
            for d in diffs:
                print(f"!!! {name}: {d}", file=sys.stderr)
        print("!" * 78, file=sys.stderr)
        return 1
    return 0


def table(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"{report['modelgate']['version']} (binary sha256 {report['modelgate']['sha256'][:12]}, repo HEAD at run time "
        f"{report['modelgate']['git']}); {m['nproc']} × {m['cpu']}, {m['memory']}; medians of {report['repeat']} "
        f"runs (fairlearn + sklearn: {report['peer_repeat']}); {report['started']}",
        "",
        "| file | rows | size | pandas read | **modelgate** | pandas groupby + sklearn | fairlearn + sklearn "
        "| modelgate / pandas read | pandas groupby / modelgate | fairlearn / modelgate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in report["files"]:
        d = e["median"]
        lines.append(
            f"| {e['format']} | {e['rows']:,} | {e['bytes'] / 1e6:.0f} MB | {fmt_s(d['pandas_read_s'])} s "
            f"| **{fmt_s(d['modelgate_s'])} s** | {fmt_s(d['vectorized_s'])} s | {fmt_s(d['peer_s'])} s "
            f"| {fmt_x(d['modelgate_over_pandas_read'])} | {fmt_x(d['vectorized_over_modelgate'])} "
            f"| {fmt_x(d['peer_over_modelgate'])} |"
        )
    lines += [
        "",
        "Peak RSS (median):",
        "",
        "| file | rows | modelgate | pandas read | pandas groupby + sklearn | fairlearn + sklearn |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in report["files"]:
        d = e["median"]
        lines.append(
            f"| {e['format']} | {e['rows']:,} | {d['modelgate_rss_mib']:.0f} MiB | {d['pandas_read_rss_mib']:.0f} MiB "
            f"| {d['vectorized_rss_mib']:.0f} MiB | {d['peer_rss_mib']:.0f} MiB |"
        )
    reused = [e for e in report["files"] if e.get("peer_reused")]
    for e in reused:
        when = ", ".join(r["finished"] for r in e["runs"]["peer_full"])
        lines.append(f"\n{e['file']}: fairlearn + sklearn timed in an earlier run (finished {when}; --reuse-peer).")
    lines.append("")
    lines.append("Agreement, modelgate vs fairlearn + sklearn (and vs pandas groupby + sklearn): |difference| ≤ 1e-9 "
                 "on every value (overall metrics, confusion matrix, every group's counts and rates, every "
                 "aggregate, sha256); the headline values' |difference|:")
    lines.append("")
    lines.append("| file | " + " | ".join(h["value"] for h in report["files"][0]["agreement"]["headline"]) + " | all values |")
    lines.append("| --- |" + " ---: |" * (len(HEADLINE) + 1))
    for e in report["files"]:
        a = e["agreement"]
        cells = ["-" if h["abs_diff"] is None else f"{h['abs_diff']:.1e}" for h in a["headline"]]
        status = "agree" if a["ok"] else f"**{len(a['differences'])} DIFFER**"
        if not a.get("vectorized_ok", True):
            status += f"; pandas groupby: **{len(a['vectorized_differences'])} DIFFER**"
        lines.append(f"| {e['format']} {e['rows']:,} | " + " | ".join(cells) + f" | {status} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
