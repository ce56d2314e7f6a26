//! `modelgate scan` end to end: formats by content, pickles inside PyTorch zips, arrays,
//! GGUF templates; exit 1 on an unsafe file, 2 when a path cannot be read.

mod util;

use util::{assert_fails_closed, modelgate};

#[test]
fn a_malicious_checkpoint_is_unsafe_and_names_what_it_would_run() {
    let run = modelgate(&["scan", "tests/fixtures/containers", "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report = run.json();
    let files = report["files"].as_array().expect("files");
    let verdict = |name: &str| {
        files.iter().find(|file| file["path"].as_str().is_some_and(|path| path.ends_with(name))).expect(name)
    };
    for clean in ["checkpoint.zip", "deflated.zip", "zip64.zip"] {
        assert_eq!(verdict(clean)["safe"], true, "{clean}");
        assert_eq!(verdict(clean)["format"], "pytorch-zip", "{clean}");
    }
    let malicious = verdict("malicious-checkpoint.zip");
    assert_eq!(malicious["safe"], false);
    assert_eq!(malicious["executable_serialization"], true);
    let finding = &malicious["findings"][0];
    assert_eq!(finding["global"], "posix.system");
    assert_eq!(finding["offset"], 18);
    assert!(finding["why"].as_str().is_some_and(|why| why.starts_with("archive/data.pkl: ")), "{finding}");
    // A protocol 0 pickle has no magic bytes, and its member's name does not say pickle.
    let hidden = verdict("protocol0-member.zip");
    assert_eq!(hidden["safe"], false, "{hidden}");
    assert_eq!(hidden["findings"][0]["global"], "posix.system");
    assert!(hidden["findings"][0]["why"].as_str().is_some_and(|why| why.starts_with("archive/weights: ")));
}

#[test]
fn every_pickle_fixture_gets_its_expected_verdict() {
    let run = modelgate(&["scan", "tests/fixtures/pickle", "--format", "json"]);
    assert_eq!(run.code, 1);
    let report = run.json();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(util::fixture("pickle/expected.json")).expect("expected"))
            .expect("json");
    let mut checked = 0;
    for file in report["files"].as_array().expect("files") {
        let path = file["path"].as_str().expect("path");
        let name = path.rsplit('/').next().expect("name");
        let Some(case) = expected.get(name) else { continue };
        let safe = case["safe_allow"].as_bool().expect("safe_allow");
        assert_eq!(file["safe"].as_bool(), Some(safe), "{name}: {file}");
        checked += 1;
    }
    assert!(checked >= 30, "{checked} fixtures checked");
}

#[test]
fn benign_files_pass_and_a_missing_path_fails_closed() {
    let run =
        modelgate(&["scan", "tests/fixtures/formats/model.safetensors", "tests/fixtures/pickle/numpy-dict-p4.pkl"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("2 files, 0 unsafe"), "{}", run.stdout);
    let missing = modelgate(&["scan", "tests/fixtures/no-such-model"]);
    assert_fails_closed(&missing, &["no-such-model"]);
}
