//! The CI recipe of docs/ci.md on throw-away runners: every job starts in a fresh working
//! folder that is deleted when it ends, and all of them point `MODELGATE_STORE` at one
//! PostgreSQL store. The model's pipeline checks (one runner) and deploys (another); the
//! policy repository's CI previews a change on its pull request and re-evaluates the fleet
//! on merge (two more); an auditor on a fifth machine finds the whole history.

mod util;

use std::path::{Path, PathBuf};

use serde_json::Value;
use util::stores::{Backend, TestStore};
use util::{root, Run};

/// A runner's fresh working folder, deleted when the job ends.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn start() -> Runner {
        Runner { dir: tempfile::tempdir().expect("runner folder") }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `actions/checkout`: a copy of `from` (relative to this repository) at `to`.
    fn checkout(&self, from: &str, to: &str) -> PathBuf {
        let target = self.path().join(to);
        util::copy_dir(&root().join(from), &target);
        target
    }

    /// `modelgate ARGS` in `cwd` (inside the runner), with the shared store.
    fn modelgate(&self, store: &TestStore, cwd: &Path, args: &[&str]) -> Run {
        let mut command = util::command(cwd);
        command.env_remove("MODELGATE_NO_RECORD").env("MODELGATE_STORE", store.address()).args(args);
        util::run(&mut command)
    }

    /// The job ends: nothing it leaves behind survives, and it kept no store of its own.
    fn finish(self) {
        let local = walk(self.path()).into_iter().filter(|path| path.ends_with(".modelgate")).collect::<Vec<_>>();
        assert!(local.is_empty(), "a runner kept a local store: {local:?}");
        let path = self.path().to_path_buf();
        drop(self.dir);
        assert!(!path.exists());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.push(path.clone());
            found.extend(walk(&path));
        }
    }
    found
}

fn json(run: &Run) -> Value {
    run.json()
}

#[test]
fn pipelines_on_throw_away_runners_share_one_postgres_store() {
    // Created once by the platform team (`modelgate audit init --store URL`).
    let setup = tempfile::tempdir().expect("tempdir");
    let store = TestStore::create(Backend::Postgres, setup.path(), "hosted");
    // What CI keeps between jobs: uploaded artifacts.
    let artifacts = tempfile::tempdir().expect("artifacts");

    // The model's pipeline, gate job.
    let runner = Runner::start();
    // The model repository (its project and the signing keys beside it).
    let model = runner.checkout("examples", "model").join("credit-scoring");
    runner.checkout("policies", "governance-policies");
    let check = runner.modelgate(
        &store,
        runner.path(),
        &[
            "check",
            "model/credit-scoring",
            "--policies",
            "governance-policies",
            "--environment",
            "production",
            "--format",
            "json",
            "--output",
            "report.json",
            "--evidence-out",
            "evidence.json",
        ],
    );
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert!(model.exists());
    for file in ["report.json", "evidence.json"] {
        std::fs::copy(runner.path().join(file), artifacts.path().join(file)).expect("upload artifact");
    }
    runner.finish();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(artifacts.path().join("report.json")).expect("report"))
            .expect("report JSON");
    assert_eq!(report["decision"], "allow");
    assert_eq!(report["audit"]["store"], store.location());
    let decision_id = report["decision_id"].as_str().expect("decision id").to_string();

    // The model's pipeline, deploy job, on another runner.
    let runner = Runner::start();
    runner.checkout("policies", "governance-policies");
    let evidence = artifacts.path().join("evidence.json");
    let deployed = runner.modelgate(
        &store,
        runner.path(),
        &[
            "deploy",
            "record",
            "--model",
            "credit-scoring",
            "--version",
            "2.4.0",
            "--environment",
            "production",
            "--policies",
            "governance-policies",
            "--decision",
            &decision_id,
            "--evidence",
            evidence.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(deployed.code, 0, "{}\n{}", deployed.stdout, deployed.stderr);
    assert_eq!(json(&deployed)["entry"]["details"]["decision_id"], decision_id.as_str());
    runner.finish();

    // The policy repository's pull request raises the accuracy floor above the model's
    // 0.879: `policy impact` previews it and records nothing.
    let raise = |policies: &Path| {
        let path = policies.join("data.yaml");
        let text = std::fs::read_to_string(&path).expect("data.yaml");
        let changed = text.replacen("      accuracy: 0.80\n", "      accuracy: 0.90\n", 1);
        assert_ne!(text, changed, "data.yaml does not set min_metrics.accuracy to 0.80");
        std::fs::write(&path, changed).expect("write data.yaml");
    };
    let entries = |store: &TestStore| store.query_text("SELECT count(*)::text FROM entries");
    let before = entries(&store);
    let runner = Runner::start();
    let policies = runner.checkout("policies", "checkout");
    raise(&policies);
    let impact = runner.modelgate(&store, &policies, &["policy", "impact", "--policies", "."]);
    assert_eq!(impact.code, 1, "{}\n{}", impact.stdout, impact.stderr);
    assert!(
        impact.stdout.contains(
            "| credit-scoring | 2.4.0 | production | risk-ml@bank.example | allow | **deny** (newly non-compliant)"
        ),
        "{}",
        impact.stdout
    );
    runner.finish();
    assert_eq!(entries(&store), before, "policy impact recorded something");

    // Merged: the fleet is re-evaluated under the new policies and the result recorded.
    let runner = Runner::start();
    let policies = runner.checkout("policies", "checkout");
    raise(&policies);
    let reevaluated = runner.modelgate(&store, &policies, &["reevaluate", "--policies", ".", "--format", "json"]);
    assert_eq!(reevaluated.code, 1, "{}\n{}", reevaluated.stdout, reevaluated.stderr);
    let reevaluation = json(&reevaluated);
    assert_eq!(reevaluation["summary"]["newly_non_compliant"], 1, "{reevaluation}");
    assert_eq!(reevaluation["models"][0]["original_decision_id"], decision_id.as_str());
    runner.finish();

    // An auditor, anywhere, later: the whole history, verified.
    let runner = Runner::start();
    let verified = runner.modelgate(&store, runner.path(), &["audit", "verify", "--format", "json"]);
    assert_eq!(verified.code, 0, "{}\n{}", verified.stdout, verified.stderr);
    assert_eq!(json(&verified)["entries"], 3, "decision, deployment, re-evaluation");
    let at =
        runner.modelgate(&store, runner.path(), &["audit", "at", "--environment", "production", "--format", "json"]);
    assert_eq!(at.code, 0, "{}", at.stderr);
    let at = json(&at);
    assert_eq!(at["deployments"][0]["decision_id"], decision_id.as_str(), "{at}");
    let log = json(&runner.modelgate(&store, runner.path(), &["audit", "log", "--format", "json"]));
    let kinds: Vec<&str> =
        log.as_array().expect("list").iter().map(|row| row["entry"]["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, vec!["reevaluation", "deploy", "decision"]);
    runner.finish();
}
