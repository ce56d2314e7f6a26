//! The decision and everything a report says about it: [`Report`], its [`Finding`]s and
//! [`RuleOutcome`]s, the bundle and waivers it names. The policy engine produces it; the
//! renderers ([`crate::report`]), the audit store and the command entry points consume it.
//! This module uses nothing of either side: only the evidence's vocabulary ([`Severity`],
//! the model) and the error type.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::evidence::Severity;

pub const REPORT_SCHEMA_VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
    Error,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
            Decision::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    #[serde(deserialize_with = "report_schema_version")]
    pub schema_version: String,
    pub decision: Decision,
    pub decision_id: String,
    /// RFC 3339.
    pub timestamp: String,
    pub model: Option<ModelRef>,
    pub environment: Option<String>,
    pub policy: Option<BundleInfo>,
    /// `sha256:<hex>` of the canonical evidence document.
    pub evidence_digest: Option<String>,
    /// Where the evidence came from (a file or a config), for locations in SARIF/GitHub.
    pub evidence_source: Option<String>,
    pub violations: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub exceptions: Vec<Finding>,
    /// Every rule that was checked (from the packages' catalogs), with its outcome.
    pub rules: Vec<RuleOutcome>,
    pub error: Option<ErrorInfo>,
    pub timings: Timings,
    pub tool: Tool,
    /// Where the decision was recorded: absent with `--no-record`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditRef>,
}

/// A decision's place in the audit store: publish `seq` and `hash` to anchor the chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditRef {
    pub store: String,
    pub seq: u64,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool { name: "modelgate".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// A report read back (from `modelgate server`) must be of the schema this build renders.
fn report_schema_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let version = String::deserialize(deserializer)?;
    if version == REPORT_SCHEMA_VERSION {
        Ok(version)
    } else {
        Err(serde::de::Error::custom(format!(
            "report schema_version `{version}`, this modelgate reads `{REPORT_SCHEMA_VERSION}`"
        )))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
    pub owner: Option<String>,
    pub risk_tier: String,
}

/// Where a finding came from in the policy bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PolicyRef {
    /// `modelgate.fairness`
    pub package: String,
    /// `deny` or `warn`
    pub rule: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    pub code: String,
    /// The first segment of the code: `fairness`.
    pub category: String,
    pub msg: String,
    pub remediation: Option<String>,
    pub severity: Severity,
    pub details: serde_json::Map<String, serde_json::Value>,
    pub effective_on: Option<String>,
    /// A deny before its `effective_on` date, reported as a warning.
    pub upcoming: bool,
    pub policy: PolicyRef,
    /// The exact value the rule produced.
    pub raw: serde_json::Value,
    /// The waiver applied to this finding, in the `exceptions` list.
    pub exception: Option<ExceptionInfo>,
}

impl Finding {
    pub fn measured(&self) -> Option<&serde_json::Value> {
        self.details.get("measured")
    }

    pub fn threshold(&self) -> Option<&serde_json::Value> {
        self.details.get("threshold")
    }

    pub fn threshold_source(&self) -> Option<&str> {
        self.details.get("threshold_source").and_then(|value| value.as_str())
    }

    /// The message and the lines a person acts on: measured value, threshold and where
    /// it is set, and the waiver or the fix. For renderers with one text block per finding.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut lines = vec![self.msg.clone()];
        if let Some(measured) = self.measured() {
            lines.push(format!("measured: {}", display_value(measured)));
        }
        if let Some(threshold) = self.threshold() {
            let source = self.threshold_source().map(|source| format!(" ({source})")).unwrap_or_default();
            lines.push(format!("threshold: {}{source}", display_value(threshold)));
        }
        if let Some(exception) = &self.exception {
            lines.push(format!(
                "waived: {} (approved by {}, expires {})",
                exception.reason, exception.approved_by, exception.expires
            ));
        } else if let Some(remediation) = &self.remediation {
            lines.push(format!("fix: {remediation}"));
        }
        lines
    }
}

impl ModelRef {
    pub fn of(model: &crate::evidence::Model) -> ModelRef {
        ModelRef {
            name: model.name.clone(),
            version: model.version.clone(),
            owner: model.owner.clone(),
            risk_tier: model.risk_tier.as_str().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Pass,
    Fail,
    Warn,
    Waived,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "pass",
            RuleStatus::Fail => "fail",
            RuleStatus::Warn => "warn",
            RuleStatus::Waived => "waived",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleOutcome {
    pub code: String,
    pub package: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub severity: Severity,
    pub remediation: Option<String>,
    pub status: RuleStatus,
    /// The regulatory controls the rule supports, `FRAMEWORK:ID` (the policy repository's
    /// controls.yaml and the catalog entry's `controls`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub kind: String,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timings {
    pub collect_us: u64,
    pub compile_us: u64,
    pub evaluate_us: u64,
    pub total_us: u64,
}

impl Report {
    /// An `error` decision for a failure before or during evaluation.
    pub fn from_error(error: &crate::error::Error) -> Report {
        Report {
            schema_version: REPORT_SCHEMA_VERSION.to_string(),
            decision: Decision::Error,
            decision_id: new_decision_id(),
            timestamp: now_rfc3339(),
            model: None,
            environment: None,
            policy: None,
            evidence_digest: None,
            evidence_source: None,
            violations: Vec::new(),
            warnings: Vec::new(),
            exceptions: Vec::new(),
            rules: Vec::new(),
            error: Some(ErrorInfo {
                kind: error.kind.as_str().to_string(),
                message: error.message.clone(),
                hint: error.hint.clone(),
            }),
            timings: Timings::default(),
            tool: Tool::default(),
            audit: None,
        }
    }

    /// An `error` decision about a known evidence document: names the model, the
    /// environment and the evidence, so the failure is traceable.
    pub fn from_evidence_error(
        error: &crate::error::Error,
        evidence: &crate::evidence::Evidence,
        source: Option<String>,
    ) -> Report {
        let mut report = Report::from_error(error);
        report.model = Some(ModelRef::of(&evidence.model));
        report.environment = evidence.deployment.as_ref().map(|deployment| deployment.environment.clone());
        report.evidence_digest = Some(crate::evidence::digest(evidence));
        report.evidence_source = source;
        report
    }

    pub fn exit_status(&self) -> crate::exit::ExitStatus {
        match self.decision {
            Decision::Allow => crate::exit::ExitStatus::Success,
            Decision::Deny => crate::exit::ExitStatus::Failure,
            Decision::Error => crate::exit::ExitStatus::Error,
        }
    }

    /// Violations grouped by category, each group sorted by severity (most severe first), then code.
    pub fn violations_by_category(&self) -> BTreeMap<&str, Vec<&Finding>> {
        group(&self.violations)
    }
}

pub fn group(findings: &[Finding]) -> BTreeMap<&str, Vec<&Finding>> {
    let mut groups: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        groups.entry(finding.category.as_str()).or_default().push(finding);
    }
    for findings in groups.values_mut() {
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.code.cmp(&b.code)));
    }
    groups
}

pub fn new_decision_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Renders a value as a report shows it: numbers without float noise, strings bare.
pub fn display_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Number(number) => match number.as_f64() {
            Some(float) if number.is_f64() => {
                let rounded = format!("{float:.4}");
                let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
                trimmed.to_string()
            }
            _ => number.to_string(),
        },
        other => other.to_string(),
    }
}

/// How a bundle is identified in every report and audit record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundleInfo {
    pub path: String,
    /// `sha256:<hex>` over the bundle's files.
    pub digest: String,
    /// The git commit of the checkout holding the bundle, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Where the bundle sits inside that checkout (`policies`), when not at its top.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    /// Whether the bundle's files differ from that commit: edited, added, deleted, or not
    /// tracked at all (untracked or ignored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    pub files: usize,
}

/// What the report says about a waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionInfo {
    pub code: String,
    pub reason: String,
    pub approved_by: String,
    pub expires: String,
}
