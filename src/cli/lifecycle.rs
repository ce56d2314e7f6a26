//! `modelgate reevaluate` and `modelgate policy impact`: every deployed model judged again
//! under the current policies (recorded, owners alerted) or under proposed ones (a preview).

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use modelgate::audit::lifecycle::{self, Judgement, Status};
use modelgate::audit::{self, Access};
use modelgate::error::Result;
use modelgate::exit::ExitStatus;
use modelgate::policy::Gate;

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

fn finish(result: Result<(String, ExitStatus)>, output: Option<&std::path::Path>) -> ExitStatus {
    match result.and_then(|(text, status)| super::write_output(output, text.as_bytes()).map(|()| status)) {
        Ok(status) => status,
        Err(error) => {
            super::print_error(&error);
            ExitStatus::Error
        }
    }
}

pub fn reevaluate(args: ReevaluateArgs) -> ExitStatus {
    finish(run_reevaluate(&args), args.output.as_deref())
}

pub fn impact(args: ImpactArgs) -> ExitStatus {
    finish(run_impact(&args), args.output.as_deref())
}

fn now() -> Result<chrono::DateTime<chrono::Utc>> {
    let text = modelgate::collect::collection_time()?;
    Ok(chrono::DateTime::parse_from_rfc3339(&text)
        .map(|time| time.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| chrono::Utc::now()))
}

fn run_reevaluate(args: &ReevaluateArgs) -> Result<(String, ExitStatus)> {
    let gate = Gate::load(&args.policies, super::timeout(args.timeout_ms, None))?;
    let notifiers = super::alerts::config(&args.policies, args.notify.as_deref(), args.no_notify)?;
    let mut store = audit::open(&audit::resolve(args.store.as_deref(), std::path::Path::new("."))?, Access::ReadWrite)?;
    let now = now()?;
    let mut judgements = lifecycle::judge(store.as_ref(), &gate, now)?;
    lifecycle::record(store.as_mut(), &gate, &mut judgements, now)?;
    let alerts = super::alerts::send(store.as_mut(), notifiers.as_ref(), &judgements)?;
    let status = if judgements.iter().any(|judgement| judgement.status == Status::Error) {
        ExitStatus::Error
    } else if judgements.iter().any(|judgement| !judgement.status.complies()) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    let text = match args.format {
        LifecycleFormat::Json => json_report(&gate, now, &judgements, Some(alerts.as_deref())),
        LifecycleFormat::Markdown => markdown(&gate, &judgements, "Re-evaluation"),
        LifecycleFormat::Text => {
            let mut out = text(&gate, now, &judgements);
            out.push_str(&super::alerts::summary(alerts.as_deref()));
            out
        }
    };
    Ok((text, status))
}

fn run_impact(args: &ImpactArgs) -> Result<(String, ExitStatus)> {
    let gate = Gate::load(&args.policies, super::timeout(args.timeout_ms, None))?;
    let store = audit::open(&audit::resolve(args.store.as_deref(), std::path::Path::new("."))?, Access::ReadOnly)?;
    let now = now()?;
    let judgements = lifecycle::judge(store.as_ref(), &gate, now)?;
    let status = if judgements.iter().any(|judgement| judgement.status == Status::Error) {
        ExitStatus::Error
    } else if judgements.iter().any(|judgement| judgement.status == Status::NewlyNonCompliant) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    let text = match args.format {
        LifecycleFormat::Json => json_report(&gate, now, &judgements, None),
        LifecycleFormat::Markdown => markdown(&gate, &judgements, "Policy impact"),
        LifecycleFormat::Text => text(&gate, now, &judgements),
    };
    Ok((text, status))
}

fn counts(judgements: &[Judgement]) -> serde_json::Value {
    let count = |status: Status| judgements.iter().filter(|judgement| judgement.status == status).count();
    json!({
        "deployed": judgements.len(),
        "newly_non_compliant": count(Status::NewlyNonCompliant),
        "still_non_compliant": count(Status::StillNonCompliant),
        "error": count(Status::Error),
        "newly_compliant": count(Status::NewlyCompliant),
        "still_compliant": count(Status::StillCompliant),
    })
}

fn json_report(
    gate: &Gate,
    now: chrono::DateTime<chrono::Utc>,
    judgements: &[Judgement],
    alerts: Option<Option<&[modelgate::audit::alerts::AlertOutcome]>>,
) -> String {
    let value = json!({
        "judged_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "policy": gate.bundle,
        "summary": counts(judgements),
        "models": judgements,
        "alerts": alerts.flatten(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn bundle_label(gate: &Gate) -> String {
    match &gate.bundle.revision {
        Some(revision) => format!("{} @ {}", gate.bundle.path, &revision[..revision.len().min(12)]),
        None => format!("{} ({})", gate.bundle.path, audit::chain::short(&gate.bundle.digest)),
    }
}

fn text(gate: &Gate, now: chrono::DateTime<chrono::Utc>, judgements: &[Judgement]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} deployed models judged under {} at {}",
        judgements.len(),
        bundle_label(gate),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    let mut sorted: Vec<&Judgement> = judgements.iter().collect();
    sorted.sort_by(|a, b| a.status.cmp(&b.status).then_with(|| a.model.cmp(&b.model)));
    for judgement in sorted {
        let owner = judgement.owner.as_deref().map(|owner| format!(" (owner {owner})")).unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{:<20} {} {} in {}{owner}",
            judgement.status.as_str().to_uppercase(),
            judgement.model,
            judgement.version,
            judgement.environment
        );
        if judgement.status == Status::StillCompliant {
            continue;
        }
        let _ = writeln!(
            out,
            "  was {} by {} under {}",
            judgement.previous_decision,
            judgement.previous_decision_id,
            audit::chain::short(&judgement.previous_bundle.digest)
        );
        if !judgement.changed_files.is_empty() {
            let _ = writeln!(out, "  policy files changed: {}", judgement.changed_files.join(", "));
        }
        if let Some(error) = &judgement.report.error {
            let _ = writeln!(out, "  error: {}", error.message);
        }
        for finding in &judgement.new_violations {
            let _ = writeln!(out, "  new: {} {}", finding.code, finding.msg);
            if let Some(remediation) = &finding.remediation {
                let _ = writeln!(out, "       fix: {remediation}");
            }
        }
        if !judgement.resolved.is_empty() {
            let _ = writeln!(out, "  resolved: {}", judgement.resolved.join(", "));
        }
    }
    let summary = counts(judgements);
    let _ = writeln!(
        out,
        "\n{} newly non-compliant, {} still non-compliant, {} errors, {} newly compliant, {} still compliant",
        summary["newly_non_compliant"],
        summary["still_non_compliant"],
        summary["error"],
        summary["newly_compliant"],
        summary["still_compliant"]
    );
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown(gate: &Gate, judgements: &[Judgement], title: &str) -> String {
    let mut out = String::new();
    let summary = counts(judgements);
    let _ = writeln!(out, "## {title}: {} deployed models under {}\n", judgements.len(), bundle_label(gate));
    let _ = writeln!(
        out,
        "**{}** would stop complying, {} already do not, {} errors, {} would start complying, {} unchanged.\n",
        summary["newly_non_compliant"],
        summary["still_non_compliant"],
        summary["error"],
        summary["newly_compliant"],
        summary["still_compliant"]
    );
    let mut changed: Vec<&str> =
        judgements.iter().flat_map(|judgement| judgement.changed_files.iter().map(String::as_str)).collect();
    changed.sort();
    changed.dedup();
    if !changed.is_empty() {
        let _ = writeln!(
            out,
            "Policy files changed: {}\n",
            changed.iter().map(|file| format!("`{file}`")).collect::<Vec<_>>().join(", ")
        );
    }
    let affected: Vec<&Judgement> =
        judgements.iter().filter(|judgement| judgement.status != Status::StillCompliant).collect();
    if affected.is_empty() {
        let _ = writeln!(out, "No deployed model changes status.");
        return out;
    }
    let _ = writeln!(out, "| Model | Version | Environment | Owner | Before | After | Why | Fix |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    let mut sorted = affected;
    sorted.sort_by(|a, b| a.status.cmp(&b.status).then_with(|| a.model.cmp(&b.model)));
    for judgement in sorted {
        let (why, fix) = match &judgement.report.error {
            Some(error) => (cell(&error.message), cell(error.hint.as_deref().unwrap_or(""))),
            None => {
                let findings = if judgement.new_violations.is_empty() {
                    &judgement.report.violations
                } else {
                    &judgement.new_violations
                };
                let why: Vec<String> =
                    findings.iter().map(|finding| format!("`{}` {}", finding.code, cell(&finding.msg))).collect();
                let fix: Vec<String> =
                    findings.iter().filter_map(|finding| finding.remediation.as_deref().map(cell)).collect();
                let why = if why.is_empty() && !judgement.resolved.is_empty() {
                    format!("resolved: {}", judgement.resolved.join(", "))
                } else {
                    why.join("<br>")
                };
                (why, fix.join("<br>"))
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | **{}** ({}) | {} | {} |",
            cell(&judgement.model),
            cell(&judgement.version),
            cell(&judgement.environment),
            cell(judgement.owner.as_deref().unwrap_or("")),
            judgement.previous_decision,
            judgement.report.decision.as_str(),
            judgement.status.as_str(),
            why,
            fix
        );
    }
    out
}
