//! `modelgate deps` end to end on lock files written by the real tools: the advisories
//! match what a `packaging`-based OSV matcher reports on the tools' own exports
//! (tests/fixtures/lockfiles/reference.json), exit 1 on a vulnerable or unpinned
//! requirement, 0 when clean, 2 on input that cannot be read.

mod util;

use std::collections::BTreeSet;

use util::{assert_fails_closed, fixture, modelgate};

const OSV: &str = "tests/fixtures/osv/pypa";

fn normalize(name: &str) -> String {
    modelgate::artifacts::osv::normalize_name(name)
}

#[test]
fn every_fixture_reports_what_the_reference_reports() {
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("lockfiles/reference.json")).expect("reference.json"))
            .expect("json");
    let cases = reference.as_object().expect("fixtures");
    assert_eq!(cases.len(), 6, "uv, poetry 1.x and 2.x, pipenv, conda, MLflow");
    for (name, expected) in cases {
        let path = format!("tests/fixtures/lockfiles/{name}");
        let run = modelgate(&["deps", &path, "--osv", OSV, "--format", "json"]);
        let report = run.json();
        let found: BTreeSet<(String, String, String)> = report["vulnerabilities"]
            .as_array()
            .expect("vulnerabilities")
            .iter()
            .map(|v| {
                let text = |key: &str| v[key].as_str().expect(key).to_string();
                (normalize(&text("package")), text("version"), text("id"))
            })
            .collect();
        let wanted: BTreeSet<(String, String, String)> = expected["vulnerabilities"]
            .as_array()
            .expect("triples")
            .iter()
            .map(|triple| {
                let text = |index: usize| triple[index].as_str().expect("text").to_string();
                (text(0), text(1), text(2))
            })
            .collect();
        assert_eq!(found, wanted, "{name}");
        let unpinned: BTreeSet<String> = report["unpinned"]
            .as_array()
            .expect("unpinned")
            .iter()
            .map(|entry| normalize(entry.as_str().expect("text").split(' ').next().expect("name")))
            .collect();
        let wanted_unpinned: BTreeSet<String> = expected["unpinned"]
            .as_array()
            .expect("unpinned")
            .iter()
            .map(|n| n.as_str().expect("name").into())
            .collect();
        assert_eq!(unpinned, wanted_unpinned, "{name}");
        assert_eq!(report["packages"], expected["packages"], "{name}");
        let vulnerable = !wanted.is_empty() || !wanted_unpinned.is_empty();
        assert_eq!(run.code, if vulnerable { 1 } else { 0 }, "{name}: {}", run.stderr);
    }
    // The reference is not vacuous: the lock files find advisories in two packages, and
    // development-only aiohttp (vulnerable) is left out of every lock.
    let uv = &reference["uv.lock"]["vulnerabilities"];
    assert!(uv.as_array().is_some_and(|found| found.len() >= 3), "{uv}");
    assert!(!uv.to_string().contains("aiohttp"));
    assert!(reference["conda/environment.yml"]["vulnerabilities"].to_string().contains("aiohttp"));
}

#[test]
fn text_output_names_package_version_advisory_severity_and_fix() {
    let run = modelgate(&[
        "deps",
        "tests/fixtures/lockfiles/conda/environment.yml",
        "tests/fixtures/lockfiles/mlflow-model",
        "--osv",
        "tests/fixtures/lockfiles/osv-pypi-all.zip",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for line in [
        "VULNERABLE  requests 2.28.1  PYSEC-2023-74 [high] fixed in 2.31.0",
        "VULNERABLE  aiohttp 3.8.4  PYSEC-2023-250 [medium] fixed in 3.9.0",
        "UNPINNED    transformers >=4.30,<5: no single version",
        "UNPINNED    wheel (any version)",
        "not audited conda: pytorch::pytorch=2.0.1=py3.11_cpu_0: not a PyPI package",
        "12 requirements, 7 vulnerabilities, 2 unpinned, 7 not audited",
    ] {
        assert!(run.stdout.contains(line), "missing {line:?} in:\n{}", run.stdout);
    }
}

#[test]
fn the_folder_and_the_all_zip_databases_agree() {
    let mut reports = Vec::new();
    for database in [OSV, "tests/fixtures/lockfiles/osv-pypi-all.zip"] {
        let run = modelgate(&["deps", "tests/fixtures/lockfiles/Pipfile.lock", "--osv", database, "--format", "json"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        reports.push(run.json());
    }
    assert_eq!(reports[0], reports[1]);
}

#[test]
fn a_clean_list_passes_and_output_goes_to_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("deps.json");
    let run = modelgate(&[
        "deps",
        "tests/fixtures/lockfiles/clean-requirements.txt",
        "--osv",
        OSV,
        "--format",
        "json",
        "--output",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!(written["packages"], 4);
    assert_eq!(written["vulnerabilities"], serde_json::json!([]));
}

#[test]
fn unreadable_input_fails_closed_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lock = dir.path().join("uv.lock");
    std::fs::write(&lock, "version = 1\n[[package]]\nname = \"numpy\"\nversion = 1.23\n").expect("write");
    let lock = lock.to_str().expect("utf-8");
    let run = modelgate(&["deps", lock, "--osv", OSV]);
    assert_fails_closed(&run, &[lock, "uv.lock:4:"]);
    // A poetry.lock where a uv.lock is named: recognised by name, refused by content.
    let run = modelgate(&["deps", "tests/fixtures/lockfiles/poetry-2.x/poetry.lock", "--osv", OSV]);
    assert_eq!(run.code, 1, "the real poetry.lock reads");
    std::fs::copy(fixture("lockfiles/poetry-2.x/poetry.lock"), dir.path().join("uv.lock")).expect("copy");
    assert_fails_closed(&modelgate(&["deps", lock, "--osv", OSV]), &[lock, "is Poetry's layout, not uv's"]);
    assert_fails_closed(&modelgate(&["deps", "no/such/requirements.txt", "--osv", OSV]), &["no/such/requirements.txt"]);
    let not_a_database = fixture("lockfiles/clean-requirements.txt");
    assert_fails_closed(
        &modelgate(&["deps", "tests/fixtures/lockfiles/uv.lock", "--osv", not_a_database.to_str().expect("utf-8")]),
        &["clean-requirements.txt"],
    );
    let model = dir.path().join("model");
    std::fs::create_dir(&model).expect("mkdir");
    std::fs::write(model.join("MLmodel"), "flavors: {}\n").expect("write");
    assert_fails_closed(&modelgate(&["deps", model.to_str().expect("utf-8"), "--osv", OSV]), &["no environment file"]);
}
