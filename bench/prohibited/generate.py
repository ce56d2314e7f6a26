#!/usr/bin/env python3
"""Benchmark data for `modelgate data scan`: N rows (default 1M) of 13 mixed columns,
written as data/train_<rows>.parquet (pandas/pyarrow defaults, snappy) and .csv.

    generate.py [--rows N] [--seed S]

Columns: id (int64), age (int64), income (float64), score (float64), zip (int64),
segment (5 values), city (200 values), signup_date (ISO date string), email (unique),
phone (NANP formatted), ssn (AAA-GG-SSSS), client_ip (IPv4), notes (free text, 5% with a
phone number or an email inside).
"""

import argparse
import os

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n, rng = args.rows, np.random.default_rng(args.seed)
    area = rng.integers(1, 900, n)
    area = np.where(area == 666, 667, area)
    group = rng.integers(1, 100, n)
    serial = rng.integers(1, 10000, n)
    ssn = [f"{a:03d}-{g:02d}-{s:04d}" for a, g, s in zip(area, group, serial)]
    p1, p2, p3 = rng.integers(200, 1000, n), rng.integers(200, 1000, n), rng.integers(0, 10000, n)
    phone = [f"({a}) {b}-{c:04d}" for a, b, c in zip(p1, p2, p3)]
    email = [f"user{i}.{k}@example{k % 50}.com" for i, k in enumerate(rng.integers(0, 10**6, n))]
    octets = rng.integers(1, 255, (n, 4))
    ip = [f"{a}.{b}.{c}.{d}" for a, b, c, d in octets]
    days = rng.integers(0, 3650, n)
    signup = (np.datetime64("2015-01-01") + days.astype("timedelta64[D]")).astype(str)
    words = np.array("the order was shipped late and the customer asked for a refund of the item".split())
    picks = rng.integers(0, len(words), (n, 12))
    pii = rng.random(n)
    notes = []
    for i in range(n):
        text = " ".join(words[picks[i]])
        if pii[i] < 0.025:
            text += f" call {phone[i]}"
        elif pii[i] < 0.05:
            text += f" mail {email[i]}"
        notes.append(text)
    cities = np.array([f"City {i}" for i in range(200)])
    segments = np.array(["retail", "sme", "corporate", "public", "private"])
    frame = pd.DataFrame(
        {
            "id": np.arange(n, dtype=np.int64),
            "age": rng.integers(18, 90, n),
            "income": rng.lognormal(10, 0.5, n),
            "score": rng.random(n),
            "zip": rng.integers(10000, 99999, n),
            "segment": segments[rng.integers(0, 5, n)],
            "city": cities[rng.integers(0, 200, n)],
            "signup_date": signup,
            "email": email,
            "phone": phone,
            "ssn": ssn,
            "client_ip": ip,
            "notes": notes,
        }
    )
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    base = os.path.join(HERE, "data", f"train_{n}")
    frame.to_parquet(base + ".parquet")
    frame.to_csv(base + ".csv", index=False)
    for ext in ("parquet", "csv"):
        print(f"{base}.{ext}: {os.path.getsize(base + '.' + ext) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
