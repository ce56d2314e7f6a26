#!/usr/bin/env python3
"""Side by side: `modelgate scan` (allow list and deny list) against picklescan, modelscan and
fickling on the corpus of generate.py, in one run (bench/scan/README.md).

1. Verdicts: every tool on every file of the manifest, one command per file, as a CI job
   would run it: `modelgate scan --globals allow|deny FILE`, `picklescan -p FILE`,
   `modelscan -p FILE -r json`, and `peer_fickling.py FILE` (fickling's own per-file logic).
   Each answer is `flagged` (the tool reports the file unsafe), `error` (the tool failed on
   it), `skipped` (the tool says it scanned nothing) or `clean`.
2. Large checkpoints: each tool on each multi-GB file, --repeat times, interleaved; median
   wall and CPU (user + system) time, throughput = file size / median wall time.
3. Corpus: each tool over the whole corpus (both folders), and over files/ alone, in one command per tool where the
   tool takes a folder (modelgate, picklescan, modelscan), one process over every file for
   fickling; medians of --repeat.

Markdown on stdout, raw figures in results/latest.json.

    python bench/scan/bench.py [--out /tmp/modelgate-scan-corpus] [--repeat 3] [--skip-generate]
"""

import argparse
import collections
import json
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOOLS = ("modelgate-allow", "modelgate-deny", "picklescan", "modelscan", "fickling")
PEERS = ("picklescan", "modelscan", "fickling")
TIMEOUT = 1800


def timed(command):
    """(exit code, stdout, wall s, cpu s) of a command run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=TIMEOUT)
        code, stdout = done.returncode, done.stdout
    except subprocess.TimeoutExpired:
        code, stdout = None, ""
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return code, stdout, wall, cpu


class Tools:
    def __init__(self, args, scratch):
        self.modelgate = args.modelgate
        self.bin = Path(args.python).parent
        self.python = args.python
        self.report = str(Path(scratch) / "modelscan.json")

    def command(self, tool, paths):
        if tool.startswith("modelgate"):
            policy = tool.split("-")[1]
            return [self.modelgate, "scan", "--format", "json", "--globals", policy, *paths]
        if tool == "picklescan":
            (path,) = paths
            return [str(self.bin / "picklescan"), "-p", path]
        if tool == "modelscan":
            (path,) = paths
            return [str(self.bin / "modelscan"), "-p", path, "-r", "json", "-o", self.report]
        return [self.python, str(HERE / "peer_fickling.py"), *paths]

    def verdict(self, tool, code, stdout):
        """flagged | error | skipped | clean, and a short reason."""
        if code is None:
            return "error", f"timeout after {TIMEOUT} s"
        if tool.startswith("modelgate"):
            if code == 1:
                findings = [finding.get("global") or finding.get("kind")
                            for file in json.loads(stdout)["files"] for finding in file["findings"]]
                return "flagged", ", ".join(str(f) for f in findings[:3])
            return ("clean", "") if code == 0 else ("error", f"exit {code}")
        if tool == "picklescan":
            infected = re.search(r"Infected files: (\d+)", stdout)
            scanned = re.search(r"Scanned files: (\d+)", stdout)
            found = re.findall(r"dangerous import '([^']+)'", stdout)
            if infected and int(infected.group(1)) > 0:
                return "flagged", ", ".join(found[:3])
            if code != 0:
                errors = re.findall(r"ERROR: (.*)", stdout)
                return "error", (errors[0] if errors else f"exit {code}")[:120]
            return ("skipped", "") if scanned and int(scanned.group(1)) == 0 else ("clean", "")
        if tool == "modelscan":
            try:
                report = json.loads(Path(self.report).read_text())
                Path(self.report).unlink()
            except (OSError, ValueError):
                return "error", f"exit {code}, no report"
            if report["summary"]["total_issues"] > 0:
                return "flagged", ", ".join(f"{i['module']}.{i['operator']}" for i in report["issues"][:3])
            if report.get("errors"):
                return "error", str(report["errors"][0].get("description", ""))[:120]
            if report["summary"]["scanned"]["total_scanned"] == 0:
                return "skipped", ""
            return "clean", ""
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        if not lines:
            return "error", f"exit {code}"
        return lines[0]["verdict"], lines[0]["detail"][:120]


def blocked(verdict):
    return verdict in ("flagged", "error")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/modelgate-scan-corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-gib", type=float, default=3.0)
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--modelgate", default=str(ROOT / "target/release/modelgate"))
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    out = Path(args.out)
    if not args.skip_generate:
        subprocess.run([args.python, str(HERE / "generate.py"), "--out", str(out), "--large-gib", str(args.large_gib)],
                       check=True)
    corpus = out / "corpus"
    manifest = json.loads((out / "manifest.json").read_text())
    with tempfile.TemporaryDirectory() as scratch:
        tools = Tools(args, scratch)
        results = {"verdicts": {}, "large": {}, "corpus": {}, "small": {}}

        # 1. verdicts, one command per file
        for name in sorted(manifest):
            row = results["verdicts"][name] = {}
            for tool in TOOLS:
                code, stdout, wall, cpu = timed(tools.command(tool, [str(corpus / name)]))
                verdict, why = tools.verdict(tool, code, stdout)
                row[tool] = {"verdict": verdict, "why": why, "wall": wall}
            print(name, {tool: row[tool]["verdict"] for tool in TOOLS}, file=sys.stderr, flush=True)

        # warm the page cache, so every tool meets the large files in memory
        large = sorted(name for name in manifest if name.startswith("large/"))
        for name in large:
            subprocess.run(["cat", str(corpus / name)], stdout=subprocess.DEVNULL, check=True)

        # 2. and 3. timings, interleaved
        times = collections.defaultdict(list)
        for round_index in range(args.repeat):
            for tool in TOOLS:
                for name in large:
                    code, _, wall, cpu = timed(tools.command(tool, [str(corpus / name)]))
                    times[(tool, name)].append((wall, cpu))
                for subset, folder in (("corpus", corpus), ("small", corpus / "files")):
                    if tool == "fickling":
                        names = [name for name in sorted(manifest) if subset == "corpus" or name.startswith("files/")]
                        paths = [str(corpus / name) for name in names]
                    else:
                        paths = [str(folder)]
                    code, _, wall, cpu = timed(tools.command(tool, paths))
                    times[(tool, subset)].append((wall, cpu))
            print(f"round {round_index + 1} done", file=sys.stderr, flush=True)
        for (tool, name), runs in times.items():
            entry = {"wall": statistics.median(w for w, _ in runs), "cpu": statistics.median(c for _, c in runs),
                     "runs": runs}
            if name in ("corpus", "small"):
                results[name][tool] = entry
            else:
                entry["bytes"] = (corpus / name).stat().st_size
                entry["gb_per_s"] = entry["bytes"] / entry["wall"] / 1e9
                entry["verdict"] = results["verdicts"][name][tool]["verdict"]
                results["large"].setdefault(name, {})[tool] = entry

    results["manifest"] = manifest
    results["corpus_bytes"] = sum((corpus / name).stat().st_size for name in manifest)
    results["small_files"] = sum(1 for name in manifest if name.startswith("files/"))
    results["small_bytes"] = sum((corpus / name).stat().st_size for name in manifest if name.startswith("files/"))
    results["machine"] = {"platform": platform.platform(), "python": platform.python_version(),
                          "repeat": args.repeat}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    print(render(results))


def render(results):
    manifest, verdicts = results["manifest"], results["verdicts"]
    mark = {"flagged": "**flag**", "error": "error", "skipped": "skip", "clean": "-"}
    lines = ["| file | label | " + " | ".join(TOOLS) + " |", "|---|---|" + "---|" * len(TOOLS)]
    for name in sorted(manifest, key=lambda n: (manifest[n]["label"], n)):
        cells = [mark[verdicts[name][tool]["verdict"]] for tool in TOOLS]
        lines.append(f"| {name} | {manifest[name]['label']} | " + " | ".join(cells) + " |")
    lines += ["", "`**flag**` reported unsafe, `error` the tool failed on the file, `skip` the tool scanned nothing, "
              "`-` clean. A CI gate blocks on flag and error.", ""]
    lines += ["| tool | malicious flagged | malicious error | malicious missed (TP+err / FN) | benign flagged | benign error | benign passed |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for tool in TOOLS:
        count = collections.Counter((manifest[n]["label"], verdicts[n][tool]["verdict"]) for n in manifest)
        missed = count[("malicious", "clean")] + count[("malicious", "skipped")]
        passed = count[("benign", "clean")] + count[("benign", "skipped")]
        lines.append(f"| {tool} | {count[('malicious', 'flagged')]} | {count[('malicious', 'error')]} | {missed} | "
                     f"{count[('benign', 'flagged')]} | {count[('benign', 'error')]} | {passed} |")
    totals = collections.Counter(entry["label"] for entry in manifest.values())
    lines += ["", f"{totals['malicious']} malicious, {totals['benign']} benign files.", ""]
    for mode in ("modelgate-allow", "modelgate-deny"):
        worse = [n for n in sorted(manifest) if manifest[n]["label"] == "malicious"
                 and not blocked(verdicts[n][mode]["verdict"])
                 and any(blocked(verdicts[n][peer]["verdict"]) for peer in PEERS)]
        false = [n for n in sorted(manifest) if manifest[n]["label"] == "benign" and blocked(verdicts[n][mode]["verdict"])]
        lines.append(f"- {mode}: malicious files a peer blocks and it misses: {', '.join(worse) or 'none'}; "
                     f"benign files it blocks: {', '.join(false) or 'none'}")
    lines += ["", "| large file | size | tool | verdict | wall (median) | CPU | GB/s (wall) | tool / modelgate-deny (wall) |",
              "|---|---:|---|---|---:|---:|---:|---:|"]
    for name, per_tool in results["large"].items():
        for tool in TOOLS:
            entry = per_tool[tool]
            ratio = entry["wall"] / per_tool["modelgate-deny"]["wall"]  # above 1: modelgate is faster
            lines.append(f"| {name} | {entry['bytes'] / 2**30:.2f} GiB | {tool} | {entry['verdict']} | {entry['wall']:.3f} s | "
                         f"{entry['cpu']:.3f} s | {entry['gb_per_s']:.2f} | {ratio:.2f} |")
    subsets = (("corpus", f"whole corpus: {len(manifest)} files, {results['corpus_bytes'] / 2**30:.2f} GiB"),
               ("small", f"files/ only: {results['small_files']} files, {results['small_bytes'] / 2**10:.0f} KiB"))
    lines += ["", "Corpus, one command per tool (fickling: one process over the files)", "",
              "| subset | tool | wall (median) | CPU | tool / modelgate-deny (wall) | (CPU) |", "|---|---|---:|---:|---:|---:|"]
    for subset, title in subsets:
        base = results[subset]["modelgate-deny"]
        for tool in TOOLS:
            entry = results[subset][tool]
            lines.append(f"| {title} | {tool} | {entry['wall']:.3f} s | {entry['cpu']:.3f} s | "
                         f"{entry['wall'] / base['wall']:.2f} | {entry['cpu'] / max(base['cpu'], 1e-3):.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
