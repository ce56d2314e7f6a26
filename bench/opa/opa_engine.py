#!/usr/bin/env python3
"""OPA's Go engine, driven through ctypes, for modelgate conformance checks.

OPA itself is not installed here.  The PyPI package opa-golib-python-bindings
0.4.4 ships ``libopabridge.so`` -- OPA v1.20.2 (``github.com/open-policy-agent/
opa/v1/rego``) compiled with ``go build -buildmode=c-shared`` -- and
``fetch_opa.sh`` (next to this file) downloads and unpacks it.  This module
talks to the .so directly with ctypes; it does not use the wheel's own Python
wrapper (the wheel is tagged for Python 3.14).  Stdlib only.

C API of libopabridge.so (every ``char*`` it returns is a malloc'd, NUL
terminated JSON envelope that the caller must release with OpaFreeString;
``{"error": {"code": .., "message": ..}}`` on failure, otherwise
``{"result": .., "prints": [..]}``)::

    uint64 OpaNew(void)                                   new engine handle
    void   OpaDestroy(uint64 h)
    void   OpaFreeString(char*)
    char*  OpaAddPolicy(uint64 h, char* path, char* rego_source)
    char*  OpaAddData(uint64 h, char* dotted_path, char* json)   deep merge
    char*  OpaEvalQuery(uint64 h, char* query, char* input_json, int coverage, int trace)
    char*  OpaEvalDocument(uint64 h, char* doc_path, char* input_json, int coverage, int trace)
    char*  OpaRegisterBuiltin(uint64 h, char* name, int arity, callback)
    char*  OpaCompileFilters(uint64 h, query, input, unknowns, target, dialect, mappings, mask_rule)

Library usage::

    from opa_engine import PolicyEngine
    with PolicyEngine.from_dir("policies/") as pe:
        tree = pe.evaluate({"model": {...}})           # value of data.modelgate
        sets = pe.deny_warn(tree)                      # {"modelgate.x": {"deny": [..], "warn": [..]}}

CLI (see ``--help``)::

    opa_engine.py info
    opa_engine.py eval POLICY_DIR --input EVIDENCE.json [--query data.modelgate]
    opa_engine.py deny-warn POLICY_DIR --input EVIDENCE.json [--per-rule]
    opa_engine.py test POLICY_DIR [-v] [--run REGEX]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SO_REL = Path("opa_bindings") / "libopabridge.so"
DEFAULT_DIR = Path(os.environ.get("HOME") or "/tmp") / ".cache/modelgate/opa-golib-0.4.4"
ROOT_PACKAGE = "modelgate"
DATA_FILES = ("data.json", "data.yaml", "data.yml")


class OpaError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class OpaUndefined(OpaError):
    def __init__(self, what: str):
        super().__init__("undefined", f"{what} is undefined")


# --------------------------------------------------------------------------
# loading the shared library
# --------------------------------------------------------------------------

_LIB = None
_LIB_PATH = None


def find_library(fetch: bool = True) -> Path:
    """Locate libopabridge.so.

    Order: $OPA_GOLIB_SO (the .so itself), $OPA_GOLIB_DIR (the unpacked wheel),
    ~/.cache/modelgate/opa-golib-0.4.4; if none has it and ``fetch`` is true,
    run fetch_opa.sh (which honours $OPA_GOLIB_DIR) and use the dir it prints.
    """
    so = os.environ.get("OPA_GOLIB_SO")
    if so:
        if not Path(so).is_file():
            raise OpaError("no_library", f"OPA_GOLIB_SO={so} does not exist")
        return Path(so)
    d = Path(os.environ.get("OPA_GOLIB_DIR") or DEFAULT_DIR)
    if (d / SO_REL).is_file():
        return d / SO_REL
    if not fetch:
        raise OpaError("no_library", f"{d / SO_REL} not found; run {HERE / 'fetch_opa.sh'}")
    proc = subprocess.run(["bash", str(HERE / "fetch_opa.sh")], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise OpaError("no_library", f"fetch_opa.sh failed with exit code {proc.returncode}")
    d = Path(proc.stdout.strip().splitlines()[-1])
    if not (d / SO_REL).is_file():
        raise OpaError("no_library", f"fetch_opa.sh printed {d} but {d / SO_REL} is missing")
    return d / SO_REL


def load_library(path: str | os.PathLike | None = None):
    """Load the .so once per process (a Go runtime cannot be unloaded or loaded twice)."""
    global _LIB, _LIB_PATH
    if _LIB is not None:
        if path is not None and Path(path).resolve() != _LIB_PATH:
            raise OpaError("already_loaded", f"{_LIB_PATH} is already loaded in this process")
        return _LIB
    p = Path(path) if path is not None else find_library()
    lib = ctypes.CDLL(str(p))  # ctypes releases the GIL around every call
    u64, cp, vp, ci = ctypes.c_uint64, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int
    lib.OpaNew.restype, lib.OpaNew.argtypes = u64, []
    lib.OpaDestroy.restype, lib.OpaDestroy.argtypes = None, [u64]
    lib.OpaFreeString.restype, lib.OpaFreeString.argtypes = None, [vp]
    # restype c_void_p (not c_char_p) so that we keep the pointer and can free it
    lib.OpaAddPolicy.restype, lib.OpaAddPolicy.argtypes = vp, [u64, cp, cp]
    lib.OpaAddData.restype, lib.OpaAddData.argtypes = vp, [u64, cp, cp]
    lib.OpaEvalQuery.restype, lib.OpaEvalQuery.argtypes = vp, [u64, cp, cp, ci, ci]
    lib.OpaEvalDocument.restype, lib.OpaEvalDocument.argtypes = vp, [u64, cp, cp, ci, ci]
    _LIB, _LIB_PATH = lib, p.resolve()
    return lib


def opa_version(lib_path: Path | None = None) -> str:
    """OPA version embedded in the .so (read from the Go build info)."""
    p = Path(lib_path or _LIB_PATH or find_library())
    m = re.search(rb"\tgithub\.com/open-policy-agent/opa\t(v[0-9][^\t\n]*)\t", p.read_bytes())
    return m.group(1).decode() if m else "unknown"


def _cstr(s: str | bytes) -> bytes:
    b = s if isinstance(s, bytes) else s.encode("utf-8")
    if b"\0" in b:
        raise OpaError("invalid_argument", "string contains a NUL byte (Go would truncate it)")
    return b


def to_json_bytes(value) -> bytes:
    """Input/data as JSON text.  bytes/str are passed through unchanged, which
    keeps number literals exactly as written (OPA's sprintf depends on them)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


# --------------------------------------------------------------------------
# thin engine wrapper
# --------------------------------------------------------------------------


class Engine:
    """One OPA engine handle: modules + data + a cache of prepared queries.

    The bridge prepares a query (rego.PrepareForEval) the first time a query
    string is evaluated and caches it per engine; any AddPolicy/AddData drops
    that cache.  Every later eval of the same query string reuses the prepared
    query and only parses the input JSON, evaluates and marshals the result.
    """

    def __init__(self, lib=None):
        self._lib = lib or load_library()
        self._h = self._lib.OpaNew()

    # lifecycle
    def close(self):
        if self._h:
            self._lib.OpaDestroy(self._h)
            self._h = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # raw calls
    def _raw(self, fn, *args) -> bytes:
        if not self._h:
            raise OpaError("closed", "engine is closed")
        ptr = fn(self._h, *args)
        if not ptr:
            raise OpaError("internal", "native call returned NULL")
        try:
            return ctypes.string_at(ptr)
        finally:
            self._lib.OpaFreeString(ptr)

    def _call(self, fn, *args) -> dict:
        env = json.loads(self._raw(fn, *args))
        err = env.get("error")
        if err:
            raise OpaError(err.get("code", "unknown"), err.get("message", ""))
        for p in env.get("prints") or []:
            print(f"{p.get('location')}: {p.get('message')}", file=sys.stderr)
        return env

    def add_policy(self, path: str, source: str | bytes):
        self._call(self._lib.OpaAddPolicy, _cstr(path), _cstr(source))

    def add_data(self, value, path: list[str] | tuple[str, ...] = ()):
        """Deep-merge ``value`` (object, or JSON text) at data.<path...>.

        The nesting is done here on the JSON text (the bridge would split a
        dotted path on '.', which breaks keys containing dots)."""
        text = to_json_bytes(value)
        for seg in reversed(list(path)):
            text = b'{' + json.dumps(seg, ensure_ascii=False).encode() + b':' + text + b'}'
        self._call(self._lib.OpaAddData, b"", _cstr(text))

    def eval_query_raw(self, query: str | bytes, input_json: bytes | None = None) -> bytes:
        """Raw envelope bytes of OpaEvalQuery (no JSON decoding in Python)."""
        return self._raw(self._lib.OpaEvalQuery, _cstr(query), input_json or b"", 0, 0)

    def eval_document_raw(self, path: str | bytes, input_json: bytes | None = None) -> bytes:
        """Raw envelope bytes of OpaEvalDocument (query ``data.<path>``)."""
        return self._raw(self._lib.OpaEvalDocument, _cstr(path), input_json or b"", 0, 0)

    def eval_query(self, query: str, input=None) -> list[dict]:
        """Evaluate a query; returns OPA's result set (list of {expressions, bindings})."""
        inp = None if input is None else to_json_bytes(input)
        return self._call(self._lib.OpaEvalQuery, _cstr(query), inp or b"", 0, 0).get("result") or []

    def eval_document(self, path: str, input=None):
        """Value of data.<path> ('' = data); raises OpaUndefined if undefined."""
        inp = None if input is None else to_json_bytes(input)
        rs = self._call(self._lib.OpaEvalDocument, _cstr(path), inp or b"", 0, 0).get("result") or []
        if not rs or not rs[0].get("expressions"):
            raise OpaUndefined(f"data.{path}" if path else "data")
        return rs[0]["expressions"][0]["value"]

    def eval_value(self, query: str, input=None, var: str = "x"):
        """Value bound to ``var`` by ``query`` (e.g. 'x := data.a.b'); OpaUndefined if none."""
        rs = self.eval_query(query, input)
        if not rs:
            raise OpaUndefined(query)
        return rs[0]["bindings"][var]


# --------------------------------------------------------------------------
# policy folders (bundle-like layout)
# --------------------------------------------------------------------------


def rego_ref(segments) -> str:
    """data["a"]["b"] style reference (safe for any key)."""
    return "data" + "".join(f"[{json.dumps(s)}]" for s in segments)


def dotted(segments) -> str:
    return ".".join(segments)


def parse_module(scratch: Engine, path: str, source: str) -> dict:
    """OPA's own AST (rego.parse_module builtin, v1 syntax) as JSON."""
    return scratch.eval_value("x := rego.parse_module(input.path, input.src)", {"path": path, "src": source})


def yaml_to_json(scratch: Engine, text: str) -> bytes:
    """YAML -> JSON with OPA's own YAML decoder (sigs.k8s.io/yaml, YAML 1.1:
    yes/on -> true, 010 -> 8), i.e. the semantics of OPA's bundle loader.
    No PyYAML needed."""
    return scratch.eval_value("x := json.marshal(yaml.unmarshal(input.s))", {"s": text}).encode("utf-8")


class PolicyEngine:
    """A policy folder loaded into one OPA engine.

    * every ``*.rego`` below the folder (recursively), except ``*_test.rego``
      unless ``include_tests`` -- module names are the paths relative to the
      folder;
    * every ``data.json`` / ``data.yaml`` / ``data.yml`` deep-merged into
      ``data`` at the path of its directory relative to the folder (at the
      folder root: ``data``'s top level), as OPA bundles do.
    """

    def __init__(self, engine: Engine, root: Path, modules: dict[str, str], packages: dict[str, dict]):
        self.engine = engine
        self.root = root
        self.modules = modules
        #: "modelgate.fairness" -> {"segments": [...], "rules": {name, ...}, "files": [...], "tests": [...]}
        self.packages = packages
        self.query = "data." + ROOT_PACKAGE

    @classmethod
    def from_dir(cls, root, include_tests: bool = False, lib=None) -> "PolicyEngine":
        root = Path(root)
        if not root.is_dir():
            raise OpaError("invalid_argument", f"{root} is not a directory")
        lib = lib or load_library()
        modules: dict[str, str] = {}
        data_files: list[Path] = []
        for p in sorted(root.rglob("*")):
            if not p.is_file():
                continue
            if p.suffix == ".rego" and (include_tests or not p.name.endswith("_test.rego")):
                modules[p.relative_to(root).as_posix()] = p.read_text(encoding="utf-8")
            elif p.name in DATA_FILES:
                data_files.append(p)
        if not modules:
            raise OpaError("invalid_argument", f"no .rego files under {root}")

        engine = Engine(lib)
        try:
            packages = cls._load(engine, lib, root, modules, data_files)
            pe = cls(engine, root, modules, packages)
            # AddPolicy only parses: compile errors (unknown functions, type
            # errors, recursion, conflicts) show up when the query is prepared.
            pe.prepare_seconds = pe.prepare()
        except BaseException:
            engine.close()
            raise
        return pe

    @staticmethod
    def _load(engine: Engine, lib, root: Path, modules: dict[str, str], data_files: list[Path]) -> dict:
        packages: dict[str, dict] = {}
        with Engine(lib) as scratch:
            for name, src in modules.items():
                try:
                    ast = parse_module(scratch, name, src)
                except OpaError as e:
                    raise OpaError("parse_error", f"{name}: {e.message}") from None
                segs = [t["value"] for t in ast["package"]["path"][1:]]
                pkg = packages.setdefault(dotted(segs), {"segments": segs, "rules": set(), "files": [], "tests": []})
                pkg["files"].append(name)
                for rule in ast.get("rules") or []:
                    head = rule.get("head") or {}
                    ref = head.get("ref") or []
                    rname = head.get("name") or (ref[0]["value"] if ref else None)
                    if not rname:
                        continue
                    pkg["rules"].add(rname)
                    if len(ref) <= 1 and not head.get("args") and rname.startswith(("test_", "todo_")):
                        # parse_module's JSON has no locations: find the head in the source
                        rows = [i for i, line in enumerate(src.splitlines(), 1)
                                if re.match(rf"\s*{re.escape(rname)}\b", line)]
                        nth = sum(1 for t in pkg["tests"] if t[:2] == (rname, name))
                        row = rows[nth] if nth < len(rows) else None
                        pkg["tests"].append((rname, name, row))
                engine.add_policy(name, src)
            for p in data_files:
                rel = p.parent.relative_to(root)
                segs = [] if str(rel) == "." else list(rel.parts)
                text = p.read_text(encoding="utf-8")
                try:
                    doc = text.encode("utf-8") if p.suffix == ".json" else yaml_to_json(scratch, text)
                    if doc.strip() in (b"", b"null"):
                        continue  # empty YAML file
                    engine.add_data(doc, segs)
                except OpaError as e:
                    raise OpaError(e.code, f"{p}: {e.message}") from None
        return packages

    # lifecycle
    def close(self):
        self.engine.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # evaluation
    def prepare(self) -> float:
        """Prepare ``data.modelgate`` now (the bridge prepares on first eval of
        a query string and caches it).  Returns the seconds it took."""
        t = time.perf_counter()
        err = json.loads(self.engine.eval_document_raw(ROOT_PACKAGE)).get("error")
        if err and err.get("code") == "prepare_error":  # eval errors (no input) are fine here
            raise OpaError("prepare_error", err.get("message", ""))
        return time.perf_counter() - t

    def evaluate(self, input) -> dict:
        """Value of data.modelgate for ``input`` (object, or JSON text/bytes,
        which is passed through unchanged).  {} if data.modelgate is undefined."""
        try:
            v = self.engine.eval_document(ROOT_PACKAGE, input)
        except OpaUndefined:
            return {}
        return v

    def modelgate_packages(self) -> list[str]:
        return sorted(p for p in self.packages if p == ROOT_PACKAGE or p.startswith(ROOT_PACKAGE + "."))

    def deny_warn(self, tree: dict) -> dict[str, dict[str, list]]:
        """From the value of data.modelgate, for every package data.modelgate[.x...]
        that defines ``deny`` and/or ``warn``: {pkg: {"deny": [...], "warn": [...]}}.
        Sets come back from OPA as (sorted) JSON arrays."""
        out = {}
        for pkg in self.modelgate_packages():
            info = self.packages[pkg]
            node = tree
            for seg in info["segments"][1:]:
                node = node.get(seg) if isinstance(node, dict) else None
            entry = {}
            for rule in ("deny", "warn"):
                if rule in info["rules"]:
                    v = node.get(rule) if isinstance(node, dict) else None
                    entry[rule] = _as_list(v)
            if entry:
                out[pkg] = entry
        return out

    def deny_warn_per_rule(self, input) -> dict[str, dict[str, list]]:
        """Like deny_warn(evaluate(input)) but evaluates every data.<pkg>.deny /
        .warn on its own (so an error in an unrelated rule does not hide them)."""
        inp = to_json_bytes(input)
        out = {}
        for pkg in self.modelgate_packages():
            info = self.packages[pkg]
            entry = {}
            for rule in ("deny", "warn"):
                if rule in info["rules"]:
                    try:
                        v = self.engine.eval_document(dotted(info["segments"] + [rule]), inp)
                    except OpaUndefined:
                        v = None
                    entry[rule] = _as_list(v)
            if entry:
                out[pkg] = entry
        return out

    # tests
    def run_tests(self, run: str | None = None) -> list[dict]:
        """Emulation of ``opa test`` (the bridge has no test runner): for every
        rule test_* in every package, evaluate data.<pkg>.test_* and pass iff it
        is ``true``; todo_* rules are skipped.  Load with include_tests=True."""
        rx = re.compile(run) if run else None
        results = []
        for pkg in sorted(self.packages):
            info = self.packages[pkg]
            seen: dict[str, list] = {}
            for rname, fname, row in info["tests"]:
                seen.setdefault(rname, []).append((fname, row))
            for rname, locs in seen.items():
                full = f"data.{pkg}.{rname}"
                if rx and not rx.search(full):
                    continue
                r = {"name": full, "location": f"{locs[0][0]}:{locs[0][1]}", "definitions": len(locs)}
                if rname.startswith("todo_"):
                    r["status"] = "SKIPPED"
                    results.append(r)
                    continue
                t = time.perf_counter()
                try:
                    rs = self.engine.eval_query(rego_ref(info["segments"] + [rname]))
                    if not rs:
                        r["status"], r["detail"] = "FAIL", "undefined"
                    else:
                        v = rs[0]["expressions"][0]["value"]
                        r["status"] = "PASS" if v is True else "FAIL"
                        if v is not True:
                            r["detail"] = f"value {json.dumps(v)}"
                except OpaError as e:
                    r["status"], r["detail"] = "ERROR", str(e)
                r["duration_us"] = round((time.perf_counter() - t) * 1e6)
                results.append(r)
        return results


def _as_list(v):
    if v is None:
        return []
    if isinstance(v, list):
        return v
    return [v]  # not a set: keep the value, callers will see it


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def _read_input(path: str | None) -> bytes | None:
    if path is None:
        return None
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def _cmd_info(args) -> int:
    so = find_library()
    lib = load_library(so)
    info = {
        "library": str(so),
        "opa_version": opa_version(so),
        "exported": ["OpaNew", "OpaDestroy", "OpaFreeString", "OpaAddPolicy", "OpaAddData",
                     "OpaEvalQuery", "OpaEvalDocument", "OpaRegisterBuiltin", "OpaCompileFilters"],
        "test_runner": "none exported; `opa_engine.py test` emulates opa test",
    }
    with Engine(lib) as e:
        info["rego_v1_default"] = e.eval_value('x := rego.parse_module("v.rego", "package v\\np if true") != null')
    print(json.dumps(info, indent=2))
    return 0


def _cmd_eval(args) -> int:
    with PolicyEngine.from_dir(args.policies, include_tests=args.include_tests) as pe:
        inp = _read_input(args.input)
        q = args.query
        if q == "data." + ROOT_PACKAGE:
            print(json.dumps(pe.evaluate(inp), indent=2, sort_keys=True))
        else:
            print(json.dumps(pe.engine.eval_query(q, inp), indent=2, sort_keys=True))
    return 0


def _cmd_deny_warn(args) -> int:
    with PolicyEngine.from_dir(args.policies) as pe:
        inp = _read_input(args.input) or b"{}"
        res = pe.deny_warn_per_rule(inp) if args.per_rule else pe.deny_warn(pe.evaluate(inp))
        print(json.dumps(res, indent=2, sort_keys=True))
    return 0


def _cmd_test(args) -> int:
    with PolicyEngine.from_dir(args.policies, include_tests=True) as pe:
        results = pe.run_tests(args.run)
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("PASS", "FAIL", "ERROR", "SKIPPED")}
    for r in results:
        if args.verbose or r["status"] in ("FAIL", "ERROR"):
            extra = f" ({r['duration_us']}µs)" if "duration_us" in r else ""
            detail = f": {r['detail']}" if r.get("detail") else ""
            dup = f" [{r['definitions']} definitions evaluated as one rule]" if r["definitions"] > 1 else ""
            print(f"{r['location']}: {r['name']}: {r['status']}{extra}{detail}{dup}")
    ran = counts["PASS"] + counts["FAIL"] + counts["ERROR"]
    print("-" * 80)
    if ran == 0:
        print("no tests found")
        return 2
    print(f"PASS: {counts['PASS']}/{ran}")
    if counts["FAIL"]:
        print(f"FAIL: {counts['FAIL']}/{ran}")
    if counts["ERROR"]:
        print(f"ERROR: {counts['ERROR']}/{ran}")
    if counts["SKIPPED"]:
        print(f"SKIPPED: {counts['SKIPPED']}/{ran + counts['SKIPPED']}")
    return 0 if counts["PASS"] == ran else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("info", help="library path, OPA version, API")
    p = sub.add_parser("eval", help="evaluate a query (default data.modelgate) against a policy folder")
    p.add_argument("policies")
    p.add_argument("--input", "-i", help="input JSON file ('-' = stdin)")
    p.add_argument("--query", "-q", default="data." + ROOT_PACKAGE)
    p.add_argument("--include-tests", action="store_true", help="also load *_test.rego")
    p = sub.add_parser("deny-warn", help="deny/warn sets of every data.modelgate.* package")
    p.add_argument("policies")
    p.add_argument("--input", "-i", required=True)
    p.add_argument("--per-rule", action="store_true", help="evaluate each deny/warn rule separately")
    p = sub.add_parser("test", help="run test_* rules like `opa test` (emulated)")
    p.add_argument("policies")
    p.add_argument("--verbose", "-v", action="store_true")
    p.add_argument("--run", "-r", help="only tests whose data.<pkg>.<name> matches this regex")
    args = ap.parse_args(argv)
    try:
        return {"info": _cmd_info, "eval": _cmd_eval, "deny-warn": _cmd_deny_warn, "test": _cmd_test}[args.cmd](args)
    except OpaError as e:
        print(f"opa_engine: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
