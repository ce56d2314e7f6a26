//! `modelgate deploy record|retire`: the pipeline's deploy step, recorded in the audit store.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;

use modelgate::audit::{self, deploy, Access};
use modelgate::error::{Error, ErrorKind, Result};
use modelgate::exit::ExitStatus;
use modelgate::policy::bundle::Bundle;
use modelgate::policy::data::PolicyData;

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Mark a version as deployed. Refused (exit 1) unless an `allow` decision exists for
    /// exactly this model, version and environment, under the current policies, on this
    /// artifact's evidence. Redeploying an older version is recorded as a rollback.
    Record(RecordArgs),
    /// Mark a model's deployment in an environment as ended.
    Retire(RetireArgs),
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The model project folder (its modelgate.toml names the policies; its
    /// .modelgate/audit.db is the default store).
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
    /// The audit store: an SQLite file, or postgres://USER@HOST/DATABASE (default:
    /// .modelgate/audit.db in --project).
    #[arg(long, value_name = "PATH|URL", env = "MODELGATE_STORE", hide_env_values = true)]
    store: Option<String>,
    /// Who deploys (default: MODELGATE_REQUESTED_BY, GITHUB_ACTOR, GITLAB_USER_LOGIN, BUILD_USER_ID or USER).
    #[arg(long, value_name = "WHO")]
    requester: Option<String>,
    /// Output format: a sentence to read, or the recorded entry as JSON.
    #[arg(long, short, value_enum, default_value_t = super::SectionFormat::Text)]
    format: super::SectionFormat,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("artifact").required(true).args(["evidence", "evidence_digest"]))]
pub struct RecordArgs {
    /// The model's name, as in modelgate.toml [model] name.
    #[arg(long)]
    model: String,
    /// The model version being deployed.
    #[arg(long)]
    version: String,
    /// The environment deployed to; one the policy repository declares in data.yaml.
    #[arg(long, short, env = "MODELGATE_ENVIRONMENT")]
    environment: String,
    /// The gate decision to deploy by (the report's decision_id); default: the latest
    /// decision recorded for this model, version and environment.
    #[arg(long, value_name = "ID")]
    decision: Option<String>,
    /// The evidence document of the artifact being deployed (`check --evidence-out`).
    #[arg(long, value_name = "FILE")]
    evidence: Option<PathBuf>,
    /// The digest of the artifact's evidence (the report's evidence_digest).
    #[arg(long, value_name = "sha256:…")]
    evidence_digest: Option<String>,
    /// The current policy repository (default: [policies] path of --project's modelgate.toml).
    #[arg(long, value_name = "DIR", env = "MODELGATE_POLICIES")]
    policies: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The model whose deployment ends.
    #[arg(long)]
    model: String,
    /// The environment it is retired from.
    #[arg(long, short, env = "MODELGATE_ENVIRONMENT")]
    environment: String,
    /// Why (recorded).
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(command: DeployCommand) -> ExitStatus {
    let (result, format) = match command {
        DeployCommand::Record(args) => (record(&args), args.store.format),
        DeployCommand::Retire(args) => (retire(&args), args.store.format),
    };
    match result {
        Ok(Ok(record)) => {
            let entry = &record.entry;
            match format {
                super::SectionFormat::Json => {
                    let value = json!({"status": "recorded", "seq": entry.seq, "hash": record.hash, "entry": entry});
                    super::say_json(&value);
                }
                super::SectionFormat::Text => super::say(&describe(entry)),
            }
            ExitStatus::Success
        }
        Ok(Err(refusal)) => {
            match format {
                super::SectionFormat::Json => {
                    let value = json!({"status": "refused", "reason": refusal.reason, "hint": refusal.hint});
                    super::say_json(&value);
                }
                super::SectionFormat::Text => {}
            }
            eprintln!("refused: {}", refusal.reason);
            eprintln!("hint: {}", refusal.hint);
            ExitStatus::Failure
        }
        Err(error) => {
            super::print_error(&error);
            ExitStatus::Error
        }
    }
}

fn describe(entry: &audit::Entry) -> String {
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
        .or_else(modelgate::collect::requester_from_env)
        .or_else(|| std::env::var("USER").ok().filter(|user| !user.is_empty()))
}

fn record(args: &RecordArgs) -> Result<std::result::Result<audit::Record, deploy::Refusal>> {
    let policies = match &args.policies {
        Some(policies) => policies.clone(),
        None => configured_policies(&args.store.project)?,
    };
    let bundle = Bundle::load(&policies)?;
    // The environment must be one the current policies declare.
    PolicyData::load(&bundle)?.check_environment(&args.environment)?;
    let evidence_digest = match (&args.evidence, &args.evidence_digest) {
        (Some(path), _) => {
            let evidence = modelgate::evidence::read(path)?;
            audit::record::evidence_blob(&evidence)?.digest
        }
        (None, Some(digest)) => digest.clone(),
        (None, None) => unreachable_artifact()?,
    };
    let mut store = audit::open(&audit::resolve(args.store.store.as_deref(), &args.store.project)?, Access::ReadWrite)?;
    let request = deploy::Request {
        model: &args.model,
        version: &args.version,
        environment: &args.environment,
        decision_id: args.decision.as_deref(),
        evidence_digest: &evidence_digest,
        bundle_digest: &bundle.info.digest,
        requester: requester(args.store.requester.as_deref()),
    };
    deploy::record(store.as_mut(), &request)
}

fn unreachable_artifact() -> Result<String> {
    Err(Error::new(ErrorKind::Config, "deploy record needs the artifact's evidence")
        .hint("pass --evidence FILE (from `check --evidence-out`) or --evidence-digest sha256:… (the report's evidence_digest)"))
}

fn retire(args: &RetireArgs) -> Result<std::result::Result<audit::Record, deploy::Refusal>> {
    let mut store = audit::open(&audit::resolve(args.store.store.as_deref(), &args.store.project)?, Access::ReadWrite)?;
    audit::check_environment(store.as_ref(), &args.environment)?;
    deploy::retire(
        store.as_mut(),
        &args.model,
        &args.environment,
        requester(args.store.requester.as_deref()),
        args.reason.as_deref(),
    )
}

/// The policy repository `DIR/modelgate.toml` names.
pub(crate) fn configured_policies(project: &Path) -> Result<PathBuf> {
    let config = modelgate::config::LoadedConfig::load(project).map_err(|error| {
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
