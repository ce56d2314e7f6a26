//! `modelgate eval --batch`: many documents in one run, judged as one by one, in order,
//! each error named by its line, the exit status failing closed.

mod util;

use std::io::Write;
use std::process::Stdio;

use util::{command, modelgate, root, run, Run};

const BLOCKED: &str = "tests/fixtures/examples/credit-scoring-blocked.json";
const PASSING: &str = "tests/fixtures/examples/credit-scoring.json";

/// A document on one line, as `jq -c` writes it.
fn line(path: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(path)).expect("fixture")).expect("json");
    value.to_string()
}

/// `eval --batch --input INPUT --policies POLICIES --format json EXTRA…`
fn batch_json(input: &str, policies: &str, extra: &[&str]) -> Run {
    let mut args = vec!["eval", "--batch", "--input", input, "--policies", policies, "--format", "json"];
    args.extend_from_slice(extra);
    modelgate(&args)
}

/// Each line of a JSON Lines output, parsed.
fn lines(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .map(|text| serde_json::from_str(text).unwrap_or_else(|error| panic!("{error}: {text}\n{}", run.stderr)))
        .collect()
}

/// The parts of a report that must not depend on how it was asked for.
fn judgement(report: &serde_json::Value) -> serde_json::Value {
    let mut report = report.clone();
    for volatile in ["decision_id", "timestamp", "timings", "evidence_source", "audit"] {
        report.as_object_mut().expect("object").remove(volatile);
    }
    report
}

#[test]
fn a_json_lines_batch_is_judged_in_order_as_one_by_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("batch.jsonl");
    let text = format!("{}\n{}\n{{\"schema_version\": \"1\"}}\n\n{}\r\n", line(PASSING), line(BLOCKED), line(BLOCKED));
    std::fs::write(&batch, text).expect("write");
    let batch_arg = batch.display().to_string();
    let run = batch_json(&batch_arg, "policies", &[]);
    assert_eq!(run.code, 2, "an error in the batch is exit 2\n{}", run.stderr);
    let reports = lines(&run);
    assert_eq!(reports.len(), 6, "five reports and the summary:\n{}", run.stdout);
    let decisions: Vec<&str> = reports[..5].iter().map(|report| report["decision"].as_str().unwrap_or("?")).collect();
    assert_eq!(decisions, ["allow", "deny", "error", "error", "deny"]);
    for (index, report) in reports[..5].iter().enumerate() {
        assert_eq!(report["evidence_source"], format!("{batch_arg}:{}", index + 1), "each report names its line");
    }
    assert!(reports[2]["error"]["hint"].as_str().is_some_and(|hint| !hint.is_empty()), "{:#}", reports[2]);
    assert!(reports[3]["error"]["message"].as_str().unwrap_or_default().contains("empty line"), "{:#}", reports[3]);
    // The same JSON as `eval --format json` gives for each document on its own.
    for (index, path) in [(0, PASSING), (1, BLOCKED), (4, BLOCKED)] {
        let single = modelgate(&["eval", "--input", path, "--policies", "policies", "--format", "json"]).json();
        assert_eq!(judgement(&reports[index]), judgement(&single), "document {index}");
    }
    let summary = &reports[5]["summary"];
    assert_eq!((summary["documents"].as_u64(), summary["allow"].as_u64()), (Some(5), Some(1)), "{summary:#}");
    assert_eq!((summary["deny"].as_u64(), summary["error"].as_u64()), (Some(2), Some(2)), "{summary:#}");
    assert_eq!(summary["errors"][0]["source"], format!("{batch_arg}:3"));
    assert!(run.stderr.contains(&format!("error: {batch_arg}:4: ")), "errors are named on stderr: {}", run.stderr);
}

#[test]
fn a_folder_and_standard_input_are_batches_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(root().join(PASSING), dir.path().join("a.json")).expect("copy");
    std::fs::copy(root().join(BLOCKED), dir.path().join("b.json")).expect("copy");
    std::fs::write(dir.path().join("notes.txt"), "not a document").expect("write");
    let folder = dir.path().display().to_string();
    let run = modelgate(&["eval", "--batch", "--input", &folder, "--policies", "policies", "--threads", "1"]);
    assert_eq!(run.code, 1, "a deny and no error is exit 1\n{}\n{}", run.stdout, run.stderr);
    let text: Vec<&str> = run.stdout.lines().collect();
    assert!(text[0].starts_with("ALLOW  credit-scoring 2.4.0 production"), "{}", run.stdout);
    assert!(text[0].ends_with("a.json"), "{}", run.stdout);
    assert!(text[1].starts_with("DENY   credit-scoring 2.5.0 production"), "{}", run.stdout);
    assert!(text[1].contains("b.json  44 violations: data/"), "{}", run.stdout);
    assert!(run.stdout.contains("2 documents: 1 allow, 1 deny, 0 error"), "{}", run.stdout);

    let mut child = command(&root())
        .args(["eval", "--batch", "--input", "-", "--policies", "policies", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let input = format!("{}\n{}\n", line(PASSING), line(PASSING));
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().next().is_some_and(|first| first.contains("\"evidence_source\":\"-:1\"")), "{stdout}");
}

#[test]
fn a_batch_that_judges_nothing_or_cannot_be_read_fails_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    let run = modelgate(&["eval", "--batch", "--input", &empty.display().to_string(), "--policies", "policies"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no evidence documents") && run.stderr.contains("hint:"), "{}", run.stderr);
    // A folder without --batch is refused, pointing at it.
    let folder = dir.path().display().to_string();
    let run = modelgate(&["eval", "--input", &folder, "--policies", "policies", "--format", "json"]);
    assert_eq!(run.code, 2);
    let report = run.json();
    assert_eq!(report["decision"], "error", "{report:#}");
    assert!(report["error"]["message"].as_str().unwrap_or_default().contains("is a folder"), "{report:#}");
    assert!(report["error"]["hint"].as_str().unwrap_or_default().contains("--batch"), "{report:#}");
    assert!(run.stderr.contains("--batch"), "{}", run.stderr);
    // Formats that hold one report are refused for a batch.
    let run = modelgate(&["eval", "--batch", "--input", PASSING, "--policies", "policies", "--format", "sarif"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    // A policy repository that does not compile judges nothing.
    let run = batch_json(PASSING, "tests/fixtures/policies/parse-error", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // A FIFO is not read.
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo.jsonl");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
        let run = modelgate(&["eval", "--batch", "--input", &fifo.display().to_string(), "--policies", "policies"]);
        assert_eq!(run.code, 2);
        assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
    }
}

#[test]
fn a_batch_is_recorded_one_decision_per_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(&batch, format!("{}\n{}\n{}\n", line(PASSING), line(BLOCKED), line(PASSING))).expect("write");
    let recorded = run(util::recording(&store).args([
        "eval",
        "--batch",
        "--input",
        &batch.display().to_string(),
        "--policies",
        "policies",
        "--format",
        "json",
    ]));
    assert_eq!(recorded.code, 1, "{}", recorded.stderr);
    let reports = lines(&recorded);
    let seqs: Vec<u64> = reports[..3].iter().map(|report| report["audit"]["seq"].as_u64().expect("recorded")).collect();
    assert_eq!(seqs.len(), 3);
    assert!(seqs.windows(2).all(|pair| pair[1] == pair[0] + 1), "in order: {seqs:?}");
    let log = run(util::recording_as_is(&store).args(["audit", "log", "--format", "json"]));
    assert_eq!(log.code, 0, "{}", log.stderr);
    let entries = log.json();
    let ids: Vec<&str> =
        entries.as_array().expect("entries").iter().filter_map(|entry| entry["entry"]["id"].as_str()).collect();
    for report in &reports[..3] {
        assert!(ids.contains(&report["decision_id"].as_str().unwrap_or("?")), "{ids:?}");
    }
    let verify = run(util::recording_as_is(&store).args(["audit", "verify"]));
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

#[test]
fn a_rule_that_raises_or_runs_too_long_is_an_error_never_an_allow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("batch.jsonl");
    std::fs::write(&batch, format!("{}\n{}\n", line(PASSING), line(BLOCKED))).expect("write");
    let batch_arg = batch.display().to_string();
    // to_number("2.4.0") raises on each document's version: each is an error.
    let run = batch_json(&batch_arg, "tests/fixtures/policies/eval-error", &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let reports = lines(&run);
    for report in &reports[..2] {
        assert_eq!(report["decision"], "error", "{report:#}");
        assert_eq!(report["error"]["kind"], "policy-evaluation", "{report:#}");
        assert!(report["violations"].as_array().is_some_and(Vec::is_empty));
    }
    assert_eq!(reports[2]["summary"]["error"], 2);
    // A rule that reads no evidence is evaluated once, at load: running past the time
    // limit there stops the batch before any document is judged.
    let run = batch_json(&batch_arg, "tests/fixtures/policies/timeout", &["--timeout-ms", "200"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("time limit") && run.stderr.contains("hint:"), "{}", run.stderr);
}
