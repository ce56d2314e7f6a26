//! `/metrics`: what the server did, in the Prometheus (OpenMetrics) text format: decisions by
//! outcome, how long evaluating and recording took, and the bundle active per environment
//! (read from the store at each scrape, so every replica reports the same).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::audit::Store;
use crate::error::{Error, ErrorKind, Result};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BundleLabels {
    environment: String,
    digest: String,
}

pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    evaluation: Histogram,
    recording: Histogram,
    active: Family<BundleLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("modelgate");
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register("decisions", "Decisions made by this process, by outcome", decisions.clone());
        // 0.5 ms to about 4 s.
        let evaluation = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register("evaluation_seconds", "Policy evaluation time per decision", evaluation.clone());
        let recording = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        registry.register(
            "recording_seconds",
            "Audit store append time per decision (durable commit)",
            recording.clone(),
        );
        let active = Family::<BundleLabels, Gauge>::default();
        registry.register("active_bundle", "1 for the policy bundle active in each environment", active.clone());
        Metrics { registry, decisions, evaluation, recording, active }
    }
}

impl Metrics {
    pub fn decided(&self, decision: &str, evaluation: std::time::Duration, recording: std::time::Duration) {
        self.decisions.get_or_create(&DecisionLabels { decision: decision.to_string() }).inc();
        self.evaluation.observe(evaluation.as_secs_f64());
        self.recording.observe(recording.as_secs_f64());
    }

    /// The text exposition, with the active bundles read from `store` now.
    pub fn render(&self, store: &dyn Store) -> Result<String> {
        self.active.clear();
        for environment in store.environments()? {
            if let Some(entry) = super::service::active_entry(store, &environment)? {
                let digest = entry.bundle_digest.unwrap_or_default();
                self.active.get_or_create(&BundleLabels { environment, digest }).set(1);
            }
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|error| Error::new(ErrorKind::Io, format!("cannot encode the metrics: {error}")))?;
        Ok(text)
    }
}
