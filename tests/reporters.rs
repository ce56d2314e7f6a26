//! Snapshots of every reporter on the blocked example and on an error, plus schema
//! validation of the SARIF output and of the evidence documents.

#[path = "util/html.rs"]
mod html;
mod util;

use util::{filters, modelgate, root};

const BLOCKED: &str = "tests/fixtures/examples/credit-scoring-blocked.json";
const WAIVED_POLICIES: &str = "tests/fixtures/policies/waived";

fn report(input: &str, policies: &str, format: &str) -> String {
    let run = modelgate(&["eval", "--input", input, "--policies", policies, "--format", format]);
    assert!(run.code == 0 || run.code == 1, "exit {}: {}{}", run.code, run.stdout, run.stderr);
    run.stdout
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        let mut filters = filters();
        // The HTML report names the policy commit in full.
        filters.push((r" @ <code>[0-9a-f]{40}</code>( \(uncommitted changes\))?".to_string(), " @ [REVISION]".to_string()));
        let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        insta::with_settings!({filters => filters, prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

#[test]
fn text_report() {
    snapshot!("blocked_text", report(BLOCKED, "policies", "text"));
}

#[test]
fn text_report_with_exceptions() {
    snapshot!("waived_text", report(BLOCKED, WAIVED_POLICIES, "text"));
}

#[test]
fn json_report() {
    snapshot!("blocked_json", report(BLOCKED, "policies", "json"));
}

#[test]
fn junit_report() {
    snapshot!("blocked_junit", report(BLOCKED, "policies", "junit"));
}

#[test]
fn sarif_report() {
    snapshot!("blocked_sarif", report(BLOCKED, "policies", "sarif"));
}

#[test]
fn markdown_report() {
    snapshot!("blocked_markdown", report(BLOCKED, "policies", "markdown"));
}

#[test]
fn html_report() {
    let page = report(BLOCKED, "policies", "html");
    html::assert_valid(&page, "the HTML report");
    // The same data as the JSON report: every violation, with its measured value,
    // threshold and fix, grouped by category; the evidence's groups and features drawn.
    let json = modelgate(&["eval", "--input", BLOCKED, "--policies", "policies", "--format", "json"]).json();
    let violations = json["violations"].as_array().expect("violations");
    assert_eq!(page.matches("<article class=\"finding violation\"").count(), violations.len());
    for violation in violations {
        let code = violation["code"].as_str().expect("code");
        assert!(page.contains(&format!("<code>{code}</code>")), "{code} is missing");
    }
    assert!(page.contains(&format!("{} violations block this deployment", violations.len())));
    assert!(page.contains("<section id=\"fairness\">") && page.contains("<svg"), "fairness chart");
    assert!(page.contains("aria-label=\"rates per group of race,sex\""));
    assert!(page.contains("<section id=\"drift\">") && page.contains("score against threshold"));
    snapshot!("blocked_html", page);
}

#[test]
fn html_report_with_exceptions_and_upcoming_rules() {
    let page = report(BLOCKED, WAIVED_POLICIES, "html");
    html::assert_valid(&page, "the HTML report with exceptions");
    assert!(page.contains("<section id=\"exceptions\">"), "exceptions table");
}

#[test]
fn github_report_writes_annotations_and_step_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = dir.path().join("summary.md");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_modelgate"))
        .args(["eval", "--input", BLOCKED, "--policies", WAIVED_POLICIES, "--format", "github"])
        .current_dir(root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("MODELGATE_NO_RECORD", "1")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    snapshot!("waived_github", String::from_utf8_lossy(&output.stdout).into_owned());
    snapshot!("waived_github_summary", std::fs::read_to_string(&summary).expect("summary written"));
}

#[test]
fn error_reports() {
    for format in ["text", "json", "junit", "sarif", "github", "markdown", "html"] {
        let run = modelgate(&[
            "eval",
            "--input",
            BLOCKED,
            "--policies",
            "tests/fixtures/policies/warn-only",
            "--format",
            format,
        ]);
        assert_eq!(run.code, 2, "{format}");
        if format == "html" {
            html::assert_valid(&run.stdout, "the HTML error report");
        }
        snapshot!(format!("error_{format}"), run.stdout);
    }
}

#[test]
fn help_output() {
    snapshot!("help", modelgate(&["--help"]).stdout);
    snapshot!("help_check", modelgate(&["check", "--help"]).stdout);
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/schemas/sarif-schema-2.1.0.json")).expect("schema"),
    )
    .expect("schema json");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    for (input, policies) in
        [(BLOCKED, "policies"), (BLOCKED, WAIVED_POLICIES), (BLOCKED, "tests/fixtures/policies/warn-only")]
    {
        let run = modelgate(&["eval", "--input", input, "--policies", policies, "--format", "sarif"]);
        let sarif: serde_json::Value = serde_json::from_str(&run.stdout).expect("sarif is json");
        let errors: Vec<String> =
            validator.iter_errors(&sarif).map(|error| format!("{} at {}", error, error.instance_path)).collect();
        assert!(errors.is_empty(), "{policies}: {errors:#?}");
    }
}

#[test]
fn junit_is_well_formed_with_one_case_per_rule() {
    let xml = report(BLOCKED, "policies", "junit");
    let json = modelgate(&["eval", "--input", BLOCKED, "--policies", "policies", "--format", "json"]).json();
    let rules = json["rules"].as_array().expect("rules").len();
    let failed = json["rules"].as_array().expect("rules").iter().filter(|rule| rule["status"] == "fail").count();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(tag) | quick_xml::events::Event::Empty(tag) => match tag.name().as_ref() {
                b"testcase" => cases += 1,
                b"failure" => failures += 1,
                _ => {}
            },
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, rules);
    assert_eq!(failures, failed);
    assert!(failed > 0);
}
