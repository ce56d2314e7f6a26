//! Drift against the peers (scipy, Evidently) on the fixtures made by
//! `tests/fixtures/drift/generate.py`, and `modelgate drift` end to end on bad input:
//! every case fails closed (exit 2) naming the file and the column, with a hint.

mod util;

use std::path::{Path, PathBuf};

use modelgate::data::drift::{self, DriftSpec, Method, MethodChoice};
use serde_json::Value;
use util::{assert_fails_closed, fixture, modelgate};

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("drift/expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn path(file: &str) -> PathBuf {
    fixture(&format!("drift/{file}"))
}

/// Equal to 1e-9 relative, or 1e-12 absolute for values near 0.
fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-12 || (actual - expected).abs() <= 1e-9 * expected.abs()
}

fn assert_close(actual: Option<f64>, expected: &Value, what: &str) {
    let expected = expected.as_f64().unwrap_or_else(|| panic!("{what}: no expected number"));
    let actual = actual.unwrap_or_else(|| panic!("{what}: no value, peer says {expected}"));
    assert!(close(actual, expected), "{what}: modelgate {actual:e}, peer {expected:e}");
}

fn spec(case: &Value) -> DriftSpec {
    let reference = path(case["reference"].as_str().expect("reference"));
    let current = path(case["current"].as_str().expect("current"));
    DriftSpec::new(&reference, &current)
}

#[test]
fn auto_matches_evidently_per_column_and_for_the_dataset() {
    for case in expected()["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let drift = drift::measure(&spec(case)).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(drift.reference_rows, case["reference_rows"].as_u64().expect("rows"), "{name}");
        assert_eq!(drift.current_rows, case["current_rows"].as_u64().expect("rows"), "{name}");
        let columns = case["columns"].as_object().expect("columns");
        assert_eq!(drift.features.len(), columns.len(), "{name}: columns compared");
        for (column, peer) in columns {
            let what = format!("{name}/{column}");
            let feature = &drift.features[column];
            let auto = &peer["auto"];
            assert_eq!(feature.method, auto["method"].as_str().expect("method"), "{what}: method");
            assert_eq!(feature.column_type.as_deref(), peer["column_type"].as_str(), "{what}: type");
            assert_close(Some(feature.score), &auto["score"], &format!("{what}: score"));
            assert_close(Some(feature.threshold), &auto["threshold"], &format!("{what}: threshold"));
            assert_eq!(feature.drifted, auto["drifted"].as_bool().expect("drifted"), "{what}: drifted");
            assert_eq!(feature.reference_values, peer["reference_values"].as_u64(), "{what}: reference values");
            assert_eq!(feature.current_values, peer["current_values"].as_u64(), "{what}: current values");
            assert_eq!(feature.unique_values, peer["unique_values"].as_u64(), "{what}: unique values");
        }
        let dataset = &case["dataset"];
        assert_eq!(drift.drifted_count, dataset["drifted_count"].as_u64(), "{name}: drifted count");
        assert_close(Some(drift.drifted_share), &dataset["drifted_share"], &format!("{name}: share"));
        assert_eq!(drift.dataset_drift, dataset["dataset_drift"].as_bool(), "{name}: dataset drift");
    }
}

#[test]
fn every_method_matches_scipy_and_evidently() {
    let mut compared = 0;
    for case in expected()["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let columns = case["columns"].as_object().expect("columns");
        for method in Method::ALL {
            let applicable: Vec<String> = columns
                .iter()
                .filter(|(_, peer)| peer["methods"].get(method.as_str()).is_some())
                .map(|(column, _)| column.clone())
                .collect();
            if applicable.is_empty() {
                continue;
            }
            let mut spec = spec(case);
            spec.method = MethodChoice::Method(method);
            spec.columns = applicable.clone();
            // chisquare and z are for categorical columns: Evidently's functions were run on
            // these columns as categorical ones.
            if matches!(method, Method::Chisquare | Method::Z) {
                spec.categorical = applicable.clone();
            }
            let drift = drift::measure(&spec).unwrap_or_else(|error| panic!("{name} {}: {error}", method.as_str()));
            for column in &applicable {
                let what = format!("{name}/{column} {}", method.as_str());
                let peer = &columns[column]["methods"][method.as_str()];
                let feature = &drift.features[column];
                assert_close(Some(feature.score), &peer["score"], &format!("{what}: score"));
                if let Some(p_value) = peer.get("p_value") {
                    assert_close(feature.p_value, p_value, &format!("{what}: p-value"));
                }
                if let Some(statistic) = peer.get("statistic") {
                    assert_close(feature.statistic, statistic, &format!("{what}: statistic"));
                }
                assert_eq!(feature.threshold, method.default_threshold(), "{what}");
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "only {compared} comparisons");
}

// ---------------------------------------------------------------- the command

fn small() -> (String, String) {
    (path("small_reference.parquet").display().to_string(), path("small_current.csv").display().to_string())
}

fn drift_cli(reference: &str, current: &str, extra: &[&str]) -> util::Run {
    let mut args = vec!["drift", "--reference", reference, "--current", current];
    args.extend_from_slice(extra);
    modelgate(&args)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

#[test]
fn exit_1_on_dataset_drift_and_json_is_the_evidence_section() {
    let (reference, current) = small();
    let run = drift_cli(&reference, &current, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["dataset_drift"], true);
    assert_eq!(json["features"]["income"]["rule"], "p_value <= threshold");
    assert_eq!(json["features"]["city"]["rule"], "p_value < threshold");
    // 600 rows: 135 missing cells and one infinity left out, counted apart.
    assert_eq!(json["features"]["gappy"]["reference_missing"], 135);
    assert_eq!(json["features"]["gappy"]["reference_non_finite"], 1);
    assert_eq!(json["features"]["gappy"]["reference_values"], 464);
    let evidence: modelgate::evidence::Drift = serde_json::from_value(json).expect("evidence shape");
    assert_eq!(evidence.features.len(), 9);
}

#[test]
fn exit_0_without_dataset_drift_and_text_names_each_column() {
    let (reference, current) = small();
    let run = drift_cli(&reference, &current, &["--columns", "score,gappy,constant"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for needle in ["score", "gappy", "constant", "0 of 3 columns drifted", "no dataset drift"] {
        assert!(run.stdout.contains(needle), "{needle}:\n{}", run.stdout);
    }
}

#[test]
fn thresholds_are_taken_per_method_and_for_all() {
    let (reference, current) = small();
    let run = drift_cli(&reference, &current, &["--columns", "score", "--threshold", "ks=0.5", "-f", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.json()["features"]["score"]["threshold"], 0.5);
    assert_eq!(run.json()["features"]["score"]["drifted"], true);
    let run = drift_cli(&reference, &current, &["--columns", "score", "--threshold", "0.01", "-f", "json"]);
    assert_eq!(run.json()["features"]["score"]["threshold"], 0.01);
    let run = drift_cli(&reference, &current, &["--threshold", "ks=-1"]);
    assert_fails_closed(&run, &["threshold", "ks"]);
    let run = drift_cli(&reference, &current, &["--threshold", "ks=abc"]);
    assert_fails_closed(&run, &["abc"]);
}

#[test]
fn column_absent_from_both_tables() {
    let (reference, current) = small();
    let run = drift_cli(&reference, &current, &["--columns", "income,salary"]);
    assert_fails_closed(&run, &["`salary`", "neither table", "small_reference.parquet", "small_current.csv"]);
}

#[test]
fn column_absent_from_one_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = write(dir.path(), "reference.csv", "a,b\n1,x\n2,y\n");
    let current = write(dir.path(), "current.csv", "a\n1\n3\n");
    let run = drift_cli(&reference, &current, &["--columns", "a,b"]);
    assert_fails_closed(&run, &["current.csv", "no column `b` in the current table"]);
    // Not named: every reference column is compared, so serving must have it too.
    let run = drift_cli(&reference, &current, &[]);
    assert_fails_closed(&run, &["current.csv", "`b`"]);
    let run = drift_cli(&current, &reference, &["--columns", "b"]);
    assert_fails_closed(&run, &["no column `b` in the reference table"]);
}

#[test]
fn mismatched_column_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = write(dir.path(), "reference.csv", "a\n1\n2\n3\n");
    let current = write(dir.path(), "current.csv", "a\nx\ny\n1\n");
    let run = drift_cli(&reference, &current, &[]);
    assert_fails_closed(&run, &["column `a` has different types", "numeric", "text", "--categorical a"]);
    // Declared as categories, the column compares.
    let run = drift_cli(&reference, &current, &["--categorical", "a", "-f", "json"]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    // Parquet: a float column against a string column.
    let (parquet, _) = small();
    let current = write(dir.path(), "income.csv", "income\nhigh\nlow\n");
    let run = drift_cli(&parquet, &current, &["--columns", "income"]);
    assert_fails_closed(&run, &["column `income` has different types"]);
}

#[test]
fn all_null_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = write(dir.path(), "reference.csv", "a,b\n1,\n2,NA\n3,\n");
    let current = write(dir.path(), "current.csv", "a,b\n1,2\n2,3\n");
    let run = drift_cli(&reference, &current, &[]);
    assert_fails_closed(&run, &["reference.csv", "column `b` has no values in the reference table", "3 missing"]);
    let run = drift_cli(&current, &reference, &[]);
    assert_fails_closed(&run, &["column `b` has no values in the current table"]);
}

#[test]
fn constant_columns_have_defined_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = write(dir.path(), "reference.csv", &format!("c\n{}", "7.5\n".repeat(50)));
    let same = write(dir.path(), "same.csv", &format!("c\n{}", "7.5\n".repeat(30)));
    let other = write(dir.path(), "other.csv", &format!("c\n{}", "8.5\n".repeat(30)));
    for method in ["ks", "psi", "wasserstein", "jensenshannon", "kl", "auto"] {
        let run = drift_cli(&reference, &same, &["--method", method, "-f", "json"]);
        assert_eq!(run.code, 0, "{method} on equal constants: {}", run.stderr);
        let feature = &run.json()["features"]["c"];
        assert_eq!(feature["drifted"], false, "{method}: {feature}");
        let run = drift_cli(&reference, &other, &["--method", method, "-f", "json"]);
        assert_eq!(run.code, 1, "{method} on different constants: {}", run.stderr);
        assert_eq!(run.json()["features"]["c"]["drifted"], true, "{method}");
    }
    // KS: D = 0 gives p = 1; D = 1 gives the exact tail.
    let run = drift_cli(&reference, &same, &["--method", "ks", "-f", "json"]);
    assert_eq!(run.json()["features"]["c"]["p_value"], 1.0);
    // PSI: one edge (the constant), both samples in the same bin: 0.
    let run = drift_cli(&reference, &same, &["--method", "psi", "-f", "json"]);
    assert_eq!(run.json()["features"]["c"]["score"], 0.0);
    // Chi-square on a single category: no degree of freedom, p = 1 (scipy gives NaN).
    let run = drift_cli(&reference, &same, &["--method", "chisquare", "--categorical", "c", "-f", "json"]);
    assert_eq!(run.json()["features"]["c"]["p_value"], 1.0);
}

#[test]
fn empty_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = write(dir.path(), "reference.csv", "a,b\n1,x\n");
    let header_only = write(dir.path(), "header.csv", "a,b\n");
    let run = drift_cli(&reference, &header_only, &[]);
    assert_fails_closed(&run, &["header.csv", "no rows"]);
    let empty = write(dir.path(), "empty.csv", "");
    let run = drift_cli(&empty, &reference, &[]);
    assert_fails_closed(&run, &["empty.csv", "empty"]);
}

#[test]
fn a_method_on_the_wrong_kind_of_column() {
    let (reference, current) = small();
    let run = drift_cli(&reference, &current, &["--method", "ks", "--columns", "city"]);
    assert_fails_closed(&run, &["ks is for numerical columns", "`city`"]);
    let run = drift_cli(&reference, &current, &["--method", "chisquare", "--columns", "income"]);
    assert_fails_closed(&run, &["chisquare is for categorical columns", "`income`"]);
    let run = drift_cli(&reference, &current, &["--column-method", "income=nope"]);
    assert_fails_closed(&run, &["unknown drift method `nope`"]);
}

#[test]
fn missing_file() {
    let (reference, _) = small();
    let run = drift_cli(&reference, "no/such.parquet", &[]);
    assert_fails_closed(&run, &["no/such.parquet"]);
}
