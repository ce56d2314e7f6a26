//! End-to-end: the real binary on fixture folders, one scenario each.
//! Every error path must give exit 2, a message naming the problem, a hint, and a
//! report whose decision is `error`.

mod util;

use util::{fixture, modelgate, root, Run};

const BLOCKED: &str = "tests/fixtures/examples/credit-scoring-blocked.json";
const PASSING: &str = "tests/fixtures/examples/credit-scoring.json";

/// Asserts the fail-closed contract on a JSON report.
fn assert_error(run: &Run, kind: &str, needle: &str) {
    assert_eq!(run.code, 2, "exit code\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["decision"], "error", "{report:#}");
    assert_eq!(report["error"]["kind"], kind, "{report:#}");
    let message = report["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "message {message:?} lacks {needle:?}");
    assert!(report["error"]["hint"].as_str().is_some_and(|hint| !hint.is_empty()), "no hint: {report:#}");
    assert!(run.stderr.contains("hint:"), "stderr lacks the hint: {}", run.stderr);
    assert!(report["violations"].as_array().is_some_and(Vec::is_empty));
}

fn eval_json(input: &str, policies: &str) -> Run {
    modelgate(&["eval", "--input", input, "--policies", policies, "--format", "json"])
}

#[test]
fn passing_example_is_allowed() {
    let run = modelgate(&["check", "examples/credit-scoring"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("modelgate: ALLOW  credit-scoring 2.4.0"), "{}", run.stdout);
}

#[test]
fn blocked_example_is_denied_in_every_category() {
    let run = modelgate(&["check", "examples/credit-scoring-blocked", "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["decision"], "deny");
    let categories: std::collections::BTreeSet<&str> = report["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|violation| violation["category"].as_str())
        .collect();
    for category in ["fairness", "performance", "data", "security", "documentation"] {
        assert!(categories.contains(category), "no {category} violation in {categories:?}");
    }
    // The report names the threshold and where it is set.
    let parity = report["violations"]
        .as_array()
        .and_then(|violations| {
            violations
                .iter()
                .find(|v| v["code"] == "fairness/demographic-parity-difference" && v["details"]["attribute"] == "sex")
        })
        .expect("parity violation for sex");
    // Measured by the native collector from the example's predictions file.
    let measured = parity["details"]["measured"].as_f64().expect("measured");
    assert!((measured - 0.0912).abs() < 1e-4, "{measured}");
    // Exactly the evidence's number: no float is altered on its way through the engine.
    let pinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(BLOCKED).expect("pinned evidence")).expect("json");
    assert_eq!(parity["details"]["measured"], pinned["evaluation"]["fairness"]["sex"]["demographic_parity_difference"]);
    assert_eq!(parity["details"]["threshold"], 0.05);
    assert!(parity["details"]["threshold_source"].as_str().is_some_and(|s| s.starts_with("data.yaml: overrides.")));
}

#[test]
fn blocked_example_explains_each_data_finding() {
    let run = modelgate(&["check", "examples/credit-scoring-blocked", "--format", "json"]);
    let report = run.json();
    let violations = report["violations"].as_array().expect("violations");
    let find = |code: &str, key: &str, value: &str| {
        violations
            .iter()
            .find(|v| v["code"] == code && v["details"][key] == value)
            .unwrap_or_else(|| panic!("no {code} with {key}={value} in {violations:#?}"))
    };
    // The schema: incomes below the schema's minimum, counted in the training file.
    let minimum = find("data/schema-violation", "check", "minimum");
    assert_eq!(minimum["details"]["field"], "income");
    assert_eq!(minimum["details"]["measured"], 25);
    // The PII column that the pipeline never removed, found in its values.
    let ssn = find("data/prohibited-category", "column", "ssn");
    assert_eq!(ssn["details"]["category"], "us_ssn");
    assert_eq!(ssn["details"]["measured"], 1.0);
    // The missing preprocessing step, and the file edited after the pipeline ran.
    find("data/required-step-missing", "step", "remove_pii");
    assert!(violations.iter().any(|v| v["code"] == "data/lineage-stale"));
    // Drifted serving data, by Evidently's choice of measure per column.
    let share = violations.iter().find(|v| v["code"] == "data/drift-share").expect("drift share");
    assert_eq!(
        share["details"]["drifted_features"],
        serde_json::json!(["debt_ratio", "employment_type", "income", "loan_amount", "region"])
    );
    // The passing example's data raises nothing.
    let passing = modelgate(&["check", "examples/credit-scoring", "--format", "json"]).json();
    let data_findings: Vec<&serde_json::Value> = passing["violations"]
        .as_array()
        .into_iter()
        .chain(passing["warnings"].as_array())
        .flatten()
        .filter(|v| v["category"] == "data")
        .collect();
    assert!(data_findings.is_empty(), "{data_findings:#?}");
}

#[test]
fn environment_flag_changes_the_thresholds_that_apply() {
    let staging =
        modelgate(&["check", "examples/credit-scoring-blocked", "--environment", "staging", "--format", "json"]);
    let production = modelgate(&["check", "examples/credit-scoring-blocked", "--format", "json"]);
    let count = |run: &Run| run.json()["violations"].as_array().map(Vec::len).unwrap_or_default();
    assert_eq!(staging.json()["environment"], "staging");
    assert!(count(&staging) < count(&production), "staging {} vs production {}", count(&staging), count(&production));
}

#[test]
fn eval_reports_bundle_and_evidence_identity() {
    let run = eval_json(BLOCKED, "policies");
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["schema_version"], "1");
    assert!(report["policy"]["digest"].as_str().is_some_and(|d| d.starts_with("sha256:")));
    assert!(report["evidence_digest"].as_str().is_some_and(|d| d.starts_with("sha256:")));
    assert_eq!(report["model"]["name"], "credit-scoring");
    assert_eq!(report["environment"], "production");
    assert!(report["rules"].as_array().is_some_and(|rules| rules.len() > 20));
}

#[test]
fn evidence_digest_is_the_same_for_the_same_evidence() {
    let first = eval_json(PASSING, "policies").json();
    let second = eval_json(PASSING, "policies").json();
    assert_eq!(first["evidence_digest"], second["evidence_digest"]);
    assert_eq!(first["policy"]["digest"], second["policy"]["digest"]);
    assert_ne!(first["decision_id"], second["decision_id"]);
}

#[test]
fn collect_writes_the_evidence_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("evidence.json");
    let run = modelgate(&["collect", "examples/credit-scoring", "--output", out.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let evidence: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!(evidence["schema_version"], "1");
    assert_eq!(evidence["model"]["risk_tier"], "high");
    // The evaluation section is computed from the example's predictions, as `fairness` does.
    let predictions = "examples/credit-scoring/data/test_predictions.parquet";
    let fairness = modelgate(&[
        "fairness",
        "--predictions",
        predictions,
        "--label",
        "y",
        "--prediction",
        "yhat",
        "--score",
        "p",
        "--format",
        "json",
    ]);
    assert_eq!(evidence["evaluation"]["metrics"], fairness.json()["metrics"]);
    assert_eq!(evidence["evaluation"]["test_set"]["rows"], 12000);
    // The data section is the standalone commands' output on the same files.
    let project = |file: &str| format!("examples/credit-scoring/{file}");
    let validate = modelgate(&[
        "data",
        "validate",
        "--schema",
        &project("data/schema.json"),
        &project("data/train.parquet"),
        "--format",
        "json",
        "--sensitive",
        "application_id",
    ]);
    assert_eq!(evidence["data"]["schema"]["fields"], validate.json()["fields"]);
    assert_eq!(evidence["data"]["schema"]["violations"], serde_json::json!([]));
    let lineage = modelgate(&[
        "data",
        "lineage",
        &project("dvc.lock"),
        "--training",
        &project("data/train.parquet"),
        "--format",
        "json",
    ]);
    assert_eq!(evidence["data"]["lineage"]["steps"], lineage.json()["steps"]);
    assert_eq!(evidence["data"]["lineage"]["freshness"], "fresh");
    let columns = evidence["data"]["drift"]["features"].as_object().expect("features").keys().cloned();
    let columns = columns.collect::<Vec<_>>().join(",");
    let drift = modelgate(&[
        "drift",
        "--reference",
        &project("data/train.parquet"),
        "--current",
        &project("data/serving.parquet"),
        "--columns",
        &columns,
        "--format",
        "json",
    ]);
    assert_eq!(evidence["data"]["drift"]["features"], drift.json()["features"]);
    let scan = modelgate(&["data", "scan", &project("data/train.parquet"), "--format", "json"]);
    assert_eq!(evidence["data"]["prohibited"]["detections"], scan.json()["detections"]);
    // And it evaluates to the same decision as check.
    let run = eval_json(out.to_str().expect("utf-8"), "policies");
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn output_file_and_evidence_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().join("report.json");
    let evidence = dir.path().join("evidence.json");
    let run = modelgate(&[
        "check",
        "examples/credit-scoring",
        "--format",
        "json",
        "--output",
        report.to_str().expect("utf-8"),
        "--evidence-out",
        evidence.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(written["decision"], "allow");
    assert!(evidence.exists());
}

#[test]
fn exceptions_are_applied_and_expired_ones_warn() {
    let run = eval_json(BLOCKED, "tests/fixtures/policies/waived");
    let report = run.json();
    // The blocked example has accuracy 0.861 < 0.9: waived for credit-* in production.
    assert_eq!(report["decision"], "allow", "{report:#}");
    assert_eq!(run.code, 0);
    let waived = &report["exceptions"][0];
    assert_eq!(waived["code"], "demo/min-accuracy");
    assert_eq!(waived["exception"]["approved_by"], "jane.doe@bank.example");
    let codes: Vec<&str> =
        report["warnings"].as_array().expect("warnings").iter().filter_map(|w| w["code"].as_str()).collect();
    assert!(codes.contains(&"modelgate/exception-expired"), "{codes:?}");
    // Not waived in staging: the exception names production only.
    let staged =
        std::fs::read_to_string(root().join(BLOCKED)).expect("fixture").replace("\"production\"", "\"staging\"");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("staging.json");
    std::fs::write(&path, staged).expect("write");
    let run = eval_json(path.to_str().expect("utf-8"), "tests/fixtures/policies/waived");
    assert_eq!(run.code, 1, "{}", run.stdout);
}

// ------------------------------------------------------------- fail closed

#[test]
fn policy_parse_error_shows_file_and_line() {
    let run = eval_json(PASSING, "tests/fixtures/policies/parse-error");
    assert_error(&run, "policy-parse", "broken.rego:");
    let message = run.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("\"msg\": \"low accuracy\"") || message.contains('|'), "no Rego text in {message}");
}

#[test]
fn unknown_builtin_is_refused_before_evaluation() {
    let run = eval_json(PASSING, "tests/fixtures/policies/unknown-builtin");
    assert_error(&run, "policy-unknown-builtin", "crypto.x509.parse_and_verify_certificates");
    assert!(run.json()["error"]["message"].as_str().is_some_and(|m| m.contains("calls.rego:7")));
}

#[test]
fn deny_outside_modelgate_packages_is_refused() {
    let run = eval_json(PASSING, "tests/fixtures/policies/typo-package");
    assert_error(&run, "policy-package", "modelgte.fairness");
}

#[test]
fn bundle_without_any_deny_rule_is_refused() {
    let run = eval_json(PASSING, "tests/fixtures/policies/warn-only");
    assert_error(&run, "policy-no-deny", "no `deny` rule");
}

#[test]
fn evaluation_error_fails_closed() {
    // to_number("2.4.0") raises: the version is not a number.
    let run = eval_json(PASSING, "tests/fixtures/policies/eval-error");
    assert_error(&run, "policy-evaluation", "could not parse string as number");
}

#[test]
fn evaluation_timeout_fails_closed() {
    let run = modelgate(&[
        "eval",
        "--input",
        PASSING,
        "--policies",
        "tests/fixtures/policies/timeout",
        "--format",
        "json",
        "--timeout-ms",
        "200",
    ]);
    assert_error(&run, "policy-timeout", "time limit of 200 ms");
}

#[test]
fn malformed_rule_result_fails_closed() {
    let run = eval_json(PASSING, "tests/fixtures/policies/bad-result");
    assert_error(&run, "policy-result", "must be a string or an object");
}

#[test]
fn exception_without_approver_is_a_configuration_error() {
    let run = eval_json(PASSING, "tests/fixtures/policies/bad-exceptions");
    assert_error(&run, "exceptions", "exceptions[0].approved_by is required");
}

#[test]
fn missing_policy_folder_fails_closed() {
    let run = eval_json(PASSING, "tests/fixtures/policies/does-not-exist");
    assert_error(&run, "policy-missing", "does-not-exist");
    let run = modelgate(&["check", &fixture("projects/missing-policies").display().to_string(), "--format", "json"]);
    assert_error(&run, "policy-missing", "does-not-exist");
}

#[test]
fn malformed_evidence_fails_closed() {
    let run = eval_json("tests/fixtures/evidence-invalid/malformed.json", "policies");
    assert_error(
        &run,
        "evidence-invalid",
        "malformed.json:3:83: the evidence document is not valid JSON: key must be a string",
    );
}

#[test]
fn schema_invalid_evidence_names_the_field() {
    let run = eval_json("tests/fixtures/evidence-invalid/wrong-type.json", "policies");
    assert_error(&run, "evidence-invalid", "`evaluation.metrics.accuracy`");
    let run = eval_json("tests/fixtures/evidence-invalid/unknown-field.json", "policies");
    assert_error(&run, "evidence-invalid", "unknown field `fairnes`");
}

#[test]
fn unreadable_evidence_fails_closed() {
    let run = eval_json("tests/fixtures/evidence-invalid/nope.json", "policies");
    assert_error(&run, "io", "nope.json");
}

#[test]
fn unknown_config_key_is_named() {
    let run = modelgate(&["check", &fixture("projects/unknown-key").display().to_string(), "--format", "json"]);
    assert_error(&run, "config", "`policies.timeout`");
}

#[test]
fn invalid_evidence_section_file_names_file_and_field() {
    let run = modelgate(&["check", &fixture("projects/bad-section").display().to_string(), "--format", "json"]);
    assert_error(&run, "evidence-invalid", "evaluation.json");
    assert!(run.json()["error"]["message"].as_str().is_some_and(|m| m.contains("evaluation.fairness.sex.groups.f")));
}

#[test]
fn missing_config_fails_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = modelgate(&["check", &dir.path().display().to_string(), "--format", "json"]);
    assert_error(&run, "config", "modelgate.toml");
}

#[test]
fn error_text_report_says_the_gate_failed_closed() {
    let run = modelgate(&["eval", "--input", PASSING, "--policies", "tests/fixtures/policies/warn-only"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("modelgate: ERROR"), "{}", run.stdout);
    assert!(run.stdout.contains("hint:"), "{}", run.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let run = modelgate(&["eval", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = modelgate(&["check", "--format", "yaml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

// ------------------------------------------------------------- policy commands

#[test]
fn policy_init_writes_a_repository_that_tests_green_and_gates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("governance-policies");
    let target_arg = target.to_str().expect("utf-8");
    let run = modelgate(&["policy", "init", target_arg]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for file in [
        "README.md",
        "data.yaml",
        "exceptions.yaml",
        "lib/lib.rego",
        "fairness/fairness.rego",
        "fairness/fairness_test.rego",
    ] {
        assert!(target.join(file).is_file(), "{file} not written");
    }
    let run = modelgate(&["policy", "test", target_arg]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // Same decision as the built-in library it was written from.
    let run = eval_json(BLOCKED, target_arg);
    assert_eq!(run.code, 1);
    // A second init refuses to overwrite.
    let run = modelgate(&["policy", "init", target_arg]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
}

#[test]
fn policy_test_runs_the_built_in_library() {
    let run = modelgate(&["policy", "test", "policies", "--coverage"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("0 failed"), "{}", run.stdout);
    assert!(run.stdout.contains("coverage:"), "{}", run.stdout);
    assert!(!run.stdout.contains("_test.rego\n"), "test files are not in the coverage report");
}

#[test]
fn policy_test_reports_failures_and_skips_todo() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture("policies/minimal/demo.rego"), dir.path().join("demo.rego")).expect("copy");
    std::fs::copy(fixture("policies/minimal/data.yaml"), dir.path().join("data.yaml")).expect("copy");
    std::fs::copy(fixture("policies/minimal/data.schema.json"), dir.path().join("data.schema.json")).expect("copy");
    std::fs::write(
        dir.path().join("demo_test.rego"),
        r#"package modelgate.demo_test

import data.modelgate.demo

test_low_accuracy_denied if {
	some v in demo.deny with input as {"evaluation": {"metrics": {"accuracy": 0.5}}, "model": {"owner": "a"}}
	v.code == "demo/min-accuracy"
}

test_wrong_expectation if {
	count(demo.deny) == 1 with input as {"evaluation": {"metrics": {"accuracy": 0.95}}, "model": {"owner": "a"}}
}

test_threshold_mocked if {
	count(demo.deny) == 0 with input as {"evaluation": {"metrics": {"accuracy": 0.5}}, "model": {"owner": "a"}}
		with data.thresholds.demo.min_accuracy as 0.4
}

todo_test_later if {
	false
}
"#,
    )
    .expect("write");
    let run = modelgate(&["policy", "test", dir.path().to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let result = run.json();
    assert_eq!(result["passed"], 2);
    assert_eq!(result["failed"], 1);
    assert_eq!(result["skipped"], 1);
    let failed: Vec<&str> = result["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter(|test| test["status"] == "fail")
        .filter_map(|test| test["name"].as_str())
        .collect();
    assert_eq!(failed, vec!["test_wrong_expectation"]);
}

#[test]
fn policy_test_fails_when_no_test_ran() {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in ["demo.rego", "data.yaml", "data.schema.json"] {
        std::fs::copy(fixture("policies/minimal").join(file), dir.path().join(file)).expect("copy");
    }
    std::fs::write(dir.path().join("demo_test.rego"), "package modelgate.demo_test\n\ntodo_test_x if { true }\n")
        .expect("write");
    let run = modelgate(&["policy", "test", dir.path().to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("no test ran"), "{}", run.stderr);
    // No test files at all is an error too.
    std::fs::remove_file(dir.path().join("demo_test.rego")).expect("rm");
    let run = modelgate(&["policy", "test", dir.path().to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
}

/// A project whose evaluation is computed from the binary_basic fixture, with bootstrap
/// intervals, judged by the built-in library with a demographic parity maximum of 0.12
/// (the point estimate for sex is 0.1085; its upper bound is above 0.12).
fn bootstrap_project(judge: bool) -> (tempfile::TempDir, Run) {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies");
    let init = modelgate(&["policy", "init", policies.to_str().expect("utf-8")]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let data = std::fs::read_to_string(policies.join("data.yaml")).expect("data.yaml");
    let data = data
        .replacen("max_demographic_parity_difference: 0.10", "max_demographic_parity_difference: 0.12", 1)
        .replacen("judge_confidence_bound: false", &format!("judge_confidence_bound: {judge}"), 1);
    std::fs::write(policies.join("data.yaml"), data).expect("write data.yaml");
    let predictions = util::fixture("evaluation/cases/binary_basic/predictions.csv");
    let config = format!(
        "[model]\nname = \"m\"\nversion = \"1\"\nrisk_tier = \"low\"\ntask = \"binary_classification\"\n\
         [deployment]\nenvironment = \"staging\"\n[policies]\npath = \"policies\"\n\
         [evaluation]\npredictions = {:?}\nlabel = \"y\"\nprediction = \"yhat\"\nsensitive = [\"sex\"]\n\
         [evaluation.bootstrap]\nreplicates = 200\nseed = 1\n",
        predictions.display().to_string()
    );
    std::fs::write(dir.path().join("modelgate.toml"), config).expect("write config");
    let run = modelgate(&["check", dir.path().to_str().expect("utf-8"), "--format", "json"]);
    (dir, run)
}

#[test]
fn fairness_can_be_judged_on_the_upper_end_of_the_bootstrap_interval() {
    let parity = |run: &Run| {
        run.json()["violations"]
            .as_array()
            .expect("violations")
            .iter()
            .find(|v| v["code"] == "fairness/demographic-parity-difference")
            .cloned()
    };
    let (_dir, point) = bootstrap_project(false);
    assert!(parity(&point).is_none(), "{}", point.stdout);
    let (_dir, bound) = bootstrap_project(true);
    let violation = parity(&bound).expect("denied on the upper bound");
    assert_eq!(violation["details"]["judged_on"], "upper end of the 95% bootstrap interval");
    let upper = violation["details"]["measured"].as_f64().expect("measured");
    let estimate = violation["details"]["point_estimate"].as_f64().expect("point estimate");
    assert!(upper > 0.12 && estimate < 0.12, "upper {upper}, estimate {estimate}");
}

/// `modelgate schema | head -5`: a reader that goes away ends the command quietly, with the
/// exit status it decided, never an "internal error".
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    use std::io::Read;
    let mut child = util::command(&util::root())
        .args(["schema"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut head = [0u8; 64];
    stdout.read_exact(&mut head).expect("the start of the schema");
    drop(stdout);
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
}
