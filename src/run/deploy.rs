//! `deploy record|retire`: the pipeline's deploy step, recorded in the audit store.
//! `record` is refused (exit 1) unless an `allow` decision exists for exactly this model,
//! version and environment, under the current policies, on this artifact's evidence.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::audit::{self, deploy, Access};
use crate::error::{Error, ErrorKind, Result};
use crate::exit::ExitStatus;
use crate::policy::bundle::Bundle;
use crate::policy::data::PolicyData;

pub use super::Format;

/// Where the deployment is recorded, and by whom.
#[derive(Debug, Clone)]
pub struct Recording<'a> {
    /// The model project (its modelgate.toml names the policies; its `.modelgate/audit.db`
    /// is the default store).
    pub project: &'a Path,
    /// `--store` / `MODELGATE_STORE`.
    pub store: Option<&'a str>,
    /// `--requester`; else who the CI system says runs this, else the login.
    pub requester: Option<&'a str>,
}

/// The artifact being deployed: its evidence document, or that document's digest.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    Evidence(&'a Path),
    Digest(&'a str),
}

#[derive(Debug, Clone)]
pub struct RecordRequest<'a> {
    pub model: &'a str,
    pub version: &'a str,
    /// One the current policy repository declares.
    pub environment: &'a str,
    /// The decision to deploy by; default: the latest for this model, version and environment.
    pub decision: Option<&'a str>,
    pub artifact: Artifact<'a>,
    /// The current policy repository; default: `[policies] path` of the project's config.
    pub policies: Option<&'a Path>,
    pub recording: Recording<'a>,
}

#[derive(Debug, Clone)]
pub struct RetireRequest<'a> {
    pub model: &'a str,
    pub environment: &'a str,
    /// Why (recorded).
    pub reason: Option<&'a str>,
    pub recording: Recording<'a>,
}

/// What became of the request: recorded (exit 0) or refused with the reason (exit 1).
pub type Outcome = std::result::Result<audit::Record, deploy::Refusal>;

/// Ends a model's deployment in an environment, or says why it is refused.
pub fn retire(request: &RetireRequest) -> Result<Outcome> {
    let mut store = open(&request.recording)?;
    audit::check_environment(store.as_ref(), request.environment)?;
    deploy::retire(
        store.as_mut(),
        request.model,
        request.environment,
        requester(request.recording.requester),
        request.reason,
    )
}

fn open(recording: &Recording) -> Result<Box<dyn audit::Store>> {
    audit::open(&audit::resolve(recording.store, recording.project)?, Access::ReadWrite)
}

/// Records a deployment, or says why it is refused.
pub fn record(request: &RecordRequest) -> Result<Outcome> {
    let policies = match request.policies {
        Some(policies) => policies.to_path_buf(),
        None => configured_policies(request.recording.project)?,
    };
    let bundle = Bundle::load(&policies)?;
    // The environment must be one the current policies declare.
    PolicyData::load(&bundle)?.check_environment(request.environment)?;
    let evidence_digest = match request.artifact {
        Artifact::Evidence(path) => {
            let evidence = crate::evidence::read(path)?;
            audit::record::evidence_blob(&evidence)?.digest
        }
        Artifact::Digest(digest) => digest.to_string(),
    };
    let mut store = open(&request.recording)?;
    let deploy_request = deploy::Request {
        model: request.model,
        version: request.version,
        environment: request.environment,
        decision_id: request.decision,
        evidence_digest: &evidence_digest,
        bundle_digest: &bundle.info.digest,
        requester: requester(request.recording.requester),
        server_key: None,
    };
    deploy::record(store.as_mut(), &deploy_request)
}

/// Writes the outcome: the recorded entry as a sentence or JSON; a refusal as JSON, or
/// nothing as text (a person reads the refusal on standard error). 0 recorded, 1 refused.
pub fn render(outcome: &Outcome, format: Format, out: &mut dyn Write) -> Result<ExitStatus> {
    let (text, status) = match (outcome, format) {
        (Ok(record), Format::Json) => {
            let entry = &record.entry;
            let value = json!({"status": "recorded", "seq": entry.seq, "hash": record.hash, "entry": entry});
            (serde_json::to_string_pretty(&value).unwrap_or_default(), ExitStatus::Success)
        }
        (Ok(record), Format::Text) => (describe(&record.entry), ExitStatus::Success),
        (Err(refusal), Format::Json) => {
            let value = json!({"status": "refused", "reason": refusal.reason, "hint": refusal.hint});
            (serde_json::to_string_pretty(&value).unwrap_or_default(), ExitStatus::Failure)
        }
        (Err(_), Format::Text) => return Ok(ExitStatus::Failure),
    };
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the output: {error}")))?;
    Ok(status)
}

/// A deployment or retirement as a sentence.
pub fn describe(entry: &audit::Entry) -> String {
    let environment = entry.environment.as_deref().unwrap_or("-");
    match entry.kind {
        audit::EntryKind::Retire => format!(
            "retired {} {} from {environment} (entry {}, seq {})",
            entry.model, entry.version, entry.id, entry.seq
        ),
        _ => {
            let action = entry.detail_str("action").unwrap_or("deploy");
            let revision = entry
                .bundle_revision
                .as_deref()
                .map(|revision| format!("policies @ {}", &revision[..revision.len().min(12)]))
                .unwrap_or_else(|| {
                    format!("policies {}", audit::chain::short(entry.bundle_digest.as_deref().unwrap_or("")))
                });
            let previous = entry
                .detail_str("previous_version")
                .map(|version| format!(", replacing {version}"))
                .unwrap_or_default();
            format!(
                "{action}: {} {} to {environment}{previous}\n  by decision {} under {revision}\n  entry {} (seq {})",
                entry.model,
                entry.version,
                entry.detail_str("decision_id").unwrap_or("?"),
                entry.id,
                entry.seq
            )
        }
    }
}

/// `--requester`, else who the CI system says runs this, else the login.
fn requester(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string)
        .or_else(crate::collect::requester_from_env)
        .or_else(|| std::env::var("USER").ok().filter(|user| !user.is_empty()))
}

/// The policy repository `DIR/modelgate.toml` names.
pub fn configured_policies(project: &Path) -> Result<PathBuf> {
    let config = crate::config::LoadedConfig::load(project).map_err(|error| {
        // deploy takes --project and --policies, not check's --config.
        error.hint("pass --project DIR (the model project holding modelgate.toml), or name the current policy repository with --policies DIR")
    })?;
    match &config.config.policies.path {
        Some(path) => Ok(config.resolve(path)),
        None => {
            Err(Error::new(ErrorKind::Config, format!("{}: no policy repository configured", config.path.display()))
                .hint("pass --policies DIR (the current policy repository)"))
        }
    }
}
