#!/usr/bin/env python3
"""Side by side: `modelgate sign key` / `verify key` against model_signing 1.1.1 on a
multi-GB model folder, with `sha256sum` of the same files as the floor (README.md).

The folder (default /tmp/modelgate-signing-model, outside git): --files files of --file-gb
GB each of random bytes, written in 64 MiB blocks. An EC P-256 key pair made with
`cryptography`. Signatures go outside the folder. Contenders, each run --repeat times,
interleaved, medians of wall and CPU (user + system) time:

- model_signing CLI `sign key` / `verify key` (whole files, its only CLI serialization);
- model_signing API with `hashing.Config().use_shard_serialization()` (1,000,000,000-byte
  shards, its default), verified with the same hashing config set explicitly (1.1.1 writes
  `shard_size` as a float its own verifier cannot read back);
- modelgate `sign key` / `verify key`, whole files and `--shard-size 1000000000`;
- `sha256sum` of every file, one process (one core), and two at once (`xargs -P 2`).

Each signature is also verified by the other tool once (interop, not timed).

    python bench/signing/bench.py [--files 4] [--file-gb 1] [--repeat 3] [--keep]
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHARD = 1_000_000_000

SHARDED = """
import sys, model_signing
action, model, signature, key = sys.argv[1:]
hashing = model_signing.hashing.Config().use_shard_serialization(shard_size={shard})
if action == "sign":
    model_signing.signing.Config().use_elliptic_key_signer(private_key=key).set_hashing_config(hashing).sign(model, signature)
else:
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=key).set_hashing_config(hashing).verify(model, signature)
""".format(shard=SHARD)


def timed(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def make_model(folder, files, file_bytes):
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(64 * 1024 * 1024)
    for index in range(files):
        path = folder / f"model-{index + 1:05d}-of-{files:05d}.safetensors"
        if path.exists() and path.stat().st_size == file_bytes:
            continue
        with open(path, "wb") as sink:
            left = file_bytes
            while left:
                chunk = block[: min(left, len(block))]
                sink.write(chunk)
                left -= len(chunk)


def make_keys(folder):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / "key.pem", folder / "pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/modelgate-signing")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--file-gb", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the model folder afterwards")
    parser.add_argument("--modelgate", default=str(ROOT / "target/release/modelgate"))
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    out = Path(args.out)
    model, sigs = out / "model", out / "signatures"
    sigs.mkdir(parents=True, exist_ok=True)
    file_bytes = int(args.file_gb * 1e9)
    make_model(model, args.files, file_bytes)
    private, public = make_keys(sigs)
    files = sorted(str(path) for path in model.iterdir())
    cli = str(Path(args.python).parent / "model_signing")
    mg = args.modelgate
    sig = {name: str(sigs / f"{name}.sig") for name in ("ms-files", "ms-shards", "mg-files", "mg-shards")}
    runs = {
        "sha256sum, 1 process": ["sha256sum", *files],
        "sha256sum, 2 processes": ["sh", "-c", f"printf '%s\\n' {' '.join(files)} | xargs -P 2 -n 1 sha256sum"],
        "model_signing sign (files)": [cli, "sign", "key", str(model), "--private_key", private, "--signature", sig["ms-files"]],
        "model_signing verify (files)": [cli, "verify", "key", str(model), "--public_key", public, "--signature", sig["ms-files"]],
        "model_signing sign (shards)": [args.python, "-c", SHARDED, "sign", str(model), sig["ms-shards"], private],
        "model_signing verify (shards)": [args.python, "-c", SHARDED, "verify", str(model), sig["ms-shards"], public],
        "modelgate sign (files)": [mg, "sign", "key", str(model), "--private-key", private, "--signature", sig["mg-files"]],
        "modelgate verify (files)": [mg, "verify", "key", str(model), "--public-key", public, "--signature", sig["mg-files"]],
        "modelgate sign (shards)": [mg, "sign", "key", str(model), "--private-key", private, "--signature", sig["mg-shards"],
                                    "--shard-size", str(SHARD)],
        "modelgate verify (shards)": [mg, "verify", "key", str(model), "--public-key", public, "--signature", sig["mg-shards"]],
    }
    subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    times = {name: [] for name in runs}
    for round_index in range(args.repeat):
        for name, command in runs.items():
            times[name].append(timed(command))
        print(f"round {round_index + 1} done", file=sys.stderr, flush=True)
    interop = {
        "modelgate verifies model_signing (files)": [mg, "verify", "key", str(model), "--public-key", public,
                                                     "--signature", sig["ms-files"]],
        "modelgate verifies model_signing (shards)": [mg, "verify", "key", str(model), "--public-key", public,
                                                      "--signature", sig["ms-shards"]],
        "model_signing verifies modelgate (files)": [cli, "verify", "key", str(model), "--public_key", public,
                                                     "--signature", sig["mg-files"]],
        "model_signing verifies modelgate (shards)": [args.python, "-c", SHARDED, "verify", str(model), sig["mg-shards"], public],
    }
    interop_results = {name: subprocess.run(command, capture_output=True).returncode == 0 for name, command in interop.items()}
    total = args.files * file_bytes
    results = {
        "bytes": total, "files": args.files, "machine": platform.platform(), "cores": os.cpu_count(),
        "times": {name: {"wall": statistics.median(w for w, _ in t), "cpu": statistics.median(c for _, c in t), "runs": t}
                  for name, t in times.items()},
        "interop": interop_results,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    if not args.keep:
        shutil.rmtree(model)
    print(render(results))


def render(results):
    times = results["times"]
    lines = [f"{results['files']} files, {results['bytes'] / 1e9:.1f} GB, {results['cores']} cores, medians",
             "", "| run | wall | CPU | GB/s | model_signing / modelgate (wall) |", "|---|---:|---:|---:|---:|"]
    for name, entry in times.items():
        ratio = ""
        if name.startswith("modelgate"):
            peer = times.get(name.replace("modelgate", "model_signing"))
            ratio = f"{peer['wall'] / entry['wall']:.1f}x" if peer else ""
        lines.append(f"| {name} | {entry['wall']:.2f} s | {entry['cpu']:.2f} s | {results['bytes'] / entry['wall'] / 1e9:.2f} | {ratio} |")
    lines += ["", "Interop: " + "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in results["interop"].items())]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
