//! Evidence for benchmarks: the bundled examples, and a fleet of varied documents made
//! from them with a fixed-seed generator (so every run judges the same fleet).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use modelgate::evidence::{self, Evidence};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn load(path: &Path) -> Evidence {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    evidence::parse(&path.display().to_string(), &text).unwrap_or_else(|error| panic!("{error}"))
}

pub fn examples() -> Vec<Evidence> {
    ["credit-scoring", "credit-scoring-blocked"]
        .iter()
        .map(|name| load(&root().join(format!("tests/fixtures/examples/{name}.json"))))
        .collect()
}

/// A small xorshift generator: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `count` documents: each example with its metrics, fairness figures, latencies,
/// environment and risk tier perturbed, so rules fire in different combinations.
pub fn fleet(count: usize) -> Vec<Evidence> {
    let bases = examples();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Declared by the library's data.yaml (an undeclared one is an error); development has
    // no overrides, so it is judged by the base thresholds.
    let environments = ["staging", "production", "development"];
    let tiers =
        [evidence::RiskTier::Low, evidence::RiskTier::Medium, evidence::RiskTier::High, evidence::RiskTier::Critical];
    (0..count)
        .map(|index| {
            let mut document = bases[index % bases.len()].clone();
            document.model.name = format!("model-{}", index % 250);
            document.model.version = format!("1.{}.{}", index / 250, index % 7);
            document.model.risk_tier = tiers[(rng.next() * tiers.len() as f64) as usize % tiers.len()];
            if let Some(deployment) = document.deployment.as_mut() {
                deployment.environment = environments[(rng.next() * 3.0) as usize % 3].to_string();
            }
            if let Some(evaluation) = document.evaluation.as_mut() {
                for value in evaluation.metrics.values_mut().flatten() {
                    *value = (*value + (rng.next() - 0.5) * 0.1).clamp(0.0, 1.0);
                }
                for attribute in evaluation.fairness.iter_mut().flat_map(|f| f.values_mut()) {
                    for value in [
                        &mut attribute.demographic_parity_difference,
                        &mut attribute.equalized_odds_difference,
                        &mut attribute.equal_opportunity_difference,
                    ]
                    .into_iter()
                    .flatten()
                    {
                        *value = rng.next() * 0.2;
                    }
                }
                if let Some(serving) = evaluation.serving.as_mut() {
                    serving.latency_ms.p95 = Some(50.0 + rng.next() * 250.0);
                    serving.latency_ms.p99 = Some(100.0 + rng.next() * 500.0);
                }
            }
            if rng.next() < 0.1 {
                document.documentation = None;
            }
            document
        })
        .collect()
}
