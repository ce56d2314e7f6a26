#!/usr/bin/env python3
"""The drift tests with scipy/numpy on the benchmark data, timed per method (load apart).

Per numeric column: ks_2samp (method='auto'), wasserstein_distance / std(reference),
Jensen-Shannon distance on Sturges bins, PSI on reference deciles; per string column:
chi-square on reference-proportion expected counts, Jensen-Shannon distance, PSI. Missing
cells dropped per column. Prints one JSON object: seconds for load and for each method.

    python bench/drift/peer_scipy.py REFERENCE.parquet CURRENT.parquet
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance


def shares_sturges(r, c):
    bins = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
    return np.histogram(r, bins)[0] / len(r), np.histogram(c, bins)[0] / len(c)


def shares_categories(r, c):
    rv, cv = r.value_counts(), c.value_counts()
    keys = sorted(set(rv.index) | set(cv.index))
    return (rv.reindex(keys, fill_value=0).to_numpy() / len(r), cv.reindex(keys, fill_value=0).to_numpy() / len(c))


def psi(r, c):
    r, c = np.maximum(r, 1e-4), np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def decile_shares(r, c):
    edges = np.unique(np.quantile(r, np.arange(1, 10) / 10))
    n = len(edges) + 1
    return (np.bincount(np.searchsorted(edges, r, side="right"), minlength=n) / len(r),
            np.bincount(np.searchsorted(edges, c, side="right"), minlength=n) / len(c))


def main():
    start = time.perf_counter()
    ref, cur = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
    times = {"load": time.perf_counter() - start}
    numeric = [c for c in ref.columns if pd.api.types.is_numeric_dtype(ref[c])]
    strings = [c for c in ref.columns if c not in numeric]
    cols = {c: (ref[c].dropna(), cur[c].dropna()) for c in ref.columns}
    arrays = {c: (r.to_numpy(), k.to_numpy()) for c, (r, k) in cols.items() if c in numeric}

    def timed(name, fn):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times[name] = time.perf_counter() - start
        times[name + "_cpu"] = time.process_time() - cpu

    timed("ks", lambda: [stats.ks_2samp(*arrays[c]) for c in numeric])
    timed("wasserstein", lambda: [stats.wasserstein_distance(*arrays[c]) / max(np.std(arrays[c][0]), 0.001)
                                  for c in numeric])
    timed("jensenshannon", lambda: [distance.jensenshannon(*shares_sturges(*arrays[c])) for c in numeric]
          + [distance.jensenshannon(*shares_categories(*cols[c])) for c in strings])
    timed("psi", lambda: [psi(*decile_shares(*arrays[c])) for c in numeric]
          + [psi(*shares_categories(*cols[c])) for c in strings])

    def chisquare(r, c):
        rs, cs = shares_categories(r, c)
        return stats.chisquare(cs * len(c), rs * len(c))

    timed("chisquare", lambda: [chisquare(*cols[c]) for c in strings])
    methods = ("ks", "wasserstein", "jensenshannon", "psi", "chisquare")
    times["all"] = sum(times[name] for name in methods)
    times["all_cpu"] = sum(times[name + "_cpu"] for name in methods)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
