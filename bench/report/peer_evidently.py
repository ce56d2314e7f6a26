#!/usr/bin/env python3
"""Evidently's HTML report on the blocked example's data: DataDriftPreset (its training
data against its serving data), written with `save_html`, timed (reading the Parquet
files apart).

    python bench/report/peer_evidently.py OUT.html

Prints {"read": s, "report": s, "bytes": N, "external": [...], "scripts": N}: the seconds
to read the data, to compute and write the report, its size, the external URLs the file
loads, and its <script> elements.
"""

import json
import re
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from evidently.legacy.metric_preset import DataDriftPreset
from evidently.legacy.report import Report

warnings.filterwarnings("ignore")
DATA = Path(__file__).resolve().parents[2] / "examples" / "credit-scoring-blocked" / "data"


def main():
    out = sys.argv[1]
    started = time.perf_counter()
    train = pd.read_parquet(DATA / "train.parquet")
    serving = pd.read_parquet(DATA / "serving.parquet")
    read = time.perf_counter() - started
    columns = [column for column in serving.columns if column in train.columns]
    started = time.perf_counter()
    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=train[columns], current_data=serving[columns])
    report.save_html(out)
    took = time.perf_counter() - started
    text = Path(out).read_text(errors="replace")
    external = sorted(set(re.findall(r'(?:src="|<link[^>]*href=")(https?://[^"]+)"', text)))
    scripts = len(re.findall(r"<script", text))
    print(json.dumps({"read": read, "report": took, "bytes": len(text.encode()), "external": external, "scripts": scripts}))


if __name__ == "__main__":
    main()
