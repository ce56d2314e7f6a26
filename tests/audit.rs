//! The audit store end to end: decisions recorded by `check`/`eval`, deployments that
//! only an `allow` for the very artifact permits, the auditor's queries, tamper evidence,
//! concurrent and killed writers, and the faults that must fail closed.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rusqlite::{params, Connection};
use serde_json::Value;
use util::{root, Run};

const MINIMAL: &str = "tests/fixtures/policies/minimal";
const PASS: &str = "tests/fixtures/evidence/pass-production.json";
const FAIL: &str = "tests/fixtures/evidence/fail-many.json";

/// `modelgate ARGS` recording into `store`.
fn mg(store: &Path, args: &[&str]) -> Run {
    util::run(util::recording(store).args(args))
}

fn json(run: &Run) -> Value {
    run.json()
}

/// Evaluates `evidence` under the minimal policies; returns the report.
fn eval(store: &Path, evidence: &str) -> Value {
    let run = mg(store, &["eval", "--input", evidence, "--policies", MINIMAL, "--format", "json"]);
    assert!(run.code == 0 || run.code == 1, "eval: {}\n{}", run.code, run.stderr);
    json(&run)
}

/// The evidence fixture with another model version, written to `dir`.
fn evidence_version(dir: &Path, source: &str, version: &str) -> String {
    let mut evidence: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(source)).expect("fixture")).expect("fixture JSON");
    evidence["model"]["version"] = Value::from(version);
    let path = dir.join(format!("evidence-{version}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&evidence).expect("JSON")).expect("write");
    path.display().to_string()
}

fn deploy(store: &Path, version: &str, evidence: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "deploy",
        "record",
        "--model",
        "credit-scoring",
        "--version",
        version,
        "--environment",
        "production",
        "--evidence",
        evidence,
        "--policies",
        MINIMAL,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    mg(store, &args)
}

fn verify(store: &Path) -> (i32, Value) {
    let run = mg(store, &["audit", "verify", "--format", "json"]);
    (run.code, json(&run))
}

#[test]
fn check_records_the_decision_and_deploy_needs_an_allow_for_this_very_artifact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let evidence = dir.path().join("evidence.json");
    let run = mg(
        &store,
        &["check", "examples/credit-scoring", "--format", "json", "--evidence-out", evidence.to_str().expect("utf-8")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run);
    let id = report["decision_id"].as_str().expect("id").to_string();
    assert_eq!(report["audit"]["seq"], 1);
    assert_eq!(report["audit"]["store"], store.display().to_string());

    // What was recorded: the decision, the evidence and every policy file.
    let show = mg(&store, &["audit", "show", &id, "--format", "json"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    let shown = json(&show);
    assert_eq!(shown["entry"]["decision"], "allow");
    assert_eq!(shown["entry"]["evidence_digest"], report["evidence_digest"]);
    assert_eq!(shown["entry"]["bundle_digest"], report["policy"]["digest"]);
    assert_eq!(shown["entry"]["requester"], "ci");
    assert_eq!(shown["evidence"]["model"]["version"], "2.4.0");
    let files = shown["policy_files"].as_array().expect("files");
    let fairness = files.iter().find(|file| file["path"] == "fairness/fairness.rego").expect("fairness.rego stored");
    assert_eq!(
        fairness["contents"].as_str().expect("text"),
        std::fs::read_to_string(root().join("policies/fairness/fairness.rego")).expect("policy")
    );
    assert_eq!(files.len() as u64, report["policy"]["files"].as_u64().expect("count"));

    let deploy_args = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            "record",
            "--model",
            "credit-scoring",
            "--version",
            "2.4.0",
            "--environment",
            "production",
            "--project",
            "examples/credit-scoring",
        ];
        args.extend_from_slice(extra);
        args.iter().map(|arg| arg.to_string()).collect::<Vec<_>>()
    };
    let run_deploy = |extra: &[&str]| {
        let args = deploy_args(extra);
        mg(&store, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Another artifact's evidence: refused.
    let other = format!("sha256:{}", "ab".repeat(32));
    let refused = run_deploy(&["--evidence-digest", &other]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("cannot be reused for another artifact"), "{}", refused.stderr);
    // Policies changed since the check: refused.
    let changed = dir.path().join("policies");
    util::copy_dir(&root().join("policies"), &changed);
    std::fs::write(changed.join("extra.rego"), "package modelgate.extra\n\ndeny contains \"never\" if { false }\n")
        .expect("write");
    let refused =
        run_deploy(&["--evidence", evidence.to_str().expect("utf-8"), "--policies", changed.to_str().expect("utf-8")]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("but the current bundle is"), "{}", refused.stderr);
    // An unknown decision id is an error, not a refusal.
    let unknown = run_deploy(&[
        "--evidence",
        evidence.to_str().expect("utf-8"),
        "--decision",
        "01234567-0000-7000-8000-000000000000",
    ]);
    util::assert_fails_closed(&unknown, &["no decision 01234567-0000-7000-8000-000000000000 in the audit store"]);
    // Another version than the decision judged: refused.
    let wrong = mg(
        &store,
        &[
            "deploy",
            "record",
            "--model",
            "credit-scoring",
            "--version",
            "2.5.0",
            "--environment",
            "production",
            "--project",
            "examples/credit-scoring",
            "--decision",
            &id,
            "--evidence",
            evidence.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(wrong.code, 1, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("not for credit-scoring 2.5.0 in production"), "{}", wrong.stderr);
    // The artifact's own evidence, the current policies, the allow decision: deployed.
    let deployed =
        run_deploy(&["--evidence", evidence.to_str().expect("utf-8"), "--decision", &id, "--format", "json"]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    let deployed = json(&deployed);
    assert_eq!(deployed["entry"]["details"]["decision_id"], id.as_str());
    assert_eq!(deployed["entry"]["details"]["action"], "deploy");

    // A deny decision never deploys.
    let blocked = mg(&store, &["check", "examples/credit-scoring-blocked", "--format", "json"]);
    assert_eq!(blocked.code, 1, "{}", blocked.stderr);
    let refused = mg(
        &store,
        &[
            "deploy",
            "record",
            "--model",
            "credit-scoring",
            "--version",
            "2.5.0",
            "--environment",
            "production",
            "--project",
            "examples/credit-scoring-blocked",
            "--evidence-digest",
            json(&blocked)["evidence_digest"].as_str().expect("digest"),
        ],
    );
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("is `deny`, not `allow`"), "{}", refused.stderr);

    let at = mg(&store, &["audit", "at", "--environment", "production", "--format", "json"]);
    assert_eq!(at.code, 0, "{}", at.stderr);
    let at = json(&at);
    let deployments = at["deployments"].as_array().expect("list");
    assert_eq!(deployments.len(), 1, "{at}");
    assert_eq!(deployments[0]["version"], "2.4.0");
    assert_eq!(deployments[0]["decision_id"], id.as_str());
    assert_eq!(deployments[0]["bundle_digest"], report["policy"]["digest"]);

    let (code, verification) = verify(&store);
    assert_eq!(code, 0, "{verification}");
    assert_eq!(verification["entries"], 3);
}

#[test]
fn audit_at_answers_for_any_past_moment_through_deploys_retirement_and_rollback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let v1 = evidence_version(dir.path(), PASS, "2.3.0");
    let v2 = evidence_version(dir.path(), PASS, "2.4.0");
    let first = eval(&store, &v1);
    assert_eq!(first["decision"], "allow");
    let deploy_v1 = deploy(&store, "2.3.0", &v1, &[]);
    assert_eq!(deploy_v1.code, 0, "{}", deploy_v1.stderr);
    let t1 = json(&deploy_v1)["entry"]["time"].as_str().expect("time").to_string();
    eval(&store, &v2);
    let deploy_v2 = deploy(&store, "2.4.0", &v2, &[]);
    assert_eq!(deploy_v2.code, 0, "{}", deploy_v2.stderr);
    let deploy_v2 = json(&deploy_v2);
    assert_eq!(deploy_v2["entry"]["details"]["previous_version"], "2.3.0");
    let t2 = deploy_v2["entry"]["time"].as_str().expect("time").to_string();
    let retired = mg(
        &store,
        &[
            "deploy",
            "retire",
            "--model",
            "credit-scoring",
            "--environment",
            "production",
            "--reason",
            "incident 42",
            "--format",
            "json",
        ],
    );
    assert_eq!(retired.code, 0, "{}", retired.stderr);
    let t3 = json(&retired)["entry"]["time"].as_str().expect("time").to_string();
    // Rolling back to 2.3.0 is recorded as such, by the decision it was first deployed by.
    let rollback = deploy(&store, "2.3.0", &v1, &[]);
    assert_eq!(rollback.code, 0, "{}", rollback.stderr);
    let rollback = json(&rollback);
    assert_eq!(rollback["entry"]["details"]["action"], "rollback");
    let t4 = rollback["entry"]["time"].as_str().expect("time").to_string();

    let at = |time: &str| -> Vec<(String, String)> {
        let run = mg(&store, &["audit", "at", "--environment", "production", "--time", time, "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        json(&run)["deployments"]
            .as_array()
            .expect("list")
            .iter()
            .map(|row| {
                (row["version"].as_str().unwrap_or("").to_string(), row["action"].as_str().unwrap_or("").to_string())
            })
            .collect()
    };
    assert_eq!(at("2020-01-01"), vec![]);
    assert_eq!(at(&t1), vec![("2.3.0".into(), "deploy".into())]);
    assert_eq!(at(&t2), vec![("2.4.0".into(), "deploy".into())]);
    assert_eq!(at(&t3), vec![]);
    assert_eq!(at(&t4), vec![("2.3.0".into(), "rollback".into())]);
    // Another environment has nothing; the text answer names the decision and the policies.
    assert!(mg(&store, &["audit", "at", "--environment", "staging", "--format", "json"])
        .stdout
        .contains("\"deployments\": []"));
    let text = mg(&store, &["audit", "at", "--environment", "production", "--time", &t2]);
    assert!(text.stdout.contains("credit-scoring 2.4.0 in production"), "{}", text.stdout);
    assert!(text.stdout.contains("policies:  sha256:"), "{}", text.stdout);
    assert!(text.stdout.contains("waived:    nothing"), "{}", text.stdout);
    // Retiring what is not deployed is refused.
    let again = mg(&store, &["deploy", "retire", "--model", "fraud", "--environment", "production"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
}

#[test]
fn log_and_exports_answer_with_filters() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let allowed = eval(&store, PASS);
    let denied = eval(&store, FAIL);
    assert_eq!(denied["decision"], "deny");
    let log = mg(&store, &["audit", "log", "--decision", "deny", "--format", "json"]);
    assert_eq!(log.code, 0, "{}", log.stderr);
    let log = json(&log);
    assert_eq!(log.as_array().map(Vec::len), Some(1));
    assert_eq!(log[0]["entry"]["id"], denied["decision_id"]);
    let none = json(&mg(&store, &["audit", "log", "--since", "2999-01-01", "--format", "json"]));
    assert_eq!(none.as_array().map(Vec::len), Some(0));
    let all =
        json(&mg(&store, &["audit", "log", "--model", "credit-scoring", "--until", "2999-01-01", "--format", "json"]));
    assert_eq!(all.as_array().map(Vec::len), Some(2));

    let opa = mg(&store, &["audit", "export", "--format", "opa"]);
    assert_eq!(opa.code, 0, "{}", opa.stderr);
    let events: Vec<Value> = opa.stdout.lines().map(|line| serde_json::from_str(line).expect("event JSON")).collect();
    assert_eq!(events.len(), 2);
    let event = &events[0];
    assert_eq!(event["decision_id"], allowed["decision_id"]);
    assert_eq!(event["path"], "modelgate");
    assert_eq!(event["result"]["decision"], "allow");
    assert_eq!(event["input"]["model"]["name"], "credit-scoring");
    assert_eq!(event["requested_by"], "jane.doe@example.com");
    assert!(event["bundles"]["policies"]["revision"].is_string(), "{event}");
    assert!(event["timestamp"].as_str().is_some_and(|time| time.ends_with('Z')));
    assert_eq!(events[1]["result"]["violations"].as_array().map(Vec::is_empty), Some(false));

    let csv = mg(&store, &["audit", "export", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    let column = |name: &str| headers.iter().position(|header| header == name).expect(name);
    assert_eq!(&rows[1][column("decision")], "deny");
    assert!(!rows[1][column("violations")].is_empty());

    let jsonl = mg(&store, &["audit", "export", "--format", "jsonl", "--decision", "allow"]);
    let lines: Vec<Value> = jsonl.stdout.lines().map(|line| serde_json::from_str(line).expect("line")).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["entry"]["id"], allowed["decision_id"]);
    assert_eq!(lines[0]["prev_hash"], "sha256:0000000000000000000000000000000000000000000000000000000000000000");
}

/// A store with decisions, a deployment and a re-evaluation's worth of entries, closed.
fn populated_store(dir: &Path) -> PathBuf {
    let store = dir.join("audit.db");
    let allowed = eval(&store, PASS);
    eval(&store, FAIL);
    let id = allowed["decision_id"].as_str().expect("id");
    let deployed = deploy(&store, "2.3.0", &root().join(PASS).display().to_string(), &["--decision", id]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    eval(&store, PASS);
    assert_eq!(verify(&store).0, 0);
    store
}

/// Copies the store, lets `tamper` change the copy, and returns what verify says.
fn tampered(store: &Path, name: &str, tamper: impl FnOnce(&Connection)) -> (i32, Value) {
    let copy = store.with_file_name(format!("{name}.db"));
    std::fs::copy(store, &copy).expect("copy");
    {
        let connection = Connection::open(&copy).expect("open copy");
        tamper(&connection);
    }
    verify(&copy)
}

/// The id of the first decision in `store`.
fn first_decision(store: &Path) -> String {
    let db = Connection::open(store).expect("open");
    db.query_row("SELECT id FROM entries WHERE kind = 'decision' ORDER BY seq LIMIT 1", [], |row| row.get(0))
        .expect("a decision")
}

/// A copy of `store` with a page in its middle overwritten, and what verify says (as JSON
/// when it reports problems, as the message when it cannot read the store at all).
fn scrambled(store: &Path) -> (i32, Value) {
    let copy = store.with_file_name("scrambled.db");
    {
        // Checkpointed first, so that the pages are in the file rather than the WAL.
        let db = Connection::open(store).expect("open");
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    }
    let mut bytes = std::fs::read(store).expect("read");
    let page = 4096;
    assert!(bytes.len() > 4 * page, "a store of {} bytes", bytes.len());
    for (index, byte) in bytes[2 * page..3 * page].iter_mut().enumerate() {
        *byte = (index * 31 % 251) as u8;
    }
    std::fs::write(&copy, bytes).expect("write");
    let run = mg(&copy, &["audit", "verify", "--format", "json"]);
    let found = serde_json::from_str(&run.stdout).unwrap_or_else(|_| Value::String(run.stderr.clone()));
    (run.code, found)
}

/// Verify found the tampering (exit 1), and its first problem is at entry `seq` and says `needle`.
fn assert_first(code: i32, found: &Value, seq: u64, needle: &str) {
    assert_eq!(code, 1, "{found}");
    let (first, message) = first_problem(found);
    assert_eq!(first, seq, "{found}");
    assert!(message.contains(needle), "{message}");
}

fn first_problem(verification: &Value) -> (u64, String) {
    let problem = &verification["problems"][0];
    (problem["seq"].as_u64().unwrap_or(0), problem["message"].as_str().unwrap_or("").to_string())
}

#[test]
fn verify_catches_every_kind_of_tampering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = populated_store(dir.path());
    let head = verify(&store).1["head"].clone();
    assert_eq!(head["seq"], 4);

    // Editing the decision inside an entry's content.
    let (code, found) = tampered(&store, "edit-content", |db| {
        db.execute("UPDATE entries SET content = replace(content, '\"decision\":\"deny\"', '\"decision\":\"allow\"') WHERE seq = 2", [])
            .expect("edit");
    });
    assert_first(code, &found, 2, "the entry was edited");

    // Editing only the indexed column a query reads.
    let (code, found) = tampered(&store, "edit-column", |db| {
        db.execute("UPDATE entries SET decision = 'allow' WHERE seq = 2", []).expect("edit");
    });
    assert_first(code, &found, 2, "decision is Some(\"allow\") in the index");

    // Editing the content and recomputing its hash: the next entry's link breaks.
    let (code, found) = tampered(&store, "rehash", |db| {
        let (prev, content): (String, String) = db
            .query_row("SELECT prev_hash, content FROM entries WHERE seq = 2", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("row");
        let content = content.replace("\"decision\":\"deny\"", "\"decision\":\"allow\"");
        let hash = modelgate::audit::chain::link(&prev, &content);
        db.execute(
            "UPDATE entries SET content = ?1, hash = ?2, decision = 'allow' WHERE seq = 2",
            params![content, hash],
        )
        .expect("edit");
    });
    assert_first(code, &found, 3, "is not the hash of the entry before it");

    // Deleting an entry in the middle.
    let (code, found) = tampered(&store, "delete-middle", |db| {
        db.execute("DELETE FROM entries WHERE seq = 2", []).expect("delete");
    });
    assert_first(code, &found, 3, "entry 2 is missing");

    // Deleting the last entry.
    let (code, found) = tampered(&store, "delete-last", |db| {
        db.execute("DELETE FROM entries WHERE seq = 4", []).expect("delete");
    });
    assert_eq!(code, 1);
    assert!(first_problem(&found).1.contains("entries at the end were deleted"), "{found}");

    // Deleting the last entry and the store's note of its head: only a published head tells.
    let truncated = store.with_file_name("truncated.db");
    let (code, found) = tampered(&store, "truncated", |db| {
        db.execute("DELETE FROM entries WHERE seq = 4", []).expect("delete");
        let hash: String = db.query_row("SELECT hash FROM entries WHERE seq = 3", [], |row| row.get(0)).expect("hash");
        db.execute("UPDATE meta SET value = '3' WHERE key = 'head_seq'", []).expect("meta");
        db.execute("UPDATE meta SET value = ?1 WHERE key = 'head_hash'", [hash]).expect("meta");
    });
    assert_eq!(code, 0, "without an anchor a clean truncation is consistent: {found}");
    let anchor = format!("{}:{}", head["seq"], head["hash"].as_str().expect("hash"));
    let run = mg(&truncated, &["audit", "verify", "--anchor", &anchor, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(json(&run)["problems"][0]["message"].as_str().unwrap_or("").contains("is not in the chain"));

    // Reordering two entries.
    let (code, found) = tampered(&store, "reorder", |db| {
        db.execute_batch(
            "UPDATE entries SET seq = 100 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 3; UPDATE entries SET seq = 3 WHERE seq = 100;",
        )
        .expect("swap");
    });
    assert_eq!(code, 1);
    assert_eq!(first_problem(&found).0, 2, "{found}");

    // Inserting a forged entry at the end, with a correct hash over a wrong link.
    let (code, found) = tampered(&store, "insert", |db| {
        let content: String =
            db.query_row("SELECT content FROM entries WHERE seq = 1", [], |row| row.get(0)).expect("row");
        let content = content.replace("\"seq\":1,", "\"seq\":5,");
        let prev = modelgate::audit::chain::GENESIS;
        let hash = modelgate::audit::chain::link(prev, &content);
        db.execute(
            "INSERT INTO entries SELECT 5, id || 'x', kind, time, model, version, environment, decision, evidence_digest, bundle_digest, ?1, ?2, ?3 FROM entries WHERE seq = 1",
            params![content, prev, hash],
        )
        .expect("insert");
    });
    assert_eq!(code, 1);
    assert_eq!(first_problem(&found).0, 4, "the store's head names 4: {found}");
    assert!(found["problems"].as_array().expect("list").iter().any(|p| p["seq"] == 5));

    // A corrupted evidence blob, a missing one, an altered bundle manifest.
    let (code, found) = tampered(&store, "blob", |db| {
        db.execute("UPDATE blobs SET data = zeroblob(length(data)) WHERE digest = (SELECT evidence_digest FROM entries WHERE seq = 1)", [])
            .expect("corrupt");
    });
    assert_eq!(code, 1);
    assert!(
        found["problems"]
            .as_array()
            .expect("list")
            .iter()
            .any(|p| p["message"].as_str().unwrap_or("").contains("is corrupt")),
        "{found}"
    );
    let (code, found) = tampered(&store, "missing-blob", |db| {
        db.execute("DELETE FROM blobs WHERE digest = (SELECT evidence_digest FROM entries WHERE seq = 2)", [])
            .expect("delete");
    });
    assert_eq!(code, 1);
    assert!(found["problems"].to_string().contains("that entries name is missing"), "{found}");
    let (code, found) = tampered(&store, "policy-file", |db| {
        let manifest: String = db.query_row("SELECT manifest FROM bundles", [], |row| row.get(0)).expect("manifest");
        let mut manifest: Value = serde_json::from_str(&manifest).expect("JSON");
        // Point demo.rego at another stored file's content.
        let other = manifest["files"][0]["digest"].clone();
        manifest["files"][1]["digest"] = other;
        db.execute("UPDATE bundles SET manifest = ?1", [manifest.to_string()]).expect("edit");
    });
    assert_eq!(code, 1);
    assert!(found["problems"].to_string().contains("the manifest was altered"), "{found}");
    // A file's kind in the manifest (`rego` to `rego_test`): replay would leave the policy out.
    let kind_edit = store.with_file_name("kind.db");
    let (code, found) = tampered(&store, "kind", |db| {
        let manifest: String = db.query_row("SELECT manifest FROM bundles", [], |row| row.get(0)).expect("manifest");
        db.execute(
            "UPDATE bundles SET manifest = ?1",
            [manifest.replace("\"kind\":\"rego\"", "\"kind\":\"rego_test\"")],
        )
        .expect("edit");
    });
    assert_eq!(code, 1);
    assert!(found["problems"].to_string().contains("is `rego_test`, which its path does not allow"), "{found}");
    let decision = first_decision(&kind_edit);
    let run = mg(&kind_edit, &["audit", "show", &decision, "--replay", "--brief"]);
    util::assert_fails_closed(&run, &["which its path does not allow"]);
    // Scrambled pages: the database engine's own check finds what queries would stumble on.
    let (code, found) = scrambled(&store);
    assert!(code == 1 || code == 2, "{found}");
    assert!(found.to_string().contains("damaged") || found.to_string().contains("malformed"), "{found}");

    // The untouched store still verifies, and the text says where the first problem is.
    assert_eq!(verify(&store).0, 0);
    let text = mg(&store.with_file_name("delete-middle.db"), &["audit", "verify"]);
    assert!(text.stdout.starts_with("TAMPERED:") && text.stdout.contains("the first is at entry 3"), "{}", text.stdout);
}

/// The recorded revision is the commit of the checkout holding the policies, with where the
/// policies sit in it, and `dirty` whenever a policy file differs from that commit:
/// edited, untracked, or ignored by git.
#[test]
fn provenance_names_the_commit_the_folder_and_every_difference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repository = dir.path().join("governance");
    let policies = repository.join("policies");
    util::copy_dir(&root().join(MINIMAL), &policies);
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .current_dir(&repository)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .expect("git");
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "policies"]);
    let head = git(&["rev-parse", "HEAD"]);
    let store = dir.path().join("audit.db");
    let policies_arg = policies.display().to_string();
    let judge = || {
        let run = mg(&store, &["eval", "--input", PASS, "--policies", &policies_arg, "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        json(&run)
    };
    let entry = |report: &Value| {
        let id = report["decision_id"].as_str().expect("id").to_string();
        json(&mg(&store, &["audit", "show", &id, "--brief", "--format", "json"]))["entry"].clone()
    };
    let clean = judge();
    assert_eq!(clean["policy"]["revision"], head.as_str());
    assert_eq!(clean["policy"]["subpath"], "policies");
    assert_eq!(clean["policy"]["dirty"], false);
    let recorded = entry(&clean);
    assert_eq!(recorded["bundle_revision"], head.as_str());
    assert_eq!(recorded["details"]["policy_subpath"], "policies");
    assert_eq!(recorded["details"]["policy_dirty"], false);
    // A policy file git ignores is read all the same: the bundle is not the commit.
    std::fs::write(repository.join(".gitignore"), "policies/extra.rego\n").expect("gitignore");
    git(&["add", ".gitignore"]);
    git(&["commit", "-qm", "ignore"]);
    std::fs::write(
        policies.join("extra.rego"),
        "package modelgate.extra\n\nimport rego.v1\n\nwarn contains \"x\" if { false }\n",
    )
    .expect("write");
    let ignored = judge();
    assert_eq!(ignored["policy"]["dirty"], true, "{ignored:#}");
    assert_eq!(entry(&ignored)["details"]["policy_dirty"], true);
    std::fs::remove_file(policies.join("extra.rego")).expect("rm");
    assert_eq!(judge()["policy"]["dirty"], false);
    // An edit.
    let data = std::fs::read_to_string(policies.join("data.yaml")).expect("data.yaml");
    std::fs::write(policies.join("data.yaml"), data.replace("0.9", "0.85")).expect("edit");
    assert_eq!(judge()["policy"]["dirty"], true);
}

/// An auditor's archive: a copy of the store on read-only media verifies as it is.
#[test]
fn verify_works_on_a_read_only_copy() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = populated_store(dir.path());
    {
        let db = Connection::open(&store).expect("open");
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    }
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).expect("mkdir");
    let copy = archive.join("audit.db");
    std::fs::copy(&store, &copy).expect("copy");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o555)).expect("chmod dir");
    // As root, permissions do not bind: the command runs as nobody.
    let root_user = Command::new("id").arg("-u").output().map(|out| out.stdout == b"0\n").unwrap_or(false);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let args = ["audit", "verify", "--format", "json"];
    let run = if root_user {
        util::run(&mut util::wrapped(
            &util::recording_as_is(&copy),
            "setpriv",
            &["--reuid=65534", "--regid=65534", "--clear-groups"],
            &args,
        ))
    } else {
        util::run(util::recording_as_is(&copy).args(args))
    };
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(json(&run)["entries"], 4, "{}", run.stdout);
    assert!(!archive.join("audit.db-wal").exists() && !archive.join("audit.db-shm").exists());
}

#[test]
fn show_replays_a_decision_from_the_stored_evidence_and_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let report = eval(&store, FAIL);
    let id = report["decision_id"].as_str().expect("id");
    let run = mg(&store, &["audit", "show", id, "--replay", "--brief"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("replay: reproduced: deny"), "{}", run.stdout);
    assert!(run.stdout.contains("violations ("), "{}", run.stdout);
    // A corrupt blob is an error, never a wrong answer.
    {
        let db = Connection::open(&store).expect("open");
        db.execute(
            "UPDATE blobs SET data = CAST(x'28b52ffd20' || data AS BLOB) WHERE digest = ?1",
            [report["evidence_digest"].as_str()],
        )
        .expect("corrupt");
    }
    let run = mg(&store, &["audit", "show", id]);
    util::assert_fails_closed(&run, &["is corrupt"]);
}

#[test]
fn stores_that_cannot_be_trusted_or_written_fail_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not a store at all.
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "meeting notes\n".repeat(400)).expect("write");
    let run = mg(&text, &["eval", "--input", PASS, "--policies", MINIMAL]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("could not be recorded") && run.stdout.contains("not a modelgate audit store"),
        "{}",
        run.stdout
    );
    // An SQLite database of something else.
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign).expect("open").execute_batch("CREATE TABLE users (name TEXT)").expect("create");
    let run = mg(&foreign, &["eval", "--input", PASS, "--policies", MINIMAL, "--format", "json"]);
    assert_eq!(run.code, 2);
    assert_eq!(json(&run)["decision"], "error");
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    // A store from a newer modelgate.
    let newer = dir.path().join("newer.db");
    eval(&newer, PASS);
    Connection::open(&newer).expect("open").pragma_update(None, "user_version", 99).expect("bump");
    let run = mg(&newer, &["eval", "--input", PASS, "--policies", MINIMAL, "--format", "json"]);
    assert_eq!(run.code, 2);
    assert!(json(&run)["error"]["message"].as_str().unwrap_or("").contains("schema version 99"), "{}", run.stdout);
    let run = mg(&newer, &["audit", "log"]);
    util::assert_fails_closed(&run, &["schema version 99, newer than this modelgate"]);
    // Deliberately allowed to go unrecorded: the decision stands, with a warning.
    let run = mg(&newer, &["eval", "--input", PASS, "--policies", MINIMAL, "--allow-unrecorded"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning: the decision was not recorded"), "{}", run.stderr);
    // Nothing to query yet.
    let run = util::run(util::recording_as_is(&dir.path().join("none.db")).args(["audit", "log"]));
    util::assert_fails_closed(&run, &["does not exist"]);
    // A store named by MODELGATE_STORE (a volume that did not mount) is never created by a
    // recording command: the decision is an error.
    let unmounted = dir.path().join("missing/mount/audit.db");
    let run = util::run(util::recording_as_is(&unmounted).args(["eval", "--input", PASS, "--policies", MINIMAL]));
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.contains("does not exist") && run.stdout.contains("audit init"), "{}", run.stdout);
    assert!(!dir.path().join("missing").exists(), "folders were created for the store");
    // A mistyped project folder is not created to hold a store.
    let typo = dir.path().join("no-such-project");
    let mut command = util::command(&root());
    command.env_remove("MODELGATE_NO_RECORD").args(["check", typo.to_str().expect("utf-8")]);
    let run = util::run(&mut command);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!typo.exists(), "check created {}", typo.display());
    // --no-record writes nothing.
    let skipped = dir.path().join("skipped.db");
    let run = util::run(util::recording_as_is(&skipped).args([
        "eval",
        "--input",
        PASS,
        "--policies",
        MINIMAL,
        "--no-record",
    ]));
    assert_eq!(run.code, 0);
    assert!(!skipped.exists());
}

#[test]
fn a_store_that_cannot_be_written_turns_an_allow_into_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    eval(&store, PASS);
    // Read-only: the file belongs to someone else (as root, the command runs as nobody).
    let root_user = Command::new("id").arg("-u").output().map(|out| out.stdout == b"0\n").unwrap_or(false);
    let mut permissions = std::fs::metadata(&store).expect("meta").permissions();
    use std::os::unix::fs::PermissionsExt;
    permissions.set_mode(0o444);
    std::fs::set_permissions(&store, permissions).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).expect("chmod dir");
    let args = ["eval", "--input", PASS, "--policies", MINIMAL, "--format", "json"];
    let run = if root_user {
        let command = util::recording(&store);
        util::run(&mut util::wrapped(&command, "setpriv", &["--reuid=65534", "--regid=65534", "--clear-groups"], &args))
    } else {
        mg(&store, &args)
    };
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let report = json(&run);
    assert_eq!(report["decision"], "error");
    let message = report["error"]["message"].as_str().unwrap_or("");
    assert!(message.starts_with("the allow decision could not be recorded"), "{message}");

    // A full disk (the file size limit stands in for it): SQLite's write fails, exit 2.
    let full = dir.path().join("full");
    std::fs::create_dir(&full).expect("mkdir");
    let store = full.join("audit.db");
    eval(&store, PASS);
    // One 512-byte block: the write-ahead log cannot take a single page.
    let script = "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"";
    let mut limited = util::wrapped(
        &util::recording(&store),
        "sh",
        &["-c", script],
        &["eval", "--input", FAIL, "--policies", MINIMAL, "--format", "json"],
    );
    let run = util::run(&mut limited);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(json(&run)["error"]["kind"], "store");
    // What was recorded before is intact.
    assert_eq!(verify(&store).0, 0);
}

#[test]
fn concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    // The store exists before the writers start: this test is about concurrent writes.
    // (Concurrent first creation is retried on busy in SqliteStore::open.)
    eval(&store, PASS);
    let writers = 4;
    let each = 6;
    let children: Vec<_> = (0..writers)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..each)
                    .map(|index| {
                        eval(&store, if index % 2 == 0 { PASS } else { FAIL })["decision_id"]
                            .as_str()
                            .expect("id")
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let ids: Vec<String> = children.into_iter().flat_map(|child| child.join().expect("writer")).collect();
    assert_eq!(ids.len(), writers * each);
    let (code, verification) = verify(&store);
    assert_eq!(code, 0, "{verification}");
    assert_eq!(verification["entries"], (writers * each + 1) as u64);
    let log = json(&mg(&store, &["audit", "log", "--limit", "0", "--format", "json"]));
    let recorded: std::collections::BTreeSet<&str> =
        log.as_array().expect("list").iter().filter_map(|row| row["entry"]["id"].as_str()).collect();
    for id in &ids {
        assert!(recorded.contains(id.as_str()), "decision {id} was acknowledged but is not in the store");
    }
}

#[test]
fn writers_killed_at_random_points_leave_every_acknowledged_decision_and_a_valid_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    eval(&store, PASS);
    let mut acknowledged = vec![];
    let mut killed = 0;
    // A cheap deterministic sequence of kill delays spread over a writer's run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..24 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delay = std::time::Duration::from_millis(state % 120);
        let mut command = util::recording(&store);
        command
            .args([
                "eval",
                "--input",
                if round % 2 == 0 { PASS } else { FAIL },
                "--policies",
                MINIMAL,
                "--format",
                "json",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("spawn");
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let output = child.wait_with_output().expect("wait");
        match output.status.code() {
            Some(0 | 1) => {
                let report: Value = serde_json::from_slice(&output.stdout).expect("report");
                acknowledged.push(report["decision_id"].as_str().expect("id").to_string());
            }
            None => killed += 1,
            Some(code) => panic!("a writer failed with {code}"),
        }
    }
    assert!(killed > 0, "no writer was killed: lengthen the delays' range");
    let (code, verification) = verify(&store);
    assert_eq!(code, 0, "{verification}");
    for id in &acknowledged {
        let run = mg(&store, &["audit", "show", id, "--brief"]);
        assert_eq!(run.code, 0, "acknowledged decision {id} is missing: {}", run.stderr);
    }
    // The store still takes writes.
    eval(&store, PASS);
    assert_eq!(verify(&store).0, 0);
}
