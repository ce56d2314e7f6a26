//! Evidence for benchmarks: the bundled examples, and a fleet of varied documents made
//! from them with a fixed-seed generator (so every run judges the same fleet).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use modelgate::audit::record::decision_draft;
use modelgate::audit::{self, Access, Draft, Entry, EntryKind};
use modelgate::evidence::{self, Evidence};
use modelgate::policy::Gate;

/// What the binary does first (src/main.rs), so that RUST_BACKTRACE=1 in the environment
/// does not slow the figures down. Call before any evaluation.
pub fn quiet_backtraces() {
    modelgate::policy::engine::quiet_error_backtraces();
}

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
    Fleet::new().take(count)
}

/// The generator behind [`fleet`], to draw a large fleet a part at a time.
pub struct Fleet {
    bases: Vec<Evidence>,
    rng: Rng,
    next: usize,
}

impl Fleet {
    pub fn new() -> Fleet {
        Fleet { bases: examples(), rng: Rng(0x9E37_79B9_7F4A_7C15), next: 0 }
    }

    /// The next `count` documents.
    pub fn take(&mut self, count: usize) -> Vec<Evidence> {
        // Declared by the library's data.yaml (an undeclared one is an error); development has
        // no overrides, so it is judged by the base thresholds.
        let environments = ["staging", "production", "development"];
        let tiers = [
            evidence::RiskTier::Low,
            evidence::RiskTier::Medium,
            evidence::RiskTier::High,
            evidence::RiskTier::Critical,
        ];
        let start = self.next;
        self.next += count;
        let (bases, rng) = (&self.bases, &mut self.rng);
        (start..start + count)
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
}

/// A store of `count` allowed decisions, each deployed to a model of its own (what a
/// re-evaluation of a fleet reads), judged by the built-in library on every core. Built
/// once; kept while the file exists.
pub fn fleet_store(path: &Path, count: usize) {
    if path.exists() {
        return;
    }
    let gate = Gate::load(&root().join("policies"), std::time::Duration::from_secs(5)).expect("policies load");
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut store = audit::open(&audit::Address::File(partial.clone()), Access::Create).expect("store");
    let mut fleet = Fleet::new();
    let today = chrono::Utc::now().date_naive();
    let mut done = 0;
    while done < count {
        let mut documents = fleet.take((count - done).min(2_000));
        for (offset, evidence) in documents.iter_mut().enumerate() {
            evidence.model.name = format!("model-{:06}", done + offset);
        }
        let reports = modelgate::policy::fleet::evaluate_all(&gate, &documents, None, today);
        let mut drafts = Vec::with_capacity(documents.len() * 2);
        for (offset, (evidence, report)) in documents.iter().zip(&reports).enumerate() {
            let files = (done + offset == 0).then_some(gate.files.as_slice());
            let mut decision =
                decision_draft(EntryKind::Decision, report, Some(evidence), files, serde_json::Map::new())
                    .expect("draft");
            // Deployed models were allowed when they were deployed, whatever the policies say now.
            decision.entry.decision = Some("allow".into());
            let mut deployment = Entry::new(
                EntryKind::Deploy,
                &decision.entry.model,
                &decision.entry.version,
                decision.entry.environment.as_deref(),
            );
            deployment.evidence_digest = decision.entry.evidence_digest.clone();
            deployment.bundle_digest = decision.entry.bundle_digest.clone();
            deployment.details = serde_json::json!({"decision_id": decision.entry.id, "action": "deploy"});
            drafts.push(decision);
            drafts.push(Draft { entry: deployment, blobs: Vec::new(), bundle: None });
        }
        store.append(drafts).expect("append");
        done += documents.len();
    }
    drop(store);
    std::fs::rename(&partial, path).expect("rename");
}
