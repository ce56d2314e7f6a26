//! `modelgate policy test`: run a bundle's `test_*` rules the way `opa test` does.

use std::path::Path;
use std::time::{Duration, Instant};

use regorus::Value;
use serde::Serialize;

use super::bundle::{Bundle, FileKind};
use super::engine::{EngineOptions, PolicyEngine};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestStatus {
    Pass,
    Fail,
    Error,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub package: String,
    pub name: String,
    pub file: String,
    pub line: u32,
    pub status: TestStatus,
    /// Why a test failed: the value it produced, or the evaluation error.
    pub message: Option<String>,
    pub duration_us: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileCoverage {
    pub path: String,
    pub covered: Vec<u32>,
    pub not_covered: Vec<u32>,
    pub percent: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestRun {
    pub tests: Vec<TestResult>,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub coverage: Option<Vec<FileCoverage>>,
}

impl TestRun {
    /// The run as `policy test` prints it: one line per test, coverage, the counts.
    pub fn write_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let run = self;
        for test in &run.tests {
            let label = match test.status {
                TestStatus::Pass => "PASS",
                TestStatus::Fail => "FAIL",
                TestStatus::Error => "ERROR",
                TestStatus::Skip => "SKIP",
            };
            writeln!(out, "{label:5} data.{}.{} ({}:{})", test.package, test.name, test.file, test.line)?;
            if let Some(message) = &test.message {
                for line in message.lines() {
                    writeln!(out, "        {line}")?;
                }
            }
        }
        if let Some(coverage) = &run.coverage {
            writeln!(out)?;
            writeln!(out, "coverage:")?;
            for file in coverage {
                let missing = if file.not_covered.is_empty() {
                    String::new()
                } else {
                    let lines: Vec<String> = file.not_covered.iter().map(u32::to_string).collect();
                    format!("  not covered: {}", lines.join(","))
                };
                writeln!(out, "  {:6.1}%  {}{missing}", file.percent, file.path)?;
            }
        }
        writeln!(out)?;
        writeln!(out, "{} passed, {} failed, {} skipped", run.passed, run.failed, run.skipped)?;
        Ok(())
    }

    pub fn exit_status(&self) -> crate::exit::ExitStatus {
        if self.failed > 0 {
            crate::exit::ExitStatus::Failure
        } else if self.passed == 0 {
            // A suite that ran nothing proves nothing: treat it as broken, not green.
            crate::exit::ExitStatus::Error
        } else {
            crate::exit::ExitStatus::Success
        }
    }
}

pub fn run(root: &Path, coverage: bool, timeout: Duration) -> Result<TestRun> {
    run_bundle(&Bundle::load(root)?, coverage, timeout)
}

/// [`run`] on a bundle already read (one published to `modelgate server`).
pub fn run_bundle(bundle: &Bundle, coverage: bool, timeout: Duration) -> Result<TestRun> {
    if bundle.files_of(FileKind::RegoTest).next().is_none() {
        return Err(Error::new(ErrorKind::PolicyMissing, format!("no *_test.rego files under {}", bundle.info.path))
            .hint("policy tests live beside the policies in files named <name>_test.rego with rules named test_*"));
    }
    let mut engine = PolicyEngine::compile(bundle, EngineOptions { timeout, include_tests: true, memoise: false })?;
    let mut tests = engine.outline.tests.clone();
    tests.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    let regorus = engine.engine_mut();
    regorus.set_enable_coverage(coverage);
    regorus.set_gather_prints(true);
    let mut results = Vec::with_capacity(tests.len());
    for test in tests {
        let started = Instant::now();
        let (status, message) = if test.name.starts_with("todo_") {
            (TestStatus::Skip, None)
        } else {
            match regorus.eval_rule(format!("data.{}.{}", test.package, test.name)) {
                Ok(Value::Bool(true)) => (TestStatus::Pass, None),
                Ok(Value::Undefined) => {
                    (TestStatus::Fail, Some("undefined: a condition in the test body did not hold".to_string()))
                }
                Ok(other) => (TestStatus::Fail, Some(format!("evaluated to {other}, expected true"))),
                Err(error) => (TestStatus::Error, Some(format!("{error:#}"))),
            }
        };
        let prints = regorus.take_prints().unwrap_or_default();
        let message = match (message, prints.is_empty()) {
            (Some(message), false) if status != TestStatus::Pass => Some(format!("{message}\n{}", prints.join("\n"))),
            (message, _) => message,
        };
        results.push(TestResult {
            package: test.package,
            name: test.name,
            file: test.file,
            line: test.line,
            status,
            message,
            duration_us: started.elapsed().as_micros() as u64,
        });
    }
    let coverage = if coverage { Some(coverage_report(regorus)?) } else { None };
    let count = |status| results.iter().filter(|result| result.status == status).count();
    Ok(TestRun {
        passed: count(TestStatus::Pass),
        failed: count(TestStatus::Fail) + count(TestStatus::Error),
        skipped: count(TestStatus::Skip),
        tests: results,
        coverage,
    })
}

fn coverage_report(engine: &regorus::Engine) -> Result<Vec<FileCoverage>> {
    let report = engine
        .get_coverage_report()
        .map_err(|error| Error::new(ErrorKind::PolicyEvaluation, format!("coverage report failed: {error}")))?;
    Ok(report
        .files
        .into_iter()
        .filter(|file| !file.path.ends_with("_test.rego"))
        .map(|file| {
            let total = file.covered.len() + file.not_covered.len();
            FileCoverage {
                percent: if total == 0 { 100.0 } else { 100.0 * file.covered.len() as f64 / total as f64 },
                path: file.path,
                covered: file.covered.into_iter().collect(),
                not_covered: file.not_covered.into_iter().collect(),
            }
        })
        .collect())
}
