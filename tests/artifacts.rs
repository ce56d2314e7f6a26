//! The `[artifacts]` collector end to end: the examples' model folders scanned, their
//! signatures verified with the release key and their requirements audited, and a model
//! project whose folder is tampered with in each way a policy must catch.

mod util;

use std::path::PathBuf;

use serde_json::Value;
use util::{copy_dir, fixture, modelgate, root, Run};

fn violations(run: &Run) -> Vec<Value> {
    run.json()["violations"].as_array().expect("violations").clone()
}

fn find<'a>(violations: &'a [Value], code: &str) -> Vec<&'a Value> {
    violations.iter().filter(|v| v["code"] == code).collect()
}

#[test]
fn blocked_example_explains_each_artifact_finding() {
    let run = modelgate(&["check", "examples/credit-scoring-blocked", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let violations = violations(&run);

    let unsafe_files = find(&violations, "security/unsafe-artifact");
    assert_eq!(unsafe_files.len(), 1, "{unsafe_files:#?}");
    let pickle = unsafe_files[0];
    assert_eq!(pickle["details"]["file"], "model/model.pkl");
    assert_eq!(pickle["details"]["globals"], serde_json::json!(["posix.system"]));
    assert!(pickle["msg"].as_str().is_some_and(|msg| msg.contains("imports posix.system")), "{pickle}");
    assert!(pickle["remediation"].as_str().is_some_and(|fix| fix.contains("safetensors")));

    let unsigned = find(&violations, "security/unsigned-files");
    assert_eq!(unsigned.len(), 1, "{unsigned:#?}");
    assert_eq!(unsigned[0]["details"]["file"], "model/calibration.safetensors");
    assert_eq!(unsigned[0]["details"]["blocking"], true);

    let vulnerable = find(&violations, "security/vulnerable-dependency");
    let found: Vec<(&str, &str, &str)> = vulnerable
        .iter()
        .map(|v| {
            let details = &v["details"];
            (
                details["package"].as_str().expect("package"),
                details["id"].as_str().expect("id"),
                details["fixed_version"].as_str().expect("fixed"),
            )
        })
        .collect();
    assert_eq!(found, [("requests", "PYSEC-2023-74", "2.31.0"), ("torch", "PYSEC-2022-43015", "1.13.1")]);

    let unpinned = find(&violations, "security/unpinned-dependency");
    assert_eq!(unpinned.len(), 1);
    assert_eq!(unpinned[0]["details"]["measured"], "jinja2 >=3.1");
    // The signature itself verifies: the pickle was signed as it is, which is why a scan
    // is needed on top of signing.
    assert!(find(&violations, "security/signature-invalid").is_empty());
    assert!(find(&violations, "security/signature-missing").is_empty());
}

#[test]
fn passing_example_is_signed_scanned_and_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("evidence.json");
    let run = modelgate(&["collect", "examples/credit-scoring", "--output", out.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let evidence: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    let artifacts = &evidence["artifacts"];
    let signature = &artifacts["signature"];
    assert_eq!(signature["present"], true);
    assert_eq!(signature["verified"], true, "{signature}");
    assert_eq!(signature["method"], "key");
    assert_eq!(signature["unsigned_files"], serde_json::json!([]));
    let public = std::fs::read_to_string(root().join("examples/keys/release.pub")).expect("key");
    let hint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(public.as_bytes()))
    };
    assert_eq!(signature["key_fingerprint"], format!("sha256:{hint}"));
    for file in artifacts["files"].as_array().expect("files") {
        let expected_signed = if file["path"] == "model/model.sig" { Value::Null } else { Value::Bool(true) };
        assert_eq!(file["signed"], expected_signed, "{file}");
        assert_eq!(file["safe"], true, "{file}");
    }
    assert_eq!(artifacts["dependencies"]["packages"], 5);
    assert_eq!(artifacts["dependencies"]["vulnerabilities"], serde_json::json!([]));

    // The files are what `modelgate scan` says of the same folder.
    let scan = modelgate(&["scan", "examples/credit-scoring/model", "--format", "json"]);
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    let scanned = scan.json();
    for (collected, standalone) in
        artifacts["files"].as_array().expect("files").iter().zip(scanned["files"].as_array().expect("files"))
    {
        for key in ["size", "sha256", "format", "safe", "findings", "executable_serialization"] {
            assert_eq!(collected[key], standalone[key], "{key}");
        }
        let standalone_path = standalone["path"].as_str().expect("path");
        assert_eq!(format!("examples/credit-scoring/{}", collected["path"].as_str().expect("path")), standalone_path);
    }
}

/// A model project around a copy of the signing fixture's model folder, signed with the
/// fixture's P-256 key.
struct Project {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        copy_dir(&fixture("signing/model"), &path.join("model"));
        // The signing fixture's weights are byte patterns for digest interop, of no format
        // the scanner knows: a real model carries real safetensors.
        for weights in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            std::fs::copy(fixture("formats/model.safetensors"), path.join("model/weights").join(weights))
                .expect("copy");
        }
        std::fs::write(path.join("requirements.txt"), "numpy==2.2.6\n").expect("write");
        let keys = fixture("signing/keys");
        let toml = format!(
            "[model]\nname = \"tiny\"\nversion = \"1.0.0\"\nrisk_tier = \"low\"\ntask = \"binary_classification\"\n\
             [deployment]\nenvironment = \"production\"\n[policies]\npath = \"{policies}\"\n\
             [artifacts]\nmodel = \"model\"\n[artifacts.signature]\npublic_key = \"{public}\"\n\
             [artifacts.dependencies]\npath = \"requirements.txt\"\nosv = \"{osv}\"\n",
            policies = root().join("policies").display(),
            public = keys.join("p256.pub").display(),
            osv = fixture("osv/pypa").display(),
        );
        std::fs::write(path.join("modelgate.toml"), toml).expect("write");
        let project = Project { _dir: dir, path };
        let run = modelgate(&[
            "sign",
            "key",
            project.model().to_str().expect("utf-8"),
            "--private-key",
            keys.join("p256.pem").to_str().expect("utf-8"),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        project
    }

    fn model(&self) -> PathBuf {
        self.path.join("model")
    }

    fn check(&self) -> Run {
        modelgate(&["check", self.path.to_str().expect("utf-8"), "--format", "json"])
    }
}

#[test]
fn a_signed_untouched_model_passes_the_security_policies() {
    let project = Project::new();
    let run = project.check();
    let security: Vec<Value> = violations(&run).into_iter().filter(|v| v["category"] == "security").collect();
    assert!(security.is_empty(), "{security:#?}");
}

#[test]
fn a_weight_file_changed_after_signing_is_a_digest_mismatch() {
    let project = Project::new();
    std::fs::write(project.model().join("weights/model-00001-of-00002.safetensors"), b"swapped").expect("write");
    let run = project.check();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let violations = violations(&run);
    let mismatch = find(&violations, "security/digest-mismatch");
    assert_eq!(mismatch.len(), 1, "{violations:#?}");
    assert_eq!(mismatch[0]["details"]["file"], "model/weights/model-00001-of-00002.safetensors");
    let evidence = project_evidence(&project);
    let file = evidence["artifacts"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == "model/weights/model-00001-of-00002.safetensors")
        .expect("file")
        .clone();
    assert_eq!(file["signed"], false, "a changed file is not covered");
}

#[test]
fn a_removed_file_or_another_key_fails_verification() {
    let project = Project::new();
    std::fs::remove_file(project.model().join("config.json")).expect("remove");
    let removed = violations(&project.check());
    let invalid = find(&removed, "security/signature-invalid");
    assert_eq!(invalid.len(), 1, "{removed:#?}");
    assert!(invalid[0]["msg"].as_str().is_some_and(|m| m.contains("missing: config.json")), "{}", invalid[0]);

    let project = Project::new();
    let toml = std::fs::read_to_string(project.path.join("modelgate.toml")).expect("read");
    std::fs::write(project.path.join("modelgate.toml"), toml.replace("p256.pub", "other.pub")).expect("write");
    let violations_other = violations(&project.check());
    let invalid = find(&violations_other, "security/signature-invalid");
    assert_eq!(invalid.len(), 1);
    assert!(invalid[0]["msg"].as_str().is_some_and(|m| m.contains("signed by another key")), "{}", invalid[0]);
    let evidence = project_evidence(&project);
    assert!(
        evidence["artifacts"]["files"].as_array().expect("files").iter().all(|f| f["signed"] != true),
        "nothing is covered by a signature that does not verify"
    );
}

#[test]
fn an_unsigned_model_is_blocked_in_production() {
    let project = Project::new();
    std::fs::remove_file(project.model().join("model.sig")).expect("remove");
    let run = project.check();
    let violations = violations(&run);
    assert_eq!(find(&violations, "security/signature-missing").len(), 1, "{violations:#?}");
    let evidence = project_evidence(&project);
    let signature = &evidence["artifacts"]["signature"];
    assert_eq!(signature["present"], false);
    // Every file, the git ones too (a signature would have ignored them by choice).
    assert_eq!(signature["unsigned_files"].as_array().map(Vec::len), Some(7), "{signature}");
}

fn project_evidence(project: &Project) -> Value {
    let out = project.path.join("evidence.json");
    let run = modelgate(&["collect", project.path.to_str().expect("utf-8"), "--output", out.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("json")
}

#[test]
fn unreadable_artifact_inputs_fail_closed() {
    for (from, to, needle) in [
        ("p256.pub", "absent.pub", "absent.pub"),
        ("osv/pypa", "osv/absent", "absent"),
        ("path = \"requirements.txt\"", "path = \"no-requirements.txt\"", "no-requirements.txt"),
    ] {
        let project = Project::new();
        let toml = std::fs::read_to_string(project.path.join("modelgate.toml")).expect("read");
        std::fs::write(project.path.join("modelgate.toml"), toml.replace(from, to)).expect("write");
        let run = project.check();
        assert_eq!(run.code, 2, "{to}: {}{}", run.stdout, run.stderr);
        let report = run.json();
        assert_eq!(report["decision"], "error");
        assert!(report["error"]["message"].as_str().is_some_and(|m| m.contains(needle)), "{report:#}");
        assert!(report["error"]["hint"].as_str().is_some_and(|h| !h.is_empty()));
    }
    // A section collected natively and handed in as a file at once is ambiguous.
    let project = Project::new();
    let toml = std::fs::read_to_string(project.path.join("modelgate.toml")).expect("read");
    std::fs::write(
        project.path.join("modelgate.toml"),
        toml.replace("[artifacts]\n", "[evidence]\nartifacts = \"a.json\"\n[artifacts]\n"),
    )
    .expect("write");
    let run = project.check();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("both [artifacts] and [evidence] artifacts"), "{}", run.stderr);
}

#[test]
fn a_certificate_signed_model_verifies_against_the_configured_ca() {
    let project = Project::new();
    let keys = fixture("signing/keys");
    let key = |name: &str| keys.join(name).display().to_string();
    let run = modelgate(&[
        "sign",
        "certificate",
        project.model().to_str().expect("utf-8"),
        "--private-key",
        &key("release.pem"),
        "--signing-certificate",
        &key("release.crt"),
        "--certificate-chain",
        &key("intermediate.crt"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let config = project.path.join("modelgate.toml");
    let toml = std::fs::read_to_string(&config).expect("read");
    let public_key = format!("public_key = \"{}\"", key("p256.pub"));
    std::fs::write(&config, toml.replace(&public_key, &format!("certificate_chain = [\"{}\"]", key("root.crt"))))
        .expect("write");
    let evidence = project_evidence(&project);
    let signature = &evidence["artifacts"]["signature"];
    assert_eq!(signature["verified"], true, "{signature}");
    assert_eq!(signature["method"], "certificate");
    assert_eq!(signature["signer"], "CN=release,O=Bank Example");

    // Both kinds of trust at once is a configuration error.
    let toml = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, toml.replace("certificate_chain", &format!("{public_key}\ncertificate_chain")))
        .expect("write");
    let run = project.check();
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("needs one of public_key and certificate_chain"), "{}", run.stderr);
}
