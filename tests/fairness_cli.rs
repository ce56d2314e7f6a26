//! `modelgate fairness` end to end: the output shapes, and every kind of bad input
//! failing closed (exit 2, the file and the field named, a hint), never a silently
//! wrong number.

mod util;

use std::path::{Path, PathBuf};

use util::{assert_fails_closed, fixture, modelgate};

fn case(name: &str, file: &str) -> String {
    fixture(&format!("evaluation/cases/{name}/{file}")).display().to_string()
}

fn basic() -> String {
    case("binary_basic", "predictions.csv")
}

/// `fairness` on FILE with the binary_basic columns, plus `extra` arguments.
fn fairness(file: &str, extra: &[&str]) -> util::Run {
    let mut args = vec!["fairness", "--predictions", file, "--label", "y", "--prediction", "yhat"];
    args.extend_from_slice(extra);
    modelgate(&args)
}

/// A copy of the basic case's CSV with `edit` applied to its lines (header is line 0).
fn edited_csv(dir: &Path, edit: impl Fn(usize, &str) -> Option<String>) -> PathBuf {
    let text = std::fs::read_to_string(basic()).expect("fixture");
    let lines: Vec<String> = text.lines().enumerate().filter_map(|(i, line)| edit(i, line)).collect();
    let path = dir.join("edited.csv");
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    path
}

/// `line` with its field `index` (0-based) replaced by `value`.
fn set_field(line: &str, index: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[index] = value;
    fields.join(",")
}

#[test]
fn json_output_is_the_evidence_section_keyed_by_each_sensitive_spec() {
    let run =
        fairness(&basic(), &["--score", "p", "--sensitive", "race", "--sensitive", "race,sex", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let fairness = json["fairness"].as_object().expect("fairness");
    assert_eq!(fairness.keys().collect::<Vec<_>>(), ["race", "race,sex"]);
    assert_eq!(json["fairness"]["race,sex"]["attributes"], serde_json::json!(["race", "sex"]));
    assert!(json["fairness"]["race,sex"]["groups"]["black,female"]["count"].as_u64() > Some(0));
    assert_eq!(json["test_set"]["rows"], 2000);
    assert!(json["test_set"]["digest"].as_str().unwrap_or("").starts_with("sha256:"));
    // The section validates as evidence: it parses back into the schema types.
    let section: modelgate::evidence::Evaluation = serde_json::from_value(json).expect("evaluation section");
    assert!(section.metrics.contains_key("roc_auc"));
}

#[test]
fn text_output_shows_per_group_tables() {
    let run = fairness(&basic(), &["--score", "p", "--sensitive", "sex", "--sensitive", "race,sex"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stdout = run.stdout.replace(&basic(), "[FILE]");
    insta::assert_snapshot!("fairness_text", stdout);
}

#[test]
fn csv_gzip_and_parquet_give_the_same_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = basic();
    let gzip = dir.path().join("predictions.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, &std::fs::read(&csv).expect("read")).expect("gzip");
    std::fs::write(&gzip, encoder.finish().expect("gzip")).expect("write");
    let args = ["--score", "p", "--sensitive", "race,sex", "--format", "json"];
    let plain = fairness(&csv, &args).json();
    let zipped = fairness(&gzip.display().to_string(), &args).json();
    assert_eq!(plain["metrics"], zipped["metrics"]);
    assert_eq!(plain["fairness"], zipped["fairness"]);
    assert_eq!(zipped["test_set"]["format"], "csv+gzip");
}

#[test]
fn missing_column_lists_the_columns_that_exist() {
    let run = fairness(&basic(), &["--score", "prob"]);
    assert_fails_closed(&run, &["no column `prob` (the score column)", "`y`, `yhat`, `p`, `race`, `sex`, `age_band`"]);
    let run = fairness(&case("binary_weighted", "predictions.parquet"), &["--sensitive", "gender"]);
    assert_fails_closed(&run, &["no column `gender` (the sensitive attribute column)", "`race`"]);
}

#[test]
fn a_third_label_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = edited_csv(dir.path(), |i, line| Some(if i == 7 { set_field(line, 0, "2") } else { line.to_string() }));
    let run = fairness(&file.display().to_string(), &["--pos-label", "1"]);
    assert_fails_closed(&run, &["third label `2`", "`0`, `1`, `2`", "multiclass"]);
}

#[test]
fn string_labels_need_the_positive_label() {
    let file = case("binary_strings", "predictions.csv.gz");
    let run = fairness(&file, &[]);
    assert_fails_closed(&run, &["positive class cannot be inferred", "--pos-label"]);
    let run = fairness(&file, &["--pos-label", "aproved"]);
    assert_fails_closed(&run, &["no label or prediction is the positive label `aproved`"]);
    let run = fairness(&file, &["--pos-label", "approved", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["confusion_matrix"]["labels"], serde_json::json!(["denied", "approved"]));
}

#[test]
fn non_numeric_and_out_of_range_scores_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file =
        edited_csv(dir.path(), |i, line| Some(if i == 3 { line.replace("0.66", "high") } else { line.to_string() }));
    let run = fairness(&file.display().to_string(), &["--score", "p"]);
    assert_fails_closed(&run, &["data row 3 (line 4)", "score column `p` holds \"high\", which is not a number"]);

    let file =
        edited_csv(dir.path(), |i, line| Some(if i == 3 { line.replace("0.66", "1.5") } else { line.to_string() }));
    let run = fairness(&file.display().to_string(), &["--score", "p"]);
    assert_fails_closed(&run, &["data row 3", "outside [0, 1]", "--scores decision"]);
    // Declared as decision scores, the same file is fine (and has no log loss).
    let run = fairness(&file.display().to_string(), &["--score", "p", "--scores", "decision", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["metrics"].get("log_loss").is_none());
}

#[test]
fn missing_cells_are_counted_and_fail_unless_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = edited_csv(dir.path(), |i, line| {
        Some(match i {
            5 => set_field(line, 4, ""),
            6 => set_field(line, 2, "NaN"),
            9 => set_field(line, 2, "NA"),
            _ => line.to_string(),
        })
    });
    let file = file.display().to_string();
    let run = fairness(&file, &["--score", "p", "--sensitive", "sex"]);
    assert_fails_closed(
        &run,
        &["cells are missing", "score `p`: 1 missing, 1 NaN", "sensitive attribute `sex`: 1", "--drop-missing"],
    );
    let run = fairness(&file, &["--score", "p", "--sensitive", "sex", "--drop-missing", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["test_set"]["dropped_rows"], 3);
    assert_eq!(json["test_set"]["rows"], 1997);
    // The NaN is evidence of its own, apart from the gaps.
    assert_eq!(json["test_set"]["rows_read"], 2000);
    assert_eq!(json["test_set"]["non_finite"], serde_json::json!({"p": 1}));
}

#[test]
fn the_baseline_must_be_the_same_rows_in_the_same_order() {
    let candidate = case("baseline", "predictions.csv");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(case("baseline", "baseline.csv")).expect("baseline");
    let lines: Vec<&str> = text.lines().collect();
    let shorter = dir.path().join("shorter.csv");
    std::fs::write(&shorter, lines[..lines.len() - 1].join("\n") + "\n").expect("write");
    let run = fairness(&candidate, &["--baseline", &shorter.display().to_string()]);
    assert_fails_closed(&run, &["not on the same test set", "1999 rows against 2000"]);

    let mut swapped = lines.clone();
    swapped.swap(10, 1500);
    let reordered = dir.path().join("reordered.csv");
    std::fs::write(&reordered, swapped.join("\n") + "\n").expect("write");
    let run = fairness(&candidate, &["--sensitive", "race", "--baseline", &reordered.display().to_string()]);
    assert_fails_closed(&run, &["not on the same test set", "differ in data rows 1–2000"]);

    let run =
        fairness(&candidate, &["--score", "p", "--baseline", &case("baseline", "baseline.csv"), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let delta = json["baseline"]["deltas"]["accuracy"].as_f64().expect("delta");
    let expected = json["metrics"]["accuracy"].as_f64().expect("candidate")
        - json["baseline"]["metrics"]["accuracy"].as_f64().expect("baseline");
    assert_eq!(delta, expected);
    assert!(delta < 0.0, "the fixture's baseline is the better model");
}

#[test]
fn truncated_or_corrupt_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parquet = std::fs::read(case("binary_weighted", "predictions.parquet")).expect("parquet");
    let truncated = dir.path().join("truncated.parquet");
    std::fs::write(&truncated, &parquet[..parquet.len() / 2]).expect("write");
    let run = fairness(&truncated.display().to_string(), &[]);
    assert_fails_closed(&run, &["truncated.parquet", "cannot read the Parquet file"]);

    // Found by fuzzing (docs/fuzzing.md): the parquet crate panics on this RLE run
    // header instead of returning an error.
    let corrupt = fixture("corrupt/rle-run-header.parquet").display().to_string();
    let run = fairness(&corrupt, &[]);
    assert_fails_closed(&run, &["rle-run-header.parquet", "cannot read the Parquet file: corrupt data"]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    let gzip = std::fs::read(case("binary_strings", "predictions.csv.gz")).expect("gzip");
    let broken = dir.path().join("broken.csv.gz");
    std::fs::write(&broken, &gzip[..gzip.len() - 200]).expect("write");
    let run = fairness(&broken.display().to_string(), &["--pos-label", "approved"]);
    assert_fails_closed(&run, &["broken.csv.gz", "cannot read the CSV table"]);

    let csv = std::fs::read_to_string(basic()).expect("csv");
    let cut = dir.path().join("cut.csv");
    std::fs::write(&cut, &csv[..csv.len() - 12]).expect("write");
    let run = fairness(&cut.display().to_string(), &[]);
    assert_fails_closed(&run, &["cut.csv", "line 2001", "as many fields as the header"]);
}

#[test]
fn a_file_with_no_rows_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header_only = dir.path().join("header.csv");
    std::fs::write(&header_only, "y,yhat,p\n").expect("write");
    let run = fairness(&header_only.display().to_string(), &[]);
    assert_fails_closed(&run, &["no rows to evaluate", "no data rows"]);
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").expect("write");
    let run = fairness(&empty.display().to_string(), &[]);
    assert_fails_closed(&run, &["the file is empty"]);
}

#[test]
fn bootstrap_intervals_are_reproducible_and_bracket_the_estimate() {
    let args = ["--sensitive", "sex", "--bootstrap", "100", "--seed", "7", "--format", "json"];
    let first = fairness(&basic(), &args).json();
    let second = fairness(&basic(), &args).json();
    assert_eq!(first["intervals"], second["intervals"]);
    let other_seed =
        fairness(&basic(), &["--sensitive", "sex", "--bootstrap", "100", "--seed", "8", "--format", "json"]);
    assert_ne!(first["intervals"], other_seed.json()["intervals"]);
    let accuracy = first["metrics"]["accuracy"].as_f64().expect("accuracy");
    let interval = &first["intervals"]["metrics"]["accuracy"];
    assert!(interval["lower"].as_f64() < Some(accuracy) && interval["upper"].as_f64() > Some(accuracy), "{interval}");
    let dp = first["fairness"]["sex"]["demographic_parity_difference"].as_f64().expect("dp");
    let dp_interval = &first["intervals"]["fairness"]["sex"]["demographic_parity_difference"];
    assert!(dp_interval["lower"].as_f64() < Some(dp) && dp_interval["upper"].as_f64() > Some(dp), "{dp_interval}");
}

#[test]
fn regression_and_multiclass_run_from_the_command_line() {
    let run = modelgate(&[
        "fairness",
        "--predictions",
        &case("regression", "predictions.csv"),
        "--label",
        "y",
        "--prediction",
        "yhat",
        "--task",
        "regression",
        "--sensitive",
        "sex",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.json()["fairness"]["sex"]["metrics"]["mae_difference"].as_f64().is_some());
    let run = modelgate(&[
        "fairness",
        "--predictions",
        &case("multiclass", "predictions.csv"),
        "--label",
        "y",
        "--prediction",
        "yhat",
        "--task",
        "multiclass-classification",
        "--score",
        "yhat",
    ]);
    assert_fails_closed(&run, &["score column is only used for binary classification"]);
}
