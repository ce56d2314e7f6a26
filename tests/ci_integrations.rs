//! The GitHub Action (action.yml) and the GitLab CI/CD component (templates/modelgate.yml)
//! run locally, step by step, with their CI's variables set (tests/ci/run_action.py,
//! tests/ci/run_gitlab.py): one evaluation, one recorded decision, every report, the
//! annotations, the step summary and the artifacts in place.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use util::{copy_dir, root, run};

/// A workspace as a CI checkout has it: the example projects and the policy repository.
fn workspace(dir: &Path) -> PathBuf {
    let workspace = dir.join("workspace");
    copy_dir(&root().join("examples"), &workspace.join("examples"));
    copy_dir(&root().join("policies"), &workspace.join("policies"));
    workspace
}

fn python(script: &str, args: &[String]) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(root().join("tests/ci").join(script))
        .args(args)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("MODELGATE_STORE")
        .env_remove("MODELGATE_POLICIES")
        .env_remove("MODELGATE_ENVIRONMENT")
        .env_remove("MODELGATE_SERVER")
        .env("MODELGATE_NOW", util::NOW)
        .env("NO_COLOR", "1");
    command
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("json file")).expect("json")
}

#[test]
fn the_github_action_gates_in_one_step() {
    let dir = tempfile::tempdir().expect("tempdir");
    let workspace = workspace(dir.path());
    let store = dir.path().join("audit.db");
    let init = run(util::command(&root()).args(["audit", "init", "--store"]).arg(&store));
    assert_eq!(init.code, 0, "{}", init.stderr);
    let binary = env!("CARGO_BIN_EXE_modelgate");
    for (project, status, decision) in
        [("examples/credit-scoring", 0, "allow"), ("examples/credit-scoring-blocked", 1, "deny")]
    {
        let out = dir.path().join("run.json");
        let arguments = vec![
            root().display().to_string(),
            workspace.display().to_string(),
            out.display().to_string(),
            format!("project={project}"),
            "environment=production".to_string(),
            format!("store={}", store.display()),
            format!("binary={binary}"),
            format!("report-dir=reports-{decision}"),
            "reports=markdown=extra-summary.md".to_string(),
        ];
        let ran = python("run_action.py", &arguments).output().expect("python3 runs");
        let record = read_json(&out);
        assert_eq!(ran.status.code(), Some(status), "{project}: {record:#}\n{}", String::from_utf8_lossy(&ran.stderr));
        assert_eq!(record["outputs"]["decision"], decision, "{record:#}");
        let reports = workspace.join(format!("reports-{decision}"));
        for file in ["report.json", "modelgate.sarif", "report.html", "junit.xml", "summary.md", "report.txt"] {
            assert!(reports.join(file).is_file(), "{project}: {file} was not written");
        }
        assert!(workspace.join("extra-summary.md").is_file(), "the extra --report");
        let report = read_json(&reports.join("report.json"));
        assert_eq!(record["outputs"]["decision-id"], report["decision_id"]);
        let steps = record["steps"].as_array().expect("steps");
        let gate = steps.iter().find(|step| step["name"] == "modelgate gate").expect("the gate step");
        let logged =
            gate["stdout"].as_str().unwrap_or_default().to_string() + gate["stderr"].as_str().unwrap_or_default();
        if decision == "deny" {
            assert!(logged.contains("::error"), "annotations in the job log: {logged}");
        }
        // Code scanning and the artifact get the files the gate wrote, after a deny too.
        let scanning = steps.iter().find(|step| step["name"] == "code scanning").expect("code scanning");
        assert_eq!(scanning["with"]["sarif_file"], format!("reports-{decision}/modelgate.sarif"), "{scanning}");
        let artifact = steps.iter().find(|step| step["name"] == "reports and attestation").expect("artifact");
        assert_eq!(artifact["with"]["path"], format!("reports-{decision}"));
        let summary = std::fs::read_to_string(record["summary"].as_str().expect("summary")).expect("step summary");
        assert!(summary.contains(&format!("modelgate: {decision}")), "{summary}");
    }
    // Two runs, two decisions recorded: one each.
    let log = run(util::command(&root()).args(["audit", "log", "--format", "json", "--store"]).arg(&store));
    assert_eq!(log.json().as_array().map(Vec::len), Some(2), "{}", log.stdout);
}

#[test]
fn the_gitlab_component_gates_in_one_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let workspace = workspace(dir.path());
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_modelgate")).parent().expect("bin dir").to_path_buf();
    let path = format!("{}:{}", binary_dir.display(), std::env::var("PATH").unwrap_or_default());
    for (project, status) in [("examples/credit-scoring", 0), ("examples/credit-scoring-blocked", 1)] {
        let out = dir.path().join("job.json");
        let arguments = vec![
            root().display().to_string(),
            workspace.display().to_string(),
            out.display().to_string(),
            format!("project={project}"),
            "environment=$CI_ENVIRONMENT_NAME".to_string(),
            "policies=policies".to_string(),
            "stage=gate".to_string(),
        ];
        let ran = python("run_gitlab.py", &arguments)
            .env("PATH", &path)
            .env("MODELGATE_NO_RECORD", "1")
            .output()
            .expect("python3 runs");
        let record = read_json(&out);
        assert_eq!(ran.status.code(), Some(status), "{project}: {record:#}\n{}", String::from_utf8_lossy(&ran.stderr));
        let report = read_json(&workspace.join("modelgate-reports/report.json"));
        assert_eq!(report["environment"], "production", "$CI_ENVIRONMENT_NAME reached the gate");
        assert!(workspace.join("modelgate-reports/report.html").is_file());
        assert!(record["stdout"].as_str().unwrap_or_default().starts_with("modelgate: "), "text on the job log");
    }
}
