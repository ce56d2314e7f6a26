//! `modelgate server` end to end: a real server on 127.0.0.1 over the real store (SQLite,
//! and a schema of the real PostgreSQL), and the command line in client mode from separate
//! working folders, as CI runners would use it.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use util::receivers::{Answer, HttpReceiver};
use util::server::{http, http_text, Server};
use util::stores::{Backend, TestStore};
use util::{command, copy_dir, root, run, Run};

/// `attestation verify` of `DIR/model` against the deploy runner's attestation and key.
fn verify_beside_deploy(dir: &Path) -> Run {
    run(command(dir).args([
        "attestation",
        "verify",
        "../deploy/attestation.json",
        "--public-key",
        "../deploy/server.pub",
        "--model",
        "model",
        "--name",
        "credit-scoring",
        "-e",
        "production",
    ]))
}

/// A fresh working folder, as a CI runner would have.
fn runner(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).expect("runner folder");
    path
}

/// Raises the accuracy floor in production to 0.90 (above the passing model's 0.879), as an
/// environment override: the library's own tests, which the server runs, still pass.
fn raise_production_accuracy(policies: &Path) {
    let path = policies.join("data.yaml");
    let text = std::fs::read_to_string(&path).expect("data.yaml");
    let anchor = "      performance:\n        require_serving_evidence: true\n";
    let changed = text.replacen(
        anchor,
        &format!("{anchor}        min_metrics: {{accuracy: 0.90, roc_auc: 0.75, f1: 0.70}}\n"),
        1,
    );
    assert_ne!(text, changed, "data.yaml has no production performance override");
    std::fs::write(&path, changed).expect("write data.yaml");
}

fn publish(server: &Server, dir: &Path, token: &str, policies: &str) -> String {
    let published = server.client(dir, token, &["policy", "publish", policies]);
    assert_eq!(published.code, 0, "publish: {}\n{}", published.stdout, published.stderr);
    let digest = published.stdout.split_whitespace().find(|word| word.starts_with("sha256:")).expect("a digest");
    digest.trim_end_matches(|c: char| !c.is_ascii_hexdigit()).to_string()
}

/// The built-in library, initialised in the runner `DIR/policy-ci`, published through
/// `publisher` and activated for production through `activator`: that runner and the digest.
fn library_in_force(dir: &Path, publisher: &Server, activator: &Server, governance: &str) -> (PathBuf, String) {
    let policy_ci = runner(dir, "policy-ci");
    assert_eq!(run(command(&policy_ci).args(["policy", "init", "policies"])).code, 0);
    let digest = publish(publisher, &policy_ci, governance, "policies");
    let activated = activator.client(&policy_ci, governance, &["policy", "activate", &digest, "-e", "production"]);
    assert_eq!(activated.code, 0, "{}\n{}", activated.stdout, activated.stderr);
    (policy_ci, digest)
}

fn lifecycle(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(backend, dir.path(), "server");
    let webhook = HttpReceiver::start(vec![Answer::status(204)]);
    let notifications = dir.path().join("notifications.yaml");
    std::fs::write(
        &notifications,
        format!(
            "notifiers:\n  - name: governance-webhook\n    type: webhook\n    url: {}/modelgate\n    secret_env: MODELGATE_WEBHOOK_SECRET\n",
            webhook.url
        ),
    )
    .expect("notifications.yaml");
    let server = Server::start(&runner(dir.path(), "server"), &store, Some(&notifications));
    let governance = server.token(&["--name", "policy-repo-ci", "--role", "governance"]);
    let pipeline = server.token(&[
        "--name",
        "ci/credit-scoring",
        "--role",
        "pipeline",
        "--models",
        "credit-*",
        "--environments",
        "staging,production",
    ]);

    // The policy repository's CI: publish the library, review the impact, activate.
    let policy_ci = runner(dir.path(), "policy-ci");
    assert_eq!(run(command(&policy_ci).args(["policy", "init", "policies"])).code, 0);
    let digest = publish(&server, &policy_ci, &governance, "policies");
    let preview =
        server.client(&policy_ci, &governance, &["policy", "activate", &digest, "-e", "production", "--dry-run"]);
    assert_eq!(preview.code, 0, "{}\n{}", preview.stdout, preview.stderr);
    assert!(preview.stderr.contains("dry run: nothing was activated"), "{}", preview.stderr);
    let activated = server.client(&policy_ci, &governance, &["policy", "activate", &digest, "-e", "production"]);
    assert_eq!(activated.code, 0, "{}\n{}", activated.stdout, activated.stderr);
    let again = publish(&server, &policy_ci, &governance, "policies");
    assert_eq!(again, digest, "a second publication of the same files is the same bundle");

    // Pipelines: the passing model, then the blocked one, each from a runner of its own
    // holding the model project and nothing of the server's.
    let passing = runner(dir.path(), "pipeline-pass");
    copy_dir(&root().join("examples"), &passing.join("examples"));
    let checked = server.client(
        &passing,
        &pipeline,
        &["check", "examples/credit-scoring", "--format", "json", "--attestation", "attestation.json"],
    );
    assert_eq!(checked.code, 0, "{}\n{}", checked.stdout, checked.stderr);
    assert!(checked.stderr.contains("[policies] in modelgate.toml is not used"), "{}", checked.stderr);
    let report = checked.json();
    assert_eq!(report["decision"], "allow");
    assert_eq!(report["policy"]["digest"], digest.as_str());
    let evidence_digest = report["evidence_digest"].as_str().expect("evidence digest").to_string();
    assert!(passing.join("attestation.json").is_file());
    assert!(!passing.join("examples/credit-scoring/.modelgate").exists(), "client mode keeps no store");

    let blocked = runner(dir.path(), "pipeline-blocked");
    copy_dir(&root().join("examples"), &blocked.join("examples"));
    let denied = server.client(
        &blocked,
        &pipeline,
        &["check", "examples/credit-scoring-blocked", "--format", "json", "--attestation", "attestation.json"],
    );
    assert_eq!(denied.code, 1, "{}\n{}", denied.stdout, denied.stderr);
    assert_eq!(denied.json()["decision"], "deny");

    // A policies path on the command line is a second judge: refused.
    let two = server.client(&passing, &pipeline, &["check", "examples/credit-scoring", "--policies", "x"]);
    util::assert_fails_closed(&two, &["--policies", "--server"]);

    // The deploy job: the attestation checked offline, with the server's public key.
    let deploy = runner(dir.path(), "deploy");
    copy_dir(&passing.join("examples/credit-scoring/model"), &deploy.join("model"));
    std::fs::copy(passing.join("attestation.json"), deploy.join("attestation.json")).expect("copy");
    std::fs::copy(blocked.join("attestation.json"), deploy.join("blocked.json")).expect("copy");
    let key = server.admin(&["key"]);
    assert_eq!(key.code, 0, "{}", key.stderr);
    std::fs::write(deploy.join("server.pub"), &key.stdout).expect("server.pub");
    let verify = |args: &[&str]| {
        let mut full = vec!["attestation", "verify"];
        full.extend_from_slice(args);
        run(command(&deploy).args(&full))
    };
    let base = ["--public-key", "server.pub", "--model", "model", "--name", "credit-scoring", "-e", "production"];
    let passed = verify(&[&["attestation.json"], &base[..], &["--max-age", "1h"]].concat());
    assert_eq!(passed.code, 0, "{}\n{}", passed.stdout, passed.stderr);
    assert!(passed.stdout.starts_with("VERIFIED: credit-scoring 2.4.0 for production"), "{}", passed.stdout);

    let other_environment = verify(&[
        "attestation.json",
        "--public-key",
        "server.pub",
        "--model",
        "model",
        "--name",
        "credit-scoring",
        "-e",
        "staging",
    ]);
    assert_eq!(other_environment.code, 1);
    assert!(other_environment.stdout.contains("it is for environment `production`, not `staging`"));

    let failed = verify(&[&["blocked.json"], &base[..]].concat());
    assert_eq!(failed.code, 1);
    assert!(failed.stdout.contains("the verification result is FAILED, not PASSED"), "{}", failed.stdout);

    std::thread::sleep(std::time::Duration::from_millis(2100));
    let expired = verify(&[&["attestation.json"], &base[..], &["--max-age", "1s"]].concat());
    assert_eq!(expired.code, 1);
    assert!(expired.stdout.contains("is older than --max-age 1s"), "{}", expired.stdout);

    let other_key_dir = runner(dir.path(), "other-key");
    let other_key = run(command(&other_key_dir).args(["server", "key", "--data", "data"]));
    assert_eq!(other_key.code, 0, "{}", other_key.stderr);
    std::fs::write(deploy.join("other.pub"), &other_key.stdout).expect("other.pub");
    let wrong_key = verify(&[
        "attestation.json",
        "--public-key",
        "other.pub",
        "--model",
        "model",
        "--name",
        "credit-scoring",
        "-e",
        "production",
    ]);
    assert_eq!(wrong_key.code, 1);
    assert!(wrong_key.stdout.contains("not signed by the given key"), "{}", wrong_key.stdout);

    let tampered_dir = runner(dir.path(), "tampered");
    copy_dir(&deploy.join("model"), &tampered_dir.join("model"));
    let weights = std::fs::read_dir(tampered_dir.join("model"))
        .expect("model")
        .map(|entry| entry.expect("entry").path())
        .find(|path| path.file_name().is_some_and(|name| name != "model.sig"))
        .expect("a model file");
    let mut bytes = std::fs::read(&weights).expect("weights");
    bytes.push(0);
    std::fs::write(&weights, bytes).expect("tamper");
    let tampered = verify_beside_deploy(&tampered_dir);
    assert_eq!(tampered.code, 1, "{}\n{}", tampered.stdout, tampered.stderr);
    assert!(tampered.stdout.contains("not this artifact"), "{}", tampered.stdout);

    // Another model's attestation does not vouch for these bytes, even when the digest is the same.
    let other_model =
        verify(&[&["attestation.json"], &base[..4], &["--name", "fraud-detector", "-e", "production"]].concat());
    assert_eq!(other_model.code, 1);
    assert!(
        other_model.stdout.contains("a decision about model `credit-scoring`, not `fraud-detector`"),
        "{}",
        other_model.stdout
    );

    // A file added to the folder, with a doctored model.sig that lists it as ignored: the
    // signature's own ignore list is not followed, so the digest changes.
    let smuggled = runner(dir.path(), "smuggled");
    copy_dir(&deploy.join("model"), &smuggled.join("model"));
    std::fs::write(smuggled.join("model/extra.pkl"), b"cos\nsystem\n(S'id'\ntR.").expect("extra");
    let signature_path = smuggled.join("model/model.sig");
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(&signature_path).expect("model.sig")).expect("JSON");
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let payload = engine.decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload")).expect("base64");
    let mut statement: Value = serde_json::from_slice(&payload).expect("statement");
    statement["predicate"]["serialization"]["ignore_paths"]
        .as_array_mut()
        .expect("ignore_paths")
        .push(Value::String("extra.pkl".into()));
    bundle["dsseEnvelope"]["payload"] = Value::String(engine.encode(serde_json::to_vec(&statement).expect("JSON")));
    std::fs::write(&signature_path, serde_json::to_vec(&bundle).expect("JSON")).expect("write model.sig");
    let smuggled_verify = verify_beside_deploy(&smuggled);
    assert_eq!(smuggled_verify.code, 1, "{}\n{}", smuggled_verify.stdout, smuggled_verify.stderr);
    assert!(smuggled_verify.stdout.contains("not this artifact"), "{}", smuggled_verify.stdout);

    // The deployment, recorded by the server with the token's holder as requester.
    let deploy_args = [
        "deploy",
        "record",
        "--model",
        "credit-scoring",
        "--version",
        "2.4.0",
        "-e",
        "production",
        "--evidence-digest",
        &evidence_digest,
        "--format",
        "json",
    ];
    let deployed = server.client(&deploy, &pipeline, &deploy_args);
    assert_eq!(deployed.code, 0, "{}\n{}", deployed.stdout, deployed.stderr);
    let deployment = deployed.json();
    assert_eq!(
        deployment["entry"]["requester"].as_str().map(|who| who.starts_with("ci/credit-scoring (tok_")),
        Some(true)
    );
    let blocked_deploy = server.client(
        &deploy,
        &pipeline,
        &[
            "deploy",
            "record",
            "--model",
            "credit-scoring",
            "--version",
            "2.5.0",
            "-e",
            "production",
            "--evidence-digest",
            &evidence_digest,
        ],
    );
    assert_eq!(blocked_deploy.code, 1, "{}\n{}", blocked_deploy.stdout, blocked_deploy.stderr);

    // A stricter bundle: published, its impact reviewed, activated; the owner is alerted.
    raise_production_accuracy(&policy_ci.join("policies"));
    let stricter = publish(&server, &policy_ci, &governance, "policies");
    assert_ne!(stricter, digest);
    let impact = server.client(
        &policy_ci,
        &governance,
        &["policy", "activate", &stricter, "-e", "production", "--dry-run", "--format", "markdown"],
    );
    assert_eq!(impact.code, 1, "{}\n{}", impact.stdout, impact.stderr);
    assert!(impact.stdout.contains("credit-scoring | 2.4.0 | production"), "{}", impact.stdout);
    assert!(webhook.received().is_empty(), "a dry run alerts no one");
    let switched = server.client(
        &policy_ci,
        &governance,
        &["policy", "activate", &stricter, "-e", "production", "--format", "json"],
    );
    assert_eq!(switched.code, 1, "{}\n{}", switched.stdout, switched.stderr);
    let reevaluation: Value = serde_json::from_str(&switched.stdout).expect("JSON report");
    assert_eq!(reevaluation["summary"]["newly_non_compliant"], 1, "{reevaluation}");
    let alerts = webhook.received();
    assert_eq!(alerts.len(), 1, "one alert to the owner");
    let body: Value = serde_json::from_slice(&alerts[0].body).expect("JSON alert");
    assert_eq!(body["alert"]["model"], "credit-scoring");
    assert_eq!(body["alert"]["violations"][0]["code"], "performance/metric-below-minimum");

    // The auditor, asking the server: what was deployed in production, under which bundle
    // (the pre-change one); the activations; the decision replayed; the chain verified.
    let auditor_token = server.token(&["--name", "internal-audit", "--role", "auditor"]);
    let auditor = runner(dir.path(), "auditor");
    let at = server.client(&auditor, &auditor_token, &["audit", "at", "-e", "production", "--format", "json"]);
    assert_eq!(at.code, 0, "{}\n{}", at.stdout, at.stderr);
    let deployed_at = at.json();
    let rows = deployed_at["deployments"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{deployed_at}");
    assert!(rows[0].to_string().contains(&digest) && rows[0].to_string().contains("credit-scoring"), "{deployed_at}");
    let activations =
        server.client(&auditor, &auditor_token, &["audit", "log", "--kind", "activate", "--format", "json"]).json();
    assert_eq!(activations.as_array().map(Vec::len), Some(2), "{activations}");
    let decision_id = report["decision_id"].as_str().expect("decision id");
    let replayed = server.client(&auditor, &auditor_token, &["audit", "show", decision_id, "--replay", "--brief"]);
    assert_eq!(replayed.code, 0, "{}\n{}", replayed.stdout, replayed.stderr);
    assert!(replayed.stdout.contains("reproduced: allow"), "{}", replayed.stdout);
    let exported = server.client(&auditor, &auditor_token, &["audit", "export", "--format", "opa", "--no-input"]);
    assert_eq!(exported.code, 0, "{}\n{}", exported.stdout, exported.stderr);
    let events: Vec<Value> =
        exported.stdout.lines().map(|line| serde_json::from_str(line).expect("an OPA event")).collect();
    assert!(events.len() >= 3, "decisions and re-evaluations: {}", exported.stdout);
    assert!(events.iter().any(|event| event["decision_id"] == decision_id), "{}", exported.stdout);
    let verified = server.client(&auditor, &auditor_token, &["audit", "verify"]);
    assert_eq!(verified.code, 0, "{}\n{}", verified.stdout, verified.stderr);
    assert!(verified.stdout.starts_with("ok: "), "{}", verified.stdout);
    // What a Prometheus scraper with the auditor's token sees.
    let (status, metrics) = http_text(&server.url, "GET", "/metrics", Some(&auditor_token), "").expect("metrics");
    assert_eq!(status, 200, "{metrics}");
    assert!(metrics.contains("modelgate_decisions_total{decision=\"allow\"} 1"), "{metrics}");
    assert!(metrics.contains("modelgate_decisions_total{decision=\"deny\"} 1"), "{metrics}");
    assert!(metrics.contains("modelgate_evaluation_seconds_count 2"), "{metrics}");
    assert!(
        metrics.contains(&format!("modelgate_active_bundle{{environment=\"production\",digest=\"{stricter}\"}} 1")),
        "{metrics}"
    );
    let pipeline_asks = server.client(&auditor, &pipeline, &["audit", "verify"]);
    assert_eq!(pipeline_asks.code, 2, "a pipeline token does not read the audit trail");
    assert!(!auditor.join(".modelgate").exists(), "the auditor's folder holds no store");

    assert_eq!(server.stop(), 0, "a graceful stop exits 0");

    // Offline, with the server's public key: every entry is signed by the server, the
    // checkpoints hold, and the last one (written as it stopped) covers the whole chain.
    let offline = |key: &str| {
        run(command(&auditor)
            .args(["audit", "verify", "--store", store.address(), "--public-key"])
            .arg(deploy.join(key)))
    };
    let checked = offline("server.pub");
    assert_eq!(checked.code, 0, "{}\n{}", checked.stdout, checked.stderr);
    assert!(
        checked.stdout.contains("entries after it") && checked.stdout.contains("; 0 entries after it"),
        "{}",
        checked.stdout
    );
    let wrong = offline("other.pub");
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert!(wrong.stdout.contains("not signed by the given key"), "{}", wrong.stdout);
    // The passing decision as an evidence package, from the server's store: its chain
    // position up to the checkpoint the server signed as it stopped, and its attestation,
    // re-checked offline with the server's key (tampering: tests/evidence_package.rs).
    let package = auditor.join("package.zip");
    let packaged = run(command(&auditor)
        .args(["audit", "package", decision_id, "--framework", "eu-ai-act", "--store", store.address()])
        .arg("--public-key")
        .arg(deploy.join("server.pub"))
        .arg("--attestation")
        .arg(deploy.join("attestation.json"))
        .arg("--output")
        .arg(&package));
    assert_eq!(packaged.code, 0, "{}\n{}", packaged.stdout, packaged.stderr);
    let unpack = |key: &str| {
        run(command(&auditor)
            .args(["audit", "package", "verify"])
            .arg(&package)
            .arg("--public-key")
            .arg(deploy.join(key)))
    };
    let unpacked = unpack("server.pub");
    assert_eq!(unpacked.code, 0, "{}\n{}", unpacked.stdout, unpacked.stderr);
    assert!(unpacked.stdout.contains("to the checkpoint at seq"), "{}", unpacked.stdout);
    assert!(unpacked.stdout.contains("✓ attestation"), "{}", unpacked.stdout);
    assert!(unpacked.stdout.contains("✓ anchor       the checkpoint signed by your key"), "{}", unpacked.stdout);
    let other = unpack("other.pub");
    assert_eq!(other.code, 1, "{}", other.stdout);
    assert!(other.stdout.contains("not the key you trust"), "{}", other.stdout);
    // An entry appended by anyone but the server (here, a decision recorded straight into
    // the store) is not signed: the chain still links, verification with the key fails.
    let evidence = root().join("tests/fixtures/evidence/pass-production.json");
    let forged = run(command(&passing)
        .env_remove("MODELGATE_NO_RECORD")
        .args(["eval", "--input"])
        .arg(&evidence)
        .args(["--policies", "../policy-ci/policies", "--store", store.address()]));
    assert!(forged.code <= 1, "{}", forged.stderr);
    let plain = run(command(&auditor).args(["audit", "verify", "--store", store.address()]));
    assert_eq!(plain.code, 0, "the chain itself links: {}", plain.stdout);
    let caught = offline("server.pub");
    assert_eq!(caught.code, 1, "{}", caught.stdout);
    assert!(caught.stdout.contains("not signed by the server's key"), "{}", caught.stdout);
}

on_both_backends!(lifecycle);

/// Every role against every endpoint: 401 without a valid token, 403 without the role or
/// the scope, and never a 5xx.
#[test]
fn every_role_against_every_endpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(Backend::Sqlite, dir.path(), "authz");
    let server = Server::start(&runner(dir.path(), "server"), &store, None);
    let pipeline = server.token(&[
        "--name",
        "ci/credit",
        "--role",
        "pipeline",
        "--models",
        "credit-*",
        "--environments",
        "production",
    ]);
    let other_team = server.token(&[
        "--name",
        "ci/fraud",
        "--role",
        "pipeline",
        "--models",
        "fraud-*",
        "--environments",
        "production",
    ]);
    let governance = server.token(&["--name", "gov", "--role", "governance"]);
    let auditor = server.token(&["--name", "audit", "--role", "auditor"]);
    let admin = server.token(&["--name", "root", "--role", "admin"]);
    let expired = server.token(&["--name", "old", "--role", "governance", "--expires", "2020-01-01"]);
    let revoked = server.token(&["--name", "gone", "--role", "governance"]);
    let list = server.admin(&["token", "list", "--format", "json"]);
    let tokens: Value = serde_json::from_str(&list.stdout).expect("JSON");
    let revoked_id = tokens.as_array().expect("list").iter().find(|token| token["name"] == "gone").expect("gone")["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(!list.stdout.contains("mgt_"), "a listing never shows a secret");
    assert_eq!(server.admin(&["token", "revoke", &revoked_id]).code, 0);

    let endpoints: [(&str, &str, &[&str]); 13] = [
        ("GET", "/v1/tokens", &["admin"]),
        ("POST", "/v1/tokens", &["admin"]),
        ("POST", "/v1/tokens/tok_nope/revoke", &["admin"]),
        ("GET", "/metrics", &["governance", "auditor", "admin"]),
        ("GET", "/v1/audit/verify", &["governance", "auditor", "admin"]),
        ("GET", "/v1/audit/at?environment=production", &["governance", "auditor", "admin"]),
        ("GET", "/v1/key", &["pipeline", "governance", "auditor", "admin"]),
        ("GET", "/v1/bundles", &["governance", "auditor", "admin"]),
        ("POST", "/v1/bundles", &["governance"]),
        ("POST", "/v1/bundles/sha256:00/activate", &["governance"]),
        ("POST", "/v1/decisions", &["pipeline"]),
        ("POST", "/v1/deployments", &["pipeline"]),
        ("POST", "/v1/deployments/retire", &["pipeline"]),
    ];
    let roles = [("pipeline", &pipeline), ("governance", &governance), ("auditor", &auditor), ("admin", &admin)];
    for (method, path, allowed) in endpoints {
        for (role, token) in roles {
            let (status, body) = server.http(method, path, Some(token), "{}");
            if allowed.contains(&role) {
                assert!(status != 401 && status != 403 && status < 500, "{role} {method} {path}: {status} {body}");
            } else {
                assert_eq!(status, 403, "{role} {method} {path}: {body}");
                assert_eq!(body["error"]["code"], "forbidden", "{body}");
            }
        }
        for (what, token) in [
            ("no token", None),
            ("expired", Some(&expired)),
            ("revoked", Some(&revoked)),
            ("unknown", Some(&"mgt_nope".to_string())),
        ] {
            let (status, body) = server.http(method, path, token.map(String::as_str), "{}");
            assert_eq!(status, 401, "{what} {method} {path}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized");
            assert!(body["error"]["hint"].is_string(), "{body}");
        }
    }
    let (status, _) = server.http("GET", "/healthz", None, "");
    assert_eq!(status, 200, "health needs no token");

    // Another team's model: the pipeline token may neither deploy nor retire it.
    let foreign =
        r#"{"model": "fraud-detector", "version": "1", "environment": "production", "evidence_digest": "sha256:00"}"#;
    let (status, body) = server.http("POST", "/v1/deployments", Some(&pipeline), foreign);
    assert_eq!(status, 403, "{body}");
    let (status, body) = server.http(
        "POST",
        "/v1/deployments/retire",
        Some(&pipeline),
        r#"{"model": "fraud-detector", "environment": "production"}"#,
    );
    assert_eq!(status, 403, "{body}");
    let (status, _) = server.http(
        "POST",
        "/v1/deployments/retire",
        Some(&other_team),
        r#"{"model": "credit-scoring", "environment": "production"}"#,
    );
    assert_eq!(status, 403);

    // The admin over the API: a token created, used, revoked, refused.
    let (status, created) = server.http(
        "POST",
        "/v1/tokens",
        Some(&admin),
        r#"{"name": "ci/fraud-api", "role": "pipeline", "models": ["fraud-*"], "environments": ["staging"], "expires": "30d"}"#,
    );
    assert_eq!(status, 200, "{created}");
    let secret = created["token"].as_str().expect("secret").to_string();
    let (status, _) = server.http("GET", "/v1/key", Some(&secret), "");
    assert_eq!(status, 200, "the new token works");
    let (status, listed) = server.http("GET", "/v1/tokens", Some(&admin), "");
    assert_eq!(status, 200);
    assert!(!listed.to_string().contains("mgt_"), "no secret in a listing: {listed}");
    let id = created["id"].as_str().expect("id");
    let (status, _) = server.http("POST", &format!("/v1/tokens/{id}/revoke"), Some(&admin), "");
    assert_eq!(status, 200);
    let (status, _) = server.http("GET", "/v1/key", Some(&secret), "");
    assert_eq!(status, 401, "revoked over the API, refused at once");
    let (status, body) = server.http("POST", "/v1/tokens", Some(&admin), r#"{"name": "x", "role": "root"}"#);
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid")));

    // A pipeline publishing a lax bundle of its own: 403 before anything is read.
    let (status, body) = server.http("POST", "/v1/bundles", Some(&pipeline), r#"{"digest": "x", "files": []}"#);
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
}

/// Two server processes on one PostgreSQL store, 16 clients submitting the blocked
/// example's evidence to both, one replica killed with SIGKILL in the middle: every decision
/// acknowledged is in the store exactly once, and the chain verifies.
#[test]
fn two_replicas_on_one_postgres_lose_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(Backend::Postgres, dir.path(), "replicas");
    let first =
        Server::start_with(&runner(dir.path(), "a"), &store, None, "verifier_id = \"https://modelgate.test\"\n");
    let key = dir.path().join("a/data/signing-key.pem");
    let shared = format!("verifier_id = \"https://modelgate.test\"\nsigning_key = \"{}\"\n", key.display());
    let second = Server::start_with(&runner(dir.path(), "b"), &store, None, &shared);
    let governance = first.token(&["--name", "gov", "--role", "governance"]);
    let pipeline = first.token(&[
        "--name",
        "ci/credit",
        "--role",
        "pipeline",
        "--models",
        "credit-*",
        "--environments",
        "production",
    ]);
    // The other replica activates what the first published.
    library_in_force(dir.path(), &first, &second, &governance);

    let collected = run(command(&root()).args(["collect", "examples/credit-scoring-blocked"]));
    assert_eq!(collected.code, 0, "{}", collected.stderr);
    let body = format!("{{\"evidence\": {}}}", collected.stdout);
    let urls = [first.url.clone(), second.url.clone()];
    let acknowledged = std::sync::Mutex::new(Vec::<String>::new());
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let mut second = Some(second);
    std::thread::scope(|scope| {
        for client in 0..16 {
            let (urls, body, pipeline, acknowledged, failed) = (&urls, &body, &pipeline, &acknowledged, &failed);
            scope.spawn(move || {
                for request in 0..20 {
                    let url = &urls[(client + request) % 2];
                    match http(url, "POST", "/v1/decisions", Some(pipeline), body) {
                        Ok((200, answer)) => {
                            assert_eq!(answer["report"]["decision"], "deny");
                            assert!(answer["report"]["audit"]["seq"].is_u64(), "{answer}");
                            let id = answer["report"]["decision_id"].as_str().expect("id").to_string();
                            acknowledged.lock().expect("lock").push(id);
                        }
                        Ok((status, answer)) => panic!("HTTP {status}: {answer}"),
                        Err(_) => {
                            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        // Mid-run: the second replica dies without a chance to clean up.
        while acknowledged.lock().expect("lock").len() < 100 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if let Some(mut victim) = second.take() {
            victim.child.kill().expect("SIGKILL");
            let _ = victim.child.wait();
        }
    });
    let acknowledged = acknowledged.into_inner().expect("lock");
    let failed = failed.into_inner();
    assert!(failed > 0, "the killed replica failed requests");
    assert!(acknowledged.len() >= 100 && acknowledged.len() + failed == 320, "{} + {failed}", acknowledged.len());
    let stored = store.query_text("SELECT string_agg(id, ',') FROM entries WHERE kind = 'decision'");
    let stored: Vec<&str> = stored.split(',').collect();
    let unique: std::collections::BTreeSet<&str> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "no decision is stored twice");
    for id in &acknowledged {
        assert!(unique.contains(id.as_str()), "acknowledged decision {id} is not in the store");
    }
    let gaps = store.query_text("SELECT (max(seq) - count(*))::text FROM entries");
    assert_eq!(gaps, "0", "the chain has no gap");
    let verified = run(command(&root()).args(["audit", "verify", "--store", store.address()]));
    assert_eq!(verified.code, 0, "{}\n{}", verified.stdout, verified.stderr);
    assert_eq!(first.stop(), 0);
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A value of any JSON type, sometimes odd (deep, long, unicode, huge numbers).
    fn value(&mut self, depth: u32) -> Value {
        match self.below(if depth > 3 { 6 } else { 9 }) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => serde_json::json!(self.next() as i64),
            3 => serde_json::json!(1e308 * (self.below(3) as f64 - 1.0) + 0.5),
            4 => Value::String(
                ["", "sha256:00", "production", "credit-scoring", "../../etc/passwd", "é\u{0}x", "mgt_"]
                    [self.below(7) as usize]
                    .to_string(),
            ),
            5 => Value::String("x".repeat(self.below(70_000) as usize)),
            6 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            7 => {
                let mut nested = Value::Null;
                for _ in 0..self.below(200) {
                    nested = Value::Array(vec![nested]);
                }
                nested
            }
            _ => Value::Object((0..self.below(4)).map(|index| (format!("k{index}"), self.value(depth + 1))).collect()),
        }
    }

    /// A body shaped like `schema` (its properties, some missing, some of another type),
    /// or anything at all.
    fn body(&mut self, schema: Option<&Value>, components: &Value) -> Value {
        let schema = schema.map(|schema| resolve(schema, components));
        let Some(properties) = schema.as_ref().and_then(|schema| schema["properties"].as_object()) else {
            return self.value(0);
        };
        if self.below(8) == 0 {
            return self.value(0);
        }
        let mut body = serde_json::Map::new();
        for (name, property) in properties {
            match self.below(5) {
                0 => {}
                1 => {
                    body.insert(name.clone(), self.value(1));
                }
                _ => {
                    let property = resolve(property, components);
                    let value = match property["type"].as_str() {
                        Some("boolean") => Value::Bool(self.below(2) == 0),
                        Some("integer") => serde_json::json!(self.below(5)),
                        Some("array") => serde_json::json!([self.body(property.get("items"), components)]),
                        Some("object") => self.body(Some(&property), components),
                        _ => self.value(1),
                    };
                    body.insert(name.clone(), value);
                }
            }
        }
        if self.below(6) == 0 {
            body.insert("unknown_key".into(), Value::Bool(true));
        }
        Value::Object(body)
    }
}

/// A schema with its `$ref` (or `allOf` of one `$ref`) followed.
fn resolve(schema: &Value, components: &Value) -> Value {
    let reference = schema["$ref"].as_str().or_else(|| schema["allOf"][0]["$ref"].as_str());
    match reference.and_then(|reference| reference.strip_prefix("#/components/schemas/")) {
        Some(name) => components["schemas"][name].clone(),
        None => schema.clone(),
    }
}

/// The OpenAPI document as served is the one checked in; every operation it lists,
/// called by every role with generated bodies (shaped by its schema or not), answers with
/// a status it documents, never a 5xx, and every refusal has the documented error shape.
#[test]
fn the_openapi_document_holds_against_the_running_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(Backend::Sqlite, dir.path(), "openapi");
    let server = Server::start(&runner(dir.path(), "server"), &store, None);
    let governance = server.token(&["--name", "gov", "--role", "governance"]);
    let tokens = [
        server.token(&["--name", "ci", "--role", "pipeline", "--models", "credit-*", "--environments", "production"]),
        governance.clone(),
        server.token(&["--name", "audit", "--role", "auditor"]),
        server.token(&["--name", "root", "--role", "admin"]),
    ];
    // A bundle in force, so that decisions get as far as the engine.
    let (_, digest) = library_in_force(dir.path(), &server, &server, &governance);

    let (status, served) = server.http("GET", "/v1/openapi.json", Some(&tokens[2]), "");
    assert_eq!(status, 200);
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("docs/api/openapi.json")).expect("openapi.json"))
            .expect("JSON");
    assert_eq!(served, document, "the served document is the checked-in one");
    let components = &document["components"];
    let mut generator = Generator(0x9E37_79B9_7F4A_7C15);
    let mut seen = std::collections::BTreeMap::<u16, usize>::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let documented: Vec<u16> = operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .filter_map(|code| code.parse().ok())
                .collect();
            let schema = operation.pointer("/requestBody/content/application~1json/schema");
            for round in 0..12 {
                let questions = [
                    "log?kinds=decision,bogus",
                    "show?id=nope",
                    "at?environment=production&time=yesterday",
                    "verify?anchors=1:sha256:00",
                    "log?limit=-1",
                    "bogus",
                ];
                let concrete = path
                    .replace("{digest}", if round % 2 == 0 { &digest } else { "sha256:nope" })
                    .replace("{question}", questions[round % questions.len()]);
                let body = if method == "get" { String::new() } else { generator.body(schema, components).to_string() };
                let token = &tokens[round % tokens.len()];
                let (status, answer) = server.http(&method.to_uppercase(), &concrete, Some(token), &body);
                *seen.entry(status).or_default() += 1;
                assert!(
                    status < 500,
                    "{method} {concrete} → {status}: {answer}\nbody: {}",
                    &body[..body.len().min(300)]
                );
                assert!(
                    documented.contains(&status),
                    "{method} {path} answered {status}, which it does not document: {answer}"
                );
                if status >= 400 {
                    assert!(answer["error"]["message"].is_string() && answer["error"]["code"].is_string(), "{answer}");
                    assert_eq!(answer["error"]["status"], status);
                }
            }
        }
    }
    // The generator reached past the gatekeeping: accepted requests, refusals of each kind.
    for status in [200, 403, 422] {
        assert!(seen.get(&status).is_some_and(|count| *count > 0), "no {status} among {seen:?}");
    }
    assert!(seen.values().sum::<usize>() >= 100, "{seen:?}");
    let verified = run(command(&root()).args(["audit", "verify", "--store", store.address()]));
    assert_eq!(verified.code, 0, "whatever was sent, the chain is whole: {}", verified.stdout);
}

/// Runs openssl (the test's certificate authority) in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let status =
        Command::new("openssl").current_dir(dir).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(status.expect("openssl runs").success(), "openssl {args:?}");
}

/// TLS: the server presents a certificate an internal CA issued; the CLI trusts that CA
/// through MODELGATE_SERVER_CA, and refuses the server without it. A token never travels
/// over plain HTTP to anything but loopback.
#[test]
fn tls_with_an_internal_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = runner(dir.path(), "pki");
    openssl(
        &pki,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=modelgate test CA",
        ],
    );
    openssl(
        &pki,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        pki.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    openssl(
        &pki,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
    let store = TestStore::create(Backend::Sqlite, dir.path(), "tls");
    let tls = format!(
        "[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        pki.join("server.pem").display(),
        pki.join("server.key").display()
    );
    let server = Server::start_with(&runner(dir.path(), "server"), &store, None, &tls);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let governance = server.token(&["--name", "gov", "--role", "governance"]);
    let policy_ci = runner(dir.path(), "policy-ci");
    assert_eq!(run(command(&policy_ci).args(["policy", "init", "policies"])).code, 0);

    let trusted = run(command(&policy_ci)
        .env("MODELGATE_SERVER", &server.url)
        .env("MODELGATE_TOKEN", &governance)
        .env("MODELGATE_SERVER_CA", pki.join("ca.pem"))
        .args(["policy", "publish", "policies"]));
    assert_eq!(trusted.code, 0, "{}\n{}", trusted.stdout, trusted.stderr);
    assert!(trusted.stdout.starts_with("published sha256:"), "{}", trusted.stdout);

    let untrusted = server.client(&policy_ci, &governance, &["policy", "publish", "policies"]);
    util::assert_fails_closed(&untrusted, &["cannot reach the server", "MODELGATE_SERVER"]);

    let plain = run(command(&policy_ci)
        .env("MODELGATE_SERVER", "http://modelgate.example:8480")
        .env("MODELGATE_TOKEN", &governance)
        .args(["policy", "publish", "policies"]));
    util::assert_fails_closed(&plain, &["plain http", "in clear"]);
}

/// A body over the limit is refused with 413, and one that trickles in is cut off by the
/// request time limit, both with the documented error shape; the server keeps serving.
#[test]
fn oversized_and_slow_bodies_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(Backend::Sqlite, dir.path(), "limits");
    let limits = "[limits]\nmax_body_bytes = 65536\nrequest_timeout_ms = 1500\n";
    let server = Server::start_with(&runner(dir.path(), "server"), &store, None, limits);
    let pipeline =
        server.token(&["--name", "ci", "--role", "pipeline", "--models", "*", "--environments", "production"]);
    let huge = format!("{{\"evidence\": \"{}\"}}", "x".repeat(200_000));
    let (status, answer) = server.http("POST", "/v1/decisions", Some(&pipeline), &huge);
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["error"]["code"], "too_large");
    let (status, answer) = server.http("POST", "/v1/decisions", None, &huge);
    assert_eq!(status, 401, "no token: refused before the body is read: {answer}");

    let address = server.url.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&address).expect("connect");
    write!(
        stream,
        "POST /v1/decisions HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {pipeline}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"evid"
    )
    .expect("send the start");
    let started = std::time::Instant::now();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"timeout\""), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let (status, _) = server.http("GET", "/healthz", None, "");
    assert_eq!(status, 200, "still serving");
}
