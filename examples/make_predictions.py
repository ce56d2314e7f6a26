"""Writes the predictions files of the two example projects.

    ~/.cache/modelgate/pyenv-eval/bin/python examples/make_predictions.py

(the venv of tests/fixtures/evaluation/requirements.txt: pandas and pyarrow). The
files are committed; CI does not run this script.

Each file is built from exact confusion counts per group, so the fairness figures the
gate measures are the ones designed here:

- credit-scoring (2.4.0, allowed): 12,000 test rows, every group with nearly the same
  true- and false-positive rates; the deployed 2.3.1 (baseline) is slightly worse.
- credit-scoring-blocked (2.5.0, denied): women are approved far less often than men
  (demographic parity and equal opportunity gaps), two intersections are small, and
  the candidate is worse than the deployed 2.4.0 on the same test set.

Scores are consistent with the predicted label (p >= 0.5 exactly when yhat = 1) and
rank true positives above false positives on average, for a realistic ROC AUC.
"""

import os
import random

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))


def rows_for_group(rng, attributes, n, positive_share, tpr, fpr):
    """Rows of one group with exactly the given rates (rounded to whole rows)."""
    positives = round(n * positive_share)
    negatives = n - positives
    tp = round(positives * tpr)
    fp = round(negatives * fpr)
    cells = [(1, 1)] * tp + [(1, 0)] * (positives - tp) + [(0, 1)] * fp + [(0, 0)] * (negatives - fp)
    rows = []
    for y, yhat in cells:
        u = rng.random()
        if yhat == 1:
            p = 0.5 + 0.5 * (u ** 0.5 if y == 1 else u ** 2)
        else:
            p = 0.5 * (u ** 0.5 if y == 1 else u ** 2)
        rows.append(dict(attributes, y=y, p=min(round(p, 3), 1.0), yhat=yhat))
    return rows


def frame(rng, groups):
    rows = []
    for attributes, n, positive_share, tpr, fpr in groups:
        rows.extend(rows_for_group(rng, attributes, n, positive_share, tpr, fpr))
    rng.shuffle(rows)
    df = pd.DataFrame(rows)
    df.insert(0, "application_id", [f"A{100000 + i}" for i in range(len(df))])
    return df[["application_id", "y", "yhat", "p", "sex", "age_group", "race"]]


def with_predictions(base, rng, rates):
    """The same rows (ids, labels, attributes, order) with another model's predictions."""
    out = base.copy()
    for key, (tpr, fpr) in rates.items():
        sex, age_group = key
        mask = (out.sex == sex) & (out.age_group == age_group)
        for label, rate in ((1, tpr), (0, fpr)):
            index = out.index[mask & (out.y == label)]
            chosen = set(rng.sample(list(index), round(len(index) * rate)))
            for i in index:
                yhat = 1 if i in chosen else 0
                u = rng.random()
                if yhat == 1:
                    p = 0.5 + 0.5 * (u ** 0.5 if label == 1 else u ** 2)
                else:
                    p = 0.5 * (u ** 0.5 if label == 1 else u ** 2)
                out.at[i, "yhat"] = yhat
                out.at[i, "p"] = min(round(p, 3), 1.0)
    return out


def groups(sizes, rates, race_split):
    """(attributes, n, positive share, tpr, fpr) per sex × age group × race."""
    out = []
    for (sex, age_group), n in sizes.items():
        tpr, fpr = rates[(sex, age_group)]
        remaining = n
        for race, share in race_split[(sex, age_group)]:
            count = round(n * share) if share < 1 else remaining
            remaining -= count
            out.append(({"sex": sex, "age_group": age_group, "race": race}, count, 0.35, tpr, fpr))
    return out


SIZES = {
    ("female", "18-25"): 650, ("female", "26-60"): 3900, ("female", "60+"): 830,
    ("male", "18-25"): 810, ("male", "26-60"): 4820, ("male", "60+"): 990,
}
RACES = {key: [("black", 0.12), ("asian", 0.08), ("white", 1)] for key in SIZES}


def main():
    # Allowed: every group within a point of TPR 0.80 / FPR 0.08.
    fair = {
        ("female", "18-25"): (0.79, 0.081), ("female", "26-60"): (0.80, 0.080), ("female", "60+"): (0.80, 0.079),
        ("male", "18-25"): (0.80, 0.080), ("male", "26-60"): (0.81, 0.080), ("male", "60+"): (0.80, 0.081),
    }
    rng = random.Random(240)
    candidate = frame(rng, groups(SIZES, fair, RACES))
    deployed = {key: (tpr - 0.01, fpr + 0.004) for key, (tpr, fpr) in fair.items()}
    baseline = with_predictions(candidate, random.Random(231), deployed)
    folder = os.path.join(HERE, "credit-scoring", "data")
    os.makedirs(folder, exist_ok=True)
    candidate.to_parquet(os.path.join(folder, "test_predictions.parquet"), index=False)
    baseline.to_csv(os.path.join(folder, "deployed_predictions.csv"), index=False)

    # Blocked: women approved far less often; few Black applicants in the test set.
    unfair = {
        ("female", "18-25"): (0.64, 0.05), ("female", "26-60"): (0.66, 0.05), ("female", "60+"): (0.65, 0.052),
        ("male", "18-25"): (0.81, 0.10), ("male", "26-60"): (0.82, 0.105), ("male", "60+"): (0.81, 0.10),
    }
    sparse = {key: [("black", 0.008), ("asian", 0.08), ("white", 1)] for key in SIZES}
    rng = random.Random(250)
    candidate = frame(rng, groups(SIZES, unfair, sparse))
    baseline = with_predictions(candidate, random.Random(240), {key: (0.82, 0.07) for key in SIZES})
    folder = os.path.join(HERE, "credit-scoring-blocked", "data")
    os.makedirs(folder, exist_ok=True)
    candidate.to_parquet(os.path.join(folder, "test_predictions.parquet"), index=False)
    baseline.to_csv(os.path.join(folder, "deployed_predictions.csv"), index=False)


if __name__ == "__main__":
    main()
