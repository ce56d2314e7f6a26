//! Policy bundles, the regorus engine, exceptions and the decision.

use std::path::Path;

use chrono::NaiveDate;
use std::time::{Duration, Instant};

use crate::decision::{ModelRef, Report, Timings, Tool, REPORT_SCHEMA_VERSION};
use crate::error::Result;
use crate::evidence::{self, Evidence};

pub mod analyze;
pub mod bundle;
pub mod controls;
pub mod data;
pub mod decide;
pub mod engine;
pub mod evidence_schema;
pub mod exceptions;
pub mod fleet;
pub mod library;
pub mod testing;

use bundle::Bundle;
use engine::{EngineOptions, PolicyEngine};
use exceptions::Exception;

/// A policy bundle compiled and ready to judge evidence documents.
#[derive(Clone)]
pub struct Gate {
    pub bundle: bundle::BundleInfo,
    /// The bundle's files as read, for the audit store.
    pub files: std::sync::Arc<Vec<bundle::BundleFile>>,
    engine: PolicyEngine,
    exceptions: Vec<Exception>,
    /// The regulatory controls of each rule (controls.yaml and the catalogs).
    pub controls: std::sync::Arc<controls::Controls>,
    compile_time: Duration,
}

impl Gate {
    pub fn load(root: &Path, timeout: Duration) -> Result<Gate> {
        Gate::from_bundle(Bundle::load(root)?, timeout)
    }

    /// Compiles a bundle already in memory (the audit store's copy, for a replay).
    pub fn from_bundle(bundle: Bundle, timeout: Duration) -> Result<Gate> {
        let started = Instant::now();
        let engine = PolicyEngine::compile(&bundle, EngineOptions { timeout, ..EngineOptions::default() })?;
        let exceptions = exceptions::load(&bundle, &engine.data.environments)?;
        let controls = std::sync::Arc::new(controls::load(&bundle, engine.catalogs())?);
        Ok(Gate {
            bundle: bundle.info,
            files: std::sync::Arc::new(bundle.files),
            engine,
            exceptions,
            controls,
            compile_time: started.elapsed(),
        })
    }

    pub fn packages(&self) -> &[engine::GatingPackage] {
        &self.engine.packages
    }

    /// The bundle's checked data and the environments it declares.
    pub fn data(&self) -> &data::PolicyData {
        &self.engine.data
    }

    /// Judges one evidence document. Errors (evaluation, timeout, malformed results) are
    /// returned, never turned into a pass; [`Gate::report`] turns them into an `error` report.
    pub fn evaluate(&mut self, evidence: &Evidence, source: Option<String>) -> Result<Report> {
        self.evaluate_at(evidence, source, today()?)
    }

    /// [`Gate::evaluate`] with exceptions' expiry and grace periods judged on `today`.
    pub fn evaluate_at(&mut self, evidence: &Evidence, source: Option<String>, today: NaiveDate) -> Result<Report> {
        let started = Instant::now();
        // One serialization serves as the policy input and as the digest's canonical bytes.
        let input = serde_json::to_string(evidence).map_err(|error| {
            crate::error::Error::new(crate::error::ErrorKind::EvidenceInvalid, format!("evidence is not JSON: {error}"))
        })?;
        let environment = evidence.deployment.as_ref().map(|deployment| deployment.environment.clone());
        if let Some(environment) = &environment {
            self.engine.data.check_environment(environment)?;
        }
        let results = self.engine.evaluate(&input)?;
        let subject = decide::Subject {
            model: &evidence.model.name,
            version: &evidence.model.version,
            environment: environment.as_deref(),
            today,
        };
        let mut outcome = decide::decide(&results, &self.exceptions, &subject)?;
        for rule in &mut outcome.rules {
            rule.controls = self.controls.of(&rule.code).to_vec();
        }
        let evaluate_us = started.elapsed().as_micros() as u64;
        Ok(Report {
            schema_version: REPORT_SCHEMA_VERSION.to_string(),
            decision: outcome.decision,
            decision_id: crate::decision::new_decision_id(),
            timestamp: crate::decision::now_rfc3339(),
            model: Some(ModelRef::of(&evidence.model)),
            environment,
            policy: Some(self.bundle.clone()),
            evidence_digest: Some(evidence::digest_of_json(&input)),
            evidence_source: source,
            violations: outcome.violations,
            warnings: outcome.warnings,
            exceptions: outcome.exceptions,
            rules: outcome.rules,
            error: None,
            timings: Timings {
                collect_us: 0,
                compile_us: self.compile_time.as_micros() as u64,
                evaluate_us,
                total_us: 0,
            },
            tool: Tool::default(),
            audit: None,
        })
    }

    /// Like [`Gate::evaluate`], but an error becomes an `error` report that still names
    /// the model, the bundle and the evidence.
    pub fn report(&mut self, evidence: &Evidence, source: Option<String>) -> Report {
        match today() {
            Ok(today) => self.report_at(evidence, source, today),
            Err(error) => Report::from_evidence_error(&error, evidence, source),
        }
    }

    /// [`Gate::report`] judged on `today`.
    pub fn report_at(&mut self, evidence: &Evidence, source: Option<String>, today: NaiveDate) -> Report {
        match self.evaluate_at(evidence, source.clone(), today) {
            Ok(report) => report,
            Err(error) => {
                let mut report = Report::from_evidence_error(&error, evidence, source);
                report.policy = Some(self.bundle.clone());
                report
            }
        }
    }
}

/// The day exceptions' expiry and grace periods are judged on: today, or the day of
/// `MODELGATE_NOW` (the time collection uses) when it is set.
pub fn today() -> Result<NaiveDate> {
    let now = crate::collect::collection_time()?;
    Ok(chrono::DateTime::parse_from_rfc3339(&now)
        .map(|time| time.date_naive())
        .unwrap_or_else(|_| chrono::Utc::now().date_naive()))
}
