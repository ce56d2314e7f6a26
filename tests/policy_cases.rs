//! Data-driven: the built-in library's decision on every evidence fixture, as listed in
//! tests/fixtures/policy-cases.yaml (input, decision, violation codes, warning codes).

mod util;

use std::collections::BTreeSet;

use serde::Deserialize;
use util::{modelgate, root};

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    input: String,
    decision: String,
    violations: BTreeSet<String>,
    warnings: BTreeSet<String>,
}

fn codes(findings: &serde_json::Value) -> BTreeSet<String> {
    findings.as_array().into_iter().flatten().filter_map(|f| f["code"].as_str().map(str::to_string)).collect()
}

#[test]
fn built_in_library_decides_every_fixture_as_listed() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/policy-cases.yaml")).expect("cases");
    let cases: Cases = yaml_serde::from_str(&text).expect("cases parse");
    assert!(cases.cases.len() >= 8);
    for case in cases.cases {
        let run = modelgate(&["eval", "--input", &case.input, "--policies", "policies", "--format", "json"]);
        let report = run.json();
        assert_eq!(report["decision"], case.decision.as_str(), "{}", case.input);
        let expected_code = if case.decision == "deny" { 1 } else { 0 };
        assert_eq!(run.code, expected_code, "{}", case.input);
        assert_eq!(codes(&report["violations"]), case.violations, "{}: violations", case.input);
        assert_eq!(codes(&report["warnings"]), case.warnings, "{}: warnings", case.input);
    }
}
