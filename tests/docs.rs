//! Documentation evidence: real card shapes read against what huggingface_hub makes of
//! them (tests/fixtures/docs/expected.json, from generate.py), every bad input refused
//! or reported, and `modelgate docs check|init` end to end.

mod util;

use chrono::NaiveDate;
use modelgate::docs::read::{read, ReadOptions};
use modelgate::docs::Kind;
use modelgate::evidence::Document;
use serde_json::Value;
use util::{copy_dir, fixture, modelgate, modelgate_in, root};

fn options() -> ReadOptions {
    ReadOptions { today: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"), git_dates: false }
}

fn doc(kind: Kind, name: &str) -> Document {
    let path = fixture(&format!("docs/{name}"));
    read(kind, &path, name, &options()).unwrap_or_else(|error| panic!("{name}: {}", error.message))
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("docs/expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("json")
}

fn field<'a>(document: &'a Document, name: &str) -> &'a modelgate::evidence::DocumentField {
    document.fields.get(name).unwrap_or_else(|| panic!("no field {name} in {:#?}", document.fields))
}

fn reason(document: &Document, name: &str) -> Option<String> {
    field(document, name).reason.clone()
}

/// Our headings are the ones a CommonMark reader finds (generate.py's extractor).
fn assert_headings(document: &Document, expected: &Value) {
    let ours: Vec<(String, u64, u64)> =
        document.sections.iter().map(|section| (section.heading.clone(), section.level as u64, section.line)).collect();
    let theirs: Vec<(String, u64, u64)> = expected
        .as_array()
        .expect("headings")
        .iter()
        .map(|h| {
            (
                h["text"].as_str().expect("text").to_string(),
                h["level"].as_u64().expect("level"),
                h["line"].as_u64().expect("line"),
            )
        })
        .collect();
    assert_eq!(ours, theirs);
}

/// Front matter and model-index as huggingface_hub reads them.
fn assert_front_matter(document: &Document, card: &Value) {
    assert_eq!(document.metadata.as_ref().expect("metadata"), &card["raw_front_matter"]);
    let results = card["eval_results"].as_array().cloned().unwrap_or_default();
    assert_eq!(document.claims.len(), results.len(), "{:#?}", document.claims);
    for (claim, result) in document.claims.iter().zip(&results) {
        assert_eq!(
            claim.metric,
            modelgate::docs::consistency::metric_name(result["metric_type"].as_str().expect("type"))
        );
        assert_eq!(Some(claim.claimed), result["metric_value"].as_f64());
        assert_eq!(claim.dataset.as_deref(), result["dataset_name"].as_str());
        assert_eq!(claim.split.as_deref(), result["dataset_split"].as_str());
    }
}

/// A Hugging Face model card, checked against what huggingface_hub read of it.
fn hub_card(name: &str) -> Document {
    let expected = expected();
    let card = &expected["cards"][name];
    let document = doc(Kind::ModelCard, name);
    assert_eq!(document.format.as_deref(), Some("huggingface"));
    assert_front_matter(&document, card);
    assert_headings(&document, &card["headings"]);
    document
}

#[test]
fn untouched_hugging_face_template_is_not_a_filled_in_card() {
    let document = hub_card("hf-template-untouched.md");
    for name in [
        "model_description",
        "intended_use",
        "out_of_scope_use",
        "limitations",
        "training_data",
        "evaluation",
        "ethical_considerations",
        "training_procedure",
        "contact",
    ] {
        let entry = field(&document, name);
        assert!(!entry.populated, "{name} counted as filled in: {entry:?}");
        assert!(
            matches!(entry.reason.as_deref(), Some("placeholder" | "template-prompt" | "heading-only")),
            "{name}: {entry:?}"
        );
    }
    // "## Uses" holds only a comment; its sub-section "### Direct Use" the placeholder.
    let uses = document.sections.iter().find(|s| s.heading == "Uses").expect("Uses");
    assert_eq!(uses.reason.as_deref(), Some("heading-only"));
    // Both are synonyms of intended_use; the placeholder is the more telling reason.
    assert_eq!(field(&document, "intended_use").heading.as_deref(), Some("Direct Use"));
    assert_eq!(field(&document, "intended_use").reason.as_deref(), Some("placeholder"));
    // The description holds only labels whose values are placeholders, and the licence
    // and language echoed from the metadata.
    assert_eq!(reason(&document, "model_description").as_deref(), Some("template-prompt"));
    // The licence is the one front-matter value the template fills.
    assert!(field(&document, "license").populated);
}

#[test]
fn filled_hugging_face_card_is_populated_and_its_claims_read() {
    let document = hub_card("hf-filled.md");
    for name in [
        "model_description",
        "intended_use",
        "out_of_scope_use",
        "limitations",
        "training_data",
        "evaluation",
        "ethical_considerations",
        "license",
        "contact",
    ] {
        assert!(field(&document, name).populated, "{name}: {:?}", field(&document, name));
    }
    assert_eq!(document.datasets.len(), 1);
    assert_eq!(document.datasets[0].name, "northwind-bank/consumer-loans-2019-2024");
    assert!(document.problems.is_empty(), "{:?}", document.problems);
}

#[test]
fn trainer_generated_card_keeps_its_placeholders_missing() {
    let document = hub_card("hf-trainer-autogen.md");
    // Trainer writes "More information needed" under these.
    for name in ["intended_use", "limitations", "training_data"] {
        assert_eq!(reason(&document, name).as_deref(), Some("placeholder"), "{name}");
    }
    // Its results are measured on the validation split: shown, not compared.
    let mut section = modelgate::evidence::Evaluation::default();
    section.metrics.insert("accuracy".into(), Some(0.5));
    let mut compared = document.clone();
    modelgate::docs::consistency::compare(&mut compared, Some(&section), None);
    assert!(compared.claims.iter().all(|claim| claim.measured.is_none() && claim.not_compared.is_some()));
}

#[test]
fn numbered_and_respelled_headings_match_by_their_rules() {
    let expected = expected();
    let card = &expected["cards"]["hf-numbered-headings.md"];
    let document = doc(Kind::ModelCard, "hf-numbered-headings.md");
    assert_headings(&document, &card["headings"]);
    let rule = |name: &str| field(&document, name).rule.clone();
    assert_eq!(rule("intended_use").as_deref(), Some("numbering"));
    assert_eq!(rule("limitations").as_deref(), Some("numbering"));
    assert_eq!(rule("ethical_considerations").as_deref(), Some("exact"));
    assert_eq!(rule("training_data").as_deref(), Some("loose"));
    assert_eq!(rule("evaluation").as_deref(), Some("exact"));
    // "5. Contact": numbering stripped, then "Contact", a synonym of "Model card contact".
    assert_eq!(rule("contact").as_deref(), Some("synonym"));
}

#[test]
fn model_card_toolkit_json() {
    let expected = expected();
    let document = doc(Kind::ModelCard, "mct.json");
    assert_eq!(document.format.as_deref(), Some("model-card-toolkit"));
    for name in [
        "model_description",
        "intended_use",
        "limitations",
        "ethical_considerations",
        "training_data",
        "evaluation",
        "license",
    ] {
        assert!(field(&document, name).populated, "{name}: {:?}", field(&document, name));
    }
    let count = expected["mct.json"]["metric_count"].as_u64().expect("count") as usize;
    assert_eq!(document.claims.len(), count);
    let overall: Vec<_> = document.claims.iter().filter(|claim| claim.not_compared.is_none()).collect();
    let accuracy: f64 = expected["mct.json"]["overall_accuracy"].as_str().expect("text").parse().expect("number");
    assert!(overall.iter().any(|claim| claim.metric == "accuracy" && claim.claimed == accuracy), "{overall:#?}");
    assert!(document.model_version.is_some());
}

#[test]
fn datasheets_in_markdown_and_yaml() {
    let expected = expected();
    let gebru = doc(Kind::Datasheet, "datasheet-gebru.md");
    assert_headings(&gebru, &expected["markdown_without_front_matter"]["datasheet-gebru.md"]["headings"]);
    for name in
        ["motivation", "composition", "collection_process", "preprocessing", "uses", "distribution", "maintenance"]
    {
        assert!(field(&gebru, name).populated, "{name}: {:?}", field(&gebru, name));
    }
    let yaml = doc(Kind::Datasheet, "datasheet.yaml");
    assert_eq!(yaml.format.as_deref(), Some("yaml"));
    assert_eq!(reason(&yaml, "distribution").as_deref(), Some("placeholder"));
    assert!(field(&yaml, "motivation").populated);
    let dataset_card = doc(Kind::Datasheet, "hf-dataset-template-untouched.md");
    assert_eq!(dataset_card.format.as_deref(), Some("huggingface"));
    for name in ["motivation", "composition", "collection_process", "uses"] {
        assert!(!field(&dataset_card, name).populated, "{name}: {:?}", field(&dataset_card, name));
    }
}

#[test]
fn risk_assessment_shape() {
    let expected = expected();
    let written = &expected["yaml_documents"]["risk-assessment.yaml"];
    let document = doc(Kind::RiskAssessment, "risk-assessment.yaml");
    for name in [
        "intended_purpose",
        "risk_tier",
        "risks",
        "mitigations",
        "risk_owners",
        "human_oversight",
        "reviewer",
        "review_date",
        "next_review_due",
    ] {
        assert!(field(&document, name).populated, "{name}: {:?}", field(&document, name));
    }
    assert_eq!(document.model_version.as_deref().map(Value::from), Some(written["model_version"].clone()));
    assert_eq!(document.risk_tier.as_deref(), written["risk_tier"].as_str().map(str::to_ascii_lowercase).as_deref());
    let due = written["next_review_due"].as_str().or_else(|| written["next_review_due"]["$yaml_timestamp"].as_str());
    assert_eq!(document.next_review_due.as_deref(), due);
    let due = due.and_then(modelgate::docs::values::parse_date).expect("a due date");
    assert_eq!(document.review_overdue, Some(options().today > due));
    assert!(document.last_updated.is_some() && document.age_days.is_some());
}

#[test]
fn a_risk_without_its_parts_is_incomplete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("risk.yaml");
    std::fs::write(
        &path,
        "intended_purpose: Rank loan applications for review.\nrisks:\n- id: R1\n  description: Proxy discrimination\n  likelihood: medium\n  impact: high\n  mitigation: TBD\n",
    )
    .expect("write");
    let document = read(Kind::RiskAssessment, &path, "risk.yaml", &options()).expect("read");
    assert!(field(&document, "risks").populated);
    assert_eq!(reason(&document, "mitigations").as_deref(), Some("incomplete"));
    assert_eq!(reason(&document, "risk_owners").as_deref(), Some("incomplete"));
    assert_eq!(reason(&document, "reviewer").as_deref(), Some("absent"));
    assert_eq!(field(&document, "risk_owners").detail.as_deref(), Some("no owner for R1"));
    assert_eq!(field(&document, "mitigations").detail.as_deref(), Some("no mitigation for R1"));
    assert!(document.problems.is_empty(), "{:?}", document.problems);
}

// ---------------------------------------------------------------- bad input

fn read_error(name: &str) -> modelgate::error::Error {
    let path = fixture(&format!("docs/{name}"));
    read(Kind::ModelCard, &path, name, &options()).expect_err(name)
}

#[test]
fn bad_yaml_names_the_line_in_the_file() {
    let error = read_error("bad-yaml.md");
    assert_eq!(error.kind.as_str(), "document-invalid");
    // huggingface_hub says line 3: it counts from inside the front matter.
    assert!(error.message.contains("bad-yaml.md:4:40: front matter is not valid YAML"), "{}", error.message);
    assert!(error.hint.is_some());
}

#[test]
fn duplicate_keys_are_an_error_not_a_silent_last_value() {
    let error = read_error("duplicate-keys.md");
    assert!(error.message.contains("duplicate key `license`"), "{}", error.message);
    assert!(error.hint.as_deref().is_some_and(|hint| hint.contains("silently lost")));
}

#[test]
fn non_utf8_and_binary_documents_are_refused() {
    let error = read_error("non-utf8.md");
    assert!(error.message.contains("not UTF-8 text (byte 0xe9)"), "{}", error.message);
    let error = read_error("binary.md");
    assert!(error.message.contains("binary content"), "{}", error.message);
}

#[test]
fn huge_documents_are_refused_without_reading_them_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("card.md");
    std::fs::write(&path, "a".repeat(5 * 1024 * 1024)).expect("write");
    let error = read(Kind::ModelCard, &path, "card.md", &options()).expect_err("huge");
    assert!(error.message.contains("larger than 4 MiB"), "{}", error.message);
}

#[test]
fn wrong_types_and_bad_dates_are_findings() {
    let document = doc(Kind::ModelCard, "bad-types.md");
    assert_eq!(reason(&document, "license").as_deref(), Some("invalid"));
    assert!(
        document
            .problems
            .iter()
            .any(|p| p.contains("`license` (line 2): expected a string or a list of strings, found a list of numbers")),
        "{:?}",
        document.problems
    );
    let document = doc(Kind::ModelCard, "bad-date.md");
    assert!(document.last_updated.is_none());
    assert!(document.problems.iter().any(|p| p.contains("`31/02/2026` is not a date")), "{:?}", document.problems);
}

#[test]
fn unclosed_front_matter_and_a_list_for_a_document_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("card.md");
    std::fs::write(&path, "---\nlicense: mit\n# Card\n").expect("write");
    let error = read(Kind::ModelCard, &path, "card.md", &options()).expect_err("unclosed");
    assert!(error.message.contains("never closed"), "{}", error.message);
    let path = dir.path().join("risk.yaml");
    std::fs::write(&path, "- a\n- b\n").expect("write");
    let error = read(Kind::RiskAssessment, &path, "risk.yaml", &options()).expect_err("list");
    assert!(error.message.contains("is a list of strings, not a mapping"), "{}", error.message);
}

// ---------------------------------------------------------------- end to end

fn finding<'a>(report: &'a Value, code: &str, key: &str, value: &str) -> &'a Value {
    report["violations"]
        .as_array()
        .into_iter()
        .chain(report["warnings"].as_array())
        .flatten()
        .find(|v| v["code"] == code && v["details"][key] == value)
        .unwrap_or_else(|| panic!("no {code} with {key}={value} in {report:#}"))
}

#[test]
fn docs_check_passes_the_example_and_explains_the_blocked_one() {
    let run = modelgate(&["docs", "check", "examples/credit-scoring"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("modelgate docs: PASS  credit-scoring 2.4.0"), "{}", run.stdout);

    let run = modelgate(&["docs", "check", "examples/credit-scoring-blocked", "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["decision"], "deny");
    finding(&report, "documentation/risk-assessment-missing", "document", "risk_assessment");
    let placeholder = finding(&report, "documentation/required-field-missing", "field", "limitations");
    assert_eq!(placeholder["details"]["measured"], "placeholder");
    let stale = finding(&report, "documentation/stale", "document", "model_card");
    assert!(stale["details"]["measured"].as_u64().is_some_and(|age| age > 180));
    let version = finding(&report, "documentation/version-mismatch", "document", "model_card");
    assert_eq!(version["details"]["measured"], "2.4.0");
    let claim = finding(&report, "documentation/metric-claim-mismatch", "metric", "accuracy");
    assert_eq!(claim["details"]["claimed"], 0.93);
    assert!(claim["remediation"].as_str().is_some_and(|text| !text.is_empty()));
}

#[test]
fn check_fills_the_documentation_section_natively() {
    let run = modelgate(&["collect", "examples/credit-scoring"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let evidence = run.json();
    let card = &evidence["documentation"]["model_card"];
    assert_eq!(card["present"], true);
    assert_eq!(card["path"], "model/README.md");
    assert_eq!(card["model_version"], "2.4.0");
    assert!(card["claims"]
        .as_array()
        .is_some_and(|claims| claims.iter().all(|c| c["difference"].as_f64().is_some_and(|d| d <= 0.01))));
    assert_eq!(card["datasets"][0]["in_lineage"], true);
    assert_eq!(evidence["documentation"]["risk_assessment"]["fields"]["risks"]["populated"], true);
    let blocked = modelgate(&["check", "examples/credit-scoring-blocked", "--format", "json"]).json();
    finding(&blocked, "documentation/metric-claim-mismatch", "metric", "accuracy");
}

#[test]
fn docs_init_scaffolds_documents_that_pass_once_filled_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = dir.path();
    let example = root().join("examples/credit-scoring");
    let config = std::fs::read_to_string(example.join("modelgate.toml")).expect("config");
    // The example's config, without its documents, reading the example's data in place.
    let config = config
        .split("\n[documentation]")
        .next()
        .expect("config")
        .replace("path = \"../../policies\"", &format!("path = {:?}", root().join("policies").display().to_string()));
    let config = config.split("\n[artifacts]").next().expect("config").to_string();
    copy_dir(&example.join("data"), &project.join("data"));
    copy_dir(&example.join("loadtest"), &project.join("loadtest"));
    std::fs::copy(example.join("dvc.lock"), project.join("dvc.lock")).expect("dvc.lock");
    std::fs::write(project.join("modelgate.toml"), &config).expect("config");

    let run = modelgate_in(project, &["docs", "init"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("model card       docs/model-card.md: created"), "{}", run.stdout);
    assert!(run.stdout.contains("[documentation]"), "{}", run.stdout);
    let mut config = config;
    config.push_str(
        "\n[documentation]\nmodel_card = \"docs/model-card.md\"\ndatasheet = \"docs/datasheet.md\"\nrisk_assessment = \"docs/risk-assessment.yaml\"\n",
    );
    std::fs::write(project.join("modelgate.toml"), &config).expect("config");

    // As scaffolded, the places to fill are missing.
    let run = modelgate_in(project, &["docs", "check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    finding(&report, "documentation/required-field-missing", "field", "intended_use");
    let review = finding(&report, "documentation/required-field-missing", "field", "next_review_due");
    assert_eq!(review["details"]["measured"], "placeholder");
    // Unfilled places are missing, not malformed.
    let codes: Vec<&str> =
        report["violations"].as_array().expect("violations").iter().filter_map(|v| v["code"].as_str()).collect();
    assert!(!codes.contains(&"documentation/invalid-content"), "{codes:?}");
    // The measured parts are real content and agree with the measurements.
    let card = &report["documentation"]["model_card"];
    assert_eq!(card["fields"]["evaluation"]["populated"], true);
    assert_eq!(card["model_version"], "2.4.0");
    assert!(card["claims"].as_array().is_some_and(
        |claims| !claims.is_empty() && claims.iter().all(|c| c["difference"].as_f64().is_some_and(|d| d < 1e-4))
    ));

    // A person fills every marked place.
    for name in ["docs/model-card.md", "docs/datasheet.md", "docs/risk-assessment.yaml"] {
        let path = project.join(name);
        let text = std::fs::read_to_string(&path).expect("scaffold");
        assert!(text.contains("[More Information Needed]"));
        let filled = text
            .replace("review_date: \"[More Information Needed]\"", "review_date: 2026-11-20")
            .replace("next_review_due: \"[More Information Needed]\"", "next_review_due: 2027-05-20")
            .replace("license: \"[More Information Needed]\"", "license: apache-2.0")
            .replace("likelihood: \"[More Information Needed]\"", "likelihood: medium")
            .replace("impact: \"[More Information Needed]\"", "impact: high")
            .replace("\"[More Information Needed]\"", "\"Written by the risk team after review.\"")
            .replace("[More Information Needed]", "Written by the model owner: real prose for this section.");
        std::fs::write(&path, filled).expect("fill");
    }
    let run = modelgate_in(project, &["docs", "check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // Re-running updates the measured parts and keeps the person's text.
    let card_path = project.join("docs/model-card.md");
    let before = std::fs::read_to_string(&card_path).expect("card");
    let edited = before.replace("| accuracy | ", "| accuracy | 0.1234 (stale) ");
    std::fs::write(&card_path, &edited).expect("edit");
    let run = modelgate_in(project, &["docs", "init"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("docs/model-card.md: updated"), "{}", run.stdout);
    assert!(run.stdout.contains("docs/risk-assessment.yaml: unchanged"), "{}", run.stdout);
    let after = std::fs::read_to_string(&card_path).expect("card");
    assert_eq!(after, before);
    assert!(after.contains("Written by the model owner"));
}

/// A minimal project whose model card is `card` (written as `docs/card.md`).
fn project_with_card(card: &[u8], extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = root().join("policies").display().to_string();
    std::fs::write(
        dir.path().join("modelgate.toml"),
        format!(
            "[model]\nname = \"m\"\nversion = \"1.0.0\"\nrisk_tier = \"low\"\ntask = \"binary_classification\"\n\
             [deployment]\nenvironment = \"staging\"\n[policies]\npath = {policies:?}\n\
             [documentation]\nmodel_card = \"docs/card.md\"\n{extra}"
        ),
    )
    .expect("config");
    std::fs::create_dir_all(dir.path().join("docs")).expect("docs");
    std::fs::write(dir.path().join("docs/card.md"), card).expect("card");
    dir
}

#[test]
fn an_unreadable_document_fails_the_gate_closed() {
    let duplicate = std::fs::read(fixture("docs/duplicate-keys.md")).expect("fixture");
    let project = project_with_card(&duplicate, "");
    let run = modelgate_in(project.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["decision"], "error");
    assert_eq!(report["error"]["kind"], "document-invalid");
    assert!(report["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("docs/card.md:") && m.contains("duplicate key `license`")));
    assert!(report["error"]["hint"].as_str().is_some_and(|hint| !hint.is_empty()));
    let run = modelgate_in(project.path(), &["docs", "check"]);
    util::assert_fails_closed(&run, &["duplicate key `license`"]);
    let binary = std::fs::read(fixture("docs/binary.md")).expect("fixture");
    let run = modelgate_in(project_with_card(&binary, "").path(), &["docs", "check"]);
    util::assert_fails_closed(&run, &["binary content"]);
}

#[test]
fn a_document_named_but_not_there_is_evidence_not_an_error() {
    let project = project_with_card(b"", "risk_assessment = \"docs/risk.yaml\"\n");
    let run = modelgate_in(project.path(), &["docs", "check", "--format", "json"]);
    let report = run.json();
    assert_eq!(
        report["documentation"]["risk_assessment"],
        serde_json::json!({"present": false, "path": "docs/risk.yaml", "format": null, "fields": {}, "last_updated": null, "age_days": null, "model_version": null, "next_review_due": null})
    );
    // An empty model card is present and has nothing filled in: a finding, exit 1.
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(report["documentation"]["model_card"]["fields"]["intended_use"]["reason"], "absent");
}

#[test]
fn a_document_without_a_date_takes_its_last_commit() {
    let project = project_with_card(b"# Card\n\n## Intended use\n\nScoring.\n", "");
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(project.path())
            .env("GIT_AUTHOR_DATE", "2026-06-01T12:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-06-01T12:00:00Z")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status();
        status.is_ok_and(|status| status.success())
    };
    // git is part of the test environment (CI runs on a clone); without it this fails.
    assert!(git(&["init", "-q"]) && git(&["add", "docs/card.md"]) && git(&["commit", "-q", "-m", "card"]));
    let run = modelgate_in(project.path(), &["docs", "check", "--format", "json"]);
    let card = &run.json()["documentation"]["model_card"];
    assert_eq!(card["last_updated"], "2026-06-01");
    assert_eq!(card["last_updated_source"], "git");
    assert_eq!(card["age_days"], 183);
    // Turned off, the card is undated, which the policy reports.
    let config = std::fs::read_to_string(project.path().join("modelgate.toml")).expect("config");
    std::fs::write(project.path().join("modelgate.toml"), format!("{config}git_dates = false\n")).expect("config");
    let report = modelgate_in(project.path(), &["docs", "check", "--format", "json"]).json();
    assert_eq!(report["documentation"]["model_card"]["last_updated"], Value::Null);
    finding(&report, "documentation/undated", "document", "model_card");
}

#[test]
fn documentation_config_errors_are_clear() {
    let project = project_with_card(b"# Card\n", "[evidence]\ndocumentation = \"docs.json\"\n");
    let run = modelgate_in(project.path(), &["docs", "check"]);
    util::assert_fails_closed(&run, &["both [documentation] and [evidence] documentation are set"]);
    let project = project_with_card(b"# Card\n", "");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_modelgate"))
        .args(["collect"])
        .current_dir(project.path())
        .env("MODELGATE_NOW", "next tuesday")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("MODELGATE_NOW=`next tuesday` is not a date") && stderr.contains("hint:"), "{stderr}");
}

#[test]
fn risk_assessment_in_markdown_with_front_matter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("risk-assessment.md");
    std::fs::write(
        &path,
        "---\nmodel_version: \"3.0\"\nrisk_tier: High\nreviewer: Model risk committee\nreview_date: 2026-11-02\nnext_review_due: 2026-11-30\n\
         risks:\n- {id: R1, description: Proxy discrimination, likelihood: medium, impact: high, mitigation: Fairness gate, owner: CRO}\n---\n\n\
         # Risk assessment\n\n## 1. Intended purpose\n\nRanking applications for review.\n\n## Human Oversight\n\n<!-- who can override? -->\n",
    )
    .expect("write");
    let document = read(Kind::RiskAssessment, &path, "risk-assessment.md", &options()).expect("read");
    assert_eq!(document.format.as_deref(), Some("markdown"));
    assert_eq!(document.model_version.as_deref(), Some("3.0"));
    assert_eq!(document.risk_tier.as_deref(), Some("high"));
    assert_eq!(document.review_overdue, Some(true));
    assert_eq!(document.last_updated.as_deref(), Some("2026-11-02"));
    assert!(field(&document, "risks").populated && field(&document, "risk_owners").populated);
    assert_eq!(field(&document, "intended_purpose").rule.as_deref(), Some("numbering"));
    assert_eq!(reason(&document, "human_oversight").as_deref(), Some("heading-only"));
}
