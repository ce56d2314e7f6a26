//! The prohibited-data scan: the validators agree with python-stdnum, precision and recall
//! per category on the labelled fixture stay at or above the figures stated in
//! docs/prohibited-data.md, `modelgate data scan` end to end, and every bad input fails
//! closed (exit 2, the file and field named, a hint) without a scanned value leaking.

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use modelgate::data::prohibited::validators::Validator;
use modelgate::data::prohibited::{self, classify_column, Detectors, ScanSpec};
use util::{assert_fails_closed, fixture, modelgate};

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    reader.records().map(|record| record.expect("fixture row").iter().map(str::to_string).collect()).collect()
}

#[test]
fn validators_agree_with_python_stdnum() {
    let rows = read_csv(&fixture("prohibited/validators.csv"));
    assert!(rows.len() > 3000, "fixture too small: {}", rows.len());
    let mut disagreements = Vec::new();
    let mut checked: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for row in &rows {
        let (name, value, expected) = (&row[0], &row[1], row[2] == "1");
        let validator = Validator::from_name(name).unwrap_or_else(|| panic!("unknown validator {name}"));
        let got = validator.check(value.as_bytes());
        let entry = checked.entry(name.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(expected);
        if got != expected {
            disagreements.push(format!("{name} {value:?}: stdnum {expected}, modelgate {got}"));
        }
    }
    // Both verdicts occur for every validator, so agreement is not trivially reached.
    for (name, (total, valid)) in &checked {
        assert!(*valid > 20 && total - valid > 20, "{name}: {valid} valid of {total}");
    }
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
}

/// The minimum precision and recall per category, as stated in docs/prohibited-data.md.
const FLOORS: &[(&str, f64, f64)] = &[
    ("us_ssn", 0.98, 0.98),
    ("payment_card", 0.98, 0.98),
    ("iban", 0.98, 0.98),
    ("email", 0.98, 0.98),
    ("phone", 0.98, 0.98),
    ("ip_address", 0.98, 0.98),
    ("date_of_birth", 0.98, 0.98),
    ("geolocation", 0.98, 0.98),
    ("uk_nino", 0.98, 0.98),
    ("ca_sin", 0.98, 0.98),
    ("nl_bsn", 0.98, 0.98),
    ("de_tax_id", 0.98, 0.98),
    ("in_aadhaar", 0.98, 0.98),
    ("es_dni", 0.98, 0.98),
    ("fr_nir", 0.98, 0.98),
];

#[test]
fn precision_and_recall_on_the_labelled_fixture() {
    let rows = read_csv(&fixture("prohibited/labelled.csv"));
    let detectors = Detectors::new(true, &[], "test", (2026, 11, 24)).expect("built-in detectors");
    // Columns in fixture order, with their values and labels.
    let mut columns: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for row in rows {
        match columns.iter_mut().find(|(name, _)| *name == row[0]) {
            Some((_, values)) => values.push((row[1].clone(), row[2].clone())),
            None => columns.push((row[0].clone(), vec![(row[1].clone(), row[2].clone())])),
        }
    }
    // (true positives, false positives, false negatives) per category.
    let mut counts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (column, cells) in &columns {
        let values: Vec<&str> = cells.iter().map(|(value, _)| value.as_str()).collect();
        let predicted = classify_column(&detectors, column, &values);
        for ((value, label), categories) in cells.iter().zip(&predicted) {
            for category in categories {
                let entry = counts.entry(category.clone()).or_default();
                if category == label {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                    errors.entry(category.clone()).or_default().push(format!("FP {column}: {value}"));
                }
            }
            if !label.is_empty() && !categories.contains(label) {
                counts.entry(label.clone()).or_default().2 += 1;
                errors.entry(label.clone()).or_default().push(format!("FN {column}: {value}"));
            }
        }
    }
    let mut report = String::new();
    let mut failures = Vec::new();
    for &(category, min_precision, min_recall) in FLOORS {
        let (tp, fp, fn_) = counts.get(category).copied().unwrap_or_default();
        assert!(tp + fn_ >= 100, "{category}: only {} labelled values in the fixture", tp + fn_);
        let precision = tp as f64 / (tp + fp).max(1) as f64;
        let recall = tp as f64 / (tp + fn_).max(1) as f64;
        report.push_str(&format!(
            "{category:14} precision {precision:.4} recall {recall:.4} (tp {tp} fp {fp} fn {fn_})\n"
        ));
        if precision < min_precision || recall < min_recall {
            let examples = errors.get(category).map(|e| e[..e.len().min(8)].join("\n  ")).unwrap_or_default();
            failures.push(format!(
                "{category}: precision {precision:.4} (floor {min_precision}), recall {recall:.4} (floor {min_recall})\n  {examples}"
            ));
        }
    }
    // Categories the fixture does not label must not be reported at all.
    for (category, (tp, fp, _)) in &counts {
        if !FLOORS.iter().any(|(name, _, _)| name == category) {
            failures.push(format!("unexpected category {category}: {tp} + {fp} predictions"));
        }
    }
    eprintln!("{report}");
    assert!(failures.is_empty(), "{report}\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------- end to end

const SSNS: &[&str] = &["123-45-6789", "234-56-7891", "345-67-8912", "456-78-9123", "512-34-5678"];
const EMAILS: &[&str] = &["jane.doe@example.com", "li.wei@example.org", "o.brien@example.net"];

/// A CSV with an SSN column (no telling name), an email column, an innocent column and
/// a free-text column; `rows` rows.
fn pii_csv(dir: &Path, rows: usize) -> PathBuf {
    let mut text = String::from("customer_code,contact,amount,notes\n");
    for row in 0..rows {
        let ssn = SSNS[row % SSNS.len()];
        let email = if row % 4 == 0 { "" } else { EMAILS[row % EMAILS.len()] };
        let note = if row % 10 == 0 {
            format!("call back on +44 20 7946 {:04}", row % 10_000)
        } else {
            "nothing to report today".to_string()
        };
        text.push_str(&format!("{ssn},{email},{}.{:02},{note}\n", row % 500, row % 100));
    }
    let path = dir.join("train.csv");
    std::fs::write(&path, text).expect("write");
    path
}

fn leaked(output: &str) -> Vec<&'static str> {
    SSNS.iter()
        .chain(EMAILS)
        .copied()
        .filter(|value| output.contains(value))
        .chain(["7946"])
        .filter(|v| output.contains(v))
        .collect()
}

#[test]
fn json_output_is_the_evidence_section_and_holds_no_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = pii_csv(dir.path(), 1000);
    let file = path.to_str().expect("utf-8 path");
    let run = modelgate(&["data", "scan", file, "--full", "--format", "json"]);
    assert_eq!(run.code, 1, "detections over the limit exit 1: {}", run.stderr);
    let scan: modelgate::evidence::ProhibitedScan = serde_json::from_value(run.json()).expect("evidence section");
    assert_eq!(scan.sampled_rows, 1000);
    assert_eq!(scan.full_scan, Some(true));
    let find = |column: &str, category: &str| {
        scan.detections.iter().find(|d| d.column == column && d.category == category).cloned()
    };
    let ssn = find("customer_code", "us_ssn").expect("ssn detected");
    assert_eq!((ssn.match_fraction, ssn.matched_on.as_str()), (1.0, "values"));
    let email = find("contact", "email").expect("email detected");
    assert_eq!(email.non_null, Some(750));
    assert_eq!(email.match_fraction, 1.0);
    let phone = find("notes", "phone").expect("phone in free text");
    assert_eq!((phone.match_fraction, phone.free_text), (0.1, Some(true)));
    assert!(find("amount", "geolocation").is_none(), "{:?}", scan.detections);
    assert!(leaked(&run.stdout).is_empty(), "values leaked: {:?}", leaked(&run.stdout));
    let text = modelgate(&["data", "scan", file, "--full"]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("customer_code") && text.stdout.contains("us_ssn"), "{}", text.stdout);
    assert!(leaked(&text.stdout).is_empty(), "values leaked into text: {}", text.stdout);
}

#[test]
fn sampling_is_deterministic_and_sized() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = pii_csv(dir.path(), 5000);
    let file = path.to_str().expect("utf-8 path");
    let scan = |seed: &str| modelgate(&["data", "scan", file, "--sample", "200", "--seed", seed, "--format", "json"]);
    let (first, again, other) = (scan("7"), scan("7"), scan("8"));
    assert_eq!(first.stdout, again.stdout);
    let json = first.json();
    assert_eq!(json["sampled_rows"], 200);
    assert_eq!(json["total_rows"], 5000);
    assert_eq!(json["seed"], 7);
    // Another seed draws other rows: the free-text phone share moves.
    let share = |json: &serde_json::Value| {
        json["detections"]
            .as_array()
            .expect("detections")
            .iter()
            .find(|d| d["column"] == "notes")
            .map(|d| d["non_null"].clone())
    };
    assert_eq!(share(&json), Some(serde_json::json!(200)));
    assert_ne!(first.stdout, other.stdout, "another seed, another sample");
}

#[test]
fn int64_parquet_column_of_ssns_is_scanned() {
    let file = fixture("prohibited/ssn_int64.parquet");
    let run = modelgate(&["data", "scan", file.to_str().expect("path"), "--full", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let detections = json["detections"].as_array().expect("detections");
    assert_eq!(detections.len(), 1, "{detections:?}");
    assert_eq!(detections[0]["column"], "customer_key");
    assert_eq!(detections[0]["category"], "us_ssn");
    // Integers lose leading zeros: SSNs of areas 001–099 have 8 digits and are not counted.
    let fraction = detections[0]["match_fraction"].as_f64().expect("fraction");
    assert!(fraction > 0.85 && fraction < 1.0, "{fraction}");
    assert_eq!(detections[0]["matched_on"], "values");
}

#[test]
fn parquet_date_columns_are_read_as_dates_and_other_types_by_name() {
    let file = fixture("prohibited/typed.parquet");
    let run = modelgate(&["data", "scan", file.to_str().expect("path"), "--full", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["columns_name_only"], serde_json::json!(["created_at", "is_active"]));
    let detections = json["detections"].as_array().expect("detections");
    assert_eq!(detections.len(), 1, "{detections:?}");
    assert_eq!(detections[0]["column"], "birth_date");
    assert_eq!(detections[0]["category"], "date_of_birth");
    assert_eq!(
        (detections[0]["match_fraction"].as_f64(), detections[0]["matched_on"].as_str()),
        (Some(1.0), Some("both"))
    );
}

#[test]
fn name_only_detection_does_not_fail_the_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.csv");
    std::fs::write(&path, "email,ssn\nredacted,x\nredacted,y\n").expect("write");
    let run = modelgate(&["data", "scan", path.to_str().expect("path"), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["detections"][0]["matched_on"], "name");
    assert_eq!(json["detections"][1]["category"], "us_ssn");
}

#[test]
fn user_detector_with_validator_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("t.csv");
    // Employee numbers: EMP- and a Luhn-valid number; the second row fails Luhn.
    std::fs::write(&table, "staff,other\nEMP-79927398713,a\nEMP-79927398710,b\nEMP-4111111111111111,c\n")
        .expect("write");
    let detectors = dir.path().join("detectors.yaml");
    std::fs::write(
        &detectors,
        "builtin_detectors: false\ndetectors:\n  - name: employee_id\n    pattern: 'EMP-(\\d+)'\n    validator: luhn\n    column_names: ['staff']\n",
    )
    .expect("write");
    let run = modelgate(&[
        "data",
        "scan",
        table.to_str().expect("path"),
        "--detectors",
        detectors.to_str().expect("path"),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["detectors"], serde_json::json!(["employee_id"]));
    let detection = &json["detections"][0];
    assert_eq!((detection["matched"].as_u64(), detection["matched_on"].as_str()), (Some(2), Some("both")));
}

#[test]
fn library_scan_with_columns_and_today() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.csv");
    let mut text = String::from("signup,birthday\n");
    for row in 0..50 {
        text.push_str(&format!("2024-03-{:02},1980-05-{:02}\n", row % 28 + 1, row % 28 + 1));
    }
    std::fs::write(&path, text).expect("write");
    let spec = ScanSpec {
        table: path.clone(),
        display_path: "t.csv".to_string(),
        columns: vec!["signup".to_string(), "birthday".to_string()],
        sample_rows: 10,
        full_scan: false,
        seed: 1,
        builtin_detectors: true,
        detectors: Vec::new(),
        detectors_source: "test".to_string(),
        today: Some((2026, 1, 1)),
    };
    let scan = prohibited::scan(&spec).expect("scan");
    assert_eq!(scan.sampled_rows, 10);
    assert_eq!(scan.detections.len(), 1, "{:?}", scan.detections);
    assert_eq!(scan.detections[0].column, "birthday");
    assert_eq!(scan.detections[0].matched_on, "both");
}

// ---------------------------------------------------------------- bad input

fn detectors_file(dir: &Path, body: &str) -> String {
    let path = dir.join("detectors.toml");
    std::fs::write(&path, body).expect("write");
    path.display().to_string()
}

fn scan_with_detectors(dir: &Path, body: &str) -> util::Run {
    let table = pii_csv(dir, 20);
    let detectors = detectors_file(dir, body);
    modelgate(&["data", "scan", table.to_str().expect("path"), "--detectors", &detectors])
}

#[test]
fn unknown_validator_is_an_error_naming_the_detector() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = scan_with_detectors(
        dir.path(),
        "[[detectors]]\nname = \"staff\"\npattern = \"E\\\\d+\"\nvalidator = \"lunh\"\n",
    );
    assert_fails_closed(
        &run,
        &["detectors.toml", "detector `staff`", "field `validator`", "unknown validator `lunh`", "luhn"],
    );
}

#[test]
fn invalid_regex_is_an_error_naming_the_detector_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = scan_with_detectors(dir.path(), "[[detectors]]\nname = \"staff\"\npattern = \"E(\\\\d+\"\n");
    assert_fails_closed(&run, &["detector `staff`", "field `pattern`", "invalid regex"]);
    let run = scan_with_detectors(dir.path(), "[[detectors]]\nname = \"staff\"\ncolumn_names = [\"[a-\"]\n");
    assert_fails_closed(&run, &["detector `staff`", "field `column_names`", "invalid regex"]);
}

#[test]
fn unknown_field_in_the_detector_file_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = scan_with_detectors(dir.path(), "[[detectors]]\nname = \"staff\"\nregex = \"E\\\\d+\"\n");
    assert_fails_closed(&run, &["detectors.toml", "not a valid detector list", "regex"]);
}

#[test]
fn absent_column_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = pii_csv(dir.path(), 20);
    let run = modelgate(&["data", "scan", table.to_str().expect("path"), "--columns", "contact,ssn_number"]);
    assert_fails_closed(&run, &["train.csv", "no column `ssn_number`", "`customer_code`"]);
    assert!(leaked(&run.stderr).is_empty(), "values leaked into the error: {}", run.stderr);
}

#[test]
fn unreadable_tables_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("absent.parquet");
    assert_fails_closed(&modelgate(&["data", "scan", missing.to_str().expect("path")]), &["absent.parquet"]);
    let corrupt = dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt, b"PAR1 this is not parquet").expect("write");
    assert_fails_closed(
        &modelgate(&["data", "scan", corrupt.to_str().expect("path")]),
        &["corrupt.parquet", "Parquet"],
    );
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, "a,b\n123-45-6789,1\n234-56-7891\n").expect("write");
    let run = modelgate(&["data", "scan", ragged.to_str().expect("path"), "--full"]);
    assert_fails_closed(&run, &["ragged.csv", "line 3"]);
    assert!(!run.stderr.contains("234-56-7891"), "a value leaked into the error: {}", run.stderr);
}

#[test]
fn zero_sample_and_bad_fraction_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = pii_csv(dir.path(), 20);
    let file = table.to_str().expect("path");
    assert_fails_closed(&modelgate(&["data", "scan", file, "--sample", "0"]), &["sample_rows is 0"]);
    assert_fails_closed(&modelgate(&["data", "scan", file, "--max-fraction", "2"]), &["--max-fraction"]);
}
