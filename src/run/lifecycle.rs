//! `reevaluate` and `policy impact`: every deployed model judged under the current or the
//! proposed policies, a chunk at a time ([`audit::lifecycle::judge_each`]), so memory stays
//! bounded on a fleet of any size; `reevaluate` records each judgement and alerts the
//! owners of the models that no longer comply.
//!
//! The report is rendered as the judgements come: the JSON report streams one model after
//! another; the text and Markdown reports keep one short rendered block per model and
//! write them sorted at the end.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::alerts::{self, AlertOutcome};
use crate::audit::lifecycle::{self, Judgement, Status};
use crate::audit::{self, Access};
use crate::error::{Error, ErrorKind, Result};
use crate::exit::ExitStatus;
use crate::notify::{DeliveryStatus, NotifyConfig};
use crate::policy::Gate;

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    /// For a pull request or an issue.
    Markdown,
    Json,
}

/// What to judge, against which store, as of when.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The policy repository: the current one (`reevaluate`) or the proposed one (`impact`).
    pub policies: &'a Path,
    /// `--store` / `MODELGATE_STORE`; `.modelgate/audit.db` in the current folder when `None`.
    pub store: Option<&'a str>,
    /// Evaluation time limit per model.
    pub timeout: Duration,
    pub format: Format,
    /// The time of judgement (review dates and document ages are judged against it).
    pub now: DateTime<Utc>,
}

/// How many deployed models ended in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub deployed: usize,
    pub newly_non_compliant: usize,
    pub still_non_compliant: usize,
    pub error: usize,
    pub newly_compliant: usize,
    pub still_compliant: usize,
}

impl Summary {
    fn add(&mut self, status: Status) {
        self.deployed += 1;
        *match status {
            Status::NewlyNonCompliant => &mut self.newly_non_compliant,
            Status::StillNonCompliant => &mut self.still_non_compliant,
            Status::Error => &mut self.error,
            Status::NewlyCompliant => &mut self.newly_compliant,
            Status::StillCompliant => &mut self.still_compliant,
        } += 1;
    }
}

/// What a run found, beyond the report it wrote.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub summary: Summary,
    /// The alerts and each delivery (`reevaluate` with notifiers).
    pub alerts: Option<Vec<AlertOutcome>>,
    /// Deliveries that failed (recorded; the next `reevaluate` tries them again).
    pub failed_deliveries: usize,
    /// 2 when a judgement failed; 1 when a model does not comply (`reevaluate`) or would
    /// stop complying (`impact`); else 0.
    pub status: ExitStatus,
}

/// The notifiers of a `reevaluate`: `notify`, else the policy repository's
/// notifications.yaml when there is one; none with `no_notify`. Read before anything is
/// judged, so a file that cannot work stops the run before it records anything.
pub fn notifiers(policies: &Path, notify: Option<&Path>, no_notify: bool) -> Result<Option<NotifyConfig>> {
    if no_notify {
        return Ok(None);
    }
    let path = match notify {
        Some(path) => path.to_path_buf(),
        None => {
            let path = policies.join(crate::notify::DEFAULT_FILE);
            if !path.exists() {
                return Ok(None);
            }
            path
        }
    };
    NotifyConfig::load(&path).map(Some)
}

/// Judges every deployed model under `request.policies`, records each judgement as a
/// re-evaluation, alerts through `notifiers` the owners of those that do not comply, and
/// writes the report to `out`.
pub fn reevaluate(request: &Request, notifiers: Option<&NotifyConfig>, out: &mut dyn Write) -> Result<Outcome> {
    run(request, Some(notifiers), out)
}

/// Judges every deployed model under the proposed `request.policies` and writes the
/// report to `out`; records nothing, alerts no one.
pub fn impact(request: &Request, out: &mut dyn Write) -> Result<Outcome> {
    run(request, None, out)
}

/// `recording` is `Some(notifiers)` for `reevaluate`.
fn run(request: &Request, recording: Option<Option<&NotifyConfig>>, out: &mut dyn Write) -> Result<Outcome> {
    let gate = Gate::load(request.policies, request.timeout)?;
    let access = if recording.is_some() { Access::ReadWrite } else { Access::ReadOnly };
    let mut store = audit::open(&audit::resolve(request.store, Path::new("."))?, access)?;
    let fleet = Fleet { gate: &gate, environment: None, format: request.format, now: request.now };
    judge_fleet(&fleet, store.as_mut(), recording, out)
}

/// A fleet to judge: the deployed models (of one environment, or all) under one gate.
pub struct Fleet<'a> {
    pub gate: &'a Gate,
    /// Only the models deployed in this environment (a bundle activated for it).
    pub environment: Option<&'a str>,
    pub format: Format,
    pub now: DateTime<Utc>,
}

/// Judges `fleet` in `store` and writes the report to `out`. `recording` is
/// `Some(notifiers)` to record each judgement and alert the owners (`reevaluate`, an
/// activation), `None` to only report (`policy impact`, an activation's dry run).
pub fn judge_fleet(
    fleet: &Fleet,
    store: &mut dyn audit::Store,
    recording: Option<Option<&NotifyConfig>>,
    out: &mut dyn Write,
) -> Result<Outcome> {
    let gate = fleet.gate;
    let title = if recording.is_some() { "Re-evaluation" } else { "Policy impact" };
    let notifiers = recording.flatten();
    let mut renderer = Renderer::start(fleet.format, gate, fleet.now, title, out)?;
    let mut alerts: Option<Vec<AlertOutcome>> = notifiers.map(|_| Vec::new());
    let mut down = Vec::new();
    lifecycle::judge_each(store, gate, fleet.environment, fleet.now, &mut |store, mut judgements| {
        if recording.is_some() {
            lifecycle::record(store, gate, &mut judgements, fleet.now)?;
        }
        if let (Some(config), Some(sent)) = (notifiers, alerts.as_mut()) {
            sent.extend(alerts::send(store, config, &judgements, &mut down)?);
        }
        judgements.iter().try_for_each(|judgement| renderer.add(judgement))
    })?;
    let summary = renderer.summary;
    let alerts_shown = if recording.is_some() { Some(alerts.as_deref()) } else { None };
    renderer.finish(alerts_shown)?;
    let failed_deliveries = alerts
        .iter()
        .flatten()
        .flat_map(|outcome| &outcome.deliveries)
        .filter(|delivery| delivery.status == DeliveryStatus::Failed)
        .count();
    // `reevaluate` fails on any model that does not comply; `impact` on any that would stop.
    let failing = match recording {
        Some(_) => summary.newly_non_compliant + summary.still_non_compliant,
        None => summary.newly_non_compliant,
    };
    let status = if summary.error > 0 {
        ExitStatus::Error
    } else if failing > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    Ok(Outcome { summary, alerts, failed_deliveries, status })
}

/// Writes the report as judgements come.
struct Renderer<'w> {
    format: Format,
    out: &'w mut dyn Write,
    label: String,
    now: DateTime<Utc>,
    title: &'static str,
    summary: Summary,
    /// Text and Markdown: (status, model, rendered block), sorted at the end.
    blocks: Vec<(Status, String, String)>,
    changed: BTreeSet<String>,
}

impl<'w> Renderer<'w> {
    fn start(
        format: Format,
        gate: &Gate,
        now: DateTime<Utc>,
        title: &'static str,
        out: &'w mut dyn Write,
    ) -> Result<Renderer<'w>> {
        let mut renderer = Renderer {
            format,
            out,
            label: bundle_label(gate),
            now,
            title,
            summary: Summary::default(),
            blocks: Vec::new(),
            changed: BTreeSet::new(),
        };
        if format == Format::Json {
            let head = format!(
                "{{\n  \"judged_at\": {},\n  \"policy\": {},\n  \"models\": [",
                json!(judged_at(now)),
                indent(&serde_json::to_string_pretty(&gate.bundle).unwrap_or_default(), 2)
            );
            renderer.write(head.as_bytes())?;
        }
        Ok(renderer)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the report: {error}")))
    }

    fn add(&mut self, judgement: &Judgement) -> Result<()> {
        let first = self.summary.deployed == 0;
        self.summary.add(judgement.status);
        self.changed.extend(judgement.changed_files.iter().cloned());
        match self.format {
            Format::Json => {
                let model = serde_json::to_string_pretty(judgement).unwrap_or_default();
                let separator = if first { "\n    " } else { ",\n    " };
                let text = format!("{separator}{}", indent(&model, 4));
                self.write(text.as_bytes())
            }
            Format::Text => {
                self.blocks.push((judgement.status, judgement.model.clone(), text_block(judgement)));
                Ok(())
            }
            Format::Markdown => {
                if judgement.status != Status::StillCompliant {
                    self.blocks.push((judgement.status, judgement.model.clone(), markdown_row(judgement)));
                }
                Ok(())
            }
        }
    }

    /// `alerts` is `Some` for `reevaluate`: `Some(None)` when no notifiers were configured.
    fn finish(mut self, alerts: Option<Option<&[AlertOutcome]>>) -> Result<()> {
        self.blocks.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        let summary = self.summary;
        let mut out = String::new();
        match self.format {
            Format::Json => {
                let _ = write!(
                    out,
                    "{}],\n  \"summary\": {},\n  \"alerts\": {}\n}}\n",
                    if summary.deployed == 0 { "" } else { "\n  " },
                    indent(&serde_json::to_string_pretty(&summary).unwrap_or_default(), 2),
                    indent(&serde_json::to_string_pretty(&alerts.flatten()).unwrap_or_default(), 2)
                );
            }
            Format::Text => {
                let _ = writeln!(
                    out,
                    "{} deployed models judged under {} at {}",
                    summary.deployed,
                    self.label,
                    judged_at(self.now)
                );
                for (_, _, block) in &self.blocks {
                    out.push_str(block);
                }
                let _ = writeln!(
                    out,
                    "\n{} newly non-compliant, {} still non-compliant, {} errors, {} newly compliant, {} still compliant",
                    summary.newly_non_compliant,
                    summary.still_non_compliant,
                    summary.error,
                    summary.newly_compliant,
                    summary.still_compliant
                );
                if let Some(alerts) = alerts {
                    out.push_str(&alerts_text(alerts));
                }
            }
            Format::Markdown => {
                let _ = writeln!(out, "## {}: {} deployed models under {}\n", self.title, summary.deployed, self.label);
                let _ = writeln!(
                    out,
                    "**{}** would stop complying, {} already do not, {} errors, {} would start complying, {} unchanged.\n",
                    summary.newly_non_compliant,
                    summary.still_non_compliant,
                    summary.error,
                    summary.newly_compliant,
                    summary.still_compliant
                );
                if !self.changed.is_empty() {
                    let files: Vec<String> = self.changed.iter().map(|file| format!("`{file}`")).collect();
                    let _ = writeln!(out, "Policy files changed: {}\n", files.join(", "));
                }
                if self.blocks.is_empty() {
                    let _ = writeln!(out, "No deployed model changes status.");
                } else {
                    let _ = writeln!(out, "| Model | Version | Environment | Owner | Before | After | Why | Fix |");
                    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
                    for (_, _, row) in &self.blocks {
                        out.push_str(row);
                    }
                }
            }
        }
        self.write(out.as_bytes())?;
        self.out.flush().map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the report: {error}")))
    }
}

fn judged_at(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Every line but the first indented by `by` spaces (a pretty-printed value nested in the report).
fn indent(text: &str, by: usize) -> String {
    text.replace('\n', &format!("\n{}", " ".repeat(by)))
}

fn bundle_label(gate: &Gate) -> String {
    match &gate.bundle.revision {
        Some(revision) => format!("{} @ {}", gate.bundle.path, &revision[..revision.len().min(12)]),
        None => format!("{} ({})", gate.bundle.path, audit::chain::short(&gate.bundle.digest)),
    }
}

fn text_block(judgement: &Judgement) -> String {
    let mut out = String::new();
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
        return out;
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
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown_row(judgement: &Judgement) -> String {
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
    format!(
        "| {} | {} | {} | {} | {} | **{}** ({}) | {} | {} |\n",
        cell(&judgement.model),
        cell(&judgement.version),
        cell(&judgement.environment),
        cell(judgement.owner.as_deref().unwrap_or("")),
        judgement.previous_decision,
        judgement.report.decision.as_str(),
        judgement.status.as_str(),
        why,
        fix
    )
}

/// What became of each alert, for the text report.
pub fn alerts_text(outcomes: Option<&[AlertOutcome]>) -> String {
    let mut out = String::new();
    let Some(outcomes) = outcomes else {
        let _ = writeln!(out, "alerts: none sent (no notifications.yaml in the policy repository, or --no-notify)");
        return out;
    };
    if outcomes.is_empty() {
        let _ = writeln!(out, "alerts: none needed");
        return out;
    }
    let _ = writeln!(out, "alerts:");
    for outcome in outcomes {
        let subject = format!("{} {} in {}", outcome.model, outcome.version, outcome.environment);
        for delivery in &outcome.deliveries {
            let result = match delivery.status {
                DeliveryStatus::Delivered => format!("delivered ({} attempts)", delivery.attempts),
                DeliveryStatus::Failed => format!(
                    "FAILED after {} attempts: {}",
                    delivery.attempts,
                    delivery.error.as_deref().unwrap_or("no reason given")
                ),
            };
            let _ = writeln!(out, "  {subject}: {} ({}) {result}", delivery.notifier, delivery.kind);
        }
        for notifier in &outcome.already_alerted {
            let _ = writeln!(out, "  {subject}: {notifier} already alerted for these policies");
        }
    }
    out
}
