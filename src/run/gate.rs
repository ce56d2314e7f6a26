//! `check` and `eval`: the evidence judged by the policies, and the decision recorded.
//!
//! A decision that cannot be recorded is an `error` (exit 2): an unrecorded decision must
//! not let a deployment through. `allow_unrecorded` keeps it deliberately, and says why it
//! was not recorded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::collect::{self, Context};
use crate::decision::{Decision, ErrorInfo, Report};
use crate::error::{Error, ErrorKind};
use crate::evidence::{self, Evidence};
use crate::exit::ExitStatus;
use crate::policy::bundle::BundleFile;
use crate::policy::Gate;

/// Where a decision is recorded, and whether.
#[derive(Debug, Clone, Default)]
pub struct Recording<'a> {
    /// `--store` / `MODELGATE_STORE`; else `.modelgate/audit.db` beside modelgate.toml
    /// (`check`) or in the current folder (`eval`), created on first use.
    pub store: Option<&'a str>,
    /// Record nothing (`--no-record`).
    pub skip: bool,
    /// Keep a decision that could not be recorded (`--allow-unrecorded`).
    pub allow_unrecorded: bool,
}

/// `modelgate check`: collect the evidence of a model project and judge it.
#[derive(Debug, Clone)]
pub struct CheckRequest<'a> {
    pub project: super::Project<'a>,
    /// Overrides `[policies] path`.
    pub policies: Option<&'a Path>,
    /// Overrides `[policies] timeout_ms`.
    pub timeout_ms: Option<u64>,
    /// Also write the evidence document here.
    pub evidence_out: Option<&'a Path>,
    pub recording: Recording<'a>,
}

/// `modelgate eval`: judge an evidence document collected elsewhere.
#[derive(Debug, Clone)]
pub struct EvalRequest<'a> {
    /// The evidence document; `-` is standard input.
    pub input: &'a Path,
    pub policies: &'a Path,
    pub timeout: Duration,
    pub recording: Recording<'a>,
}

/// A decision, recorded or refused as unrecordable.
#[derive(Debug)]
pub struct Judged {
    pub report: Report,
    /// Why the decision was not recorded, when `allow_unrecorded` kept it.
    pub unrecorded: Option<Error>,
    /// The evidence judged, when it was collected or read (the HTML report draws it).
    pub evidence: Option<Arc<Evidence>>,
}

impl Judged {
    /// 0 allow, 1 deny, 2 error (a decision that could not be recorded included).
    pub fn status(&self) -> ExitStatus {
        self.report.exit_status()
    }
}

/// An evaluation time limit: the flag, else the config, else the engine's default.
pub fn timeout(flag: Option<u64>, config: Option<u64>) -> Duration {
    flag.or(config).map(Duration::from_millis).unwrap_or(crate::policy::engine::DEFAULT_TIMEOUT)
}

/// `modelgate collect`: the evidence document of a model project, judged by nothing.
pub fn collect(project: super::Project) -> crate::error::Result<Evidence> {
    let config = project.load()?;
    crate::policy::data::check_project_environment(&config, project.environment)?;
    collect::collect(&Context { config: &config, environment: project.environment })
}

pub fn check(request: &CheckRequest) -> Judged {
    let started = Instant::now();
    let config = match request.project.load() {
        Ok(config) => config,
        Err(error) => {
            return conclude(Report::from_error(&error), &request.recording, &request.project.base(), None, None)
        }
    };
    let base = config.path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let collect_started = Instant::now();
    let context = Context { config: &config, environment: request.project.environment };
    let evidence = match collect::collect(&context) {
        Ok(evidence) => evidence,
        Err(error) => return conclude(Report::from_error(&error), &request.recording, &base, None, None),
    };
    let collect_us = collect_started.elapsed().as_micros() as u64;
    if let Some(path) = request.evidence_out {
        if let Err(error) = super::write_json(path, &evidence) {
            let report = Report::from_evidence_error(&error, &evidence, None);
            return conclude(report, &request.recording, &base, Some(evidence), None);
        }
    }
    let configured = config.config.policies.path.as_ref().map(|path| config.resolve(path));
    let Some(policies) = request.policies.map(Path::to_path_buf).or(configured) else {
        let error =
            Error::new(ErrorKind::Config, format!("{}: no policy repository configured", config.path.display()))
                .hint("set [policies] path = \"…\" in modelgate.toml or pass --policies DIR");
        let report = Report::from_evidence_error(&error, &evidence, None);
        return conclude(report, &request.recording, &base, Some(evidence), None);
    };
    let source = Some(config.path.display().to_string());
    let limit = timeout(request.timeout_ms, config.config.policies.timeout_ms);
    let (mut report, files) = judge(&policies, &evidence, source, limit);
    report.timings.collect_us = collect_us;
    report.timings.total_us = started.elapsed().as_micros() as u64;
    conclude(report, &request.recording, &base, Some(evidence), files.as_ref().map(|files| files.as_slice()))
}

pub fn eval(request: &EvalRequest) -> Judged {
    let started = Instant::now();
    let base = PathBuf::from(".");
    let source = request.input.display().to_string();
    let evidence = match evidence::read(request.input) {
        Ok(evidence) => evidence,
        Err(error) => {
            let error = match request.input.is_dir() {
                true => error.hint("pass --batch to judge every *.json evidence document of the folder"),
                false => error,
            };
            return conclude(Report::from_error(&error), &request.recording, &base, None, None);
        }
    };
    let (mut report, files) = judge(request.policies, &evidence, Some(source), request.timeout);
    report.timings.total_us = started.elapsed().as_micros() as u64;
    conclude(report, &request.recording, &base, Some(evidence), files.as_ref().map(|files| files.as_slice()))
}

/// Loads the policies and evaluates; any failure is an `error` report naming the model.
/// Also returns the bundle's files, for the audit store.
fn judge(
    policies: &Path,
    evidence: &Evidence,
    source: Option<String>,
    timeout: Duration,
) -> (Report, Option<Arc<Vec<BundleFile>>>) {
    match Gate::load(policies, timeout) {
        Ok(mut gate) => (gate.report(evidence, source), Some(gate.files.clone())),
        Err(error) => (Report::from_evidence_error(&error, evidence, source), None),
    }
}

/// Records the decision (unless `skip`). A decision that cannot be recorded becomes an
/// `error`, unless `allow_unrecorded`.
fn conclude(
    mut report: Report,
    recording: &Recording,
    base: &Path,
    evidence: Option<Evidence>,
    files: Option<&[BundleFile]>,
) -> Judged {
    let evidence = evidence.map(Arc::new);
    // With no store named, a project folder that does not exist gets no store created in
    // it (`check typo-dir`): the error report stands.
    let nowhere = recording.store.is_none() && !base.is_dir();
    if recording.skip || nowhere {
        return Judged { report, unrecorded: None, evidence };
    }
    let access = crate::audit::recording_access(recording.store);
    let recorded = crate::audit::resolve(recording.store, base).and_then(|address| {
        let mut store = crate::audit::open(&address, access)?;
        crate::audit::record::record_decision(store.as_mut(), &mut report, evidence.as_deref(), files)
    });
    match recorded {
        Ok(_) => Judged { report, unrecorded: None, evidence },
        Err(error) if recording.allow_unrecorded => Judged { report, unrecorded: Some(error), evidence },
        Err(error) => {
            unrecordable(&mut report, &error);
            Judged { report, unrecorded: None, evidence }
        }
    }
}

/// Turns a decision that could not be recorded into an `error` that says which decision
/// it was and why it was not recorded.
pub fn unrecordable(report: &mut Report, error: &Error) {
    let decision = report.decision.as_str();
    report.decision = Decision::Error;
    report.error = Some(ErrorInfo {
        kind: error.kind.as_str().to_string(),
        message: format!("the {decision} decision could not be recorded: {}", error.message),
        hint: Some(format!(
            "{} (--allow-unrecorded keeps an unrecorded decision, deliberately)",
            error.hint.as_deref().unwrap_or("fix the audit store")
        )),
    });
}
