#!/usr/bin/env python3
"""Varied evidence documents for the team policy set (bench/opa/team/), as JSON Lines.

    team_docs.py COUNT [--seed S] > docs.jsonl

Each document is one of the two bundled examples' evidence (tests/fixtures/examples) with
its figures perturbed by a seeded generator, so that the 30 rules fire in many
combinations: metrics, baseline deltas, fairness gaps and ratios, latency, throughput and
error rate, drifted features, detections of personal data, lineage, unsigned files,
vulnerabilities, documentation, environment, risk tier, owner and version. Only values
change: every document is a valid evidence document (modelgate refuses anything else).
The same COUNT and seed give the same bytes.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = [REPO / "tests/fixtures/examples/credit-scoring.json", REPO / "tests/fixtures/examples/credit-scoring-blocked.json"]


def document(bases: list[dict], index: int, rng: random.Random) -> dict:
    doc = copy.deepcopy(bases[index % len(bases)])

    def bad(probability: float) -> bool:
        return rng.random() < probability

    model = doc["model"]
    model["name"] = f"model-{index % 997}"
    model["version"] = f"1.{index % 40}" if bad(0.05) else f"1.{index % 40}.{index % 7}"
    model["risk_tier"] = rng.choice(["low", "medium", "high", "critical"])
    model["owner"] = rng.choice(["intern@gmail.example", "ml-team"]) if bad(0.05) else rng.choice(["risk-ml@bank.example", "fraud@acme.example"])
    doc["deployment"]["environment"] = rng.choice(["development", "staging", "production"])
    evaluation = doc["evaluation"]
    metrics = evaluation["metrics"]
    for name in list(metrics):
        if metrics[name] is not None:
            metrics[name] = min(1.0, max(0.0, metrics[name] + rng.uniform(-0.02, 0.02)))
    for name, floor in (("accuracy", 0.80), ("roc_auc", 0.85), ("f1", 0.70), ("balanced_accuracy", 0.75)):
        metrics[name] = rng.uniform(floor - 0.05, floor) if bad(0.05) else rng.uniform(floor + 0.01, 0.97)
    metrics["brier"] = rng.uniform(0.15, 0.25) if bad(0.1) else rng.uniform(0.05, 0.14)
    if bad(0.02):
        evaluation["metrics"]["roc_auc"] = None
    baseline = evaluation.get("baseline")
    if baseline and baseline.get("deltas"):
        baseline["deltas"]["accuracy"] = rng.uniform(-0.05, -0.021) if bad(0.1) else rng.uniform(-0.009, 0.03)
    for figures in evaluation["fairness"].values():
        figures["demographic_parity_difference"] = rng.uniform(0.05, 0.2) if bad(0.05) else rng.uniform(0.0, 0.049)
        figures["demographic_parity_ratio"] = rng.uniform(0.6, 0.8) if bad(0.05) else rng.uniform(0.81, 1.0)
        figures["equalized_odds_difference"] = rng.uniform(0.15, 0.25) if bad(0.05) else rng.uniform(0.0, 0.14)
        figures["equal_opportunity_difference"] = rng.uniform(0.1, 0.2) if bad(0.05) else rng.uniform(0.0, 0.09)
    if bad(0.03):
        evaluation["fairness"].pop("age_group", None)
    serving = evaluation["serving"]
    serving["latency_ms"]["p95"] = rng.uniform(150, 400) if bad(0.1) else rng.uniform(40, 149)
    serving["latency_ms"]["p99"] = serving["latency_ms"]["p95"] * (rng.uniform(3.5, 5.0) if bad(0.05) else rng.uniform(1.2, 3.0))
    serving["throughput_rps"] = rng.uniform(50, 99) if bad(0.05) else rng.uniform(100, 400)
    serving["error_rate"] = 0.02 if bad(0.05) else rng.choice([0.0, 0.001, 0.004])
    if bad(0.02):
        evaluation["serving"] = None
    data = doc["data"]
    features = data["drift"]["features"]
    for stats in features.values():
        stats["drifted"] = bad(0.03)
    drifted = sum(1 for stats in features.values() if stats["drifted"])
    data["drift"]["drifted_count"] = drifted
    data["drift"]["drifted_share"] = drifted / len(features)
    for detection in data["prohibited"]["detections"]:
        detection["match_fraction"] = rng.choice([0.5, 1.0]) if bad(0.05) else rng.choice([0.0, 0.005])
    lineage = data["lineage"]
    lineage["stale"] = bad(0.1)
    if bad(0.05):
        lineage["steps"] = [step for step in lineage["steps"] if step != "deduplicate"]
    artifacts = doc["artifacts"]
    for file in artifacts["files"]:
        if file["safe"] is not None:
            file["safe"] = not bad(0.03)
    signature = artifacts["signature"]
    signature["present"] = not bad(0.03)
    signature["unsigned_files"] = signature["unsigned_files"] if bad(0.1) else []
    for vulnerability in artifacts["dependencies"]["vulnerabilities"]:
        vulnerability["severity"] = rng.choice(["high", "critical"]) if bad(0.03) else rng.choice(["low", "medium"])
    documentation = doc["documentation"]
    documentation["model_card"]["present"] = not bad(0.05)
    risk = documentation["risk_assessment"]
    risk["present"] = not bad(0.1)
    risk["review_overdue"] = bad(0.1) if risk["present"] else None
    return doc


def write(out, count: int, seed: int) -> None:
    """COUNT documents made with SEED, one JSON object per line, to OUT."""
    bases = [json.loads(path.read_text()) for path in EXAMPLES]
    rng = random.Random(seed)
    for index in range(count):
        out.write(json.dumps(document(bases, index, rng), separators=(",", ":")))
        out.write("\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args(argv)
    write(sys.stdout, args.count, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
