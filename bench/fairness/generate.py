#!/usr/bin/env python3
"""Writes the predictions files of the fairness benchmark.

    bench/fairness/data/predictions_1m.parquet   predictions_1m.csv
    bench/fairness/data/predictions_10m.parquet  predictions_10m.csv

Columns: y (int 0/1), yhat (int 0/1), p (float64 probability, full precision),
race (4 unbalanced string values), sex (2), age_band (3). The model is biased against
some groups so the fairness aggregates are far from 0. Written by pandas/pyarrow with
their default settings (snappy Parquet, dictionary-encoded strings; CSV with floats at
full round-trip precision): the realistic shape of a predictions file.

Seeded: the same --seed gives the same files, byte for byte.

    python bench/fairness/generate.py [--rows 1m|10m|all|N] [--seed S] [--force]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

RACES = np.array(["white", "black", "asian", "other"])
RACE_P = [0.55, 0.22, 0.15, 0.08]
SEXES = np.array(["female", "male"])
SEX_P = [0.47, 0.53]
AGES = np.array(["18-34", "35-54", "55+"])
AGE_P = [0.35, 0.40, 0.25]

# Base rate of the positive class, and the model's bias, per group (logit offsets).
BASE_RACE = np.array([0.2, -0.2, 0.3, -0.1])
BASE_SEX = np.array([-0.1, 0.1])
BASE_AGE = np.array([-0.2, 0.1, 0.2])
BIAS_RACE = np.array([0.3, -0.7, 0.1, -0.4])
BIAS_SEX = np.array([-0.3, 0.2])

SIZES = {"1m": 1_000_000, "10m": 10_000_000}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    race = rng.choice(len(RACES), size=n, p=RACE_P)
    sex = rng.choice(len(SEXES), size=n, p=SEX_P)
    age = rng.choice(len(AGES), size=n, p=AGE_P)
    base = -0.3 + BASE_RACE[race] + BASE_SEX[sex] + BASE_AGE[age]
    y = (rng.random(n) < sigmoid(base)).astype(np.int64)
    logit = 1.3 * (2 * y - 1) + BIAS_RACE[race] + BIAS_SEX[sex] + 1.2 * rng.standard_normal(n)
    p = sigmoid(logit)  # float64, not rounded
    yhat = (p >= 0.5).astype(np.int64)
    return pd.DataFrame(
        {"y": y, "yhat": yhat, "p": p, "race": RACES[race], "sex": SEXES[sex], "age_band": AGES[age]}
    )


def label(n: int) -> str:
    for name, size in SIZES.items():
        if size == n:
            return name
    return str(n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="all", help="1m, 10m, all (both) or a number of rows")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--force", action="store_true", help="rewrite files that already exist")
    args = ap.parse_args()

    if args.rows == "all":
        sizes = list(SIZES.values())
    elif args.rows in SIZES:
        sizes = [SIZES[args.rows]]
    else:
        sizes = [int(args.rows)]

    DATA.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        parquet = DATA / f"predictions_{label(n)}.parquet"
        csv = DATA / f"predictions_{label(n)}.csv"
        if parquet.exists() and csv.exists() and not args.force:
            print(f"{parquet.name}, {csv.name}: exist (--force to rewrite)", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        # One seed per size, so the 1m file is not a prefix of the 10m one.
        df = frame(n, args.seed + n)
        df.to_parquet(parquet, index=False)  # pyarrow engine, snappy, defaults
        df.to_csv(csv, index=False)  # full round-trip float precision
        print(
            f"{n:>10,} rows: {parquet.name} {parquet.stat().st_size / 1e6:.1f} MB, "
            f"{csv.name} {csv.stat().st_size / 1e6:.1f} MB ({time.perf_counter() - t0:.1f} s)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
