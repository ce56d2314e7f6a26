//! One step in CI: `--report FORMAT=PATH` writes every report of one evaluation and one
//! recorded decision; the verdict reaches the console when the report goes to a file; the
//! HTML report (also from `audit show`) opens in a real browser without the network;
//! shell completions and man pages come from the command definitions.

#[path = "util/browser.rs"]
mod browser;
#[path = "util/html.rs"]
mod html;
mod util;

use util::{modelgate, recording, root, run};

const BLOCKED: &str = "tests/fixtures/examples/credit-scoring-blocked.json";

/// `modelgate eval` of the blocked example under the library, with `extra` arguments.
fn eval_blocked(extra: &[&str]) -> util::Run {
    let mut args = vec!["eval", "--input", BLOCKED, "--policies", "policies"];
    args.extend_from_slice(extra);
    modelgate(&args)
}

fn entries(store: &std::path::Path) -> Vec<serde_json::Value> {
    let log =
        run(util::command(&root()).args(["audit", "log", "--limit", "0", "--format", "json", "--store"]).arg(store));
    assert_eq!(log.code, 0, "audit log: {}", log.stderr);
    log.json().as_array().cloned().unwrap_or_default()
}

#[test]
fn one_evaluation_writes_every_report_and_records_one_decision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let judged = run(recording(&store).args([
        "eval",
        "--input",
        BLOCKED,
        "--policies",
        "policies",
        "--report",
        &format!("json={}", path("report.json")),
        "--report",
        &format!("sarif={}", path("report.sarif")),
        "--report",
        &format!("html={}", path("report.html")),
        "--report",
        &format!("JUnit={}", path("report.xml")),
    ]));
    assert_eq!(judged.code, 1, "{}", judged.stderr);
    // Text still on stdout.
    assert!(judged.stdout.starts_with("modelgate: DENY"), "{}", judged.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("report.json")).expect("json report")).expect("json");
    let id = report["decision_id"].as_str().expect("decision id");
    assert!(judged.stdout.contains("entry 1 "), "{}", judged.stdout);
    let sarif = std::fs::read_to_string(path("report.sarif")).expect("sarif report");
    assert!(sarif.contains(id), "the SARIF report is of the same decision");
    let page = std::fs::read_to_string(path("report.html")).expect("html report");
    assert!(page.contains(id), "the HTML report is of the same decision");
    html::assert_valid(&page, "report.html");
    assert!(std::fs::read_to_string(path("report.xml")).expect("junit report").contains("<testsuites"));
    let recorded = entries(&store);
    assert_eq!(recorded.len(), 1, "one decision recorded: {recorded:#?}");
    assert_eq!(recorded[0]["entry"]["id"], id);
}

#[test]
fn a_report_written_to_a_file_still_shows_the_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("report.json");
    let judged = eval_blocked(&["--format", "json", "--output", &output.display().to_string()]);
    assert_eq!(judged.code, 1);
    assert!(judged.stdout.is_empty(), "{}", judged.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).expect("report")).expect("json");
    let count = report["violations"].as_array().expect("violations").len();
    let line = format!(
        "modelgate: DENY  credit-scoring 2.5.0 (risk tier high) → production: {count} violations, {} warnings, 0 exceptions",
        report["warnings"].as_array().expect("warnings").len()
    );
    assert!(judged.stderr.contains(&line), "expected {line:?} in:\n{}", judged.stderr);
}

#[test]
fn two_reports_to_one_file_are_refused_before_anything_is_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let same = dir.path().join("report.out").display().to_string();
    let refused = run(recording(&store).args([
        "eval",
        "--input",
        BLOCKED,
        "--policies",
        "policies",
        "--output",
        &same,
        "--report",
        &format!("html={same}"),
    ]));
    util::assert_fails_closed(&refused, &["two reports are written to", "report.out"]);
    assert!(entries(&store).is_empty(), "nothing recorded");
    assert!(!std::path::Path::new(&same).exists());
    for (arguments, needle) in [
        (vec!["--report", "html"], "is not FORMAT=PATH"),
        (vec!["--report", "pdf=x.pdf"], "is not a report format"),
        (vec!["--report", "html="], "names no file"),
    ] {
        let refused = eval_blocked(&arguments);
        assert_eq!(refused.code, 2, "{arguments:?}");
        assert!(refused.stderr.contains(needle), "{arguments:?}: {}", refused.stderr);
    }
    let batch = modelgate(&[
        "eval",
        "--batch",
        "--input",
        "tests/fixtures/examples",
        "--policies",
        "policies",
        "--report",
        "html=x.html",
    ]);
    util::assert_fails_closed(&batch, &["--report writes one decision's report"]);
}

#[test]
fn an_unwritable_report_is_an_error() {
    let judged = modelgate(&[
        "eval",
        "--input",
        "tests/fixtures/examples/credit-scoring.json",
        "--policies",
        "policies",
        "--report",
        "html=/nonexistent-folder/report.html",
    ]);
    assert_eq!(judged.code, 2, "an allow whose report cannot be written is not a pass: {}", judged.stderr);
    assert!(judged.stderr.contains("/nonexistent-folder/report.html"), "{}", judged.stderr);
}

#[test]
fn audit_show_renders_the_recorded_decision_as_html_with_its_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let judged =
        run(recording(&store).args(["eval", "--input", BLOCKED, "--policies", "policies", "--format", "json"]));
    assert_eq!(judged.code, 1, "{}", judged.stderr);
    let report = judged.json();
    let id = report["decision_id"].as_str().expect("id");
    let shown =
        run(util::command(&root()).args(["audit", "show", id, "--format", "html", "--replay", "--store"]).arg(&store));
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    html::assert_valid(&shown.stdout, "audit show --format html");
    let violations = report["violations"].as_array().expect("violations").len();
    assert!(shown.stdout.contains(&format!("{violations} violations block this deployment")));
    assert!(shown.stdout.contains("reproduced: deny"), "the replay is shown");
    assert!(shown.stdout.contains("<section id=\"audit-chain\">"));
    // The replay reproduced the decision, so its per-rule outcomes are the rules table.
    let rules = report["rules"].as_array().expect("rules").len();
    assert!(shown.stdout.contains(&format!("All {rules} rules checked")), "rules table");
    assert!(shown.stdout.contains("<section id=\"fairness\">"), "the stored evidence is drawn");
}

#[test]
fn the_html_report_opens_in_chromium_without_the_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    let judged = eval_blocked(&["--report", &format!("html={}", page.display())]);
    assert_eq!(judged.code, 1, "{}", judged.stderr);
    let browser = browser::Browser::start();
    let url = format!("file://{}", page.display());
    browser.goto(&url);
    assert_eq!(browser.title(), "modelgate DENY: credit-scoring 2.5.0 → production");
    let text = browser.text();
    assert!(text.contains("violations block this deployment"), "{text}");
    assert!(text.contains("Fairness per group") && text.contains("Drift per feature"));
    assert_eq!(browser.count("section#fairness svg"), 3, "one chart per sensitive attribute");
    browser.screenshot_top(&browser::screenshot_path("report-top"));
    browser.screenshot(&browser::screenshot_path("report"));
    let requests = browser.requests();
    assert_eq!(requests, vec![url], "the page loads nothing but itself");
    assert_eq!(browser.console_errors(), Vec::<String>::new());
}

#[test]
fn completions_and_man_pages_come_from_the_command_definitions() {
    let bash = modelgate(&["completions", "bash"]);
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("modelgate.bash");
    std::fs::write(&script, &bash.stdout).expect("write");
    let syntax = std::process::Command::new("bash").arg("-n").arg(&script).output().expect("bash runs");
    assert!(syntax.status.success(), "bash -n: {}", String::from_utf8_lossy(&syntax.stderr));
    // Completing `modelgate ch` in bash offers `check`.
    let completed = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(modelgate ch); COMP_CWORD=1; COMP_LINE='modelgate ch'; COMP_POINT=12; _modelgate modelgate ch modelgate; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .expect("bash runs");
    assert_eq!(String::from_utf8_lossy(&completed.stdout).trim(), "check");
    for (shell, needle) in [("zsh", "#compdef modelgate"), ("fish", "complete -c modelgate")] {
        let generated = modelgate(&["completions", shell]);
        assert_eq!(generated.code, 0);
        assert!(generated.stdout.contains(needle), "{shell}");
        assert!(generated.stdout.contains("report"), "{shell}: the --report flag is completed");
    }
    let bad = modelgate(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);

    let page = modelgate(&["man"]);
    assert_eq!(page.code, 0);
    assert!(page.stdout.contains(".TH modelgate 1"), "{}", &page.stdout[..200.min(page.stdout.len())]);
    assert!(page.stdout.contains("check"));
    let pages = dir.path().join("man");
    let written = modelgate(&["man", "--output-dir", &pages.display().to_string()]);
    assert_eq!(written.code, 0, "{}", written.stderr);
    let check = std::fs::read_to_string(pages.join("modelgate-check.1")).expect("modelgate-check.1");
    assert!(check.contains(r"\-\-report"), "the check page documents --report");
    assert!(pages.join("modelgate-audit-show.1").is_file());
}
