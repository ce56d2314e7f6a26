//! `modelgate reevaluate` and `modelgate policy impact`: every deployed model judged again
//! under the current policies (recorded, owners alerted) or under proposed ones (a preview).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use modelgate::error::Result;
use modelgate::exit::ExitStatus;
use modelgate::run::lifecycle::{self, Format, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LifecycleFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ReevaluateArgs {
    /// The current policy repository.
    #[arg(long, value_name = "DIR", env = "MODELGATE_POLICIES", default_value = ".")]
    policies: PathBuf,
    /// The audit store holding the deployments: an SQLite file, or
    /// postgres://USER@HOST/DATABASE (default: .modelgate/audit.db in the current folder).
    #[arg(long, value_name = "PATH|URL", env = "MODELGATE_STORE", hide_env_values = true)]
    store: Option<String>,
    /// Notifiers (default: notifications.yaml in the policy repository, when there is one).
    #[arg(long, value_name = "FILE")]
    notify: Option<PathBuf>,
    /// Send no alerts.
    #[arg(long)]
    no_notify: bool,
    /// Evaluation time limit per model, in milliseconds.
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// Output format: text, markdown (for a pull request or an issue) or json.
    #[arg(long, short, value_enum, default_value_t = LifecycleFormat::Text)]
    format: LifecycleFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// The proposed policy repository (the pull request's checkout).
    #[arg(long, value_name = "DIR")]
    policies: PathBuf,
    /// The audit store holding the deployments: an SQLite file, or
    /// postgres://USER@HOST/DATABASE (default: .modelgate/audit.db in the current folder).
    #[arg(long, value_name = "PATH|URL", env = "MODELGATE_STORE", hide_env_values = true)]
    store: Option<String>,
    /// Evaluation time limit per model, in milliseconds.
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// Output format: markdown (for the policy pull request), text or json.
    #[arg(long, short, value_enum, default_value_t = LifecycleFormat::Markdown)]
    format: LifecycleFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn reevaluate(args: ReevaluateArgs) -> ExitStatus {
    let result = now().and_then(|now| {
        let notifiers = lifecycle::notifiers(&args.policies, args.notify.as_deref(), args.no_notify)?;
        let request = request(&args.policies, args.store.as_deref(), args.timeout_ms, args.format, now);
        super::with_output(args.output.as_deref(), |out| lifecycle::reevaluate(&request, notifiers.as_ref(), out))
    });
    conclude(result)
}

pub fn impact(args: ImpactArgs) -> ExitStatus {
    let result = now().and_then(|now| {
        let request = request(&args.policies, args.store.as_deref(), args.timeout_ms, args.format, now);
        super::with_output(args.output.as_deref(), |out| lifecycle::impact(&request, out))
    });
    conclude(result)
}

fn request<'a>(
    policies: &'a Path,
    store: Option<&'a str>,
    timeout_ms: Option<u64>,
    format: LifecycleFormat,
    now: chrono::DateTime<chrono::Utc>,
) -> Request<'a> {
    let format = match format {
        LifecycleFormat::Text => Format::Text,
        LifecycleFormat::Json => Format::Json,
        LifecycleFormat::Markdown => Format::Markdown,
    };
    Request { policies, store, timeout: super::timeout(timeout_ms, None), format, now }
}

fn conclude(result: Result<lifecycle::Outcome>) -> ExitStatus {
    match result {
        Ok(outcome) => {
            if outcome.failed_deliveries > 0 {
                eprintln!(
                    "warning: {} alert deliveries failed; they are recorded and will be retried by the next reevaluate",
                    outcome.failed_deliveries
                );
            }
            outcome.status
        }
        Err(error) => {
            super::print_error(&error);
            ExitStatus::Error
        }
    }
}

fn now() -> Result<chrono::DateTime<chrono::Utc>> {
    let text = modelgate::collect::collection_time()?;
    Ok(chrono::DateTime::parse_from_rfc3339(&text)
        .map(|time| time.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now()))
}
