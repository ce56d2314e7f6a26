//! Waivers from the policy repository's `exceptions.yaml`, applied after evaluation.
//!
//! Policies never see exceptions: they judge the evidence, and the governance team's
//! waivers are applied on top, reported and recorded with their reason and approver.

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use super::bundle::{Bundle, FileKind, EXCEPTIONS_FILE};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsFile {
    #[serde(default)]
    exceptions: Vec<RawException>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    code: String,
    #[serde(default)]
    models: Option<Vec<String>>,
    #[serde(default)]
    versions: Option<Vec<String>>,
    #[serde(default)]
    environments: Option<Vec<String>>,
    reason: Option<String>,
    approved_by: Option<String>,
    expires: Option<String>,
}

/// One waiver, validated.
#[derive(Debug, Clone)]
pub struct Exception {
    pub code: String,
    code_matcher: GlobMatcher,
    models: Vec<GlobMatcher>,
    pub versions: Option<Vec<String>>,
    pub environments: Option<Vec<String>>,
    pub reason: String,
    pub approved_by: String,
    pub expires: NaiveDate,
}

/// What the report says about a waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionInfo {
    pub code: String,
    pub reason: String,
    pub approved_by: String,
    pub expires: String,
}

impl Exception {
    pub fn info(&self) -> ExceptionInfo {
        ExceptionInfo {
            code: self.code.clone(),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
            expires: self.expires.to_string(),
        }
    }

    /// Whether the waiver covers this model, version and environment (ignoring expiry).
    pub fn covers(&self, model: &str, version: &str, environment: Option<&str>) -> bool {
        self.models.iter().any(|glob| glob.is_match(model))
            && self.versions.as_ref().is_none_or(|versions| versions.iter().any(|v| v == version))
            && self.environments.as_ref().is_none_or(|environments| {
                environment.is_some_and(|environment| environments.iter().any(|e| e == environment))
            })
    }

    pub fn matches_code(&self, code: &str) -> bool {
        self.code_matcher.is_match(code)
    }

    /// An exception is valid through the whole of its expiry day.
    pub fn expired(&self, today: NaiveDate) -> bool {
        today > self.expires
    }
}

/// Reads and validates the bundle's `exceptions.yaml` (none is fine).
pub fn load(bundle: &Bundle) -> Result<Vec<Exception>> {
    match bundle.files_of(FileKind::Exceptions).next() {
        Some(file) => parse(&file.contents),
        None => Ok(Vec::new()),
    }
}

pub fn parse(text: &str) -> Result<Vec<Exception>> {
    let invalid = |message: String| {
        Error::new(ErrorKind::Exceptions, format!("{EXCEPTIONS_FILE}: {message}"))
            .hint("each exception needs code, models, reason, approved_by and expires (YYYY-MM-DD); see docs/policy-authoring.md")
    };
    let file: Option<ExceptionsFile> = yaml_serde::from_str(text).map_err(|error| invalid(error.to_string()))?;
    let Some(file) = file else { return Ok(Vec::new()) };
    file.exceptions
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let at = |field: &str| format!("exceptions[{index}].{field}");
            let required = |value: Option<String>, field: &str| {
                value
                    .filter(|text| !text.trim().is_empty())
                    .ok_or_else(|| invalid(format!("{} is required (code {})", at(field), raw.code)))
            };
            let reason = required(raw.reason.clone(), "reason")?;
            let approved_by = required(raw.approved_by.clone(), "approved_by")?;
            let expires_text = required(raw.expires.clone(), "expires")?;
            let expires = NaiveDate::parse_from_str(&expires_text, "%Y-%m-%d")
                .map_err(|_| invalid(format!("{} is `{expires_text}`, expected a date YYYY-MM-DD", at("expires"))))?;
            let glob = |pattern: &str, field: &str| {
                Glob::new(pattern)
                    .map(|glob| glob.compile_matcher())
                    .map_err(|error| invalid(format!("{} has an invalid pattern `{pattern}`: {error}", at(field))))
            };
            let models = raw.models.clone().unwrap_or_default();
            if models.is_empty() {
                return Err(invalid(format!(
                    "{} is required: list the model names (globs) the waiver covers, e.g. [\"credit-*\"]",
                    at("models")
                )));
            }
            Ok(Exception {
                code_matcher: glob(&raw.code, "code")?,
                models: models.iter().map(|model| glob(model, "models")).collect::<Result<_>>()?,
                code: raw.code,
                versions: raw.versions,
                environments: raw.environments,
                reason,
                approved_by,
                expires,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
exceptions:
  - code: fairness/demographic-parity-difference
    models: ["credit-*"]
    versions: ["2.4.0"]
    environments: [staging]
    reason: tracked in RISK-142
    approved_by: jane@example.com
    expires: "2027-01-31"
"#;

    #[test]
    fn parses_and_matches() {
        let exceptions = parse(ONE).expect("valid");
        let exception = &exceptions[0];
        assert!(exception.covers("credit-scoring", "2.4.0", Some("staging")));
        assert!(!exception.covers("credit-scoring", "2.4.1", Some("staging")));
        assert!(!exception.covers("credit-scoring", "2.4.0", Some("production")));
        assert!(!exception.covers("fraud", "2.4.0", Some("staging")));
        assert!(exception.matches_code("fairness/demographic-parity-difference"));
        let day = |text| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
        assert!(!exception.expired(day("2027-01-31")));
        assert!(exception.expired(day("2027-02-01")));
    }

    #[test]
    fn missing_approver_is_an_error() {
        let text = ONE.replace("    approved_by: jane@example.com\n", "");
        let error = parse(&text).expect_err("no approver");
        assert!(error.message.contains("exceptions[0].approved_by is required"), "{}", error.message);
        assert_eq!(error.kind, ErrorKind::Exceptions);
    }

    #[test]
    fn missing_expiry_and_bad_date_are_errors() {
        let without = ONE.replace("    expires: \"2027-01-31\"\n", "");
        assert!(parse(&without).expect_err("no expiry").message.contains("expires is required"));
        let bad = ONE.replace("2027-01-31", "next year");
        assert!(parse(&bad).expect_err("bad date").message.contains("expected a date"));
    }

    #[test]
    fn empty_file_has_no_exceptions() {
        assert!(parse("# nothing yet\n").expect("empty").is_empty());
        assert!(parse("exceptions: []\n").expect("empty list").is_empty());
    }
}
