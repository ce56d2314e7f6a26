//! GitHub Actions: workflow commands for annotations, and the Markdown summary appended
//! to `$GITHUB_STEP_SUMMARY` when the runner provides it.

use std::io::Write;

use super::{Finding, RenderOptions, Report};

pub fn render(report: &Report, options: &RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let file = report.evidence_source.as_deref().map(|file| format!("file={},", property(file))).unwrap_or_default();
    if let Some(error) = &report.error {
        let mut message = error.message.clone();
        if let Some(hint) = &error.hint {
            message.push_str(&format!("\nhint: {hint}"));
        }
        writeln!(out, "::error {file}title=modelgate error::{}", data(&message))?;
    }
    for finding in &report.violations {
        annotation(out, "error", &file, finding)?;
    }
    for finding in &report.warnings {
        annotation(out, "warning", &file, finding)?;
    }
    for finding in &report.exceptions {
        annotation(out, "notice", &file, finding)?;
    }
    writeln!(
        out,
        "modelgate: {} ({} violations, {} warnings, {} exceptions)",
        report.decision.as_str(),
        report.violations.len(),
        report.warnings.len(),
        report.exceptions.len()
    )?;
    if let Some(path) = &options.github_step_summary {
        let mut summary = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        super::markdown::render(report, &mut summary)?;
    }
    Ok(())
}

fn annotation(out: &mut dyn Write, level: &str, file: &str, finding: &Finding) -> std::io::Result<()> {
    let title = format!("{} [{}]", finding.code, finding.severity.as_str());
    writeln!(out, "::{level} {file}title={}::{}", property(&title), data(&finding.summary_lines().join("\n")))
}

/// Escapes a workflow command's message, as the Actions toolkit does.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}
