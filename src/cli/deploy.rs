//! `modelgate deploy record|retire`: the pipeline's deploy step, recorded in the audit store.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use modelgate::exit::ExitStatus;
use modelgate::run::deploy::{self, Artifact, RecordRequest, Recording, RetireRequest};

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
    #[command(flatten)]
    server: super::server::ServerClientArgs,
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
    #[command(flatten)]
    server: super::server::ServerClientArgs,
}

pub fn run(command: DeployCommand) -> ExitStatus {
    let remote = match &command {
        DeployCommand::Record(args) => args.server.server.as_deref().map(|url| {
            let refused = args.policies.is_some().then_some("--policies");
            let evidence_digest = match (&args.evidence, &args.evidence_digest) {
                (Some(path), _) => modelgate::evidence::read(path)
                    .and_then(|evidence| modelgate::audit::record::evidence_blob(&evidence))
                    .map(|blob| blob.digest),
                (None, digest) => Ok(digest.clone().unwrap_or_default()),
            };
            let body = evidence_digest.map(|evidence_digest| {
                serde_json::json!({
                    "model": args.model, "version": args.version, "environment": args.environment,
                    "decision_id": args.decision, "evidence_digest": evidence_digest,
                })
            });
            (url, "/v1/deployments", body, refused.or(args.store.remote_refusal()), args.store.format)
        }),
        DeployCommand::Retire(args) => args.server.server.as_deref().map(|url| {
            let body =
                Ok(serde_json::json!({"model": args.model, "environment": args.environment, "reason": args.reason}));
            (url, "/v1/deployments/retire", body, args.store.remote_refusal(), args.store.format)
        }),
    };
    if let Some((url, path, body, refused, format)) = remote {
        return super::server::deploy(url, path, body, refused, format.into());
    }
    let (outcome, format) = match &command {
        DeployCommand::Record(args) => {
            let artifact = match (&args.evidence, &args.evidence_digest) {
                (Some(path), _) => Artifact::Evidence(path),
                (None, digest) => Artifact::Digest(digest.as_deref().unwrap_or_default()),
            };
            let request = RecordRequest {
                model: &args.model,
                version: &args.version,
                environment: &args.environment,
                decision: args.decision.as_deref(),
                artifact,
                policies: args.policies.as_deref(),
                recording: args.store.recording(),
            };
            (deploy::record(&request), args.store.format.into())
        }
        DeployCommand::Retire(args) => {
            let request = RetireRequest {
                model: &args.model,
                environment: &args.environment,
                reason: args.reason.as_deref(),
                recording: args.store.recording(),
            };
            (deploy::retire(&request), args.store.format.into())
        }
    };
    let result = outcome.and_then(|outcome| {
        let status = super::with_output(None, |out| deploy::render(&outcome, format, out))?;
        if let Err(refusal) = &outcome {
            eprintln!("refused: {}", refusal.reason);
            eprintln!("hint: {}", refusal.hint);
        }
        Ok(status)
    });
    super::exit(result)
}

impl StoreArgs {
    /// A flag that has no place when the server records: its store, its active bundle and
    /// the token's holder decide.
    fn remote_refusal(&self) -> Option<&'static str> {
        if self.store.is_some() {
            Some("--store")
        } else if self.requester.is_some() {
            Some("--requester")
        } else {
            None
        }
    }

    fn recording(&self) -> Recording<'_> {
        Recording { project: &self.project, store: self.store.as_deref(), requester: self.requester.as_deref() }
    }
}
