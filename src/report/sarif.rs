//! SARIF 2.1.0, for code-scanning dashboards. Violations are `error` results, warnings
//! `warning`, waived violations carry an accepted external suppression.

use std::io::Write;

use serde_json::{json, Value};

use super::{Decision, Finding, Report};
use crate::evidence::Severity;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|rule| {
            let mut entry = json!({
                "id": rule.code,
                "name": rule.code.replace(['/', '-'], "_"),
                "shortDescription": {"text": rule.title.clone().unwrap_or_else(|| rule.code.clone())},
                "defaultConfiguration": {"level": level(rule.severity)},
                "properties": {"package": rule.package, "severity": rule.severity.as_str(),
                               "security-severity": security_severity(rule.severity)},
            });
            if let Some(description) = &rule.description {
                entry["fullDescription"] = json!({"text": description});
            }
            if let Some(remediation) = &rule.remediation {
                entry["help"] = json!({"text": remediation});
            }
            entry
        })
        .collect();
    let location = report.evidence_source.clone().unwrap_or_else(|| "modelgate.toml".to_string());
    let rule_index = |code: &str| report.rules.iter().position(|rule| rule.code == code);
    let mut results: Vec<Value> = Vec::new();
    let mut push = |finding: &Finding, level: &str, suppressed: bool| {
        let mut text = finding.msg.clone();
        if let Some(remediation) = &finding.remediation {
            text.push_str(&format!(" Fix: {remediation}"));
        }
        let mut result = json!({
            "ruleId": finding.code,
            "level": level,
            "message": {"text": text},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": location}}}],
            "properties": {"severity": finding.severity.as_str(), "details": finding.details,
                           "package": finding.policy.package, "upcoming": finding.upcoming},
        });
        if let Some(index) = rule_index(&finding.code) {
            result["ruleIndex"] = json!(index);
        }
        if let (true, Some(exception)) = (suppressed, &finding.exception) {
            result["suppressions"] = json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!("{} (approved by {}, expires {})", exception.reason, exception.approved_by, exception.expires),
            }]);
        }
        results.push(result);
    };
    for finding in &report.violations {
        push(finding, "error", false);
    }
    for finding in &report.warnings {
        push(finding, "warning", false);
    }
    for finding in &report.exceptions {
        push(finding, level(finding.severity), true);
    }
    let mut invocation = json!({"executionSuccessful": report.decision != Decision::Error});
    if let Some(error) = &report.error {
        let mut text = error.message.clone();
        if let Some(hint) = &error.hint {
            text.push_str(&format!("\nhint: {hint}"));
        }
        invocation["toolExecutionNotifications"] = json!([{"level": "error", "message": {"text": text}}]);
    }
    let document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "modelgate",
                "version": report.tool.version,
                "informationUri": "https://github.com/modelgate/modelgate",
                "rules": rules,
            }},
            "invocations": [invocation],
            "results": results,
            "properties": {
                "decision": report.decision.as_str(),
                "decision_id": report.decision_id,
                "policy_digest": report.policy.as_ref().map(|policy| policy.digest.clone()),
                "policy_revision": report.policy.as_ref().and_then(|policy| policy.revision.clone()),
                "evidence_digest": report.evidence_digest,
            },
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning reads this CVSS-like score to rank results.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "7.5",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
    }
}
