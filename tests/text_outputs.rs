//! The text every single-section command prints, as snapshots: `drift`, `data
//! validate|scan|lineage`, `deps`, `scan`, `sign`, `verify`, `docs check|init`, `policy
//! init|test`. (The decision reports are in `reporters.rs`, `fairness` in
//! `fairness_cli.rs`, the store and lifecycle commands in `command_outputs.rs`.) Each
//! snapshot starts with the exit code.

mod util;

use std::path::Path;

use util::{modelgate, root, Run};

fn snapshot(name: &str, run: &Run, dir: Option<&Path>) {
    let mut filters = util::filters();
    filters.extend(dir.map(util::dir_filter));
    let filters: Vec<(&str, &str)> = filters.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    insta::with_settings!({filters => filters, prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, format!("exit {}\n{}", run.code, run.stdout));
    });
}

#[test]
fn drift_text() {
    let run = modelgate(&[
        "drift",
        "--reference",
        "tests/fixtures/drift/small_reference.parquet",
        "--current",
        "tests/fixtures/drift/small_current.csv",
    ]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    snapshot("text_drift", &run, None);
}

#[test]
fn data_validate_text() {
    let run = modelgate(&[
        "data",
        "validate",
        "--schema",
        "examples/credit-scoring/data/schema.json",
        "examples/credit-scoring/data/train.parquet",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("text_data_validate", &run, None);
}

#[test]
fn data_scan_text() {
    let run = modelgate(&["data", "scan", "examples/credit-scoring-blocked/data/train.parquet", "--full"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    snapshot("text_data_scan", &run, None);
}

#[test]
fn data_lineage_text() {
    let run = modelgate(&[
        "data",
        "lineage",
        "examples/credit-scoring-blocked/dvc.lock",
        "--training",
        "examples/credit-scoring-blocked/data/train.parquet",
        "--require",
        "deduplicate,remove_pii",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    snapshot("text_data_lineage", &run, None);
}

#[test]
fn deps_text() {
    let run = modelgate(&[
        "deps",
        "tests/fixtures/lockfiles/conda/environment.yml",
        "tests/fixtures/lockfiles/mlflow-model",
        "--osv",
        "tests/fixtures/lockfiles/osv-pypi-all.zip",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    snapshot("text_deps", &run, None);
}

#[test]
fn scan_text() {
    let run =
        modelgate(&["scan", "tests/fixtures/formats/model.safetensors", "tests/fixtures/pickle/numpy-dict-p4.pkl"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    snapshot("text_scan", &run, None);
}

#[test]
fn sign_and_verify_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    util::copy_dir(&root().join("tests/fixtures/signing/model"), &model);
    let model_arg = model.display().to_string();
    let run = modelgate(&["sign", "key", &model_arg, "--private-key", "tests/fixtures/signing/keys/p256.pem"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("text_sign", &run, Some(dir.path()));
    let run = modelgate(&["verify", "key", &model_arg, "--public-key", "tests/fixtures/signing/keys/p256.pub"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("text_verify", &run, Some(dir.path()));
}

#[test]
fn docs_check_and_init_text() {
    let run = modelgate(&["docs", "check", "examples/credit-scoring"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("text_docs_check", &run, None);
    let dir = tempfile::tempdir().expect("tempdir");
    // The example's layout: its modelgate.toml names ../../policies and ../keys.
    let project = dir.path().join("examples/credit-scoring");
    util::copy_dir(&root().join("examples/credit-scoring"), &project);
    util::copy_dir(&root().join("examples/keys"), &dir.path().join("examples/keys"));
    util::copy_dir(&root().join("policies"), &dir.path().join("policies"));
    let run = modelgate(&["docs", "init", &project.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("text_docs_init", &run, Some(dir.path()));
}

#[test]
fn policy_init_and_test_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("governance-policies");
    let run = modelgate(&["policy", "init", &target.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("text_policy_init", &run, Some(dir.path()));
    let run = modelgate(&["policy", "test", &target.display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    snapshot("text_policy_test", &run, Some(dir.path()));
}
