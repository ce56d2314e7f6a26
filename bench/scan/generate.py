#!/usr/bin/env python3
"""Builds the scanner benchmark corpus (bench/scan/README.md) outside git.

    python bench/scan/generate.py [--out /tmp/modelgate-scan-corpus] [--large-gib 3] [--no-large]

Writes OUT/corpus/files/* (small malicious and benign model files), OUT/corpus/large/* (two
~3 GiB checkpoints: safetensors and a PyTorch-style zip with stored tensors) and
OUT/manifest.json, which labels every file (path relative to OUT/corpus) `malicious` or
`benign` with the reason. Nothing is ever unpickled
or loaded: payloads are written with pickle.dumps of objects whose __reduce__ names the
dangerous callable, or as hand-assembled opcodes, so no payload runs here.

Real writers wherever the package is small: scikit-learn + joblib (models, compressed
joblib), numpy (npy, npz), safetensors. torch is not installed (its wheel pulls GBs of CUDA
libraries), so PyTorch checkpoints are written as torch.save lays them out: a stored zip with
`archive/data.pkl` (pickled with fake `torch` / `torch._utils` modules so that pickle emits
exactly the globals and persistent ids torch.save emits), `archive/byteorder`,
`archive/data/<key>` and `archive/version`. Fixtures of tests/fixtures/ are copied in.
"""

import argparse
import collections
import functools
import io
import json
import marshal
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile
from pathlib import Path

import joblib
import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
MANIFEST = {}


class Reduce:
    """An object whose pickle calls `callable(*args)` on load; pickling it runs nothing."""

    def __init__(self, *reduced):
        self.reduced = reduced

    def __reduce__(self):
        return self.reduced


def add(out, name, data, label, why, source="generate.py"):
    path = out / "files" / name
    path.write_bytes(data)
    MANIFEST[f"files/{name}"] = {"label": label, "why": why, "source": source}


def copy_fixture(out, relative, label, why, name=None):
    data = (FIXTURES / relative).read_bytes()
    add(out, name or relative.replace("/", "-"), data, label, why, source=f"tests/fixtures/{relative}")


# ------------------------------------------------------------------ PyTorch layout
def fake_module(name, **attrs):
    module = types.ModuleType(name)
    for key, value in attrs.items():
        value.__module__ = name
        value.__qualname__ = key
        setattr(module, key, value)
    sys.modules[name] = module


def _rebuild_tensor_v2(*args):
    raise AssertionError("never called")


class FloatStorage:
    pass


fake_module("torch", FloatStorage=FloatStorage)
fake_module("torch._utils", _rebuild_tensor_v2=_rebuild_tensor_v2)


class Tensor:
    """A tensor of shape `shape` whose storage is the zip member `archive/data/<key>`."""

    def __init__(self, key, shape):
        self.key, self.shape = key, tuple(shape)


class StorageRef:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class TorchPickler(pickle.Pickler):
    """torch.save's pickler: a tensor is `_rebuild_tensor_v2(storage, offset, size, stride, ...)`
    and its storage the persistent id ('storage', FloatStorage, key, 'cpu', numel)."""

    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", FloatStorage, obj.key, "cpu", obj.numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            shape = obj.shape
            stride = tuple(int(np.prod(shape[i + 1 :])) for i in range(len(shape)))
            storage = StorageRef(obj.key, int(np.prod(shape)))
            return (_rebuild_tensor_v2, (storage, 0, shape, stride, False, collections.OrderedDict()))
        return NotImplemented


def torch_pickle(obj):
    buffer = io.BytesIO()
    TorchPickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def torch_zip(path, data_pkl, storages, extra=()):
    """A torch.save-style zip: stored members, data.pkl first, one member per storage."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", b"little")
        for key, chunks in storages:
            info = zipfile.ZipInfo(f"archive/data/{key}", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=False) as member:
                for chunk in chunks:
                    member.write(chunk)
        for name, data in extra:
            archive.writestr(name, data)
        archive.writestr("archive/version", b"3\n")


def small_state_dict():
    tensors = collections.OrderedDict(weight=Tensor("0", (4, 8)), bias=Tensor("1", (8,)))
    storages = [("0", [np.random.default_rng(0).standard_normal(32, np.float32).tobytes()]),
                ("1", [np.zeros(8, np.float32).tobytes()])]
    return tensors, storages


def torch_zip_bytes(data_pkl, storages, extra=()):
    buffer = io.BytesIO()
    torch_zip(buffer, data_pkl, storages, extra)
    return buffer.getvalue()


# ------------------------------------------------------------------ zip tricks
def patch_local_name(data, old, new):
    """Renames a member in its local header only (same length): the central directory keeps `old`."""
    assert len(old) == len(new)
    # torch_zip writes data.pkl first: its local header is at 0, its name at byte 30
    assert data[:4] == b"PK\x03\x04" and data[30 : 30 + len(old)] == old
    return data[:30] + new + data[30 + len(old) :]


def patch_flags(data, flags_or):
    """Sets general-purpose flag bits in every local and central header (CVE-2025-1945 style)."""
    out = bytearray(data)
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            struct.pack_into("<H", out, at + flag_at, struct.unpack_from("<H", out, at + flag_at)[0] | flags_or)
            start = at + 4
    return bytes(out)


def patch_crc(data, member):
    """Corrupts the CRC-32 of one member in its local and central header (CVE-2025-10156 style)."""
    out = bytearray(data)
    for signature, crc_at, name_at in ((b"PK\x03\x04", 14, 30), (b"PK\x01\x02", 16, 46)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            if out[at + name_at : at + name_at + len(member)] == member:
                struct.pack_into("<I", out, at + crc_at, struct.unpack_from("<I", out, at + crc_at)[0] ^ 0xDEADBEEF)
            start = at + 4
    return bytes(out)


# ------------------------------------------------------------------ the corpus
def malicious(out):
    system = Reduce(os.system, ("id",))
    for protocol in range(6):
        add(out, f"os-system-p{protocol}.pkl", pickle.dumps(system, protocol=protocol), "malicious",
            f"REDUCE posix.system, pickle protocol {protocol}")
    add(out, "subprocess-popen.pkl", pickle.dumps(Reduce(__import__("subprocess").Popen, (["id"],)), protocol=4),
        "malicious", "REDUCE subprocess.Popen")
    add(out, "subprocess-check-output.pkl",
        pickle.dumps(Reduce(__import__("subprocess").check_output, (["id"],)), protocol=2),
        "malicious", "REDUCE subprocess.check_output")
    add(out, "builtins-eval.pkl", pickle.dumps(Reduce(eval, ("__import__('os').system('id')",)), protocol=4),
        "malicious", "REDUCE builtins.eval")
    add(out, "builtins-exec.pkl", pickle.dumps(Reduce(exec, ("import os; os.system('id')",)), protocol=2),
        "malicious", "REDUCE builtins.exec")
    import runpy
    import shutil as shutil_module
    import socket
    import webbrowser
    import importlib

    add(out, "runpy-run-path.pkl", pickle.dumps(Reduce(runpy.run_path, ("/tmp/x.py",)), protocol=4),
        "malicious", "REDUCE runpy.run_path")
    add(out, "webbrowser-open.pkl", pickle.dumps(Reduce(webbrowser.open, ("http://127.0.0.1/",)), protocol=4),
        "malicious", "REDUCE webbrowser.open")
    add(out, "socket-connection.pkl", pickle.dumps(Reduce(socket.create_connection, (("127.0.0.1", 9),)), protocol=4),
        "malicious", "REDUCE socket.create_connection")
    add(out, "shutil-rmtree.pkl", pickle.dumps(Reduce(shutil_module.rmtree, ("/tmp/nothing",)), protocol=4),
        "malicious", "REDUCE shutil.rmtree")
    add(out, "importlib-import-module.pkl", pickle.dumps(Reduce(importlib.import_module, ("os",)), protocol=4),
        "malicious", "REDUCE importlib.import_module")
    code = compile("import os; os.system('id')", "<payload>", "exec")
    add(out, "marshal-function-type.pkl",
        # types.FunctionType pickles as builtins.function, which does not resolve: assembled by hand
        b"\x80\x03ctypes\nFunctionType\ncmarshal\nloads\nB" + struct.pack("<I", len(marshal.dumps(code)))
        + marshal.dumps(code) + b"\x85R}\x86R.",
        "malicious", "types.FunctionType(marshal.loads(code), {}): a function built from marshalled bytecode")
    # attrgetter('system')(__import__('os'))('id'), protocol 0 text
    add(out, "attrgetter-chain.pkl",
        b"coperator\nattrgetter\n(S'system'\ntR(c__builtin__\n__import__\n(S'os'\ntRtR(S'id'\ntR.",
        "malicious", "operator.attrgetter('system') applied to __import__('os'), the result called")
    add(out, "functools-partial-system.pkl", pickle.dumps(functools.partial(os.system, "id"), protocol=4),
        "malicious", "functools.partial(os.system, 'id') called through REDUCE of partial")
    inner = pickle.dumps(system, protocol=2)
    add(out, "nested-pickle-loads.pkl", pickle.dumps(Reduce(pickle.loads, (inner,)), protocol=4),
        "malicious", "_pickle.loads of a nested pickle that calls os.system")
    add(out, "operator-methodcaller-eval.pkl",
        b"coperator\nmethodcaller\n(S'system'\nS'id'\ntR(c__builtin__\n__import__\n(S'os'\ntRtR.",
        "malicious", "methodcaller('system','id')(__import__('os'))")
    # payload then a GET of a memo key never stored: modelscan #338 crash evasion
    add(out, "payload-then-memo-miss.pkl", b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85Rh\x07.",
        "malicious", "os.system REDUCE, then BINGET of a missing memo key so scanners crash (modelscan #338)")
    for name in ("stack-global-memo.pkl", "memo-mixed-put-memoize.pkl", "memo-out-of-order.pkl",
                 "build-setattr-global.pkl", "stack-global-unresolvable.pkl", "eval-inst-p0.pkl",
                 "eval-obj-p1.pkl", "getattr-chain.pkl", "newobj-popen.pkl", "benign-then-malicious.pkl",
                 "hidden-after-stop.pkl", "ext-copyreg.pkl", "pip-main.pkl", "torch-hub-load.pkl",
                 "runpy.pkl", "asyncio-subprocess.pkl", "io-open.pkl", "numpy-runstring.pkl",
                 "methodcaller.pkl", "functools-partial.pkl", "builtin-exec-p0.pkl", "os-system-reduce.pkl"):
        copy_fixture(out, f"pickle/{name}", "malicious", "tests/fixtures/pickle/README.md")
    copy_fixture(out, "containers/malicious-checkpoint.zip", "malicious", "torch zip, data.pkl calls os.system")
    copy_fixture(out, "containers/protocol0-member.zip", "malicious",
                 "zip member without extension holding a protocol 0 os.system pickle")
    copy_fixture(out, "formats/ssti.gguf", "malicious", "GGUF chat template with Jinja SSTI gadgets (CVE-2024-34359)")
    # (tests/fixtures/formats/object.npy is left out: object dtype, but its pickle only holds
    # {"a": 1} and None, so neither label fits; object-dtype-payload.npy below carries a payload)

    # joblib: the payload sits after raw numpy buffers, which pickletools cannot walk over
    arrays = {"coef": np.random.default_rng(1).standard_normal((64, 64)), "payload": system}
    for compress, suffix in ((0, ""), (3, "-zlib")):
        buffer = io.BytesIO()
        joblib.dump(arrays, buffer, compress=compress)
        add(out, f"joblib-after-array{suffix}.joblib", buffer.getvalue(), "malicious",
            f"joblib dump (compress={compress}): os.system pickled after a numpy array buffer")

    # PyTorch zips
    tensors, storages = small_state_dict()
    evil_state = collections.OrderedDict(tensors, hook=system)
    evil = torch_zip_bytes(torch_pickle(evil_state), storages)
    add(out, "torch-malicious.pt", evil, "malicious", "torch.save layout, data.pkl state dict holds os.system")
    add(out, "torch-malicious-as.tar", evil, "malicious", "the same torch zip named .tar")
    add(out, "torch-malicious-extra-member.pt",
        torch_zip_bytes(torch_pickle(tensors), storages, extra=[("archive/extra/helper.pkl", pickle.dumps(system, protocol=4))]),
        "malicious", "benign data.pkl, a second pickle member calls os.system")
    add(out, "zip-local-name-mismatch.pt", patch_local_name(evil, b"archive/data.pkl", b"archive/data.pkX"),
        "malicious", "local header names archive/data.pkX, central directory archive/data.pkl (CVE-2025-1944)")
    add(out, "zip-flag-bits.pt", patch_flags(evil, 0x0001), "malicious",
        "encryption flag bit set on unencrypted members so zipfile refuses them (CVE-2025-1945)")
    add(out, "zip-bad-crc.pt", patch_crc(evil, b"archive/data.pkl"), "malicious",
        "CRC-32 of data.pkl corrupted; torch's reader does not check it (CVE-2025-10156)")
    add(out, "raw-pickle-as.pt", pickle.dumps(system, protocol=2), "malicious",
        "a raw os.system pickle with a .pt name, read as a zip by extension-driven scanners (CVE-2025-10155)")
    add(out, "raw-pickle-no-extension", pickle.dumps(system, protocol=4), "malicious",
        "a raw os.system pickle whose name has no extension")
    add(out, "raw-pickle-as.weights", pickle.dumps(system, protocol=2), "malicious",
        "a raw os.system pickle with an unknown extension")
    # legacy torch.save: five pickles back to back, the object pickle carries the payload
    legacy = b"".join(pickle.dumps(part, protocol=2) for part in
                      (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}))
    legacy += torch_pickle(evil_state) + pickle.dumps(["0", "1"], protocol=2)
    for _, chunks in storages:
        size = sum(len(chunk) for chunk in chunks) // 4
        legacy += size.to_bytes(8, "little") + b"".join(chunks)
    add(out, "legacy-torch-malicious.pt", legacy, "malicious", "legacy torch.save stack, the object pickle calls os.system")

    # numpy
    objects = np.empty(2, dtype=object)
    objects[0], objects[1] = system, 1
    buffer = io.BytesIO()
    np.save(buffer, objects, allow_pickle=True)
    add(out, "object-dtype-payload.npy", buffer.getvalue(), "malicious", "npy of object dtype whose pickle calls os.system")
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.ones(16, np.float32), objects=objects)
    add(out, "npz-pickled-member.npz", buffer.getvalue(), "malicious", "npz whose objects.npy member is an object-dtype pickle")


def benign(out):
    features, target = make_classification(n_samples=400, n_features=12, random_state=0)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, target)
    forest = RandomForestClassifier(n_estimators=8, max_depth=4, random_state=0).fit(features, target)
    for name, model, compress in (("sklearn-logistic.joblib", logistic, 0),
                                  ("sklearn-forest-zlib.joblib", forest, 3),
                                  ("sklearn-forest.joblib", forest, 0)):
        buffer = io.BytesIO()
        joblib.dump(model, buffer, compress=compress)
        add(out, name, buffer.getvalue(), "benign", f"scikit-learn {type(model).__name__} via joblib.dump(compress={compress})")
    add(out, "sklearn-logistic.pkl", pickle.dumps(logistic, protocol=5), "benign", "scikit-learn pipeline via pickle.dumps")
    buffer = io.BytesIO()
    joblib.dump({"w": np.ones((32, 32), np.float32), "b": np.zeros(32)}, buffer)
    add(out, "numpy-dict.joblib", buffer.getvalue(), "benign", "dict of numpy arrays via joblib.dump")
    rng = np.random.default_rng(2)
    buffer = io.BytesIO()
    np.save(buffer, rng.standard_normal((64, 64)).astype(np.float32))
    add(out, "weights.npy", buffer.getvalue(), "benign", "float32 npy")
    buffer = io.BytesIO()
    np.savez(buffer, w=rng.standard_normal((16, 16)), b=np.arange(16))
    add(out, "weights.npz", buffer.getvalue(), "benign", "npz of two plain arrays")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, w=rng.standard_normal((16, 16)))
    add(out, "weights-compressed.npz", buffer.getvalue(), "benign", "compressed npz")
    tensors = {"embed.weight": rng.standard_normal((128, 32)).astype(np.float32),
               "head.bias": np.zeros(10, np.float16)}
    save_file(tensors, out / "files" / "model.safetensors", metadata={"format": "np"})
    MANIFEST["files/model.safetensors"] = {"label": "benign", "why": "safetensors.numpy.save_file", "source": "generate.py"}
    state, storages = small_state_dict()
    add(out, "torch-state-dict.pt", torch_zip_bytes(torch_pickle(state), storages), "benign", "torch.save layout of a state dict")
    add(out, "ordereddict-p2.pkl", pickle.dumps(collections.OrderedDict(a=1, b=[1.5, "x"]), protocol=2),
        "benign", "collections.OrderedDict, protocol 2")
    add(out, "ordereddict-p4.pkl", pickle.dumps(collections.OrderedDict(layer=np.ones((2, 2))), protocol=4),
        "benign", "OrderedDict of a numpy array, protocol 4")
    for name in ("numpy-dict-p2.pkl", "numpy-dict-p4.pkl", "numpy-dict-p5.pkl", "plain-data-p0.pkl",
                 "plain-data-p5.pkl", "ordereddict-state-dict.pkl", "torch-state-dict.pkl", "legacy-torch.pt"):
        copy_fixture(out, f"pickle/{name}", "benign", "tests/fixtures/pickle/README.md")
    for name in ("checkpoint.zip", "deflated.zip", "zip64.zip"):
        copy_fixture(out, f"containers/{name}", "benign", "torch-style zip with a plain data.pkl")
    for name in ("model.safetensors", "plain.safetensors", "tiny.gguf", "v1.npy", "v2.npy", "v3.npy",
                 "fortran.npy", "strings.npy", "structured.npy"):
        copy_fixture(out, f"formats/{name}", "benign", "tests/fixtures/formats/README.md")


def large(out, gib):
    """One safetensors and one torch-style zip of `gib` GiB each, written in 64 MiB blocks."""
    block = np.random.default_rng(3).standard_normal(16 * 1024 * 1024, np.float32).tobytes()  # 64 MiB
    count = int(gib * 16)
    shape = [4096, 4096]
    header = {"__metadata__": {"format": "pt"}}
    for index in range(count):
        begin = index * len(block)
        header[f"layers.{index}.weight"] = {"dtype": "F32", "shape": shape, "data_offsets": [begin, begin + len(block)]}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path = out / "large" / "model.safetensors"
    with open(path, "wb") as sink:
        sink.write(struct.pack("<Q", len(text)) + text)
        for _ in range(count):
            sink.write(block)
    MANIFEST["large/model.safetensors"] = {"label": "benign", "why": f"{count} F32 tensors of 64 MiB", "source": "generate.py"}
    state = collections.OrderedDict((f"layers.{index}.weight", Tensor(str(index), tuple(shape))) for index in range(count))
    torch_zip(out / "large" / "pytorch_model.bin", torch_pickle(state), [(str(index), [block]) for index in range(count)])
    MANIFEST["large/pytorch_model.bin"] = {"label": "benign", "why": f"torch.save layout, {count} stored tensors of 64 MiB",
                                           "source": "generate.py"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/modelgate-scan-corpus")
    parser.add_argument("--large-gib", type=float, default=3.0)
    parser.add_argument("--no-large", action="store_true")
    args = parser.parse_args()
    out = Path(args.out) / "corpus"
    shutil.rmtree(out / "files", ignore_errors=True)
    (out / "files").mkdir(parents=True)
    (out / "large").mkdir(exist_ok=True)
    malicious(out)
    benign(out)
    if not args.no_large:
        large(out, args.large_gib)
    else:
        previous = out.parent / "manifest.json"
        if previous.exists():
            MANIFEST.update({k: v for k, v in json.loads(previous.read_text()).items() if k.startswith("large/")})
    (out.parent / "manifest.json").write_text(json.dumps(MANIFEST, indent=1, sort_keys=True) + "\n")
    labels = collections.Counter(entry["label"] for entry in MANIFEST.values())
    print(f"{out}: {len(MANIFEST)} files ({dict(labels)})")


if __name__ == "__main__":
    main()
