//! `modelgate data lineage` end to end on real lineage files: dvc.lock written by DVC 3
//! (the examples), the DVC 2 and 1.x lock layouts, OpenLineage events written by the
//! OpenLineage Python client, and the manifest; and every bad input failing closed.

mod util;

use util::{assert_fails_closed, fixture, modelgate, modelgate_in, root};

fn lineage(lineage: &str, training: &str, extra: &[&str]) -> util::Run {
    let mut args = vec!["data", "lineage", lineage, "--training", training, "--format", "json"];
    args.extend_from_slice(extra);
    modelgate(&args)
}

fn fx(name: &str) -> String {
    fixture(&format!("lineage/{name}")).display().to_string()
}

fn steps(run: &util::Run) -> Vec<String> {
    serde_json::from_value(run.json()["steps"].clone()).expect("steps")
}

#[test]
fn dvc3_lock_of_the_example_traces_every_step_and_the_file_is_fresh() {
    let run = lineage(
        "examples/credit-scoring/dvc.lock",
        "examples/credit-scoring/data/train.parquet",
        &["--require", "deduplicate,remove_pii"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(steps(&run), ["ingest", "deduplicate", "remove_pii", "impute", "split"]);
    let json = run.json();
    assert_eq!(json["source"], "dvc");
    assert_eq!(json["stale"], false);
    assert_eq!(json["freshness"], "fresh");
    assert_eq!(json["final_step"], "split");
    assert_eq!(json["recorded_digest"], json["actual_digest"]);
    assert_eq!(json["stages"][4]["outputs"], serde_json::json!(["data/test.parquet", "data/train.parquet"]));
}

#[test]
fn blocked_example_is_stale_and_misses_the_pii_step() {
    let run = modelgate(&[
        "data",
        "lineage",
        "examples/credit-scoring-blocked/dvc.lock",
        "--training",
        "examples/credit-scoring-blocked/data/train.parquet",
        "--require",
        "deduplicate,remove_pii",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Training file: stale"), "{}", run.stdout);
    assert!(run.stdout.contains("missing required step: remove_pii"), "{}", run.stdout);
    assert!(!run.stdout.contains("missing required step: deduplicate"), "{}", run.stdout);
}

#[test]
fn dvc2_lock_hashes_text_as_dos2unix_and_orders_stages_by_their_data() {
    let run = lineage(&fx("dvc2.lock"), &fx("train.csv"), &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // The lock lists `split` before `clean`; the order is that of the data.
    assert_eq!(steps(&run), ["clean", "split"]);
    let json = run.json();
    assert_eq!(json["freshness"], "fresh", "{json}");
    assert_eq!(json["stages"][0]["command"], "python dedup.py && python anonymise.py");
}

#[test]
fn dvc1_lock_with_a_step_that_read_stale_input_is_stale() {
    let plain = lineage(&fx("dvc1.lock"), &fx("train.csv"), &[]);
    assert_fails_closed(&plain, &["dvc1.lock", "cannot tell the lineage format"]);
    let run = lineage(&fx("dvc1.lock"), &fx("train.csv"), &["--source", "dvc"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["freshness"], "fresh");
    assert_eq!(json["stale"], true);
    let finding = json["findings"][0].as_str().expect("finding");
    assert!(finding.contains("step split read data/clean.csv"), "{finding}");
}

#[test]
fn openlineage_events_from_the_client_give_the_completed_jobs_upstream_of_the_file() {
    // File dataset names are absolute paths on the machine the pipeline ran on; they
    // match the training file by its path as written (here: relative to the fixtures).
    let dir = fixture("lineage");
    let run = modelgate_in(
        &dir,
        &[
            "data",
            "lineage",
            "openlineage.jsonl",
            "--training",
            "train.csv",
            "--require",
            "anonymise",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // train_model reads the file and is not part of its lineage; the FAILed attempt
    // of anonymise and the START events produced nothing.
    assert_eq!(steps(&run), ["ingest", "deduplicate", "anonymise"]);
    let json = run.json();
    assert_eq!(json["source"], "openlineage");
    assert_eq!(json["freshness"], "fresh");

    let single = modelgate_in(
        &dir,
        &["data", "lineage", "openlineage-single.json", "--training", "train.csv", "--format", "json"],
    );
    assert_eq!(single.code, 0, "{}{}", single.stdout, single.stderr);
    assert_eq!(steps(&single), ["anonymise"]);
}

#[test]
fn manifest_records_sha256_and_detects_an_edited_file() {
    let run = lineage(&fx("manifest.yaml"), &fx("train.csv"), &["--require", "deduplicate,remove_pii"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(steps(&run), ["deduplicate", "remove_pii"]);
    assert_eq!(run.json()["freshness"], "fresh");

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fx("manifest.yaml"), dir.path().join("manifest.yaml")).expect("copy");
    std::fs::write(dir.path().join("train.csv"), "application_id,age,income\nA1,34,99999\n").expect("write");
    let manifest = dir.path().join("manifest.yaml").display().to_string();
    let training = dir.path().join("train.csv").display().to_string();
    let edited = lineage(&manifest, &training, &[]);
    assert_eq!(edited.code, 1, "{}{}", edited.stdout, edited.stderr);
    let json = edited.json();
    assert_eq!(json["freshness"], "stale");
    assert_ne!(json["recorded_digest"], json["actual_digest"]);
}

#[test]
fn a_lock_that_does_not_parse_names_the_file() {
    let run = lineage(&fx("dvc-broken.lock"), &fx("train.csv"), &[]);
    assert_fails_closed(&run, &["dvc-broken.lock:8:1", "the dvc.lock is not valid YAML"]);
}

#[test]
fn a_lock_entry_without_a_path_names_the_field() {
    let run = lineage(&fx("dvc-missing-path.lock"), &fx("train.csv"), &[]);
    assert_fails_closed(&run, &["dvc-missing-path.lock", "stages.split.outs[0]", "path"]);
}

#[test]
fn a_lineage_that_never_mentions_the_training_file_is_an_error() {
    let run = lineage(&fx("dvc-unrelated.lock"), &fx("train.csv"), &[]);
    assert_fails_closed(&run, &["no dvc step writes the training file", "data/features.parquet"]);
}

#[test]
fn a_missing_lineage_file_and_an_unrecognised_one_fail_closed() {
    let missing = lineage(&fx("no-such.lock"), &fx("train.csv"), &[]);
    assert_fails_closed(&missing, &["no-such.lock"]);
    let unrecognised = lineage(&fx("train.csv"), &fx("train.csv"), &[]);
    assert_fails_closed(&unrecognised, &["cannot tell the lineage format"]);
    let binary = lineage(
        &root().join("examples/credit-scoring/data/train.parquet").display().to_string(),
        &fx("train.csv"),
        &[],
    );
    assert_fails_closed(&binary, &["not UTF-8"]);
}
