"""Writes the training data, serving data and DVC lineage of the two example projects.

    ~/.cache/modelgate/pyenv-lineage/bin/python examples/make_training_data.py

That venv needs dvc 3, pandas, numpy and pyarrow (`pip install "dvc==3.*" pandas
pyarrow`). The files are committed; CI does not run this script.

The training file of each example is produced by a real DVC pipeline run (`dvc repro`
in a scratch git repository): its dvc.lock is copied next to the example's
modelgate.toml, with the training file that run wrote, so the recorded md5 is the
file's own.

- credit-scoring: ingest -> deduplicate -> remove_pii -> impute -> split. The
  training file meets data/schema.json and holds no personal data; the serving
  sample is drawn from the same distributions.
- credit-scoring-blocked: the pipeline has no remove_pii step (so ssn, email and
  phone reach the training file), and after the run someone appended rows by hand
  (negative incomes, an unknown employment type, duplicate application ids): the
  lineage is stale and the schema is violated. The serving sample has drifted
  (higher incomes, loan amounts and debt ratios, another regional and employment
  mix).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 20_000
SERVING_ROWS = 5_000

PIPELINE = r'''
import sys
import numpy as np
import pandas as pd

ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 0


def people(rng, n, shift=0.0):
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.3, 0.3, 0.2, 0.2] if shift == 0 else [0.1, 0.2, 0.3, 0.4])
    age = rng.integers(18, 80, n)
    income = np.round(rng.lognormal(10.6 + shift, 0.45, n), 2)
    return pd.DataFrame({
        "application_id": [f"A{100000 + i}" for i in range(n)],
        "age": age,
        "income": income,
        "loan_amount": np.round(rng.gamma(2.0, 6000.0 * (1 + shift), n), 2),
        "credit_history_months": rng.integers(0, 480, n),
        "employment_years": np.round(rng.exponential(6.0, n), 1),
        "debt_ratio": np.round(rng.beta(2 + 4 * shift, 5, n), 4),
        "num_open_accounts": rng.poisson(3, n),
        "employment_type": rng.choice(["salaried", "self_employed", "unemployed", "retired", "student"], n, p=[0.6, 0.15, 0.08, 0.12, 0.05] if shift == 0 else [0.45, 0.25, 0.15, 0.1, 0.05]),
        "purpose": rng.choice(["car", "home", "education", "business", "personal"], n),
        "region": region,
        "sex": rng.choice(["F", "M"], n),
    })


def ssn(rng):
    area = rng.integers(1, 900)
    while area == 666:
        area = rng.integers(1, 900)
    return f"{area:03d}-{rng.integers(1, 100):02d}-{rng.integers(1, 10000):04d}"


def ingest():
    rng = np.random.default_rng(7)
    df = people(rng, ROWS)
    df["ssn"] = [ssn(rng) for _ in range(len(df))]
    df["email"] = [f"user{i}@mail.example.com" for i in range(len(df))]
    df["phone"] = [f"+1 415 555 {rng.integers(0, 10000):04d}" for _ in range(len(df))]
    df.loc[rng.choice(len(df), 300, replace=False), "employment_years"] = np.nan
    df = pd.concat([df, df.iloc[:400]], ignore_index=True)  # duplicates from a re-sent batch
    df.to_parquet("data/raw.parquet", index=False)


def deduplicate():
    df = pd.read_parquet("data/raw.parquet").drop_duplicates()
    df.to_parquet("data/deduplicated.parquet", index=False)


def remove_pii():
    df = pd.read_parquet("data/deduplicated.parquet").drop(columns=["ssn", "email", "phone"])
    df.to_parquet("data/anonymised.parquet", index=False)


def impute(source):
    df = pd.read_parquet(source)
    df["employment_years"] = df["employment_years"].fillna(df["employment_years"].median())
    df.to_parquet("data/imputed.parquet", index=False)


def split():
    df = pd.read_parquet("data/imputed.parquet")
    rng = np.random.default_rng(11)
    logit = -2.0 + 3.0 * df["debt_ratio"] - 0.00001 * df["income"] + 0.00002 * df["loan_amount"]
    df["default"] = (rng.random(len(df)) < 1 / (1 + np.exp(-logit))).astype("int64")
    test = df.sample(frac=0.2, random_state=3)
    df.drop(test.index).to_parquet("data/train.parquet", index=False)
    test.to_parquet("data/test.parquet", index=False)


def serving(shift):
    rng = np.random.default_rng(23)
    df = people(rng, ROWS, shift=shift).drop(columns=["application_id"])  # ROWS: the serving sample size
    df.to_parquet("serving.parquet", index=False)


step = sys.argv[1]
if step == "ingest":
    ingest()
elif step == "deduplicate":
    deduplicate()
elif step == "remove_pii":
    remove_pii()
elif step == "impute":
    impute(sys.argv[3])
elif step == "split":
    split()
elif step == "serving":
    serving(float(sys.argv[3]))
'''


def stage(cmd, deps, outs):
    return {"cmd": cmd, "deps": deps, "outs": outs}


def dvc_yaml(with_pii_removal):
    impute_source = "data/anonymised.parquet" if with_pii_removal else "data/deduplicated.parquet"
    stages = {
        "ingest": stage(f"python pipeline.py ingest {ROWS}", ["pipeline.py"], ["data/raw.parquet"]),
        "deduplicate": stage(
            "python pipeline.py deduplicate", ["pipeline.py", "data/raw.parquet"], ["data/deduplicated.parquet"]
        ),
    }
    if with_pii_removal:
        stages["remove_pii"] = stage(
            "python pipeline.py remove_pii", ["pipeline.py", "data/deduplicated.parquet"], ["data/anonymised.parquet"]
        )
    stages["impute"] = stage(
        f"python pipeline.py impute 0 {impute_source}", ["pipeline.py", impute_source], ["data/imputed.parquet"]
    )
    stages["split"] = stage(
        "python pipeline.py split", ["pipeline.py", "data/imputed.parquet"], ["data/train.parquet", "data/test.parquet"]
    )
    return {"stages": stages}


def run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def build(example, with_pii_removal, drift_shift, tamper):
    target = os.path.join(HERE, example)
    with tempfile.TemporaryDirectory() as scratch:
        os.makedirs(os.path.join(scratch, "data"))
        with open(os.path.join(scratch, "pipeline.py"), "w") as f:
            f.write(PIPELINE)
        with open(os.path.join(scratch, "dvc.yaml"), "w") as f:
            json.dump(dvc_yaml(with_pii_removal), f, indent=2)  # JSON is YAML
        bin_dir = os.path.dirname(sys.executable)
        env_path = bin_dir + os.pathsep + os.environ.get("PATH", "")
        os.environ["PATH"] = env_path
        run(["git", "init", "-q"], scratch)
        run([os.path.join(bin_dir, "dvc"), "init", "-q"], scratch)
        run([os.path.join(bin_dir, "dvc"), "repro", "-q"], scratch)
        run([sys.executable, "pipeline.py", "serving", str(SERVING_ROWS), str(drift_shift)], scratch)
        shutil.copy(os.path.join(scratch, "dvc.lock"), os.path.join(target, "dvc.lock"))
        shutil.copy(os.path.join(scratch, "data", "train.parquet"), os.path.join(target, "data", "train.parquet"))
        shutil.copy(os.path.join(scratch, "serving.parquet"), os.path.join(target, "data", "serving.parquet"))
    if tamper:
        train_path = os.path.join(target, "data", "train.parquet")
        train = pd.read_parquet(train_path)
        extra = train.head(40).copy()
        extra.loc[extra.index[:25], "income"] = -extra["income"].iloc[:25]
        extra.loc[extra.index[25:31], "employment_type"] = "contractor"
        # rows 31..39 keep their application ids: duplicate keys
        pd.concat([train, extra], ignore_index=True).to_parquet(train_path, index=False)


def main():
    build("credit-scoring", with_pii_removal=True, drift_shift=0.0, tamper=False)
    build("credit-scoring-blocked", with_pii_removal=False, drift_shift=0.25, tamper=True)


if __name__ == "__main__":
    main()
