//! Data-driven: every mistake in a policy repository, a config or an input that once
//! weakened the gate, one case file each in tests/fixtures/fail-closed/. Adding a case is
//! adding a file.
//!
//! Each case copies the bundled example projects with the policy library beside them (the
//! layout of this repository: `examples/credit-scoring`, `examples/credit-scoring-blocked`,
//! `examples/keys`, `examples/advisories`, `policies`), edits the copy as the case says, runs one command
//! from the copy's root through the real binary, and checks the exit code and the words
//! the output must contain. A command still running after the case's time limit has
//! blocked: that is a failure too (a FIFO must never hang the gate).
//!
//! ```yaml
//! about: what goes wrong, in a sentence
//! steps:                             # edits, in order; paths are relative to the copy's root
//!   - write: {path: policies/data.yaml, text: ""}
//!   - append: {path: policies/data.yaml, text: "overrides: {}\n"}
//!   - replace: {path: examples/credit-scoring/modelgate.toml, from: "a", to: "b"}
//!   - remove: policies/data.yaml
//!   - mkdir: policies/data.yaml
//!   - fifo: policies/data.yaml
//!   - symlink: {path: policies/data.yaml, target: /dev/zero}
//!   - copy: {from: "{repo}/tests/fixtures/examples/credit-scoring.json", to: evidence.json}
//!   - truncate: {path: policies/data.yaml, lines: 60}     # keep the first 60 lines
//!   - compose: {path: dvc.lock, parts: [{text: "a: "}, {text: "[", times: 100000}]}  # text repeated
//!   - sql: {path: audit.db, statement: "UPDATE bundles SET …"}   # edit a store behind modelgate's back
//!   - scramble: {path: audit.db, offset: 8192, length: 4096}     # overwrite bytes with noise
//!   - run: [audit, init, --store, audit.db]   # a command that must decide (exit 0 or 1), recording
//! run: [check, examples/credit-scoring, --no-record]     # `{root}` is the copy's root, `{repo}` this repository
//! env: {MODELGATE_STORE: "{root}/x.db"}                  # optional
//! expect:
//!   code: 2
//!   output: [data.yaml, "hint:"]    # words stdout and stderr together must contain
//!   absent: [ALLOW]                  # words they must not contain (optional)
//! ```

mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use util::{copy_dir, root};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    about: String,
    #[serde(default)]
    steps: Vec<Step>,
    run: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    expect: Expect,
    #[serde(default = "default_timeout")]
    timeout_seconds: u64,
}

fn default_timeout() -> u64 {
    60
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum Step {
    Write { path: String, text: String },
    Append { path: String, text: String },
    Replace { path: String, from: String, to: String },
    Remove(String),
    Mkdir(String),
    Fifo(String),
    Symlink { path: String, target: String },
    Copy { from: String, to: String },
    Truncate { path: String, lines: usize },
    Compose { path: String, parts: Vec<Part> },
    Sql { path: String, statement: String },
    Scramble { path: String, offset: usize, length: usize },
    Run(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Part {
    text: String,
    #[serde(default = "once")]
    times: usize,
}

fn once() -> usize {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    code: i32,
    #[serde(default)]
    output: Vec<String>,
    #[serde(default)]
    absent: Vec<String>,
}

/// The copy a case works on: the example projects, the keys and advisories beside them,
/// the library.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for folder in [
        "examples/credit-scoring",
        "examples/credit-scoring-blocked",
        "examples/keys",
        "examples/advisories",
        "policies",
    ] {
        copy_dir(&root().join(folder), &dir.path().join(folder));
    }
    dir
}

fn expand(text: &str, root: &Path) -> String {
    text.replace("{root}", &root.display().to_string()).replace("{repo}", &util::root().display().to_string())
}

fn apply(step: &Step, root: &Path) -> Result<(), String> {
    let at = |path: &str| root.join(expand(path, root));
    let io = |what: &str, error: std::io::Error| format!("{what}: {error}");
    match step {
        Step::Write { path, text } => {
            if let Some(parent) = at(path).parent() {
                std::fs::create_dir_all(parent).map_err(|e| io(path, e))?;
            }
            std::fs::write(at(path), expand(text, root)).map_err(|e| io(path, e))
        }
        Step::Append { path, text } => {
            let mut contents = std::fs::read_to_string(at(path)).map_err(|e| io(path, e))?;
            contents.push_str(&expand(text, root));
            std::fs::write(at(path), contents).map_err(|e| io(path, e))
        }
        Step::Replace { path, from, to } => {
            let contents = std::fs::read_to_string(at(path)).map_err(|e| io(path, e))?;
            if !contents.contains(from.as_str()) {
                return Err(format!("{path} does not contain {from:?}"));
            }
            std::fs::write(at(path), contents.replacen(from.as_str(), &expand(to, root), 1)).map_err(|e| io(path, e))
        }
        Step::Remove(path) => {
            let target = at(path);
            if target.is_dir() {
                std::fs::remove_dir_all(target).map_err(|e| io(path, e))
            } else {
                std::fs::remove_file(target).map_err(|e| io(path, e))
            }
        }
        Step::Mkdir(path) => std::fs::create_dir_all(at(path)).map_err(|e| io(path, e)),
        Step::Fifo(path) => {
            let target = at(path);
            if target.exists() {
                std::fs::remove_file(&target).map_err(|e| io(path, e))?;
            }
            let status = Command::new("mkfifo").arg(&target).status().map_err(|e| io("mkfifo", e))?;
            status.success().then_some(()).ok_or_else(|| format!("mkfifo {path} failed"))
        }
        Step::Symlink { path, target } => {
            let link = at(path);
            if link.exists() || link.is_symlink() {
                std::fs::remove_file(&link).map_err(|e| io(path, e))?;
            }
            std::os::unix::fs::symlink(expand(target, root), link).map_err(|e| io(path, e))
        }
        Step::Copy { from, to } => std::fs::copy(at(from), at(to)).map(|_| ()).map_err(|e| io(from, e)),
        Step::Compose { path, parts } => {
            let text: String = parts.iter().map(|part| part.text.repeat(part.times)).collect();
            std::fs::write(at(path), text).map_err(|e| io(path, e))
        }
        Step::Sql { path, statement } => {
            let connection = rusqlite::Connection::open(at(path)).map_err(|e| format!("{path}: {e}"))?;
            connection.execute_batch(statement).map_err(|e| format!("{path}: {statement}: {e}"))
        }
        Step::Scramble { path, offset, length } => {
            let mut bytes = std::fs::read(at(path)).map_err(|e| io(path, e))?;
            let end = (offset + length).min(bytes.len());
            if *offset >= end {
                return Err(format!("{path} has {} bytes, fewer than the offset {offset}", bytes.len()));
            }
            for (index, byte) in bytes[*offset..end].iter_mut().enumerate() {
                *byte = (index * 31 % 251) as u8;
            }
            std::fs::write(at(path), bytes).map_err(|e| io(path, e))
        }
        Step::Truncate { path, lines } => {
            let contents = std::fs::read_to_string(at(path)).map_err(|e| io(path, e))?;
            let kept: Vec<&str> = contents.lines().take(*lines).collect();
            std::fs::write(at(path), kept.join("\n") + "\n").map_err(|e| io(path, e))
        }
        Step::Run(args) => {
            // Setup commands record what they decide (a store to work on).
            let env = BTreeMap::from([("MODELGATE_NO_RECORD".to_string(), "0".to_string())]);
            let (code, output) = run(args, &env, root, Duration::from_secs(60))?;
            // A decision either way (0 or 1) is a setup that worked.
            (code == 0 || code == 1)
                .then_some(())
                .ok_or_else(|| format!("setup step {args:?} exited {code}:\n{output}"))
        }
    }
}

/// Runs the binary; `Err` when it is still running after `limit` (it is then killed).
fn run(args: &[String], env: &BTreeMap<String, String>, root: &Path, limit: Duration) -> Result<(i32, String), String> {
    let mut command = util::command(root);
    command.args(args.iter().map(|arg| expand(arg, root)));
    for (key, value) in env {
        command.env(key, expand(value, root));
    }
    let out = root.join(".case-stdout");
    let err = root.join(".case-stderr");
    command.stdin(Stdio::null());
    command.stdout(std::fs::File::create(&out).map_err(|e| e.to_string())?);
    command.stderr(std::fs::File::create(&err).map_err(|e| e.to_string())?);
    let mut child = command.spawn().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {} s: it blocked", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |path: &PathBuf| std::fs::read_to_string(path).unwrap_or_default();
    Ok((status.code().unwrap_or(-1), format!("{}{}", read(&out), read(&err))))
}

fn check(name: &str, case: &Case) -> Result<(), String> {
    let dir = workspace();
    for step in &case.steps {
        apply(step, dir.path()).map_err(|error| format!("{name} ({}): setup: {error}", case.about))?;
    }
    let (code, output) = run(&case.run, &case.env, dir.path(), Duration::from_secs(case.timeout_seconds))
        .map_err(|error| format!("{name} ({}): {error}", case.about))?;
    let mut problems = Vec::new();
    if code != case.expect.code {
        problems.push(format!("exit {code}, expected {}", case.expect.code));
    }
    for needle in &case.expect.output {
        if !output.contains(needle.as_str()) {
            problems.push(format!("the output lacks {needle:?}"));
        }
    }
    for needle in &case.expect.absent {
        if output.contains(needle.as_str()) {
            problems.push(format!("the output contains {needle:?}"));
        }
    }
    if case.expect.code == 2 && !output.contains("hint: ") {
        problems.push("an error without a hint".into());
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!("{name} ({}): {}\n--- output ---\n{output}", case.about, problems.join("; ")))
}

#[test]
fn every_mistake_fails_closed() {
    let folder = root().join("tests/fixtures/fail-closed");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("tests/fixtures/fail-closed")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "the cases are in {}", folder.display());
    // Two at a time: each case is one process of the binary.
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = names
            .chunks(names.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|path| {
                            let name =
                                path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
                            let text = std::fs::read_to_string(path).expect("case");
                            // Through a JSON value: steps are written `- write: {…}`, which
                            // YAML's serde reads as tags.
                            let parsed = yaml_serde::from_str::<serde_json::Value>(&text)
                                .map_err(|error| error.to_string())
                                .and_then(|value| serde_json::from_value::<Case>(value).map_err(|e| e.to_string()));
                            let case: Case = match parsed {
                                Ok(case) => case,
                                Err(error) => return Some(format!("{name}: not a case: {error}")),
                            };
                            check(&name, &case).err()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().expect("worker")).collect()
    });
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), names.len(), failures.join("\n\n"));
}
