#!/usr/bin/env python3
"""Benchmark OPA's Go engine (libopabridge.so via ctypes) on a modelgate policy folder.

    bench_opa.py POLICY_DIR EVIDENCE.json [--iterations N] [--warmup W] [--threads T]

Loads the folder like opa_engine.PolicyEngine (policies + data), prepares the
query ``data.modelgate`` once (the bridge prepares a query string on its first
evaluation and caches the PreparedEvalQuery), then evaluates it N times with
the same input and prints one JSON object on stdout:

    {"engine": "opa", "median_us": .., "p95_us": .., "iterations": .., "includes": "..", "variants": {..}}

The bridge only accepts input as a JSON *string*, so there is no way to hand it
an already-parsed input: every measured evaluation includes parsing the input
JSON in Go.  ``median_us``/``p95_us`` are for the ``eval`` variant below; the
other variants say how much of that is overhead:

* eval            OpaEvalDocument("modelgate", input_json) -> envelope bytes
                  (ctypes call + cgo transition, Go JSON parse of the input,
                  evaluation of data.modelgate with the prepared query, Go
                  json.Marshal of the result set, C string copy and free).
                  No JSON decoding in Python.
* eval_decoded    eval + json.loads of the envelope in Python.
* floor_input     OpaEvalQuery("true", input_json): same call path and input
                  parsing, trivial query and result -- the fixed overhead.
* floor_no_input  OpaEvalQuery("true", no input): ctypes + cgo + bridge only.
* eval_minus_floor  median(eval) - median(floor_input): rough estimate of the
                  evaluation itself (+ marshalling the real result).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import opa_engine  # noqa: E402


def stats(samples_ns: list[int]) -> dict:
    s = sorted(samples_ns)
    n = len(s)
    p95 = s[min(n - 1, max(0, -(-95 * n // 100) - 1))]  # nearest rank
    return {
        "median_us": round(statistics.median(s) / 1000, 2),
        "p95_us": round(p95 / 1000, 2),
        "min_us": round(s[0] / 1000, 2),
        "mean_us": round(statistics.fmean(s) / 1000, 2),
    }


def time_loop(fn, iterations: int, warmup: int) -> list[int]:
    for _ in range(warmup):
        fn()
    out = [0] * iterations
    clock = time.perf_counter_ns
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for i in range(iterations):
            t = clock()
            fn()
            out[i] = clock() - t
    finally:
        if gc_was:
            gc.enable()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("policies")
    ap.add_argument("evidence")
    ap.add_argument("--iterations", "-n", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--threads", type=int, default=0,
                    help="also measure throughput with T Python threads sharing the engine (ctypes drops the GIL)")
    args = ap.parse_args(argv)
    if args.iterations < 1:
        ap.error("--iterations must be >= 1")

    lib = opa_engine.load_library()
    t = time.perf_counter()
    pe = opa_engine.PolicyEngine.from_dir(args.policies, lib=lib)
    load_ms = (time.perf_counter() - t) * 1000
    inp = Path(args.evidence).read_bytes()
    eng = pe.engine

    # from_dir() already prepared data.modelgate (first eval, no input); check the result once.
    t = time.perf_counter()
    first = eng.eval_document_raw("modelgate", inp)
    first_ms = (time.perf_counter() - t) * 1000
    env = json.loads(first)
    if env.get("error"):
        print(f"bench_opa: evaluation fails: {env['error']}", file=sys.stderr)
        return 2
    rs = env.get("result") or []
    tree = rs[0]["expressions"][0]["value"] if rs else {}
    sets = pe.deny_warn(tree)
    n_deny = sum(len(v.get("deny", [])) for v in sets.values())
    n_warn = sum(len(v.get("warn", [])) for v in sets.values())
    eng.eval_query_raw("true", inp)  # prepare the floor query too

    ev = lambda: eng.eval_document_raw("modelgate", inp)  # noqa: E731
    ev_dec = lambda: json.loads(eng.eval_document_raw("modelgate", inp))  # noqa: E731
    fl_in = lambda: eng.eval_query_raw("true", inp)  # noqa: E731
    fl_no = lambda: eng.eval_query_raw("true", None)  # noqa: E731

    n, w = args.iterations, args.warmup
    main_samples = time_loop(ev, n, w)
    variants = {
        "eval": stats(main_samples),
        "eval_decoded": stats(time_loop(ev_dec, n, w)),
        "floor_input": stats(time_loop(fl_in, n, w)),
        "floor_no_input": stats(time_loop(fl_no, n, w)),
    }
    variants["eval_minus_floor"] = {
        "median_us": round(variants["eval"]["median_us"] - variants["floor_input"]["median_us"], 2)}

    out = {
        "engine": "opa",
        "opa_version": opa_engine.opa_version(),
        "binding": "opa-golib-python-bindings 0.4.4 libopabridge.so via Python ctypes",
        "query": "data.modelgate",
        "policies": args.policies,
        "evidence": args.evidence,
        "input_bytes": len(inp),
        "result": {"deny": n_deny, "warn": n_warn, "envelope_bytes": len(first)},
        **{k: variants["eval"][k] for k in ("median_us", "p95_us")},
        "iterations": n,
        "warmup": w,
        "includes": ("per evaluation: Python ctypes call + cgo transition, Go copy and JSON parse of the input "
                     "(the API takes input only as a JSON string), evaluation of data.modelgate with a query "
                     "prepared once (rego.PrepareForEval cached by the bridge), Go json.Marshal of the result "
                     "set, C string allocation/copy/free; excludes Python json.loads of the result (see "
                     "variants.eval_decoded) and policy loading (load_ms, which includes prepare_ms: the first evaluation of data.modelgate, when the bridge compiles and prepares it)"),
        "load_ms": round(load_ms, 2),
        "prepare_ms": round(pe.prepare_seconds * 1000, 2),
        "first_eval_ms": round(first_ms, 2),
        "variants": variants,
    }

    if args.threads > 0:
        per = max(1, n // args.threads)

        def worker():
            for _ in range(per):
                ev()
        ths = [threading.Thread(target=worker) for _ in range(args.threads)]
        t = time.perf_counter()
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        dt = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(per * args.threads):
            ev()
        dt1 = time.perf_counter() - t
        out["threads"] = {"threads": args.threads, "evals": per * args.threads,
                          "evals_per_s": round(per * args.threads / dt, 1),
                          "single_thread_evals_per_s": round(per * args.threads / dt1, 1)}
    pe.close()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except opa_engine.OpaError as e:
        print(f"bench_opa: {e}", file=sys.stderr)
        sys.exit(2)
