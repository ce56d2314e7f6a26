//! Test helpers: run the real binary on a fixture and read what it said.

#![allow(dead_code)]

pub mod receivers;
pub mod server;
pub mod stores;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The report, when the command printed one as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// The time every test run of the binary is pinned to (`MODELGATE_NOW`).
pub const NOW: &str = "2026-12-01T09:30:00Z";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(path: &str) -> PathBuf {
    root().join("tests/fixtures").join(path)
}

/// Runs `modelgate ARGS` from the repository root, with no CI or colour settings leaking in.
pub fn modelgate(args: &[&str]) -> Run {
    modelgate_in(&root(), args)
}

pub fn modelgate_in(dir: &Path, args: &[&str]) -> Run {
    let mut command = command(dir);
    command.args(args);
    run(&mut command)
}

/// The binary, run from `dir`, with no CI, colour, proxy or store settings leaking in.
/// Decisions are not recorded (`MODELGATE_NO_RECORD=1`): the audit tests remove that and
/// pass `--store`.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelgate"));
    command
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITLAB_CI")
        .env_remove("JENKINS_URL")
        .env_remove("MODELGATE_ENVIRONMENT")
        .env_remove("MODELGATE_POLICIES")
        .env_remove("MODELGATE_STORE")
        .env("MODELGATE_NO_RECORD", "1")
        // `loadtest` talks to servers on loopback; a proxy setting must not divert it.
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .env("NO_COLOR", "1")
        // Document ages and review dates are judged as of this time, so the examples'
        // documents do not age out of the tests.
        .env("MODELGATE_NOW", NOW);
    command
}

/// The binary, run from the repository root, recording decisions into `store`, which is
/// created first (`audit init`) when it does not exist: a store named with
/// MODELGATE_STORE is never created by a recording command.
pub fn recording(store: &Path) -> Command {
    if !store.exists() {
        let init = run(command(&root()).args(["audit", "init", "--store"]).arg(store));
        assert_eq!(init.code, 0, "audit init: {}", init.stderr);
    }
    recording_as_is(store)
}

/// [`recording`] into `store` as it is: nothing is created first.
pub fn recording_as_is(store: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = command(&root());
    command.env_remove("MODELGATE_NO_RECORD").env("MODELGATE_STORE", store);
    command
}

/// `WRAPPER WRAPPER_ARGS… <the binary> ARGS…` (setpriv, sh -c), with `like`'s environment
/// and folder.
pub fn wrapped(like: &Command, wrapper: &str, wrapper_args: &[&str], args: &[&str]) -> Command {
    let mut command = Command::new(wrapper);
    command.args(wrapper_args).arg(like.get_program()).args(args);
    for (key, value) in like.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    if let Some(dir) = like.get_current_dir() {
        command.current_dir(dir);
    }
    command
}

/// Runs `command` to the end and keeps what it said.
pub fn run(command: &mut Command) -> Run {
    let output = command.output().expect("the modelgate binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Filters that make reports stable across runs and machines.
pub fn filters() -> Vec<(String, String)> {
    let tool_version = format!(r#""version": "{}""#, env!("CARGO_PKG_VERSION").replace('.', r"\."));
    let filters = vec![
        (r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]"),
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIME]"),
        (r#""(collect|compile|evaluate|total)_us": \d+"#, r#""${1}_us": "[US]""#),
        (r#"time="[0-9.]+""#, r#"time="[SECONDS]""#),
        (r#""revision": "[0-9a-f]{40}""#, r#""revision": "[REVISION]""#),
        (r#""policy_revision": "[0-9a-f]{40}""#, r#""policy_revision": "[REVISION]""#),
        (r#""dirty": (true|false)"#, r#""dirty": "[DIRTY]""#),
        (r" @ [0-9a-f]{12}( \(uncommitted changes\))?", " @ [REVISION]"),
        (r" @ `[0-9a-f]{12}`", " @ `[REVISION]`"),
        (tool_version.as_str(), r#""version": "[VERSION]""#),
        // Computed from today's date by the documentation policy.
        (r#""days_overdue": \d+"#, r#""days_overdue": "[DAYS]""#),
        (r"days_overdue=\d+", "days_overdue=[DAYS]"),
    ];
    filters.into_iter().map(|(pattern, replacement)| (pattern.to_string(), replacement.to_string())).collect()
}

/// A filter that writes a temporary folder as `[DIR]`.
pub fn dir_filter(dir: &Path) -> (String, String) {
    (regex::escape(&dir.display().to_string()), "[DIR]".to_string())
}

/// The command failed closed: exit 2, nothing on stdout, every needle in the message
/// on stderr, and a hint.
pub fn assert_fails_closed(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 2, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "nothing on stdout when failing: {}", run.stdout);
    for needle in needles {
        assert!(run.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", run.stderr);
    }
    assert!(run.stderr.contains("\nhint: "), "no hint:\n{}", run.stderr);
}

/// Copies the folder `from` (files and sub-folders) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
