//! The library entry points of the store and lifecycle commands (`modelgate::run::*`),
//! called as the command line and a service call them: their exit statuses, and their text
//! output as snapshots (times, ids, digests and temporary paths filtered out).

mod util;

use std::path::Path;

use chrono::{DateTime, Utc};
use modelgate::exit::ExitStatus;
use modelgate::run::audit::{self as audit_run, FilterRequest, Format as AuditFormat};
use modelgate::run::deploy::{self, Artifact, Format as DeployFormat, RecordRequest, Recording, RetireRequest};
use modelgate::run::gate::{self, EvalRequest};
use modelgate::run::lifecycle::{self, Format as LifecycleFormat, Request};
use util::root;

const MINIMAL: &str = "tests/fixtures/policies/minimal";
const PASS: &str = "tests/fixtures/evidence/pass-production.json";
const FAIL: &str = "tests/fixtures/evidence/fail-many.json";

macro_rules! snapshot {
    ($name:expr, $value:expr, $dir:expr) => {{
        let mut filters = vec![(r" @ [0-9a-f]{40}".to_string(), " @ [REVISION]".to_string())];
        filters.extend(util::filters());
        filters.push(util::dir_filter($dir));
        filters.push((r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z".to_string(), "[TIME]".to_string()));
        filters.push((r"sha256:[0-9a-f]{12}…".to_string(), "sha256:[SHORT]…".to_string()));
        let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        insta::with_settings!({filters => filters, prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        });
    }};
}

/// What an entry point wrote, as text.
fn written(write: impl FnOnce(&mut Vec<u8>) -> modelgate::error::Result<ExitStatus>) -> (ExitStatus, String) {
    let mut out = Vec::new();
    let status = write(&mut out).unwrap_or_else(|error| panic!("{}: {:?}", error.message, error.hint));
    (status, String::from_utf8(out).expect("UTF-8"))
}

fn eval(store: &str, evidence: &Path) -> gate::Judged {
    let policies = root().join(MINIMAL);
    let request = EvalRequest {
        input: evidence,
        policies: &policies,
        timeout: gate::timeout(None, None),
        recording: gate::Recording { store: Some(store), skip: false, allow_unrecorded: false },
    };
    gate::eval(&request)
}

fn at(time: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(time).expect("time").with_timezone(&Utc)
}

#[test]
fn store_and_lifecycle_commands_report_what_they_did() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let store_path = dir.join("audit.db");
    let store = store_path.display().to_string();

    let (status, text) = written(|out| audit_run::init(Some(&store), AuditFormat::Text, out));
    assert_eq!(status, ExitStatus::Success);
    snapshot!("run_audit_init_text", text, dir);

    // The gate: allow (0) and deny (1), each recorded.
    let allowed = eval(&store, &root().join(PASS));
    assert_eq!(allowed.status(), ExitStatus::Success);
    assert!(allowed.report.audit.is_some(), "recorded");
    let denied = eval(&store, &root().join(FAIL));
    assert_eq!(denied.status(), ExitStatus::Failure);
    // A store that does not exist: the decision is an error (2), never an allow.
    let missing = dir.join("missing.db").display().to_string();
    let unrecorded = eval(&missing, &root().join(PASS));
    assert_eq!(unrecorded.status(), ExitStatus::Error);
    assert!(unrecorded.report.error.as_ref().is_some_and(|error| error.message.contains("could not be recorded")));
    // Kept deliberately: the allow stands, with the reason it was not recorded.
    let policies = root().join(MINIMAL);
    let evidence = root().join(PASS);
    let kept = gate::eval(&EvalRequest {
        input: &evidence,
        policies: &policies,
        timeout: gate::timeout(None, None),
        recording: gate::Recording { store: Some(&missing), skip: false, allow_unrecorded: true },
    });
    assert_eq!(kept.status(), ExitStatus::Success);
    assert!(kept.unrecorded.is_some());

    // Deployed by the allow decision (0); the deny decision is refused (1).
    let recording = Recording { project: Path::new("."), store: Some(&store), requester: Some("jane.doe") };
    let record = |decision: &str, format: DeployFormat| {
        let request = RecordRequest {
            model: "credit-scoring",
            version: "2.3.0",
            environment: "production",
            decision: Some(decision),
            artifact: Artifact::Evidence(&evidence),
            policies: Some(&policies),
            recording: recording.clone(),
        };
        let outcome = deploy::record(&request).expect("record");
        written(|out| deploy::render(&outcome, format, out))
    };
    let (status, text) = record(&denied.report.decision_id, DeployFormat::Text);
    assert_eq!(status, ExitStatus::Failure);
    assert!(text.is_empty(), "a refusal is for standard error: {text}");
    let (status, json) = record(&denied.report.decision_id, DeployFormat::Json);
    assert_eq!(status, ExitStatus::Failure);
    assert!(json.contains("\"status\": \"refused\""), "{json}");
    let (status, text) = record(&allowed.report.decision_id, DeployFormat::Text);
    assert_eq!(status, ExitStatus::Success);
    snapshot!("run_deploy_record_text", text, dir);

    // The auditor's questions.
    let (status, text) =
        written(|out| audit_run::log(Some(&store), &FilterRequest::default(), 0, AuditFormat::Text, out));
    assert_eq!(status, ExitStatus::Success);
    snapshot!("run_audit_log_text", text, dir);
    let (status, text) =
        written(|out| audit_run::at(Some(&store), Some("production"), None, None, AuditFormat::Text, out));
    assert_eq!(status, ExitStatus::Success);
    snapshot!("run_audit_at_text", text, dir);
    let id = &denied.report.decision_id;
    let (status, text) = written(|out| audit_run::show(Some(&store), id, true, true, AuditFormat::Text, out));
    assert_eq!(status, ExitStatus::Success, "replay reproduces the decision");
    snapshot!("run_audit_show_brief_replay_text", text, dir);
    let (status, text) = written(|out| audit_run::verify(Some(&store), &[], None, AuditFormat::Text, out));
    assert_eq!(status, ExitStatus::Success);
    snapshot!("run_audit_verify_text", text, dir);
    let copy = dir.join("copy.db").display().to_string();
    let (status, text) = written(|out| audit_run::copy(&store, &copy, AuditFormat::Text, out));
    assert_eq!(status, ExitStatus::Success);
    snapshot!("run_audit_copy_text", text, dir);
    let unknown = audit_run::show(Some(&store), "nope", true, false, AuditFormat::Text, &mut Vec::new());
    assert!(unknown.is_err(), "an unknown id is an error (exit 2)");

    // The policies change: accuracy floor above the model's. The preview (exit 1, nothing
    // recorded), then the re-evaluation (exit 1, recorded).
    let changed = dir.join("policies");
    util::copy_dir(&root().join(MINIMAL), &changed);
    let data = std::fs::read_to_string(changed.join("data.yaml")).expect("data.yaml");
    let raised = data.replacen("min_accuracy: 0.9\n", "min_accuracy: 0.99\n", 1);
    assert_ne!(data, raised, "the minimal policies set an accuracy floor of 0.9");
    std::fs::write(changed.join("data.yaml"), raised).expect("write");
    let request = |format| Request {
        policies: &changed,
        store: Some(&store),
        timeout: gate::timeout(None, None),
        format,
        now: at("2026-12-01T09:00:00Z"),
    };
    let impact = |format| {
        let mut out = Vec::new();
        let outcome = lifecycle::impact(&request(format), &mut out).expect("impact");
        (outcome, String::from_utf8(out).expect("UTF-8"))
    };
    let (outcome, markdown) = impact(LifecycleFormat::Markdown);
    assert_eq!(outcome.status, ExitStatus::Failure);
    assert_eq!(outcome.summary.newly_non_compliant, 1);
    snapshot!("run_policy_impact_markdown", markdown, dir);
    let (_, text) = impact(LifecycleFormat::Text);
    snapshot!("run_policy_impact_text", text, dir);
    let mut out = Vec::new();
    let outcome = lifecycle::reevaluate(&request(LifecycleFormat::Text), None, &mut out).expect("reevaluate");
    assert_eq!(outcome.status, ExitStatus::Failure);
    assert_eq!(outcome.summary.deployed, 1);
    snapshot!("run_reevaluate_text", String::from_utf8(out).expect("UTF-8"), dir);
    let mut out = Vec::new();
    let outcome = lifecycle::reevaluate(&request(LifecycleFormat::Json), None, &mut out).expect("reevaluate");
    assert_eq!(outcome.summary.still_non_compliant, 1);
    let report: serde_json::Value = serde_json::from_slice(&out).expect("the streamed JSON report parses");
    assert_eq!(report["models"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["summary"]["still_non_compliant"], 1);

    // Retired (0); retiring again is refused (1).
    let retire = || {
        let request = RetireRequest {
            model: "credit-scoring",
            environment: "production",
            reason: Some("incident 42"),
            recording: recording.clone(),
        };
        let outcome = deploy::retire(&request).expect("retire");
        written(|out| deploy::render(&outcome, DeployFormat::Text, out))
    };
    let (status, text) = retire();
    assert_eq!(status, ExitStatus::Success);
    snapshot!("run_deploy_retire_text", text, dir);
    assert_eq!(retire().0, ExitStatus::Failure);
}
