#!/usr/bin/env python3
"""Memory and hashing passes of the scanner (issue 18), in one run:

(a) a 2 GiB raw pickle (32 float32 arrays of 64 MiB, `pickle.dump` protocol 4): wall time and
    peak RSS of `modelgate scan` (which also hashes the file) against `sha256sum` of the same
    file and against picklescan, modelscan and fickling; medians of --repeat, interleaved.
(b) a signed model folder of 20 files, among them a 1 GiB PyTorch zip (torch.save's layout,
    stored) and a 1 GiB safetensors file: `modelgate scan` and `modelgate check` (scan, then
    signature verification) with the bytes each process read (`rchar`, read through its
    parent shell's /proc/PID/io once the child is reaped). When verification reuses the
    scan's digests, `check` reads about what `scan` reads; hashing the folder again would add
    its size.

Markdown on stdout. The files are written to --out (about 4.2 GiB) and left there.

    python bench/scan/memory.py [--out /tmp/modelgate-scan-memory] [--repeat 3] [--skip-generate | --generate-only]
"""

import argparse
import collections
import json
import pickle
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import generate  # noqa: E402  (torch.save's layout without torch)


def run(command):
    """(exit code, wall s, peak RSS KiB, bytes read) of a command, through /usr/bin/time and a shell."""
    script = '/usr/bin/time -f "%e %M" -o "$0.time" "$@" >/dev/null 2>&1; code=$?; ' \
             'grep rchar /proc/$$/io; exit $code'
    stamp = "/tmp/modelgate-memory-bench"
    done = subprocess.run(["sh", "-c", script, stamp, *command], capture_output=True, text=True)
    wall, rss = Path(stamp + ".time").read_text().split()[-2:]
    rchar = int(done.stdout.split()[-1])
    return done.returncode, float(wall), int(rss), rchar


def generate_files(out, modelgate):
    out.mkdir(parents=True, exist_ok=True)
    block = np.random.default_rng(3).standard_normal(16 * 1024 * 1024, np.float32)  # 64 MiB
    state = collections.OrderedDict((f"layers.{i}.weight", block + i) for i in range(32))
    with open(out / "model.pkl", "wb") as sink:
        pickle.dump(state, sink, protocol=4)
    del state
    folder = out / "project" / "model"
    folder.mkdir(parents=True, exist_ok=True)
    raw = block.tobytes()
    count = 16  # 1 GiB each
    shape = (4096, 4096)
    torch_state = collections.OrderedDict(
        (f"layers.{i}.weight", generate.Tensor(str(i), shape)) for i in range(count))
    generate.torch_zip(folder / "pytorch_model.bin", generate.torch_pickle(torch_state),
                       [(str(i), [raw]) for i in range(count)])
    header = {f"layers.{i}.weight": {"dtype": "F32", "shape": list(shape),
                                     "data_offsets": [i * len(raw), (i + 1) * len(raw)]} for i in range(count)}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(folder / "model.safetensors", "wb") as sink:
        sink.write(len(text).to_bytes(8, "little") + text)
        for _ in range(count):
            sink.write(raw)
    from safetensors.numpy import save_file
    small = {
        "config.json": json.dumps({"model_type": "llama", "hidden_size": 4096}),
        "generation_config.json": json.dumps({"max_new_tokens": 64}),
        "tokenizer_config.json": json.dumps({"model_max_length": 4096}),
        "special_tokens_map.json": json.dumps({"bos_token": "<s>"}),
        "tokenizer.json": json.dumps({"model": {"type": "BPE", "vocab": {f"t{i}": i for i in range(5000)}}}),
        "vocab.txt": "\n".join(f"token{i}" for i in range(5000)),
        "merges.txt": "\n".join(f"a{i} b{i}" for i in range(5000)),
        "README.md": "# A model\n\nBenchmark folder.\n",
    }
    for name, text in small.items():
        (folder / name).write_text(text)
    rng = np.random.default_rng(4)
    for i in range(5):
        save_file({"w": rng.standard_normal((256, 256)).astype(np.float32)}, folder / f"adapter-{i}.safetensors")
    for i in range(5):
        np.save(folder / f"embedding-{i}.npy", rng.standard_normal((128, 64)).astype(np.float32))
    assert len(list(folder.iterdir())) == 20
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    (out / "project" / "release.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (out / "project" / "release.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    subprocess.run([modelgate, "sign", "key", str(folder), "--private-key", str(out / "project" / "release.pem")],
                   check=True, capture_output=True)
    (out / "project" / "modelgate.toml").write_text(
        '[model]\nname = "bench"\nversion = "1.0.0"\nrisk_tier = "low"\ntask = "binary_classification"\n'
        '[deployment]\nenvironment = "staging"\n'
        f'[policies]\npath = "{ROOT / "policies"}"\n'
        '[artifacts]\nmodel = "model"\n[artifacts.signature]\npublic_key = "release.pub"\n')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("/tmp/modelgate-scan-memory"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-generate", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--modelgate", default=str(ROOT / "target" / "release" / "modelgate"))
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    if not args.skip_generate:
        generate_files(args.out, args.modelgate)
    if args.generate_only:
        return
    bin_dir = Path(args.python).parent
    pkl = str(args.out / "model.pkl")
    subprocess.run(["cat", pkl], stdout=subprocess.DEVNULL, check=True)  # in the page cache
    tools = {
        "sha256sum": ["sha256sum", pkl],
        "modelgate scan": [args.modelgate, "scan", "--globals", "deny", pkl],
        "picklescan": [str(bin_dir / "picklescan"), "-p", pkl],
        "modelscan": [str(bin_dir / "modelscan"), "-p", pkl],
        "fickling": [args.python, str(HERE / "peer_fickling.py"), pkl],
    }
    runs = collections.defaultdict(list)
    for _ in range(args.repeat):
        for name, command in tools.items():
            runs[name].append(run(command))
    size = (args.out / "model.pkl").stat().st_size
    print(f"(a) raw pickle, {size / 2**30:.2f} GiB, medians of {args.repeat}\n")
    print("| tool | exit | wall s | × sha256sum | peak RSS MiB |")
    print("|---|---|---|---|---|")
    base = statistics.median(r[1] for r in runs["sha256sum"])
    for name, results in runs.items():
        wall = statistics.median(r[1] for r in results)
        rss = statistics.median(r[2] for r in results) / 1024
        print(f"| {name} | {results[0][0]} | {wall:.2f} | {wall / base:.2f} | {rss:.1f} |")

    project = args.out / "project"
    folder = project / "model"
    folder_bytes = sum(p.stat().st_size for p in folder.iterdir() if p.name != "model.sig")
    subprocess.run(["cat", *map(str, folder.iterdir())], stdout=subprocess.DEVNULL, check=True)
    commands = {
        "modelgate scan": [args.modelgate, "scan", str(folder)],
        "modelgate check": [args.modelgate, "check", str(project), "--format", "json"],
    }
    runs = collections.defaultdict(list)
    for _ in range(args.repeat):
        for name, command in commands.items():
            runs[name].append(run(command))
    print(f"\n(b) signed folder of 20 files, {folder_bytes / 2**30:.2f} GiB, medians of {args.repeat}\n")
    print("| command | exit | wall s | peak RSS MiB | bytes read | read ÷ folder size |")
    print("|---|---|---|---|---|---|")
    for name, results in runs.items():
        wall = statistics.median(r[1] for r in results)
        rss = statistics.median(r[2] for r in results) / 1024
        read = statistics.median(r[3] for r in results)
        print(f"| {name} | {results[0][0]} | {wall:.2f} | {rss:.1f} | {read / 2**20:.0f} MiB | {read / folder_bytes:.2f} |")
    extra = statistics.median(r[3] for r in runs["modelgate check"]) - statistics.median(r[3] for r in runs["modelgate scan"])
    print(f"\n`check` read {extra / 2**20:.1f} MiB more than `scan` (hashing the folder again would be "
          f"{folder_bytes / 2**20:.0f} MiB).")


if __name__ == "__main__":
    main()
