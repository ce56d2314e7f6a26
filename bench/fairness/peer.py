#!/usr/bin/env python3
"""The peer of `modelgate fairness`: pandas + scikit-learn + fairlearn on one file.

    python bench/fairness/peer.py --phase read FILE   # pandas.read_parquet / read_csv alone
    python bench/fairness/peer.py --phase full FILE   # read + every quantity modelgate computes
    python bench/fairness/peer.py --phase vectorized FILE  # the same, groups by one pandas groupby

Prints one JSON document on stdout: the timings (time.perf_counter, seconds) and, for
--phase full, the values, for run.sh to compare with modelgate's.

What --phase full computes, the way a data scientist would with these libraries, for the
sensitive specs race, sex and race,sex (as `modelgate fairness --sensitive race
--sensitive sex --sensitive race,sex --score p`):

- sha256 of the file (hashlib, 1 MiB chunks);
- overall: accuracy, precision, recall, f1, balanced_accuracy, roc_auc, pr_auc
  (average_precision_score), log_loss, brier, confusion matrix (scikit-learn), and
  selection_rate, tpr, fpr, fnr, tnr (fairlearn's rate functions);
- per spec: a fairlearn MetricFrame of count, positives, negatives, selection_rate, tpr,
  fpr, fnr, tnr, accuracy, precision, recall, f1, balanced_accuracy by group, and
  fairlearn's aggregate functions demographic_parity_difference/ratio,
  equalized_odds_difference/ratio (agg="worst_case" and "mean"),
  equal_opportunity_difference/ratio (method "between_groups", fairlearn's default and
  modelgate's). Each aggregate function builds its own MetricFrame, as fairlearn does.

--phase vectorized is not fairlearn: the same overall metrics (scikit-learn), and per spec
one pandas groupby summing the four confusion cells per group, the rates and aggregates
computed from them by fairlearn's definitions. It is what a careful engineer would write
when fairlearn is too slow, and shows how much of fairlearn's time is its per-group
Python machinery rather than the arithmetic.

`total_s` is read + sha256 + overall + fairness inside the process; it leaves out the
interpreter's start and the imports (`import_s`), so it favours the peer slightly.
"""

import time

_T_START = time.perf_counter()

import argparse  # noqa: E402
import functools  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SPECS = ["race", "sex", "race,sex"]
LABEL, PRED, SCORE = "y", "yhat", "p"
POS = 1


def read(path: Path) -> pd.DataFrame:
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"PAR1":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def num(v):
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    return None if math.isnan(v) else v


def group_key(idx) -> str:
    if isinstance(idx, tuple):
        return ",".join(str(v) for v in idx)
    return str(idx)


def overall(y, yhat, p):
    from fairlearn.metrics import (
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        balanced_accuracy_score,
        brier_score_loss,
        confusion_matrix,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    m = {
        "accuracy": accuracy_score(y, yhat),
        "precision": precision_score(y, yhat, pos_label=POS),
        "recall": recall_score(y, yhat, pos_label=POS),
        "f1": f1_score(y, yhat, pos_label=POS),
        "selection_rate": selection_rate(y, yhat, pos_label=POS),
        "tpr": true_positive_rate(y, yhat, pos_label=POS),
        "fpr": false_positive_rate(y, yhat, pos_label=POS),
        "fnr": false_negative_rate(y, yhat, pos_label=POS),
        "tnr": true_negative_rate(y, yhat, pos_label=POS),
        "balanced_accuracy": balanced_accuracy_score(y, yhat),
        "roc_auc": roc_auc_score(y, p),
        "pr_auc": average_precision_score(y, p, pos_label=POS),
        "log_loss": log_loss(y, p),
        "brier": brier_score_loss(y, p, pos_label=POS),
    }
    (tn, fp), (fn, tp) = confusion_matrix(y, yhat, labels=[0, 1]).tolist()
    return {k: num(v) for k, v in m.items()}, {"tn": tn, "fp": fp, "fn": fn, "tp": tp}


def fairness(y, yhat, sf):
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        demographic_parity_ratio,
        equal_opportunity_difference,
        equal_opportunity_ratio,
        equalized_odds_difference,
        equalized_odds_ratio,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_score, recall_score

    def positives(y_true, y_pred):
        return int(np.sum(y_true == POS))

    def negatives(y_true, y_pred):
        return int(np.sum(y_true != POS))

    fns = {
        "count": count,
        "positives": positives,
        "negatives": negatives,
        "selection_rate": functools.partial(selection_rate, pos_label=POS),
        "tpr": functools.partial(true_positive_rate, pos_label=POS),
        "fpr": functools.partial(false_positive_rate, pos_label=POS),
        "fnr": functools.partial(false_negative_rate, pos_label=POS),
        "tnr": functools.partial(true_negative_rate, pos_label=POS),
        "accuracy": accuracy_score,
        "precision": functools.partial(precision_score, pos_label=POS),
        "recall": functools.partial(recall_score, pos_label=POS),
        "f1": functools.partial(f1_score, pos_label=POS),
        "balanced_accuracy": balanced_accuracy_score,
    }
    t0 = time.perf_counter()
    mf = MetricFrame(metrics=fns, y_true=y, y_pred=yhat, sensitive_features=sf)
    groups = {}
    for idx, row in mf.by_group.iterrows():
        groups[group_key(idx)] = {k: num(v) for k, v in row.items()}
    t1 = time.perf_counter()
    kw = {"sensitive_features": sf, "method": "between_groups"}
    agg = {
        "demographic_parity_difference": demographic_parity_difference(y, yhat, **kw),
        "demographic_parity_ratio": demographic_parity_ratio(y, yhat, **kw),
        "equalized_odds_difference": equalized_odds_difference(y, yhat, agg="worst_case", **kw),
        "equalized_odds_difference_mean": equalized_odds_difference(y, yhat, agg="mean", **kw),
        "equalized_odds_ratio": equalized_odds_ratio(y, yhat, agg="worst_case", **kw),
        "equalized_odds_ratio_mean": equalized_odds_ratio(y, yhat, agg="mean", **kw),
        "equal_opportunity_difference": equal_opportunity_difference(y, yhat, **kw),
        "equal_opportunity_ratio": equal_opportunity_ratio(y, yhat, **kw),
    }
    t2 = time.perf_counter()
    out = {k: num(v) for k, v in agg.items()}
    out["groups"] = groups
    return out, {"metricframe_s": t1 - t0, "aggregates_s": t2 - t1}


def vectorized(df: pd.DataFrame, cols: list[str]) -> dict:
    """The per-group counts and rates and the aggregates of one spec with one pandas
    groupby, the rates and aggregates by fairlearn's definitions (NaN rates left out of
    an aggregate, as fairlearn's min/max skip NaN)."""
    y = df[LABEL].to_numpy() == POS
    yhat = df[PRED].to_numpy() == POS
    cells = pd.DataFrame({"tp": y & yhat, "fp": ~y & yhat, "fn": y & ~yhat, "tn": ~y & ~yhat})
    for c in cols:
        cells[c] = df[c]
    counts = cells.groupby(cols, observed=True, sort=True)[["tp", "fp", "fn", "tn"]].sum()
    tp, fp, fn, tn = (counts[k].to_numpy(dtype=np.float64) for k in ("tp", "fp", "fn", "tn"))
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr, fpr = tp / (tp + fn), fp / (fp + tn)
        rates = {
            "selection_rate": (tp + fp) / n,
            "tpr": tpr,
            "fpr": fpr,
            "fnr": fn / (tp + fn),
            "tnr": tn / (fp + tn),
            "accuracy": (tp + tn) / n,
            "precision": tp / (tp + fp),
            "recall": tpr,
            "f1": 2 * tp / (2 * tp + fp + fn),
            "balanced_accuracy": (tpr + tn / (fp + tn)) / 2,
        }

    def diff(v):
        return np.nanmax(v) - np.nanmin(v)

    def ratio(v):
        return np.nanmin(v) / np.nanmax(v)

    out = {
        "demographic_parity_difference": diff(rates["selection_rate"]),
        "demographic_parity_ratio": ratio(rates["selection_rate"]),
        "equalized_odds_difference": max(diff(tpr), diff(fpr)),
        "equalized_odds_difference_mean": (diff(tpr) + diff(fpr)) / 2,
        "equalized_odds_ratio": min(ratio(tpr), ratio(fpr)),
        "equalized_odds_ratio_mean": (ratio(tpr) + ratio(fpr)) / 2,
        "equal_opportunity_difference": diff(tpr),
        "equal_opportunity_ratio": ratio(tpr),
    }
    out = {k: num(v) for k, v in out.items()}
    groups = {}
    for i, idx in enumerate(counts.index):
        g = {"count": int(n[i]), "positives": int(tp[i] + fn[i]), "negatives": int(fp[i] + tn[i])}
        g.update({k: num(v[i]) for k, v in rates.items()})
        groups[group_key(idx)] = g
    out["groups"] = groups
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase", choices=["read", "full", "vectorized"], required=True)
    ap.add_argument("file", type=Path)
    args = ap.parse_args()

    if args.phase != "read":
        # Imported before the clock starts, like the Python start itself.
        import fairlearn.metrics  # noqa: F401
        import sklearn.metrics  # noqa: F401
    t_imported = time.perf_counter()
    timings = {"import_s": t_imported - _T_START}
    result = {"phase": args.phase, "file": str(args.file), "timings": timings}

    t0 = time.perf_counter()
    df = read(args.file)
    t1 = time.perf_counter()
    timings["read_s"] = t1 - t0
    result["rows"] = len(df)
    if args.phase == "read":
        timings["total_s"] = t1 - t0
        result["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result, indent=1))
        return 0

    import fairlearn
    import pyarrow
    import sklearn

    result["versions"] = {
        "python": sys.version.split()[0],
        "fairlearn": fairlearn.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
        "numpy": np.__version__,
    }
    digest = sha256(args.file)
    t2 = time.perf_counter()
    timings["sha256_s"] = t2 - t1

    y, yhat, p = df[LABEL], df[PRED], df[SCORE]
    metrics, matrix = overall(y, yhat, p)
    t3 = time.perf_counter()
    timings["overall_s"] = t3 - t2

    fair = {}
    for spec in SPECS:
        cols = spec.split(",")
        sf = df[cols[0]] if len(cols) == 1 else df[cols]
        ts = time.perf_counter()
        if args.phase == "vectorized":
            fair[spec] = vectorized(df, cols)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fair[spec], parts = fairness(y, yhat, sf)
            for k, v in parts.items():
                timings[f"{k}[{spec}]"] = v
        timings[f"fairness_s[{spec}]"] = time.perf_counter() - ts
    t4 = time.perf_counter()
    timings["fairness_s"] = t4 - t3
    timings["total_s"] = t4 - t0

    result["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["values"] = {"digest": digest, "metrics": metrics, "confusion_matrix": matrix, "fairness": fair}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
