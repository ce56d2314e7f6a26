//! The audit store end to end: decisions recorded by `check`/`eval`, deployments that
//! only an `allow` for the very artifact permits, the auditor's queries, tamper evidence,
//! concurrent and killed writers, and the faults that must fail closed.

mod util;

use std::path::Path;
use std::process::{Command, Stdio};

use rusqlite::Connection;
use serde_json::Value;
use util::stores::{Backend, TestStore};
use util::{root, Run};

const MINIMAL: &str = "tests/fixtures/policies/minimal";
const PASS: &str = "tests/fixtures/evidence/pass-production.json";
const FAIL: &str = "tests/fixtures/evidence/fail-many.json";

/// `modelgate ARGS` recording into `store`.
fn mg(store: &TestStore, args: &[&str]) -> Run {
    util::run(util::recording_as_is(store.address()).args(args))
}

/// `modelgate ARGS` recording into the file `store`, as it is.
fn mg_at(store: &Path, args: &[&str]) -> Run {
    util::run(util::recording_as_is(store).args(args))
}

fn json(run: &Run) -> Value {
    run.json()
}

/// Evaluates `evidence` under the minimal policies; returns the report.
fn eval(store: &TestStore, evidence: &str) -> Value {
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

fn deploy(store: &TestStore, version: &str, evidence: &str, extra: &[&str]) -> Run {
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

fn verify(store: &TestStore) -> (i32, Value) {
    let run = mg(store, &["audit", "verify", "--format", "json"]);
    (run.code, json(&run))
}

on_both_backends!(
    check_records_the_decision_and_deploy_needs_an_allow_for_this_very_artifact,
    audit_at_answers_for_any_past_moment_through_deploys_retirement_and_rollback,
    log_and_exports_answer_with_filters,
    verify_catches_every_kind_of_tampering,
    show_replays_a_decision_from_the_stored_evidence_and_policies,
    concurrent_writers_lose_nothing,
    writers_killed_at_random_points_leave_every_acknowledged_decision_and_a_valid_chain,
);

fn check_records_the_decision_and_deploy_needs_an_allow_for_this_very_artifact(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(backend, dir.path(), "audit");
    let evidence = dir.path().join("evidence.json");
    let run = mg(
        &store,
        &["check", "examples/credit-scoring", "--format", "json", "--evidence-out", evidence.to_str().expect("utf-8")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run);
    let id = report["decision_id"].as_str().expect("id").to_string();
    assert_eq!(report["audit"]["seq"], 1);
    assert_eq!(report["audit"]["store"], store.location());

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

fn audit_at_answers_for_any_past_moment_through_deploys_retirement_and_rollback(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(backend, dir.path(), "audit");
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

fn log_and_exports_answer_with_filters(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(backend, dir.path(), "audit");
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
fn populated_store(backend: Backend, dir: &Path) -> TestStore {
    let store = TestStore::create(backend, dir, "audit");
    let allowed = eval(&store, PASS);
    eval(&store, FAIL);
    let id = allowed["decision_id"].as_str().expect("id");
    let deployed = deploy(&store, "2.3.0", &root().join(PASS).display().to_string(), &["--decision", id]);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    eval(&store, PASS);
    assert_eq!(verify(&store).0, 0);
    store
}

/// Copies the store, lets `tamper` change the copy, and returns the copy and what verify says.
fn tampered(store: &TestStore, dir: &Path, name: &str, tamper: impl FnOnce(&TestStore)) -> (TestStore, i32, Value) {
    let copy = store.copy(dir, name);
    tamper(&copy);
    let (code, found) = verify(&copy);
    (copy, code, found)
}

/// The id of the first decision in `store`.
fn first_decision(store: &TestStore) -> String {
    store.query_text("SELECT id FROM entries WHERE kind = 'decision' ORDER BY seq LIMIT 1")
}

/// A copy of `store` with a page in its middle overwritten, and what verify says (as JSON
/// when it reports problems, as the message when it cannot read the store at all).
fn scrambled(store: &Path) -> (i32, Value) {
    let copy = TestStore::uninitialised(Backend::Sqlite, store.parent().expect("folder"), "scrambled");
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
    std::fs::write(copy.path(), bytes).expect("write");
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

fn verify_catches_every_kind_of_tampering(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = populated_store(backend, dir.path());
    let head = verify(&store).1["head"].clone();
    assert_eq!(head["seq"], 4);
    let tampered = |name: &str, tamper: &dyn Fn(&TestStore)| tampered(&store, dir.path(), name, tamper);

    // Editing the decision inside an entry's content.
    let (_, code, found) = tampered("edit-content", &|db| {
        db.execute("UPDATE entries SET content = replace(content, '\"decision\":\"deny\"', '\"decision\":\"allow\"') WHERE seq = 2", &[]);
    });
    assert_first(code, &found, 2, "the entry was edited");

    // Editing only the indexed column a query reads.
    let (_, code, found) = tampered("edit-column", &|db| {
        db.execute("UPDATE entries SET decision = 'allow' WHERE seq = 2", &[]);
    });
    assert_first(code, &found, 2, "decision is Some(\"allow\") in the index");

    // Editing the content and recomputing its hash: the next entry's link breaks.
    let (_, code, found) = tampered("rehash", &|db| {
        let prev = db.query_text("SELECT prev_hash FROM entries WHERE seq = 2");
        let content = db.query_text("SELECT content FROM entries WHERE seq = 2");
        let content = content.replace("\"decision\":\"deny\"", "\"decision\":\"allow\"");
        let hash = modelgate::audit::chain::link(&prev, &content);
        db.execute("UPDATE entries SET content = ?1, hash = ?2, decision = 'allow' WHERE seq = 2", &[&content, &hash]);
    });
    assert_first(code, &found, 3, "is not the hash of the entry before it");

    // Deleting an entry in the middle.
    let (deleted_middle, code, found) = tampered("delete-middle", &|db| {
        db.execute("DELETE FROM entries WHERE seq = 2", &[]);
    });
    assert_first(code, &found, 3, "entry 2 is missing");

    // Deleting the last entry.
    let (_, code, found) = tampered("delete-last", &|db| {
        db.execute("DELETE FROM entries WHERE seq = 4", &[]);
    });
    assert_eq!(code, 1);
    assert!(first_problem(&found).1.contains("entries at the end were deleted"), "{found}");

    // Deleting the last entry and the store's note of its head: only a published head tells.
    let (truncated, code, found) = tampered("truncated", &|db| {
        db.execute("DELETE FROM entries WHERE seq = 4", &[]);
        let hash = db.query_text("SELECT hash FROM entries WHERE seq = 3");
        db.execute("UPDATE meta SET value = '3' WHERE key = 'head_seq'", &[]);
        db.execute("UPDATE meta SET value = ?1 WHERE key = 'head_hash'", &[&hash]);
    });
    assert_eq!(code, 0, "without an anchor a clean truncation is consistent: {found}");
    let anchor = format!("{}:{}", head["seq"], head["hash"].as_str().expect("hash"));
    let run = mg(&truncated, &["audit", "verify", "--anchor", &anchor, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(json(&run)["problems"][0]["message"].as_str().unwrap_or("").contains("is not in the chain"));

    // Reordering two entries.
    let (_, code, found) = tampered("reorder", &|db| {
        db.execute(
            "UPDATE entries SET seq = 100 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 3; UPDATE entries SET seq = 3 WHERE seq = 100;",
            &[],
        );
    });
    assert_eq!(code, 1);
    assert_eq!(first_problem(&found).0, 2, "{found}");

    // Inserting a forged entry at the end, with a correct hash over a wrong link.
    let (_, code, found) = tampered("insert", &|db| {
        let content = db.query_text("SELECT content FROM entries WHERE seq = 1");
        let content = content.replace("\"seq\":1,", "\"seq\":5,");
        let prev = modelgate::audit::chain::GENESIS;
        let hash = modelgate::audit::chain::link(prev, &content);
        db.execute(
            "INSERT INTO entries SELECT 5, id || 'x', kind, time, model, version, environment, decision, evidence_digest, bundle_digest, ?1, ?2, ?3 FROM entries WHERE seq = 1",
            &[&content, prev, &hash],
        );
    });
    assert_eq!(code, 1);
    assert_eq!(first_problem(&found).0, 4, "the store's head names 4: {found}");
    assert!(found["problems"].as_array().expect("list").iter().any(|p| p["seq"] == 5));

    // A corrupted evidence blob, a missing one, an altered bundle manifest.
    let (_, code, found) = tampered("blob", &|db| {
        let zeroes = db.dialect("zeroblob(length(data))", "decode(repeat('00', length(data)), 'hex')");
        db.execute(
            &format!(
                "UPDATE blobs SET data = {zeroes} WHERE digest = (SELECT evidence_digest FROM entries WHERE seq = 1)"
            ),
            &[],
        );
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
    let (_, code, found) = tampered("missing-blob", &|db| {
        db.execute("DELETE FROM blobs WHERE digest = (SELECT evidence_digest FROM entries WHERE seq = 2)", &[]);
    });
    assert_eq!(code, 1);
    assert!(found["problems"].to_string().contains("that entries name is missing"), "{found}");
    let (_, code, found) = tampered("policy-file", &|db| {
        let manifest = db.query_text("SELECT manifest FROM bundles");
        let mut manifest: Value = serde_json::from_str(&manifest).expect("JSON");
        // Point demo.rego at another stored file's content.
        let other = manifest["files"][0]["digest"].clone();
        manifest["files"][1]["digest"] = other;
        db.execute("UPDATE bundles SET manifest = ?1", &[&manifest.to_string()]);
    });
    assert_eq!(code, 1);
    assert!(found["problems"].to_string().contains("the manifest was altered"), "{found}");
    // A file's kind in the manifest (`rego` to `rego_test`): replay would leave the policy out.
    let (kind_edit, code, found) = tampered("kind", &|db| {
        let manifest = db.query_text("SELECT manifest FROM bundles");
        db.execute(
            "UPDATE bundles SET manifest = ?1",
            &[&manifest.replace("\"kind\":\"rego\"", "\"kind\":\"rego_test\"")],
        );
    });
    assert_eq!(code, 1);
    assert!(found["problems"].to_string().contains("is `rego_test`, which its path does not allow"), "{found}");
    let decision = first_decision(&kind_edit);
    let run = mg(&kind_edit, &["audit", "show", &decision, "--replay", "--brief"]);
    util::assert_fails_closed(&run, &["which its path does not allow"]);
    if backend == Backend::Sqlite {
        // Scrambled pages: the database engine's own check finds what queries would stumble on.
        let (code, found) = scrambled(store.path());
        assert!(code == 1 || code == 2, "{found}");
        assert!(found.to_string().contains("damaged") || found.to_string().contains("malformed"), "{found}");
    }

    // The untouched store still verifies, and the text says where the first problem is.
    assert_eq!(verify(&store).0, 0);
    let text = mg(&deleted_middle, &["audit", "verify"]);
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
    let store = TestStore::create(Backend::Sqlite, dir.path(), "audit");
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
    let store = populated_store(Backend::Sqlite, dir.path());
    let store = store.path();
    {
        let db = Connection::open(store).expect("open");
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    }
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).expect("mkdir");
    let copy = archive.join("audit.db");
    std::fs::copy(store, &copy).expect("copy");
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

fn show_replays_a_decision_from_the_stored_evidence_and_policies(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(backend, dir.path(), "audit");
    let report = eval(&store, FAIL);
    let id = report["decision_id"].as_str().expect("id");
    let run = mg(&store, &["audit", "show", id, "--replay", "--brief"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("replay: reproduced: deny"), "{}", run.stdout);
    assert!(run.stdout.contains("violations ("), "{}", run.stdout);
    // A corrupt blob is an error, never a wrong answer.
    store.execute(
        store.dialect(
            "UPDATE blobs SET data = CAST(x'28b52ffd20' || data AS BLOB) WHERE digest = ?1",
            "UPDATE blobs SET data = '\\x28b52ffd20'::bytea || data WHERE digest = ?1",
        ),
        &[report["evidence_digest"].as_str().expect("digest")],
    );
    let run = mg(&store, &["audit", "show", id]);
    util::assert_fails_closed(&run, &["is corrupt"]);
}

#[test]
fn stores_that_cannot_be_trusted_or_written_fail_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not a store at all.
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "meeting notes\n".repeat(400)).expect("write");
    let run = mg_at(&text, &["eval", "--input", PASS, "--policies", MINIMAL]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("could not be recorded") && run.stdout.contains("not a modelgate audit store"),
        "{}",
        run.stdout
    );
    // An SQLite database of something else.
    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign).expect("open").execute_batch("CREATE TABLE users (name TEXT)").expect("create");
    let run = mg_at(&foreign, &["eval", "--input", PASS, "--policies", MINIMAL, "--format", "json"]);
    assert_eq!(run.code, 2);
    assert_eq!(json(&run)["decision"], "error");
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    // A store from a newer modelgate.
    let newer_store = TestStore::create(Backend::Sqlite, dir.path(), "newer");
    eval(&newer_store, PASS);
    let newer = newer_store.path();
    Connection::open(newer).expect("open").pragma_update(None, "user_version", 99).expect("bump");
    let run = mg_at(newer, &["eval", "--input", PASS, "--policies", MINIMAL, "--format", "json"]);
    assert_eq!(run.code, 2);
    assert!(json(&run)["error"]["message"].as_str().unwrap_or("").contains("schema version 99"), "{}", run.stdout);
    let run = mg_at(newer, &["audit", "log"]);
    util::assert_fails_closed(&run, &["schema version 99, newer than this modelgate"]);
    // Deliberately allowed to go unrecorded: the decision stands, with a warning.
    let run = mg_at(newer, &["eval", "--input", PASS, "--policies", MINIMAL, "--allow-unrecorded"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("warning: the decision was not recorded"), "{}", run.stderr);
    // Nothing to query yet.
    let run = util::run(util::recording_as_is(dir.path().join("none.db")).args(["audit", "log"]));
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
    let test_store = TestStore::create(Backend::Sqlite, dir.path(), "audit");
    eval(&test_store, PASS);
    let store = test_store.path();
    // Read-only: the file belongs to someone else (as root, the command runs as nobody).
    let root_user = Command::new("id").arg("-u").output().map(|out| out.stdout == b"0\n").unwrap_or(false);
    let mut permissions = std::fs::metadata(store).expect("meta").permissions();
    use std::os::unix::fs::PermissionsExt;
    permissions.set_mode(0o444);
    std::fs::set_permissions(store, permissions).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).expect("chmod dir");
    let args = ["eval", "--input", PASS, "--policies", MINIMAL, "--format", "json"];
    let run = if root_user {
        let command = util::recording(store);
        util::run(&mut util::wrapped(&command, "setpriv", &["--reuid=65534", "--regid=65534", "--clear-groups"], &args))
    } else {
        mg(&test_store, &args)
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
    let store = TestStore::create(Backend::Sqlite, &full, "audit");
    eval(&store, PASS);
    // One 512-byte block: the write-ahead log cannot take a single page.
    let script = "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"";
    let mut limited = util::wrapped(
        &util::recording(store.path()),
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

fn concurrent_writers_lose_nothing(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(backend, dir.path(), "audit");
    eval(&store, PASS);
    let writers = 4;
    let each = 6;
    let ids: Vec<String> = std::thread::scope(|scope| {
        let children: Vec<_> = (0..writers)
            .map(|_| {
                scope.spawn(|| {
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
        children.into_iter().flat_map(|child| child.join().expect("writer")).collect()
    });
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

/// A cheap deterministic pseudo-random sequence (xorshift).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// One recording `eval`, killed with SIGKILL after `kill_after` when given: the decision id
/// when the writer reported it recorded, `None` when it was killed first.
fn eval_maybe_killed(store: &TestStore, evidence: &str, kill_after: Option<std::time::Duration>) -> Option<String> {
    let mut command = util::recording_as_is(store.address());
    command
        .args(["eval", "--input", evidence, "--policies", MINIMAL, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn");
    if let Some(delay) = kill_after {
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
    }
    let output = child.wait_with_output().expect("wait");
    match output.status.code() {
        Some(0 | 1) => {
            let report: Value = serde_json::from_slice(&output.stdout).expect("report");
            Some(report["decision_id"].as_str().expect("id").to_string())
        }
        None => None,
        Some(code) => panic!(
            "a writer failed with {code}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Every decision a writer reported as recorded is in the store, and the chain verifies
/// without a gap.
fn assert_acknowledged_present(store: &TestStore, acknowledged: &[String]) -> u64 {
    let (code, verification) = verify(store);
    assert_eq!(code, 0, "{verification}");
    let log = json(&mg(store, &["audit", "log", "--limit", "0", "--format", "json"]));
    let rows = log.as_array().expect("list");
    let recorded: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|row| row["entry"]["id"].as_str()).collect();
    for id in acknowledged {
        assert!(recorded.contains(id.as_str()), "decision {id} was acknowledged but is not in the store");
    }
    let mut seqs: Vec<u64> = rows.iter().filter_map(|row| row["seq"].as_u64()).collect();
    seqs.sort_unstable();
    assert!(seqs.iter().enumerate().all(|(index, seq)| *seq == index as u64 + 1), "the chain has a gap");
    verification["entries"].as_u64().expect("entries")
}

fn writers_killed_at_random_points_leave_every_acknowledged_decision_and_a_valid_chain(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(backend, dir.path(), "audit");
    eval(&store, PASS);
    let mut acknowledged = vec![];
    let mut killed = 0;
    // Kill delays spread over a writer's run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..24 {
        let delay = std::time::Duration::from_millis(next_random(&mut state) % 120);
        match eval_maybe_killed(&store, if round % 2 == 0 { PASS } else { FAIL }, Some(delay)) {
            Some(id) => acknowledged.push(id),
            None => killed += 1,
        }
    }
    assert!(killed > 0, "no writer was killed: lengthen the delays' range");
    assert_acknowledged_present(&store, &acknowledged);
    for id in &acknowledged {
        let run = mg(&store, &["audit", "show", id, "--brief"]);
        assert_eq!(run.code, 0, "acknowledged decision {id} is missing: {}", run.stderr);
    }
    // The store still takes writes.
    eval(&store, PASS);
    assert_eq!(verify(&store).0, 0);
}

/// Many hosts' pipelines appending to one PostgreSQL store at once: 8 concurrent writers ×
/// 50 decisions, about one in four killed with SIGKILL at a random point of its run.
#[test]
fn eight_writers_times_fifty_decisions_with_kills_on_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(Backend::Postgres, dir.path(), "stress");
    let writers: u64 = 8;
    let each: u64 = 50;
    let results: Vec<(Vec<String>, u64)> = std::thread::scope(|scope| {
        let children: Vec<_> = (0..writers)
            .map(|writer| {
                let store = &store;
                scope.spawn(move || {
                    let mut state = 0x9E37_79B9_7F4A_7C15 ^ (writer + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
                    let mut acknowledged = Vec::new();
                    let mut killed = 0;
                    for index in 0..each {
                        let roll = next_random(&mut state);
                        let kill = (roll % 4 == 0).then(|| std::time::Duration::from_millis(roll % 400));
                        match eval_maybe_killed(store, if index % 2 == 0 { PASS } else { FAIL }, kill) {
                            Some(id) => acknowledged.push(id),
                            None => killed += 1,
                        }
                    }
                    (acknowledged, killed)
                })
            })
            .collect();
        children.into_iter().map(|child| child.join().expect("writer")).collect()
    });
    let acknowledged: Vec<String> = results.iter().flat_map(|(ids, _)| ids.clone()).collect();
    let killed: u64 = results.iter().map(|(_, killed)| killed).sum();
    let entries = assert_acknowledged_present(&store, &acknowledged);
    eprintln!(
        "8 writers × 50 decisions on PostgreSQL: {} acknowledged, {killed} killed, {entries} entries, chain verified",
        acknowledged.len()
    );
    assert!(killed > 0, "no writer was killed");
    assert_eq!(acknowledged.len() as u64 + killed, writers * each);
    assert!(entries >= acknowledged.len() as u64 && entries <= writers * each);
}

/// The PostgreSQL store's faults: unreachable, missing, empty, another application's, a
/// newer modelgate's, read-only, a bad URL, TLS that does not verify. Each is exit 2 and a
/// decision of `error`; the password never shows.
#[test]
fn postgres_stores_that_cannot_be_reached_trusted_or_written_fail_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let eval_args = ["eval", "--input", PASS, "--policies", MINIMAL, "--format", "json"];
    let refused = |address: &str, needles: &[&str]| {
        let run = mg_at(Path::new(address), &eval_args);
        assert_eq!(run.code, 2, "{address}: {}\n{}", run.stdout, run.stderr);
        let report = json(&run);
        assert_eq!(report["decision"], "error", "{address}");
        let message = report["error"]["message"].as_str().unwrap_or("").to_string();
        assert!(message.starts_with("the allow decision could not be recorded"), "{message}");
        for needle in needles {
            assert!(message.contains(needle), "{address}: {message}");
        }
        assert!(report["error"]["hint"].as_str().is_some_and(|hint| !hint.is_empty()), "{report}");
        assert!(
            !run.stdout.contains("hunter2") && !run.stderr.contains("hunter2"),
            "the password shows: {}\n{}",
            run.stdout,
            run.stderr
        );
        message
    };
    let server = util::stores::postgres_server();
    let with_password = server.replacen("://root@", "://root:hunter2@", 1);
    assert_ne!(with_password, server, "the test server URL names the user root");

    // Nothing listens on the port.
    let message =
        refused("postgres://root:hunter2@127.0.0.1:1/test?sslmode=disable", &["postgres://root@127.0.0.1:1/test"]);
    assert!(message.contains("refused") || message.contains("connect"), "{message}");
    // The schema does not exist: never created by a recording command.
    let missing = TestStore::uninitialised(Backend::Postgres, dir.path(), "missing");
    let address = format!("{with_password}?sslmode=disable&schema={}", missing.schema());
    refused(&address, &["does not exist", missing.schema()]);
    let exists = |schema: &str| {
        util::stores::postgres_client()
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
            .expect("query")
            .is_some()
    };
    assert!(!exists(missing.schema()), "a recording command created the schema");
    let run = mg_at(Path::new(&address), &["audit", "log"]);
    util::assert_fails_closed(&run, &["does not exist", "audit init"]);
    // An empty schema (made by someone else) was never initialised.
    let mut client = util::stores::postgres_client();
    client.batch_execute(&format!("CREATE SCHEMA {}", missing.schema())).expect("create schema");
    refused(&address, &["never initialised"]);
    // Another application's tables.
    client.batch_execute(&format!("CREATE TABLE {}.users (name TEXT)", missing.schema())).expect("create");
    refused(&address, &["not a modelgate audit store"]);
    let init = util::run(util::command(&root()).args(["audit", "init", "--store", &address]));
    util::assert_fails_closed(&init, &["not a modelgate audit store"]);
    // A store written by a newer modelgate.
    let newer = TestStore::create(Backend::Postgres, dir.path(), "newer");
    eval(&newer, PASS);
    newer.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", &[]);
    refused(newer.address(), &["schema version 99, newer than this modelgate"]);
    let run = mg(&newer, &["audit", "verify"]);
    util::assert_fails_closed(&run, &["schema version 99"]);
    // A read-only session (a hot standby, a read-only role): the write fails, exit 2, and
    // what is there still verifies through it.
    let store = TestStore::create(Backend::Postgres, dir.path(), "readonly");
    eval(&store, PASS);
    let read_only = format!("{}&options=-c%20default_transaction_read_only%3Don", store.address());
    refused(&read_only, &["read-only"]);
    let run = mg_at(Path::new(&read_only), &["audit", "verify", "--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(json(&run)["entries"], 1);
    // URLs that are not right are refused before anything connects.
    for (url, needle) in [
        ("postgres://root:hunter2@127.0.0.1/test?sslmode=sometimes", "sslmode `sometimes`"),
        ("postgres://root@127.0.0.1/test?password=hunter2", "password as a URL parameter"),
        ("postgres://root:hunter2@127.0.0.1/test?schema=Public", "not a plain lower-case name"),
        ("mysql://root:hunter2@127.0.0.1/test", "unknown kind of store"),
    ] {
        let run = mg_at(Path::new(url), &["audit", "log"]);
        util::assert_fails_closed(&run, &[needle]);
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
    // A successful record never stores the password either.
    let store = TestStore::create(Backend::Postgres, dir.path(), "password");
    let address = format!("{with_password}?sslmode=disable&schema={}", store.schema());
    let run = mg_at(Path::new(&address), &eval_args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("hunter2"));
    assert_eq!(store.query_text("SELECT count(*)::text FROM entries WHERE content LIKE '%hunter2%'"), "0");

    // TLS: the test server offers it (Debian's cluster does, with its snakeoil certificate,
    // issued to the machine's host name, not to 127.0.0.1; .ci/postgres.sh turns it on).
    let ssl: String = client.query_one("SHOW ssl", &[]).expect("show ssl").get(0);
    let certificate: String = client.query_one("SHOW ssl_cert_file", &[]).expect("show").get(0);
    assert_eq!(ssl, "on", "the test server must offer TLS: run .ci/postgres.sh");
    assert!(std::fs::read(&certificate).is_ok(), "the server's certificate {certificate} must be readable here");
    {
        let base = format!("{server}?schema={}", store.schema());
        for mode in ["require".to_string(), format!("verify-ca&sslrootcert={certificate}")] {
            let run = mg_at(Path::new(&format!("{base}&sslmode={mode}")), &["audit", "verify", "--format", "json"]);
            assert_eq!(run.code, 0, "sslmode={mode}: {}", run.stderr);
        }
        let run =
            mg_at(Path::new(&format!("{base}&sslmode=verify-full&sslrootcert={certificate}")), &["audit", "verify"]);
        util::assert_fails_closed(&run, &["certificate"]);
        let run = mg_at(Path::new(&format!("{base}&sslmode=verify-full")), &["audit", "verify"]);
        util::assert_fails_closed(&run, &["certificate"]);
    }
}

/// A writer whose connection is cut while it waits for the chain's lock (another host's
/// append in progress) reports its decision as not recorded; nothing of it is in the store
/// and the chain verifies.
#[test]
fn a_connection_lost_in_the_middle_of_an_append_leaves_the_chain_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(Backend::Postgres, dir.path(), "cut");
    eval(&store, PASS);
    let mut holder = util::stores::postgres_client();
    holder.batch_execute(&format!("SET search_path TO {}", store.schema())).expect("search_path");
    let mut lock = holder.transaction().expect("begin");
    lock.batch_execute("LOCK TABLE entries IN EXCLUSIVE MODE").expect("lock");
    let mut command = util::recording_as_is(store.address());
    command
        .args(["eval", "--input", FAIL, "--policies", MINIMAL, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("spawn");
    // The writer's session, waiting on the lock inside its append transaction.
    let mut watcher = util::stores::postgres_client();
    let mut waiting = None;
    for _ in 0..600 {
        let rows = watcher
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'modelgate' AND wait_event_type = 'Lock' \
                 AND query LIKE '%LOCK TABLE entries%'",
                &[],
            )
            .expect("pg_stat_activity");
        if let Some(row) = rows.first() {
            waiting = Some(row.get::<_, i32>(0));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = waiting.expect("the writer never waited for the chain's lock");
    watcher.execute("SELECT pg_terminate_backend($1)", &[&pid]).expect("terminate");
    let output = child.wait_with_output().expect("wait");
    lock.commit().expect("release");
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("report");
    assert_eq!(report["decision"], "error");
    assert!(report["error"]["message"].as_str().unwrap_or("").contains("could not be recorded"), "{report}");
    let (code, verification) = verify(&store);
    assert_eq!(code, 0, "{verification}");
    assert_eq!(verification["entries"], 1, "nothing of the cut append is in the store");
    // And the store still takes writes.
    eval(&store, FAIL);
    assert_eq!(verify(&store).1["entries"], 2);
}
