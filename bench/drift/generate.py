#!/usr/bin/env python3
"""Writes the data of the drift benchmark: bench/drift/data/{reference,current}_<rows>.parquet.

10 numeric float64 columns (normal, lognormal, uniform, exponential, rounded values with
ties; half of them drifted in current) and 5 string columns (3 to 40 categories, two
drifted, one with a category only in current), 2% missing cells in two columns. Seeded:
the same --seed gives the same files.

    python bench/drift/generate.py [--rows 1000000] [--seed 7] [--force]
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"


def frame(rng, rows, drift):
    shift = 0.05 if drift else 0.0
    numeric = {
        "n0": rng.normal(0, 1, rows),
        "n1": rng.normal(shift, 1, rows),
        "n2": rng.lognormal(3 + shift, 1, rows),
        "n3": rng.uniform(0, 1 + shift, rows),
        "n4": rng.exponential(2.0, rows),
        "n5": np.round(rng.normal(50, 10 + 10 * shift, rows), 1),
        "n6": rng.normal(100, 15, rows),
        "n7": rng.gamma(2.0, 2.0 + shift, rows),
        "n8": rng.normal(0, 1, rows),
        "n9": np.round(rng.uniform(0, 100, rows)),
    }
    for name in ("n4", "n8"):
        numeric[name][rng.random(rows) < 0.02] = np.nan
    cities = [f"city{i}" for i in range(40 + (1 if drift else 0))]
    categorical = {
        "c0": rng.choice(["a", "b", "c"], rows),
        "c1": rng.choice(["web", "shop", "phone"], rows, p=[0.5, 0.3, 0.2] if not drift else [0.45, 0.33, 0.22]),
        "c2": rng.choice(cities, rows),
        "c3": rng.choice([f"s{i}" for i in range(12)], rows),
        "c4": rng.choice(["x", "y"], rows),
    }
    return pd.DataFrame({**numeric, **categorical})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for role, drift in (("reference", False), ("current", True)):
        path = DATA / f"{role}_{args.rows}.parquet"
        if path.exists() and not args.force:
            continue
        frame(rng, args.rows, drift).to_parquet(path, index=False)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
