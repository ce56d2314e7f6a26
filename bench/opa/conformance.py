#!/usr/bin/env python3
"""Do modelgate (regorus) and OPA (Go) produce the same deny/warn sets?

    conformance.py POLICY_DIR EVIDENCE.json... [--modelgate BIN] [--per-rule] [--json REPORT]

For every evidence file this runs

    BIN eval --input F --policies POLICY_DIR --format json

(exit 0 = allowed, 1 = denied, anything else -- 2 is modelgate's error code --
is a failure) and takes every entry of the arrays ``violations``, ``warnings``
and ``exceptions`` of its JSON output: ``policy.package`` / ``policy.rule`` and
``raw``, the exact value the Rego rule produced.  The multiset of
(package, rule, raw) is compared with the ``deny`` / ``warn`` sets that OPA
computes for every data.modelgate.* package from the same policy folder and the
same input bytes (see opa_engine.py).

Numbers are compared by value (3 == 3.0).  Differences are classified:

* sprintf rendering -- the two values differ only in strings, and those strings
  differ only in how numbers are written (OPA: ``1e-06``, ``1.2345675e+06``,
  ``%!f(int64=2)``; regorus: ``0.000001``, ``1234567.5``, ``2.00``) or in the
  whitespace of a rendered composite.  Listed, but not a set disagreement.
* everything else (an entry only one engine produced, a different number, a
  different code, ...) is a real disagreement: exit code 1.

BIN defaults to target/release/modelgate, then target/debug/modelgate (looked up
in the current directory, then in the repository holding this script, honouring
$CARGO_TARGET_DIR).  Ends with a line
``conformance: N files, N agree, N sprintf-only, N disagree, N error``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import opa_engine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ENTRY_ARRAYS = ("violations", "warnings", "exceptions")

# A number as sprintf may write it: 3, -3, 3.25, .5, 1e-06, 1.2345675e+06.
# (A trailing "." is left to the text, so "3." at the end of a sentence works.)
NUM_RE = re.compile(r"([-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)")
# Go's fmt reports a verb/type mismatch inline, e.g. %!f(int64=2), %!s(int64=3),
# %!d(float64=2.5): OPA passes integer-valued numbers to fmt as int64 and the
# rest as float64.  Keep only the value.
GO_BADVERB_RE = re.compile(r"%!([a-zA-Z])\((?:u?int\d*|float\d+|string|bool)=([^)]*)\)")


# --------------------------------------------------------------------------
# value comparison
# --------------------------------------------------------------------------


def canon(v):
    """Numbers by value: integral floats become ints (3.0 -> 3)."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: canon(x) for k, x in v.items()}
    if isinstance(v, list):
        return [canon(x) for x in v]
    return v


def key(pkg: str, rule: str, raw) -> str:
    return json.dumps([pkg, rule, canon(raw)], sort_keys=True, ensure_ascii=False)


def _num_eq(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def classify_strings(a: str, b: str) -> tuple[str, str]:
    """(kind, note) for two different strings: kind is 'sprintf' if they differ
    only in number rendering (or composite whitespace), 'numeric' if numbers in
    them have (slightly) different values, else 'other'."""
    notes = []
    na, nb = GO_BADVERB_RE.sub(r"\2", a), GO_BADVERB_RE.sub(r"\2", b)
    if (na, nb) != (a, b):
        notes.append("Go fmt verb mismatch (%!verb(type=value)) in " + ("OPA" if na != a else "modelgate")
                     + " output -- the format verb does not fit the number")
    pa, pb = NUM_RE.split(na), NUM_RE.split(nb)
    # split() with one group alternates text, number, text, ...
    if len(pa) == len(pb):
        texts_a, texts_b = pa[0::2], pb[0::2]
        nums_a, nums_b = pa[1::2], pb[1::2]
        texts_equal = texts_a == texts_b
        texts_ws = not texts_equal and [re.sub(r"\s+", "", t) for t in texts_a] == [re.sub(r"\s+", "", t) for t in texts_b]
        if texts_equal or texts_ws:
            if texts_ws:
                notes.append("whitespace of a rendered composite differs")
            bad = [(x, y) for x, y in zip(nums_a, nums_b) if not _num_eq(x, y)]
            if not bad:
                changed = [(x, y) for x, y in zip(nums_a, nums_b) if x != y]
                if changed:
                    notes.insert(0, "numbers written differently: " + ", ".join(f"{x} vs {y}" for x, y in changed))
                return "sprintf", "; ".join(notes)
            close = all(math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=0.0) for x, y in bad)
            desc = ", ".join(f"{x} vs {y}" for x, y in bad)
            if close:
                notes.insert(0, f"numbers in the string differ slightly ({desc}): float arithmetic, not rendering")
            else:
                notes.insert(0, f"numbers in the string differ ({desc})")
            return "numeric", "; ".join(notes)
    return "other", ""


def diff_values(a, b, path: str = "") -> list[dict]:
    """Differences between an OPA value ``a`` and a modelgate value ``b``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return [] if a is b else [{"path": path, "opa": a, "modelgate": b, "kind": "other"}]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if a == b:
            return []
        close = math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=1e-9)
        return [{"path": path, "opa": a, "modelgate": b, "kind": "numeric",
                 "note": "differs slightly: float arithmetic" if close else ""}]
    if isinstance(a, str) and isinstance(b, str):
        if a == b:
            return []
        kind, note = classify_strings(a, b)
        return [{"path": path, "opa": a, "modelgate": b, "kind": kind, "note": note}]
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            p = f"{path}.{k}" if path else k
            if k not in a:
                out.append({"path": p, "opa": "<absent>", "modelgate": b[k], "kind": "other"})
            elif k not in b:
                out.append({"path": p, "opa": a[k], "modelgate": "<absent>", "kind": "other"})
            else:
                out += diff_values(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [{"path": path, "opa": a, "modelgate": b, "kind": "other", "note": f"length {len(a)} vs {len(b)}"}]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff_values(x, y, f"{path}[{i}]")
        if out and sorted(json.dumps(canon(x), sort_keys=True) for x in a) == \
                sorted(json.dumps(canon(y), sort_keys=True) for y in b):
            return [{"path": path, "opa": a, "modelgate": b, "kind": "other",
                     "note": "same elements, different order (set ordering?)"}]
        return out
    if a == b:
        return []
    return [{"path": path, "opa": a, "modelgate": b, "kind": "other"}]


def compare(opa_items: list[tuple], mg_items: list[tuple]) -> dict:
    """Compare two multisets of (package, rule, raw)."""
    ko = Counter(key(*i) for i in opa_items)
    km = Counter(key(*i) for i in mg_items)
    by_key = {key(*i): i for i in opa_items + mg_items}
    only_opa = [by_key[k] for k, n in (ko - km).items() for _ in range(n)]
    only_mg = [by_key[k] for k, n in (km - ko).items() for _ in range(n)]

    sprintf_pairs, changed_pairs = [], []
    # 1. pair entries that differ only in sprintf rendering
    for o in list(only_opa):
        for m in only_mg:
            if o[:2] != m[:2]:
                continue
            d = diff_values(o[2], m[2])
            if d and all(x["kind"] == "sprintf" for x in d):
                sprintf_pairs.append({"package": o[0], "rule": o[1], "opa": o[2], "modelgate": m[2], "diffs": d})
                only_opa.remove(o)
                only_mg.remove(m)
                break
    # 2. pair what is left by (package, rule, code) to show a field-level diff
    for o in list(only_opa):
        oc = o[2].get("code") if isinstance(o[2], dict) else None
        if oc is None:
            continue
        for m in only_mg:
            if o[:2] == m[:2] and isinstance(m[2], dict) and m[2].get("code") == oc:
                changed_pairs.append({"package": o[0], "rule": o[1], "code": oc, "opa": o[2], "modelgate": m[2],
                                      "diffs": diff_values(o[2], m[2])})
                only_opa.remove(o)
                only_mg.remove(m)
                break
    if only_opa or only_mg or changed_pairs:
        status = "disagree"
    elif sprintf_pairs:
        status = "sprintf-only"
    else:
        status = "agree"
    same = [by_key[k] for k, n in (ko & km).items() for _ in range(n)]
    return {"status": status, "matched": len(same), "same": same, "sprintf": sprintf_pairs,
            "changed": changed_pairs, "only_opa": only_opa, "only_modelgate": only_mg}


# --------------------------------------------------------------------------
# the two engines
# --------------------------------------------------------------------------


def find_modelgate(explicit: str | None) -> Path:
    if explicit:
        p = Path(explicit)
        if not (p.is_file() and os.access(p, os.X_OK)):
            sys.exit(f"conformance: --modelgate {explicit} is not an executable file")
        return p
    targets = []
    if os.environ.get("CARGO_TARGET_DIR"):
        targets.append(Path(os.environ["CARGO_TARGET_DIR"]))
    targets += [Path.cwd() / "target", REPO / "target"]
    tried = []
    for t in targets:
        for profile in ("release", "debug"):
            p = t / profile / "modelgate"
            tried.append(str(p))
            if p.is_file() and os.access(p, os.X_OK):
                return p
    sys.exit("conformance: no modelgate binary (tried " + ", ".join(tried) + "); build it or pass --modelgate BIN")


def run_modelgate(bin_: Path, policy_dir: str, evidence: str, timeout: float) -> tuple[list[tuple] | None, str]:
    cmd = [str(bin_), "eval", "--input", evidence, "--policies", policy_dir, "--format", "json", "--no-record"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"modelgate timed out after {timeout}s"
    if proc.returncode not in (0, 1):
        tail = (proc.stderr.strip() or proc.stdout.strip())[-600:]
        return None, f"modelgate exited {proc.returncode}: {tail}"
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        return None, f"modelgate printed invalid JSON ({e}): {proc.stdout[:300]!r}"
    items = []
    for arr in ENTRY_ARRAYS:
        for i, ent in enumerate(out.get(arr) or []):
            try:
                pol = ent["policy"]
                pkg, rule, raw = pol["package"], pol["rule"], ent["raw"]
            except (KeyError, TypeError):
                return None, f"modelgate output: {arr}[{i}] lacks policy.package/policy.rule/raw: {json.dumps(ent)[:300]}"
            if pkg.startswith("data."):
                pkg = pkg[5:]
            items.append((pkg, rule, raw))
    return items, f"exit {proc.returncode}"


def opa_items(pe: opa_engine.PolicyEngine, evidence: str, per_rule: bool) -> list[tuple]:
    inp = Path(evidence).read_bytes()  # the exact bytes: number literals matter to OPA
    sets = pe.deny_warn_per_rule(inp) if per_rule else pe.deny_warn(pe.evaluate(inp))
    return [(pkg, rule, raw) for pkg, rules in sets.items() for rule, vals in rules.items() for raw in vals]


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


def _short(v, n=160) -> str:
    s = json.dumps(v, ensure_ascii=False, sort_keys=True)
    return s if len(s) <= n else s[: n - 3] + "..."


def _label(item_pkg, item_rule, raw) -> str:
    code = raw.get("code") if isinstance(raw, dict) else None
    return f"{item_pkg} {item_rule}" + (f" code={code}" if code is not None else "")


def print_file_report(path: str, r: dict, verbose: bool):
    status = r["status"]
    print(f"[{status}] {path}" + (f"  ({r['summary']})" if r.get("summary") else ""))
    if status == "error":
        print(f"    {r['error']}")
        return
    if verbose:
        for pkg, rule, raw in r["same"]:
            print(f"    same: {_label(pkg, rule, raw)}: {_short(raw, 120)}")
    for p in r["sprintf"]:
        print(f"    sprintf rendering: {_label(p['package'], p['rule'], p['opa'])}")
        for d in p["diffs"]:
            print(f"        {d['path'] or '(value)'}: opa {json.dumps(d['opa'], ensure_ascii=False)}")
            print(f"        {' ' * len(d['path'] or '(value)')}  modelgate {json.dumps(d['modelgate'], ensure_ascii=False)}"
                  + (f"   [{d['note']}]" if d.get("note") else ""))
    for p in r["changed"]:
        print(f"    DIFFERS: {_label(p['package'], p['rule'], p['opa'])}")
        for d in p["diffs"]:
            tag = d["kind"] + (f": {d['note']}" if d.get("note") else "")
            print(f"        {d['path'] or '(value)'}: opa {_short(d['opa'])} | modelgate {_short(d['modelgate'])}   [{tag}]")
    for pkg, rule, raw in r["only_opa"]:
        print(f"    ONLY IN OPA: {_label(pkg, rule, raw)}: {_short(raw)}")
    for pkg, rule, raw in r["only_modelgate"]:
        print(f"    ONLY IN MODELGATE: {_label(pkg, rule, raw)}: {_short(raw)}")


def main(argv=None) -> int:
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0], epilog=doc.split("\n\n", 1)[1] if "\n\n" in doc else None,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("policies", help="policy folder (as given to modelgate --policies)")
    ap.add_argument("evidence", nargs="+", help="evidence JSON files (modelgate --input)")
    ap.add_argument("--modelgate", help="modelgate binary (default target/{release,debug}/modelgate)")
    ap.add_argument("--per-rule", action="store_true",
                    help="OPA: evaluate each data.<pkg>.deny/warn separately instead of all of data.modelgate")
    ap.add_argument("--json", metavar="REPORT", help="also write a JSON report to this file")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per modelgate run")
    ap.add_argument("--verbose", "-v", action="store_true", help="also list the entries both engines agree on")
    args = ap.parse_args(argv)

    bin_ = find_modelgate(args.modelgate)
    try:
        pe = opa_engine.PolicyEngine.from_dir(args.policies)
    except opa_engine.OpaError as e:
        print(f"conformance: OPA cannot load {args.policies}: {e}", file=sys.stderr)
        return 2
    print(f"conformance: OPA {opa_engine.opa_version()} via libopabridge.so vs {bin_}")
    gated = [p for p in pe.modelgate_packages() if pe.packages[p]["rules"] & {"deny", "warn"}]
    print(f"conformance: deny/warn packages: {', '.join(gated) or '(none under data.modelgate)'}")

    reports = {}
    with pe:
        for ev in args.evidence:
            mg, info = run_modelgate(bin_, args.policies, ev, args.timeout)
            try:
                oi, opa_err = opa_items(pe, ev, args.per_rule), None
            except (opa_engine.OpaError, OSError) as e:
                oi, opa_err = None, f"OPA: {e}"
            if mg is None:
                r = {"status": "error", "error": info + "\n    " + (
                    opa_err or f"(OPA evaluated this file without error: {len(oi)} deny/warn entries)")}
            elif opa_err:
                r = {"status": "error", "error": opa_err + f"\n    (modelgate evaluated it: {info}, {len(mg)} entries)"}
            else:
                r = compare(oi, mg)
                r["summary"] = (f"modelgate {info}; {len(mg)} entries from modelgate, {len(oi)} from OPA, "
                                f"{r['matched']} identical")
            reports[ev] = r
            print_file_report(ev, r, args.verbose)

    counts = Counter(r["status"] for r in reports.values())
    n_sprintf = sum(len(r.get("sprintf", [])) for r in reports.values())
    print(f"conformance: {len(reports)} files, {counts['agree']} agree, {counts['sprintf-only']} sprintf-only, "
          f"{counts['disagree']} disagree, {counts['error']} error"
          + (f" ({n_sprintf} entries differ only in sprintf number rendering)" if n_sprintf else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({"modelgate": str(bin_), "opa_version": opa_engine.opa_version(),
                                               "files": reports}, indent=2, ensure_ascii=False, default=list))
    return 1 if counts["disagree"] or counts["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
