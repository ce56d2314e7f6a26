//! The built-in library's full judgement of every evidence fixture and of a generated
//! fleet, against checked-in snapshots: the decision, every violation, warning and waiver
//! (code, message, severity, details, fix) and every rule's outcome. A change that makes
//! evaluation faster must leave these byte for byte as they are; a change to the library
//! that changes a judgement shows up here, in review.
//!
//! The fleet is the benchmarks' (`benches/common`): the two examples with metrics,
//! fairness figures, latencies, environment and risk tier perturbed by a fixed-seed
//! generator. It is judged both one document at a time and through the batch path
//! (`fleet::evaluate_all` on two workers): both must give the snapshot.

#[path = "../benches/common/mod.rs"]
mod common;

use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Duration;

use modelgate::decision::Report;
use modelgate::evidence::Evidence;
use modelgate::policy::{fleet, Gate};

/// The day waivers, grace periods and `effective_on` are judged on.
fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date")
}

fn gate() -> Gate {
    Gate::load(&common::root().join("policies"), Duration::from_secs(30)).expect("the built-in library loads")
}

/// The report without what differs between two runs of the same judgement (ids, times,
/// the bundle's digest and path, the tool's version).
fn judgement(report: &Report) -> serde_json::Value {
    let mut value = serde_json::to_value(report).expect("report is JSON");
    let object = value.as_object_mut().expect("an object");
    for volatile in ["decision_id", "timestamp", "timings", "tool", "policy", "audit", "evidence_source"] {
        object.remove(volatile);
    }
    value
}

fn render(named: &[(String, &Report)]) -> String {
    let mut text = String::new();
    for (name, report) in named {
        text.push_str(&format!("## {name}\n"));
        text.push_str(&serde_json::to_string_pretty(&judgement(report)).expect("json"));
        text.push('\n');
    }
    text
}

#[test]
fn every_evidence_fixture_is_judged_as_recorded() {
    let mut gate = gate();
    let mut files: Vec<_> = ["tests/fixtures/evidence", "tests/fixtures/examples"]
        .iter()
        .flat_map(|dir| {
            std::fs::read_dir(common::root().join(dir)).expect("fixtures").map(|entry| entry.expect("entry").path())
        })
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let reports: Vec<(String, Report)> = files
        .iter()
        .map(|path| {
            let name = path.strip_prefix(common::root()).unwrap_or(Path::new("?")).display().to_string();
            (name, gate.report_at(&common::load(path), None, today()))
        })
        .collect();
    for (name, report) in &reports {
        assert!(report.error.is_none(), "{name}: {:?}", report.error);
    }
    let named: Vec<(String, &Report)> = reports.iter().map(|(name, report)| (name.clone(), report)).collect();
    insta::assert_snapshot!("evidence_fixtures", render(&named));
}

#[test]
fn a_generated_fleet_is_judged_as_recorded_one_by_one_and_in_a_batch() {
    let mut gate = gate();
    let documents: Vec<Evidence> = common::fleet(12);
    let single: Vec<Report> = documents.iter().map(|evidence| gate.report_at(evidence, None, today())).collect();
    let batch = fleet::evaluate_all(&gate, &documents, NonZeroUsize::new(2), today());
    // The fleet is judged on its perturbed figures: rules fire in many combinations.
    let combinations: std::collections::BTreeSet<Vec<&str>> =
        single.iter().map(|report| report.violations.iter().map(|finding| finding.code.as_str()).collect()).collect();
    assert!(combinations.len() >= 8, "only {} combinations of violations", combinations.len());
    for (index, (one, many)) in single.iter().zip(&batch).enumerate() {
        assert_eq!(judgement(one), judgement(many), "document {index}: one by one and in a batch differ");
    }
    let named: Vec<(String, &Report)> =
        single.iter().enumerate().map(|(index, report)| (format!("fleet document {index}"), report)).collect();
    insta::assert_snapshot!("generated_fleet", render(&named));
}
