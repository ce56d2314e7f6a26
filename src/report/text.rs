//! The human report: grouped by category, most severe first, numbers and fixes up front.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use super::{display_value, group, Finding, Report};
use crate::evidence::Severity;

const KNOWN_DETAILS: &[&str] = &["measured", "threshold", "threshold_source"];

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

fn style(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(color.into())).bold()
}

fn severity_style(severity: Severity) -> Style {
    match severity {
        Severity::Critical => style(AnsiColor::Magenta),
        Severity::High => style(AnsiColor::Red),
        Severity::Medium => style(AnsiColor::Yellow),
        Severity::Low => style(AnsiColor::Blue),
    }
}

pub fn render(report: &Report, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let painter = Painter { color };
    let decision = match report.decision {
        super::Decision::Allow => painter.paint(style(AnsiColor::Green), "ALLOW"),
        super::Decision::Deny => painter.paint(style(AnsiColor::Red), "DENY"),
        super::Decision::Error => painter.paint(style(AnsiColor::Red), "ERROR"),
    };
    let subject = match &report.model {
        Some(model) => {
            let environment = report.environment.as_deref().map(|e| format!(" → {e}")).unwrap_or_default();
            format!("  {} {} (risk tier {}){environment}", model.name, model.version, model.risk_tier)
        }
        None => String::new(),
    };
    writeln!(out, "modelgate: {decision}{subject}")?;
    if let Some(policy) = &report.policy {
        let revision = match (&policy.revision, policy.dirty) {
            (Some(revision), Some(true)) => format!(" @ {} (uncommitted changes)", short(revision)),
            (Some(revision), _) => format!(" @ {}", short(revision)),
            _ => String::new(),
        };
        writeln!(out, "policies: {} {}{revision}", policy.path, policy.digest)?;
    }
    if let Some(digest) = &report.evidence_digest {
        writeln!(out, "evidence: {digest}")?;
    }
    if let Some(audit) = &report.audit {
        writeln!(out, "recorded: {} entry {} {}", audit.store, audit.seq, audit.hash)?;
    }
    if let Some(error) = &report.error {
        writeln!(out)?;
        writeln!(out, "{} {}", painter.paint(style(AnsiColor::Red), "error:"), error.message)?;
        if let Some(hint) = &error.hint {
            writeln!(out, "{} {hint}", painter.paint(style(AnsiColor::Cyan), "hint:"))?;
        }
        writeln!(out)?;
        writeln!(out, "The gate failed closed: nothing was allowed.")?;
        return Ok(());
    }
    if !report.violations.is_empty() {
        writeln!(out)?;
        let count = plural(report.violations.len(), "violation");
        writeln!(out, "{}", painter.paint(style(AnsiColor::Red), &format!("✗ {count} block this deployment")))?;
        for (category, findings) in group(&report.violations) {
            writeln!(out)?;
            writeln!(out, "{}", painter.paint(Style::new().bold().underline(), category))?;
            for finding in findings {
                finding_block(&painter, out, "✗", finding)?;
            }
        }
    }
    if !report.warnings.is_empty() {
        writeln!(out)?;
        let count = plural(report.warnings.len(), "warning");
        writeln!(out, "{}", painter.paint(style(AnsiColor::Yellow), &format!("! {count}")))?;
        for (_, findings) in group(&report.warnings) {
            for finding in findings {
                finding_block(&painter, out, "!", finding)?;
            }
        }
    }
    if !report.exceptions.is_empty() {
        writeln!(out)?;
        let count = plural(report.exceptions.len(), "exception");
        writeln!(out, "{}", painter.paint(style(AnsiColor::Cyan), &format!("~ {count} applied")))?;
        for finding in &report.exceptions {
            writeln!(out, "  ~ {} {}", finding.code, finding.msg)?;
            if let Some(exception) = &finding.exception {
                writeln!(
                    out,
                    "      waived: {} (approved by {}, expires {})",
                    exception.reason, exception.approved_by, exception.expires
                )?;
            }
        }
    }
    writeln!(out)?;
    let count = |status| report.rules.iter().filter(|rule| rule.status == status).count();
    writeln!(
        out,
        "checked {}: {} passed, {} failed, {} warned, {} waived",
        plural(report.rules.len(), "rule"),
        count(super::RuleStatus::Pass),
        count(super::RuleStatus::Fail),
        count(super::RuleStatus::Warn),
        count(super::RuleStatus::Waived),
    )?;
    Ok(())
}

/// `modelgate: DENY  credit-scoring 2.5.0 (risk tier high) → production: 44 violations, 3 warnings`.
pub fn verdict_line(report: &Report) -> String {
    let subject = match &report.model {
        Some(model) => {
            let environment = report.environment.as_deref().map(|e| format!(" → {e}")).unwrap_or_default();
            format!("  {} {} (risk tier {}){environment}", model.name, model.version, model.risk_tier)
        }
        None => String::new(),
    };
    let outcome = match &report.error {
        Some(error) => error.message.clone(),
        None => format!(
            "{}, {}, {}",
            plural(report.violations.len(), "violation"),
            plural(report.warnings.len(), "warning"),
            plural(report.exceptions.len(), "exception")
        ),
    };
    format!("modelgate: {}{subject}: {outcome}", report.decision.as_str().to_uppercase())
}

fn finding_block(painter: &Painter, out: &mut dyn Write, mark: &str, finding: &Finding) -> std::io::Result<()> {
    let severity = painter.paint(severity_style(finding.severity), &format!("[{}]", finding.severity.as_str()));
    let upcoming = match (&finding.effective_on, finding.upcoming) {
        (Some(date), true) => format!(" (upcoming: blocks from {date})"),
        _ => String::new(),
    };
    writeln!(out, "  {mark} {severity} {}{upcoming}", painter.paint(Style::new().bold(), &finding.code))?;
    writeln!(out, "      {}", finding.msg)?;
    if let Some(measured) = finding.measured() {
        writeln!(out, "      measured:  {}", display_value(measured))?;
    }
    if let Some(threshold) = finding.threshold() {
        let source = finding.threshold_source().map(|source| format!("  ({source})")).unwrap_or_default();
        writeln!(out, "      threshold: {}{source}", display_value(threshold))?;
    }
    let other: Vec<String> = finding
        .details
        .iter()
        .filter(|(key, _)| !KNOWN_DETAILS.contains(&key.as_str()))
        .map(|(key, value)| format!("{key}={}", display_value(value)))
        .collect();
    if !other.is_empty() {
        writeln!(out, "      details:   {}", other.join(" "))?;
    }
    if let Some(remediation) = &finding.remediation {
        writeln!(out, "      {} {remediation}", painter.paint(style(AnsiColor::Cyan), "fix:"))?;
    }
    Ok(())
}

fn short(revision: &str) -> &str {
    &revision[..revision.len().min(12)]
}

pub(super) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
