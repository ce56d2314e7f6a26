"""Benchmark data for `modelgate data validate`: N rows (default 1M) of 12 mixed columns
with about 0.1% seeded errors, as CSV and Parquet, plus the Table Schema that checks them
(types, formats, constraints, a primary key) and a 20k-row CSV slice for frictionless.

    ~/.cache/modelgate/pyenv-schema/bin/python bench/schema/generate.py [--rows N] [--seed S]
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True}},
        {"name": "age", "type": "integer", "constraints": {"required": True, "minimum": 0, "maximum": 120}},
        {"name": "income", "type": "number", "constraints": {"minimum": 0}},
        {"name": "country", "type": "string", "constraints": {"enum": ["DE", "FR", "GB", "US", "NL", "IT"]}},
        {"name": "email", "type": "string", "format": "email"},
        {"name": "code", "type": "string", "constraints": {"pattern": "[A-Z]{2}-[0-9]{4}"}},
        {"name": "signup", "type": "date", "constraints": {"minimum": "2015-01-01"}},
        {"name": "last_login", "type": "datetime"},
        {"name": "active", "type": "boolean"},
        {"name": "score", "type": "number", "constraints": {"minimum": 0, "maximum": 1}},
        {"name": "segment", "type": "string", "constraints": {"required": True, "minLength": 1, "maxLength": 8}},
        {"name": "user_ref", "type": "string", "format": "uuid", "constraints": {"unique": True}},
    ],
    "primaryKey": "id",
}


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.arange(1, rows + 1)
    age = rng.integers(18, 90, rows)
    income = np.round(rng.uniform(0, 200_000, rows), 2)
    country = rng.choice(np.array(["DE", "FR", "GB", "US", "NL", "IT"]), rows)
    email = np.char.add(np.char.add("user", ids.astype(str)), "@example.org")
    letters = np.array(["AB", "CD", "XY", "QR"])
    code = np.char.add(np.char.add(rng.choice(letters, rows), "-"), rng.integers(1000, 9999, rows).astype(str))
    signup = np.datetime64("2015-01-01") + rng.integers(0, 3650, rows).astype("timedelta64[D]")
    last_login = np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 365 * 86400, rows).astype("timedelta64[s]")
    active = rng.random(rows) < 0.5
    score = np.round(rng.random(rows), 4)
    segment = rng.choice(np.array(["retail", "sme", "corp", "private"]), rows)
    raw = rng.integers(0, 2**63, (rows, 2), dtype=np.int64).view(np.uint64)
    hexes = [f"{a:016x}{b:016x}" for a, b in raw]
    user_ref = [f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}" for h in hexes]
    df = pd.DataFrame(
        {
            "id": ids,
            "age": age,
            "income": income,
            "country": country,
            "email": email,
            "code": code,
            "signup": pd.to_datetime(signup).date,
            "last_login": pd.to_datetime(last_login, utc=True),
            "active": active,
            "score": score,
            "segment": segment,
            "user_ref": user_ref,
        }
    )
    # About 0.1% seeded constraint errors, plus some duplicate keys.
    errors = rng.choice(rows, rows // 1000, replace=False)
    df.loc[errors[0::5], "age"] = 150
    df.loc[errors[1::5], "income"] = -1.0
    df.loc[errors[2::5], "country"] = "XX"
    df.loc[errors[3::5], "score"] = 1.5
    df.loc[errors[4::5], "id"] = 1
    return df


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    df = frame(args.rows, args.seed)
    name = f"people_{args.rows // 1000}k" if args.rows < 1_000_000 else f"people_{args.rows // 1_000_000}m"
    (DATA / "schema.json").write_text(json.dumps(SCHEMA, indent=2) + "\n")
    csv_frame = df.copy()
    csv_frame["last_login"] = csv_frame["last_login"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    csv_frame["active"] = np.where(csv_frame["active"], "true", "false")
    csv_frame.to_csv(DATA / f"{name}.csv", index=False)
    csv_frame.head(20_000).to_csv(DATA / "people_20k.csv", index=False)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, DATA / f"{name}.parquet", compression="snappy")
    print(f"wrote {DATA / name}.{{csv,parquet}} ({args.rows} rows) and people_20k.csv")


if __name__ == "__main__":
    main()
