//! A Markdown summary for pull-request comments and CI step summaries.

use std::io::Write;

use super::{display_value, Decision, Finding, Report};

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let icon = match report.decision {
        Decision::Allow => "✅",
        Decision::Deny => "❌",
        Decision::Error => "⛔",
    };
    let subject = report
        .model
        .as_ref()
        .map(|model| {
            let environment = report.environment.as_deref().map(|e| format!(" → `{e}`")).unwrap_or_default();
            format!(" — `{}` {}{environment}", model.name, model.version)
        })
        .unwrap_or_default();
    writeln!(out, "## {icon} modelgate: {}{subject}", report.decision.as_str())?;
    writeln!(out)?;
    if let Some(policy) = &report.policy {
        let revision =
            policy.revision.as_deref().map(|r| format!(" @ `{}`", &r[..r.len().min(12)])).unwrap_or_default();
        writeln!(out, "Policies `{}`{revision}, digest `{}`.", policy.path, policy.digest)?;
        writeln!(out)?;
    }
    if let Some(error) = &report.error {
        writeln!(out, "**Error:** {}", escape(&error.message))?;
        if let Some(hint) = &error.hint {
            writeln!(out)?;
            writeln!(out, "**Hint:** {}", escape(hint))?;
        }
        return Ok(());
    }
    table(out, "Violations", &report.violations)?;
    table(out, "Warnings", &report.warnings)?;
    if !report.exceptions.is_empty() {
        writeln!(out, "### Exceptions applied")?;
        writeln!(out)?;
        writeln!(out, "| Code | Reason | Approved by | Expires |")?;
        writeln!(out, "|---|---|---|---|")?;
        for finding in &report.exceptions {
            if let Some(exception) = &finding.exception {
                writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    finding.code,
                    escape(&exception.reason),
                    escape(&exception.approved_by),
                    exception.expires
                )?;
            }
        }
        writeln!(out)?;
    }
    let failed = report.rules.iter().filter(|rule| rule.status == super::RuleStatus::Fail).count();
    writeln!(out, "{} rules checked, {failed} failed.", report.rules.len())?;
    Ok(())
}

fn table(out: &mut dyn Write, title: &str, findings: &[Finding]) -> std::io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "### {title}")?;
    writeln!(out)?;
    writeln!(out, "| Severity | Code | Message | Measured | Threshold | Fix |")?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for (_, group) in super::group(findings) {
        for finding in group {
            let cell = |value: Option<&serde_json::Value>| {
                value.map(display_value).map(|text| escape(&text)).unwrap_or_default()
            };
            let threshold = match (finding.threshold(), finding.threshold_source()) {
                (Some(threshold), Some(source)) => {
                    format!("{} <sub>{}</sub>", escape(&display_value(threshold)), escape(source))
                }
                (threshold, _) => cell(threshold),
            };
            writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} |",
                finding.severity.as_str(),
                finding.code,
                escape(&finding.msg),
                cell(finding.measured()),
                threshold,
                escape(finding.remediation.as_deref().unwrap_or("")),
            )?;
        }
    }
    writeln!(out)
}

/// Keeps table cells in one cell: pipes escaped, newlines folded.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
