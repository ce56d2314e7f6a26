//! `modelgate audit package` and `audit package verify`: a recorded decision round-trips
//! through its evidence package, and tampering with any file in it, with or without
//! updating the manifest, fails verification. (The server's signed checkpoint, entry
//! signatures and attestation are checked in tests/server.rs's lifecycle.)

mod util;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use util::{recording, root, run};

const BLOCKED: &str = "tests/fixtures/examples/credit-scoring-blocked.json";

/// A store holding one recorded decision (the blocked example), its id, and the anchor
/// its report gave (`SEQ:HASH`).
fn recorded(dir: &Path) -> (PathBuf, String, String) {
    let store = dir.join("audit.db");
    let judged =
        run(recording(&store).args(["eval", "--input", BLOCKED, "--policies", "policies", "--format", "json"]));
    assert_eq!(judged.code, 1, "{}", judged.stderr);
    let report = judged.json();
    let anchor = format!("{}:{}", report["audit"]["seq"], report["audit"]["hash"].as_str().expect("hash"));
    (store, report["decision_id"].as_str().expect("id").to_string(), anchor)
}

fn package(store: &Path, id: &str, output: &Path, extra: &[&str]) -> util::Run {
    run(util::command(&root())
        .args(["audit", "package", id, "--store"])
        .arg(store)
        .arg("--output")
        .arg(output)
        .args(extra))
}

fn verify(package: &Path, anchor: &str) -> util::Run {
    run(util::command(&root()).args(["audit", "package", "verify", "--anchor", anchor]).arg(package))
}

fn read_zip(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).expect("package")).expect("a zip");
    (0..archive.len())
        .map(|index| {
            let mut file = archive.by_index(index).expect("file");
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).expect("read");
            (file.name().to_string(), bytes)
        })
        .collect()
}

fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in files {
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

/// `file` changed in a way its kind still reads: a JSON value altered, a line of text
/// changed, a byte of anything else.
fn tamper(name: &str, bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let changed = if name == "manifest.json" {
        text.replacen("\"decision\": \"deny\"", "\"decision\": \"allow\"", 1)
    } else if name.ends_with(".json") || name.ends_with(".jsonl") {
        // A number or a word changed, as a forger would.
        let changed = text.replacen("deny", "allow", 1);
        if changed != text {
            changed
        } else {
            text.replacen('1', "2", 1)
        }
    } else if name.ends_with(".html") || name.ends_with(".md") {
        text.replacen("fail", "pass", 1)
    } else {
        format!("{text}\n# edited\n")
    };
    assert_ne!(changed.as_bytes(), bytes, "{name} was not changed");
    changed.into_bytes()
}

/// The manifest with `name`'s digest and size made to match `bytes`.
fn reseal(files: &mut [(String, Vec<u8>)], name: &str, bytes: &[u8]) {
    let manifest = files.iter_mut().find(|(path, _)| path == "manifest.json").expect("manifest");
    let mut value: serde_json::Value = serde_json::from_slice(&manifest.1).expect("manifest json");
    for file in value["files"].as_array_mut().expect("files") {
        if file["path"] == name {
            use sha2::Digest;
            file["sha256"] = format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes))).into();
            file["size"] = bytes.len().into();
        }
    }
    manifest.1 = serde_json::to_vec_pretty(&value).expect("json");
}

/// The manifest with a new file `name` listed.
fn reseal_new(files: &mut [(String, Vec<u8>)], name: &str, bytes: &[u8]) {
    let manifest = files.iter_mut().find(|(path, _)| path == "manifest.json").expect("manifest");
    let mut value: serde_json::Value = serde_json::from_slice(&manifest.1).expect("manifest json");
    use sha2::Digest;
    value["files"].as_array_mut().expect("files").push(serde_json::json!({
        "path": name,
        "sha256": format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes))),
        "size": bytes.len(),
        "kind": "primary",
    }));
    manifest.1 = serde_json::to_vec_pretty(&value).expect("json");
}

#[test]
fn a_decision_round_trips_through_its_package() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, id, anchor) = recorded(dir.path());
    let output = dir.path().join("package.zip");
    let made = package(&store, &id, &output, &["--framework", "eu-ai-act"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let files = read_zip(&output);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for expected in [
        "manifest.json",
        "decision/entry.json",
        "decision/findings.json",
        "decision/report.json",
        "decision/report.html",
        "evidence/evidence.json",
        "policies/data.yaml",
        "policies/controls.yaml",
        "policies/fairness/fairness.rego",
        "chain/segment.jsonl",
        "controls/summary.json",
        "controls/summary.md",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let file = |name: &str| &files.iter().find(|(path, _)| path == name).expect(name).1;
    // The report is the recorded one, with every rule's outcome from the replay.
    let report: serde_json::Value = serde_json::from_slice(file("decision/report.json")).expect("report");
    assert_eq!(report["decision_id"], id.as_str());
    assert_eq!(report["decision"], "deny");
    assert!(report["rules"].as_array().expect("rules").len() > 50);
    // Control by control, for the framework asked for only.
    let summary: serde_json::Value = serde_json::from_slice(file("controls/summary.json")).expect("summary");
    let frameworks = summary["frameworks"].as_array().expect("frameworks");
    assert_eq!(frameworks.len(), 1);
    assert_eq!(frameworks[0]["name"], "eu-ai-act");
    let bias = frameworks[0]["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .find(|control| control["id"] == "Art. 10(2)(f)")
        .expect("Art. 10(2)(f)");
    assert_eq!(bias["outcome"], "fail");
    let parity = bias["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|rule| rule["code"] == "fairness/demographic-parity-difference")
        .expect("the parity rule supports it");
    assert_eq!(parity["outcome"], "fail");
    assert_eq!(parity["evidence"], "/evaluation/fairness");
    assert!(parity["findings"][0]["measured"].is_number(), "{parity}");

    let verified = verify(&output, &anchor);
    assert_eq!(verified.code, 0, "{}\n{}", verified.stdout, verified.stderr);
    assert!(verified.stdout.ends_with("package.zip: verified\n"), "{}", verified.stdout);
    let json = run(util::command(&root())
        .args(["audit", "package", "verify", "--format", "json", "--anchor", &anchor])
        .arg(&output));
    assert_eq!(json.code, 0);
    assert!(json.json()["checks"].as_array().expect("checks").iter().all(|check| check["ok"] == true));
    // Nothing the verifier trusts: consistent is not verified.
    let alone = run(util::command(&root()).args(["audit", "package", "verify"]).arg(&output));
    assert_eq!(alone.code, 1, "{}", alone.stdout);
    assert!(alone.stdout.contains("nothing you trust vouches for the entry"), "{}", alone.stdout);
    let elsewhere = verify(&output, &format!("1:sha256:{}", "0".repeat(64)));
    assert_eq!(elsewhere.code, 1, "{}", elsewhere.stdout);
}

#[test]
fn tampering_with_any_file_fails_verification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, id, anchor) = recorded(dir.path());
    let output = dir.path().join("package.zip");
    assert_eq!(package(&store, &id, &output, &[]).code, 0);
    let files = read_zip(&output);
    assert!(files.len() > 20);
    for (index, (name, bytes)) in files.iter().enumerate() {
        let changed = tamper(name, bytes);
        // The file alone changed: its digest in the manifest no longer matches.
        let mut altered = files.clone();
        altered[index].1 = changed.clone();
        let path = dir.path().join("altered.zip");
        write_zip(&path, &altered);
        let caught = verify(&path, &anchor);
        assert_eq!(caught.code, 1, "{name} changed alone: {}\n{}", caught.stdout, caught.stderr);
        assert!(caught.stdout.contains("NOT verified"), "{name}: {}", caught.stdout);
        // The file changed and the manifest made to match: the recorded entry, the chain
        // and the reports derived again still catch it.
        if name != "manifest.json" {
            reseal(&mut altered, name, &changed);
            write_zip(&path, &altered);
            let caught = verify(&path, &anchor);
            assert_eq!(caught.code, 1, "{name} changed and resealed: {}\n{}", caught.stdout, caught.stderr);
            let failed: Vec<&str> = caught.stdout.lines().filter(|line| line.starts_with('✗')).collect();
            assert!(
                !failed.is_empty() && failed.iter().all(|line| !line.contains("✗ files")),
                "{name}: {}",
                caught.stdout
            );
        }
    }
    // A coordinated forgery: the entry turned into an allow, its hash recomputed, the
    // chain segment and the manifest made to match. Only an anchor the verifier kept (or the
    // server's key) tells.
    let mut forged = files.clone();
    let position =
        |files: &[(String, Vec<u8>)], name: &str| files.iter().position(|(path, _)| path == name).expect(name);
    let entry_index = position(&forged, "decision/entry.json");
    let text = String::from_utf8(forged[entry_index].1.clone()).expect("utf-8");
    let changed = text.replacen("\"decision\":\"deny\"", "\"decision\":\"allow\"", 1);
    assert_ne!(changed, text, "the entry names its decision");
    let manifest_index = position(&forged, "manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&forged[manifest_index].1).expect("manifest");
    let prev = manifest["entry"]["prev_hash"].as_str().expect("prev").to_string();
    let hash = {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        hasher.update(format!("modelgate-audit-v1\n{prev}\n{changed}").as_bytes());
        format!("sha256:{}", hex::encode(hasher.finalize()))
    };
    manifest["entry"]["hash"] = hash.clone().into();
    manifest["decision"] = "allow".into();
    forged[manifest_index].1 = serde_json::to_vec_pretty(&manifest).expect("json");
    let segment_index = position(&forged, "chain/segment.jsonl");
    let mut line: serde_json::Value =
        serde_json::from_slice(forged[segment_index].1.split(|b| *b == b'\n').next().expect("a line")).expect("link");
    line["content"] = changed.clone().into();
    line["hash"] = hash.into();
    let segment = format!("{line}\n").into_bytes();
    forged[segment_index].1 = segment.clone();
    forged[entry_index].1 = changed.clone().into_bytes();
    reseal(&mut forged, "decision/entry.json", changed.as_bytes());
    reseal(&mut forged, "chain/segment.jsonl", &segment);
    let path = dir.path().join("forged.zip");
    write_zip(&path, &forged);
    let caught = verify(&path, &anchor);
    assert_eq!(caught.code, 1, "{}", caught.stdout);
    assert!(caught.stdout.contains("✓ entry") && caught.stdout.contains("✓ chain"), "{}", caught.stdout);
    assert!(caught.stdout.contains("✗ anchor"), "the kept anchor catches it: {}", caught.stdout);
    // An attestation slipped in: only the key the verifier gives checks one.
    let mut attested = files.clone();
    let envelope = br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#;
    attested.push(("attestation/attestation.json".to_string(), envelope.to_vec()));
    reseal_new(&mut attested, "attestation/attestation.json", envelope);
    let path = dir.path().join("attested.zip");
    write_zip(&path, &attested);
    let caught = verify(&path, &anchor);
    assert_eq!(caught.code, 1, "{}", caught.stdout);
    assert!(caught.stdout.contains("✗ attestation"), "{}", caught.stdout);
    // A file added, or taken out.
    let mut added = files.clone();
    added.push(("policies/extra.rego".to_string(), b"package extra\n".to_vec()));
    let path = dir.path().join("added.zip");
    write_zip(&path, &added);
    let caught = verify(&path, &anchor);
    assert_eq!(caught.code, 1);
    assert!(caught.stdout.contains("policies/extra.rego is not listed"), "{}", caught.stdout);
    // A file the format does not hold, listed and sealed in the manifest.
    let mut smuggled = files.clone();
    smuggled.push(("decision/approval.txt".to_string(), b"approved".to_vec()));
    reseal_new(&mut smuggled, "decision/approval.txt", b"approved");
    write_zip(&path, &smuggled);
    let caught = verify(&path, &anchor);
    assert_eq!(caught.code, 1);
    assert!(
        caught.stdout.contains("decision/approval.txt is not a file an evidence package holds"),
        "{}",
        caught.stdout
    );
    let removed: Vec<(String, Vec<u8>)> =
        files.iter().filter(|(name, _)| name != "policies/data.yaml").cloned().collect();
    write_zip(&path, &removed);
    let caught = verify(&path, &anchor);
    assert_eq!(caught.code, 1);
    assert!(caught.stdout.contains("policies/data.yaml is listed but missing"), "{}", caught.stdout);
}

#[test]
fn what_cannot_be_packaged_or_read_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, id, anchor) = recorded(dir.path());
    let output = dir.path().join("package.zip");
    let typo = package(&store, &id, &output, &["--framework", "eu-ai-akt"]);
    util::assert_fails_closed(&typo, &["--framework eu-ai-akt", "did you mean `eu-ai-act`"]);
    assert!(!output.exists(), "no package is left behind");
    let unknown = package(&store, "01890000-0000-7000-8000-000000000000", &output, &[]);
    util::assert_fails_closed(&unknown, &["no entry 01890000-0000-7000-8000-000000000000"]);
    let not_a_zip = dir.path().join("not.zip");
    std::fs::write(&not_a_zip, b"PK\x03\x04 not really").expect("write");
    let unreadable = verify(&not_a_zip, &anchor);
    util::assert_fails_closed(&unreadable, &["not a zip archive"]);
    let escaping = dir.path().join("escaping.zip");
    write_zip(&escaping, &[("../outside.json".to_string(), b"{}".to_vec())]);
    util::assert_fails_closed(&verify(&escaping, &anchor), &["would be written outside the package"]);
    let missing = verify(&dir.path().join("absent.zip"), &anchor);
    assert_eq!(missing.code, 2);
}
