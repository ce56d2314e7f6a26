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

/// The verdicts of `modelgate scan --format json` on `paths`, by file name.
fn verdicts(paths: &[&str]) -> (i32, std::collections::BTreeMap<String, serde_json::Value>) {
    let mut args = vec!["scan", "--format", "json"];
    args.extend_from_slice(paths);
    let run = modelgate(&args);
    let report = run.json();
    let files = report["files"].as_array().expect("files").iter().map(|file| {
        let name = file["path"].as_str().expect("path").rsplit('/').next().expect("name").to_string();
        (name, file.clone())
    });
    (run.code, files.collect())
}

#[track_caller]
fn assert_denied_global(file: &serde_json::Value, global: &str, why_starts: &str) {
    assert_eq!(file["safe"], false, "{file}");
    let findings = file["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["global"] == global
            && f["severity"] == "critical"
            && f["why"].as_str().is_some_and(|why| why.starts_with(why_starts))),
        "no {global} finding starting {why_starts:?} in {file}"
    );
}

#[test]
fn joblib_dumps_in_every_codec_are_decompressed_and_their_arrays_skipped() {
    let (code, files) = verdicts(&["tests/fixtures/formats/joblib"]);
    assert_eq!(code, 1);
    // Written by joblib.dump (generate.py): arrays of several dtypes, an object array
    // (a nested pickle inside the stream), each compressor joblib offers.
    let model = &files["model.joblib"];
    assert_eq!(model["safe"], true, "{model}");
    assert_eq!(model["format"], "pickle");
    for codec in ["zlib", "gzip", "bz2", "xz", "lzma", "lz4"] {
        let file = &files[&format!("model.joblib.{codec}")];
        assert_eq!(file["safe"], true, "{file}");
        assert_eq!(file["format"], format!("{codec}-compressed pickle"), "{file}");
        assert_eq!(file["executable_serialization"], true);
    }
    // A payload placed after the array data (generate.py proves joblib.load runs it).
    assert_denied_global(&files["payload-after-array.joblib"], "posix.system", "STACK_GLOBAL");
    assert_denied_global(&files["payload-after-array.joblib.xz"], "posix.system", "xz stream: ");
    let bomb = &files["bomb.joblib.zlib"];
    assert_eq!(bomb["safe"], false);
    assert_eq!(bomb["findings"][0]["severity"], "critical");
    assert!(bomb["findings"][0]["why"].as_str().is_some_and(|why| why.contains("decompression bomb")), "{bomb}");
}

#[test]
fn nested_archives_are_scanned_to_a_depth_bound() {
    let (code, files) = verdicts(&["tests/fixtures/formats/nested"]);
    assert_eq!(code, 1);
    assert_eq!(files["benign-nest.zip"]["safe"], true, "{}", files["benign-nest.zip"]);
    assert_denied_global(&files["zip-in-zip.zip"], "posix.system", "outer/inner.zip: inner/data.pkl: ");
    assert_denied_global(
        &files["joblib-in-zip.zip"],
        "posix.system",
        "model/weights.joblib.xz (xz stream): STACK_GLOBAL",
    );
    let deep = &files["too-deep.zip"];
    assert_eq!(deep["safe"], false);
    assert!(deep["findings"][0]["why"].as_str().is_some_and(|why| why.contains("nested more than 3 deep")), "{deep}");
}

#[test]
fn the_nested_bytes_bound_is_shared_across_levels() {
    use modelgate::artifacts::scan::{scan_paths, ScanOptions};
    let path = util::fixture("formats/nested/benign-nest.zip");
    let options = ScanOptions::default();
    assert!(scan_paths(std::slice::from_ref(&path), options).expect("scan")[0].safe);
    // b.zip is about 150 bytes and its data.pkl some 40 more: 160 bytes fit one, not both.
    let tight = ScanOptions { max_nested_bytes: 160, ..options };
    let file = &scan_paths(&[path], tight).expect("scan")[0];
    assert!(!file.safe, "{file:?}");
    assert!(file.findings.iter().any(|f| f.why.contains("b/data.pkl") && f.why.contains("more than")), "{file:?}");
}

#[test]
fn onnx_models_are_recognised_by_content_and_judged() {
    let (code, files) = verdicts(&["tests/fixtures/formats/onnx"]);
    assert_eq!(code, 1);
    for (name, safe) in [
        ("benign.onnx", true),
        ("local-function.onnx", true),
        ("model.onnx", true),
        ("custom-domain.onnx", false),
        ("custom-in-subgraph.onnx", false),
        ("external-absolute.onnx", false),
        ("external-dotdot.onnx", false),
    ] {
        assert_eq!(files[name]["format"], "onnx", "{name}");
        assert_eq!(files[name]["safe"], safe, "{name}: {}", files[name]);
        assert_eq!(files[name]["executable_serialization"], false, "{name}");
    }
}

#[test]
fn keras_models_lambda_layers_and_foreign_modules() {
    let (code, files) = verdicts(&["tests/fixtures/formats/keras"]);
    assert_eq!(code, 1);
    for (name, format, safe) in [
        ("benign.keras", "keras", true),
        ("benign.h5", "keras-h5", true),
        ("lambda.keras", "keras", false),
        ("lambda.h5", "keras-h5", false),
        ("builtins-function.keras", "keras", false),
        // An HDF5 file with no Keras config is data (h5py datasets, Keras weights alone).
        ("weights-only.weights.h5", "hdf5", true),
    ] {
        assert_eq!(files[name]["format"], format, "{name}");
        assert_eq!(files[name]["safe"], safe, "{name}: {}", files[name]);
    }
    for name in ["lambda.keras", "lambda.h5"] {
        let why = files[name]["findings"][0]["why"].as_str().expect("why");
        assert!(why.contains("Lambda layer \"double\""), "{name}: {why}");
        assert_eq!(files[name]["findings"][0]["severity"], "critical");
    }
    let why = files["builtins-function.keras"]["findings"][0]["why"].as_str().expect("why");
    assert!(why.starts_with("config.json: custom object builtins.function"), "{why}");
    assert_eq!(files["weights-only.weights.h5"]["findings"], serde_json::json!([]));
}

#[test]
fn savedmodels_written_by_tensorflow_are_judged_by_their_ops() {
    let root = "tests/fixtures/formats/savedmodel";
    let run = |name: &str| {
        let (_, files) = verdicts(&[&format!("{root}/{name}/saved_model.pb")]);
        let file = files["saved_model.pb"].clone();
        assert_eq!(file["format"], "tf-savedmodel", "{name}");
        file
    };
    // The benign model carries TensorFlow's own saver (SaveV2/RestoreV2 in the traced
    // save and restore functions): not a finding.
    let benign_bytes = std::fs::read(util::fixture("formats/savedmodel/benign/saved_model.pb")).expect("read");
    assert!(benign_bytes.windows(6).any(|w| w == b"SaveV2"));
    assert_eq!(run("benign")["safe"], true);
    for (name, op, severity) in [
        ("read-file", "ReadFile", "high"),
        ("write-file", "WriteFile", "high"),
        ("save-v2", "SaveV2", "high"),
        ("py-function", "EagerPyFunc", "critical"),
    ] {
        let file = run(name);
        assert_eq!(file["safe"], false, "{name}");
        let finding = &file["findings"][0];
        assert!(finding["why"].as_str().is_some_and(|why| why.starts_with(&format!("{op} in function"))), "{file}");
        assert_eq!(finding["severity"], severity, "{name}");
    }
}
