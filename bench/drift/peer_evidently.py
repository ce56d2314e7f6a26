#!/usr/bin/env python3
"""Evidently's DataDriftPreset on the first ROWS rows of the benchmark data, timed.

    python bench/drift/peer_evidently.py REFERENCE.parquet CURRENT.parquet ROWS
"""

import json
import sys
import time
import warnings

import pandas as pd
from evidently.legacy.metric_preset import DataDriftPreset
from evidently.legacy.report import Report

warnings.filterwarnings("ignore")


def main():
    rows = int(sys.argv[3])
    ref = pd.read_parquet(sys.argv[1]).head(rows)
    cur = pd.read_parquet(sys.argv[2]).head(rows)
    start = time.perf_counter()
    report = Report(metrics=[DataDriftPreset()])
    report.run(reference_data=ref, current_data=cur)
    report.as_dict()
    print(json.dumps({"preset": time.perf_counter() - start, "rows": rows}))


if __name__ == "__main__":
    main()
