#!/usr/bin/env python3
"""The Python side of the benchmark, timed inside the process (imports excluded).

    peer.py --phase read|regex FILE

- read: pandas.read_parquet / pandas.read_csv of the whole file, the I/O floor of any
  Python pipeline.
- regex: the read, then a regex scan of every column as text, the way one writes it
  with pandas: per column and per pattern `Series.str.fullmatch` (pyarrow's RE2 kernels
  on pandas 3 string columns), `str.contains` for emails/phones inside free text; no
  check digits (a lower bar than modelgate's detectors).

Prints one JSON line: {"phase", "seconds", "rows"}.
"""

import argparse
import json
import time

import pandas as pd

PATTERNS = {
    "us_ssn": r"\d{3}-\d{2}-\d{4}",
    "payment_card": r"\d(?:[ -]?\d){12,18}",
    "iban": r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}",
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "phone": r"\+?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}",
    "ip_address": r"(?:\d{1,3}\.){3}\d{1,3}",
    "date": r"\d{4}-\d{2}-\d{2}",
}
EMBEDDED = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "phone": r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}",
}


def read(path):
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["read", "regex"], required=True)
    parser.add_argument("file")
    args = parser.parse_args()
    start = time.perf_counter()
    frame = read(args.file)
    if args.phase == "regex":
        found = {}
        for column in frame.columns:
            text = frame[column].astype("str")
            for name, pattern in PATTERNS.items():
                share = float(text.str.fullmatch(pattern).mean())
                if share > 0:
                    found[f"{column}:{name}"] = share
            for name, pattern in EMBEDDED.items():
                share = float(text.str.contains(pattern).mean())
                if share > 0:
                    found[f"{column}:{name}~"] = share
    seconds = time.perf_counter() - start
    print(json.dumps({"phase": args.phase, "seconds": seconds, "rows": len(frame)}))


if __name__ == "__main__":
    main()
