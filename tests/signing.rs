//! `modelgate sign` / `modelgate verify` against OpenSSF model_signing: the signatures in
//! tests/fixtures/signing/ were written by model_signing 1.1.1 (generate.py), and
//! expected.json holds the manifests it computed. modelgate must verify them, compute the
//! same manifests, write signatures with the same statement, and name every file that was
//! changed, removed or added after signing. (The live check in the other direction,
//! model_signing verifying modelgate's signatures, is tests/fixtures/signing/interop.sh,
//! run by .ci/run.)

mod util;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use modelgate::artifacts::signing::manifest::{self, Item, Serialization};
use serde_json::Value;
use util::{copy_dir, fixture, modelgate};

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("signing/expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("json")
}

fn fixture_str(path: &str) -> String {
    fixture(path).display().to_string()
}

/// A writable copy of the fixture model folder.
fn model_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model");
    copy_dir(&fixture("signing/model"), &model);
    (dir, model)
}

fn statement(signature: &Path) -> Value {
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(signature).expect("read")).expect("bundle");
    let payload = bundle["dsseEnvelope"]["payload"].as_str().expect("payload");
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload).expect("base64");
    serde_json::from_slice(&bytes).expect("statement")
}

fn key_of(signature: &str) -> &'static str {
    if signature.contains("p384") {
        "tests/fixtures/signing/keys/p384.pub"
    } else {
        "tests/fixtures/signing/keys/p256.pub"
    }
}

/// `modelgate verify` of a fixture signature: with the signer's key, or for certificate
/// signatures with the root CA.
fn verify_fixture(name: &str, extra: &[&str]) -> util::Run {
    let model = fixture_str("signing/model");
    let signature = fixture_str(&format!("signing/signatures/{name}"));
    let trust = if name.starts_with("certificate-") {
        ["certificate", "--certificate_chain", "tests/fixtures/signing/keys/root.crt"]
    } else {
        ["key", "--public_key", key_of(name)]
    };
    let mut args = vec!["verify", trust[0], &model, trust[1], trust[2], "--signature", &signature, "--format", "json"];
    args.extend_from_slice(extra);
    modelgate(&args)
}

#[test]
fn every_model_signing_signature_verifies() {
    for (name, case) in expected().as_object().expect("object") {
        let run = verify_fixture(name, &[]);
        if name == "certificate-tls.sig" {
            // Its certificate is for TLS servers, not for signing: model_signing refuses it too.
            assert_eq!(run.code, 1, "{}", run.stdout);
            assert!(run.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("neither digital signatures nor code signing")));
            continue;
        }
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        let outcome = run.json();
        assert_eq!(outcome["verified"], true, "{name}");
        let method = if name.starts_with("certificate-") { "certificate" } else { "key" };
        assert_eq!(outcome["method"], method);
        let signed: Vec<&str> =
            outcome["signed_files"].as_array().expect("files").iter().filter_map(Value::as_str).collect();
        let mut listed: Vec<String> = case["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| r[0].as_str().expect("name").split(':').next().expect("path").to_string())
            .collect();
        listed.dedup();
        assert_eq!(signed, listed, "{name}");
    }
}

#[test]
fn manifests_equal_model_signing_s_in_order_and_digest() {
    for (name, case) in expected().as_object().expect("object") {
        let serialization = Serialization::from_json(&case["serialization"], name).expect("serialization");
        let items = manifest::compute(&fixture("signing/model"), &serialization).expect("hash");
        let ours: Vec<(String, String)> = items.iter().map(|item| (item.name(), item.digest.clone())).collect();
        let theirs: Vec<(String, String)> = case["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| (r[0].as_str().expect("name").to_string(), r[1].as_str().expect("digest").to_string()))
            .collect();
        assert_eq!(ours, theirs, "{name}");
        assert_eq!(manifest::root_digest(&items).expect("root"), case["subject"].as_str().expect("subject"), "{name}");
    }
}

#[test]
fn modelgate_signatures_carry_model_signing_s_statement_and_verify() {
    let expected = expected();
    for (shard_size, reference) in [(None, "files-p256.sig"), (Some("1000"), "shards-p256.sig")] {
        let (dir, model) = model_copy();
        let signature = dir.path().join("out.sig");
        let mut args = vec![
            "sign".to_string(),
            "key".into(),
            model.display().to_string(),
            "--private-key".into(),
            fixture_str("signing/keys/p256.pem"),
            "--signature".into(),
            signature.display().to_string(),
        ];
        if let Some(size) = shard_size {
            args.extend(["--shard-size".to_string(), size.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = modelgate(&args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

        let ours = statement(&signature);
        let case = &expected[reference];
        assert_eq!(ours["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(ours["predicateType"], "https://model_signing/signature/v1.0");
        assert_eq!(ours["subject"][0]["name"], "model");
        assert_eq!(ours["subject"][0]["digest"]["sha256"], case["subject"], "{reference}");
        let resources: Vec<Value> = ours["predicate"]["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| serde_json::json!([r["name"], r["digest"]]))
            .collect();
        assert_eq!(Value::Array(resources), case["resources"], "{reference}");
        // model_signing records its ignore paths from a set, in no stable order.
        let mut ours_ignored: Vec<Value> =
            ours["predicate"]["serialization"]["ignore_paths"].as_array().expect("ignore").clone();
        let mut theirs_ignored: Vec<Value> = case["serialization"]["ignore_paths"].as_array().expect("ignore").clone();
        ours_ignored.sort_by_key(Value::to_string);
        theirs_ignored.sort_by_key(Value::to_string);
        assert_eq!(ours_ignored, theirs_ignored);
        for key in ["method", "hash_type", "allow_symlinks"] {
            assert_eq!(ours["predicate"]["serialization"][key], case["serialization"][key], "{reference} {key}");
        }
        // model_signing writes the shard size as a double (1000.0), modelgate as an integer.
        let size = |statement: &Value| statement["shard_size"].as_f64();
        assert_eq!(size(&ours["predicate"]["serialization"]), size(&case["serialization"]), "{reference}");
        let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&signature).expect("read")).expect("json");
        assert_eq!(bundle["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
        let theirs: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("signing/signatures/{reference}"))).expect("read"),
        )
        .expect("json");
        assert_eq!(bundle["verificationMaterial"], theirs["verificationMaterial"], "same key hint");

        let verified = modelgate(&[
            "verify",
            "key",
            &model.display().to_string(),
            "--public-key",
            &fixture_str("signing/keys/p256.pub"),
            "--signature",
            &signature.display().to_string(),
        ]);
        assert_eq!(verified.code, 0, "{}{}", verified.stdout, verified.stderr);
    }
}

#[test]
fn the_default_signature_lives_in_the_folder_and_covers_everything_else() {
    let (_dir, model) = model_copy();
    let model_arg = model.display().to_string();
    let key = fixture_str("signing/keys/p384.pem");
    let run = modelgate(&["sign", "key", &model_arg, "--private-key", &key]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ours = statement(&model.join("model.sig"));
    let ignored = ours["predicate"]["serialization"]["ignore_paths"].as_array().expect("ignore");
    assert!(ignored.contains(&Value::from("model.sig")), "{ignored:?}");
    let run = modelgate(&["verify", "key", &model_arg, "--public-key", &fixture_str("signing/keys/p384.pub")]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("verified  P-384 key sha256:"), "{}", run.stdout);
}

/// Verifies the tampered copy against model_signing's own signature.
fn verify_copy(model: &Path, extra: &[&str]) -> util::Run {
    let mut args = vec![
        "verify",
        "key",
        model.to_str().expect("utf-8"),
        "--public-key",
        "tests/fixtures/signing/keys/p256.pub",
        "--signature",
        "tests/fixtures/signing/signatures/files-p256.sig",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    modelgate(&args)
}

#[test]
fn every_change_after_signing_is_named() {
    let (_dir, model) = model_copy();
    std::fs::write(model.join("weights/model-00002-of-00002.safetensors"), b"swapped weights").expect("write");
    std::fs::remove_file(model.join("a.b")).expect("remove");
    std::fs::write(model.join("weights/extra.pkl"), b"\x80\x04N.").expect("write");
    let run = verify_copy(&model, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let outcome = run.json();
    assert_eq!(outcome["authentic"], true, "the signature itself is fine");
    assert_eq!(outcome["verified"], false);
    assert_eq!(outcome["modified_files"], serde_json::json!(["weights/model-00002-of-00002.safetensors"]));
    assert_eq!(outcome["missing_files"], serde_json::json!(["a.b"]));
    assert_eq!(outcome["extra_files"], serde_json::json!(["weights/extra.pkl"]));
    let error = outcome["error"].as_str().expect("error");
    assert!(error.contains("modified since signing: weights/model-00002-of-00002.safetensors"), "{error}");
}

#[test]
fn unsigned_files_fail_unless_ignored_as_model_signing_allows() {
    let (_dir, model) = model_copy();
    std::fs::write(model.join("notes.txt"), b"added later").expect("write");
    let run = verify_copy(&model, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["extra_files"], serde_json::json!(["notes.txt"]));
    let run = verify_copy(&model, &["--ignore-unsigned-files"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["extra_files"], serde_json::json!([]));
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_in_the_folder_fails_verification() {
    let (_dir, model) = model_copy();
    std::fs::remove_file(model.join("a.b")).expect("remove");
    std::os::unix::fs::symlink("/etc/hostname", model.join("a.b")).expect("symlink");
    let run = verify_copy(&model, &[]);
    assert_eq!(run.code, 1);
    let error = run.json()["error"].as_str().expect("error").to_string();
    assert!(error.contains("a symbolic link"), "{error}");
}

#[test]
fn a_forged_or_foreign_signature_does_not_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let original = std::fs::read_to_string(fixture("signing/signatures/files-p256.sig")).expect("read");
    let bundle: Value = serde_json::from_str(&original).expect("json");
    let engine = base64::engine::general_purpose::STANDARD;

    // A statement whose digests were edited to match swapped weights, re-encoded but not re-signed.
    let mut forged = bundle.clone();
    let payload = engine.decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload")).expect("b64");
    let text = String::from_utf8(payload).expect("utf-8").replace("e96760a8", "00000000");
    forged["dsseEnvelope"]["payload"] = Value::from(engine.encode(text));
    // A signature with one bit flipped.
    let mut flipped = bundle.clone();
    let mut sig = engine.decode(bundle["dsseEnvelope"]["signatures"][0]["sig"].as_str().expect("sig")).expect("b64");
    let last = sig.len() - 3;
    sig[last] ^= 1;
    flipped["dsseEnvelope"]["signatures"][0]["sig"] = Value::from(engine.encode(sig));
    // Two signatures, and another media type.
    let mut doubled = bundle.clone();
    let first = doubled["dsseEnvelope"]["signatures"][0].clone();
    doubled["dsseEnvelope"]["signatures"].as_array_mut().expect("array").push(first);
    let mut media = bundle.clone();
    media["mediaType"] = Value::from("application/vnd.dev.sigstore.bundle+json;version=0.1");

    let cases: [(&str, String, &str); 5] = [
        ("forged.sig", forged.to_string(), "does not verify"),
        ("flipped.sig", flipped.to_string(), "does not verify"),
        ("doubled.sig", doubled.to_string(), "2 signatures"),
        ("media.sig", media.to_string(), "not a Sigstore bundle v0.3"),
        ("garbage.sig", "{\"mediaType\": ".to_string(), "not JSON"),
    ];
    for (name, content, reason) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write");
        let run = modelgate(&[
            "verify",
            "key",
            "tests/fixtures/signing/model",
            "--public-key",
            "tests/fixtures/signing/keys/p256.pub",
            "--signature",
            path.to_str().expect("utf-8"),
            "--format",
            "json",
        ]);
        assert_eq!(run.code, 1, "{name}: {}{}", run.stdout, run.stderr);
        let outcome = run.json();
        assert_eq!(outcome["verified"], false, "{name}");
        assert_eq!(outcome["authentic"], false, "{name}");
        let error = outcome["error"].as_str().expect("error");
        assert!(error.contains(reason), "{name}: {error}");
    }

    let run = modelgate(&[
        "verify",
        "key",
        "tests/fixtures/signing/model",
        "--public-key",
        "tests/fixtures/signing/keys/other.pub",
        "--signature",
        "tests/fixtures/signing/signatures/files-p256.sig",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("signed by another key"), "{}", run.stdout);
}

#[test]
fn certificate_chains_are_checked_as_model_signing_checks_them() {
    let release = "certificate-release.sig";
    let run = verify_fixture(release, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["signer"], "CN=release,O=Bank Example");
    let refused = |args: &[&str], reason: &str| {
        let run = modelgate(args);
        assert_eq!(run.code, 1, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(reason), "{args:?}: {}", run.stdout);
    };
    let signature = "tests/fixtures/signing/signatures/certificate-release.sig";
    let model = "tests/fixtures/signing/model";
    // A root the chain does not lead to.
    refused(
        &[
            "verify",
            "certificate",
            model,
            "--certificate-chain",
            "tests/fixtures/signing/keys/other-root.crt",
            "--signature",
            signature,
        ],
        "does not lead to a given CA certificate",
    );
    // The signer's key alone does not verify a certificate bundle, and vice versa.
    refused(
        &["verify", "key", model, "--public-key", "tests/fixtures/signing/keys/release.pub", "--signature", signature],
        "signed with a certificate",
    );
    refused(
        &[
            "verify",
            "certificate",
            model,
            "--certificate-chain",
            "tests/fixtures/signing/keys/root.crt",
            "--signature",
            "tests/fixtures/signing/signatures/files-p256.sig",
        ],
        "carries no certificate chain",
    );
}

#[test]
fn modelgate_certificate_signatures_carry_the_chain_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let signature = dir.path().join("cert.sig");
    let signature_arg = signature.to_str().expect("utf-8");
    let keys = |name: &str| fixture_str(&format!("signing/keys/{name}"));
    let model = fixture_str("signing/model");
    let run = modelgate(&[
        "sign",
        "certificate",
        &model,
        "--private-key",
        &keys("release.pem"),
        "--signing-certificate",
        &keys("release.crt"),
        "--certificate-chain",
        &keys("intermediate.crt"),
        "--signature",
        signature_arg,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&signature).expect("read")).expect("json");
    let theirs: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("signing/signatures/certificate-release.sig")).expect("read"),
    )
    .expect("json");
    assert_eq!(
        bundle["verificationMaterial"]["x509CertificateChain"],
        theirs["verificationMaterial"]["x509CertificateChain"]
    );
    let run = modelgate(&[
        "verify",
        "certificate",
        &model,
        "--certificate-chain",
        &keys("root.crt"),
        "--signature",
        signature_arg,
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // A certificate for another key is refused before anything is signed.
    let run = modelgate(&[
        "sign",
        "certificate",
        &model,
        "--private-key",
        &keys("p256.pem"),
        "--signing-certificate",
        &keys("release.crt"),
        "--signature",
        signature_arg,
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not for the private key"), "{}", run.stderr);
}

#[test]
fn bad_keys_and_folders_are_errors_with_hints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_a_key = dir.path().join("key.pem");
    std::fs::write(&not_a_key, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").expect("write");
    let key = not_a_key.display().to_string();
    for args in [
        vec!["verify", "key", "tests/fixtures/signing/model", "--public-key", &key],
        vec!["sign", "key", "tests/fixtures/signing/model", "--private-key", &key],
    ] {
        let run = modelgate(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("key.pem") && run.stderr.contains("hint: "), "{}", run.stderr);
    }
    let run = modelgate(&[
        "verify",
        "key",
        "tests/fixtures/signing/no-such-model",
        "--public-key",
        "tests/fixtures/signing/keys/p256.pub",
        "--signature",
        "tests/fixtures/signing/signatures/files-p256.sig",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("no-such-model"), "{}", run.stderr);
}

#[test]
fn shard_names_parse_back_into_the_items_model_signing_listed() {
    let case = &expected()["shards-p256.sig"];
    let serialization = Serialization::from_json(&case["serialization"], "shards").expect("serialization");
    for resource in case["resources"].as_array().expect("resources") {
        let name = resource[0].as_str().expect("name");
        let (path, range) = Item::parse_name(name, serialization.method).expect(name);
        let item = Item { path, range, digest: String::new() };
        assert_eq!(item.name(), name);
    }
}

/// Byte mutations of a real bundle and of its signed statement: every one is judged
/// without a panic, and a mutated bundle verifies only if it still carries the signed
/// payload byte for byte (a change in JSON whitespace, say).
#[test]
fn mutated_signatures_never_panic_and_never_verify_other_content() {
    use modelgate::artifacts::signing::{self, keys::VerifyingKey, Trust, VerifyOptions};
    let original = std::fs::read(fixture("signing/signatures/files-p256.sig")).expect("read");
    let engine = base64::engine::general_purpose::STANDARD;
    let payload_of = |bytes: &[u8]| -> Option<Vec<u8>> {
        let bundle: Value = serde_json::from_slice(bytes).ok()?;
        engine.decode(bundle["dsseEnvelope"]["payload"].as_str()?).ok()
    };
    let signed_payload = payload_of(&original).expect("payload");
    let key = VerifyingKey::read(&fixture("signing/keys/p256.pub")).expect("key");
    let trust = Trust::Key(key);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mutated.sig");
    let model = fixture("signing/model");
    let mut verified = 0;
    for position in (0..original.len()).step_by(7) {
        for replacement in [b'0', b'"', b'{', b'A', 0xff] {
            let mut mutated = original.clone();
            mutated[position] = replacement;
            std::fs::write(&path, &mutated).expect("write");
            let outcome = signing::verify(&model, &path, &trust, &VerifyOptions::default()).expect("a readable file");
            if outcome.verified {
                verified += 1;
                assert_eq!(payload_of(&mutated).as_deref(), Some(signed_payload.as_slice()), "at {position}");
            }
        }
    }
    assert!(verified < 50, "{verified} mutations still verified");
    for position in 0..signed_payload.len() {
        for replacement in [b'0', b'"', b':', b'[', b'9'] {
            let mut mutated = signed_payload.clone();
            mutated[position] = replacement;
            let _ = signing::read_statement(&mutated, "mutated");
        }
    }
}
