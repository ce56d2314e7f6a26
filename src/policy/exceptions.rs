//! Waivers from the policy repository's `exceptions.yaml`, applied after evaluation.
//!
//! Policies never see exceptions: they judge the evidence, and the governance team's
//! waivers are applied on top, reported and recorded with their reason and approver.

use std::path::Path;

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use super::bundle::{Bundle, FileKind};
use crate::error::{Error, ErrorKind, Result};
use crate::strict::{self, Source, Syntax};
use crate::suggest;

/// Violations that no pattern may waive: an exception covers one of them only when it
/// names that exact code and the exact model. An unsafe file, a forged signature or a
/// file changed after signing must never be waved through by `security/*` or `models: ["*"]`.
pub const NAMED_ONLY: &[&str] = &["security/unsafe-artifact", "security/signature-invalid", "security/digest-mismatch"];

/// Characters that make a pattern a glob.
const GLOB_CHARACTERS: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsFile {
    #[serde(default)]
    exceptions: Option<Vec<RawException>>,
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
    /// The models named without a pattern, which alone may waive a [`NAMED_ONLY`] code.
    named_models: Vec<String>,
    pub versions: Option<Vec<String>>,
    pub environments: Option<Vec<String>>,
    pub reason: String,
    pub approved_by: String,
    pub expires: NaiveDate,
}

pub use crate::decision::ExceptionInfo;

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

    /// Whether the waiver covers violation `code` of `model`: by its pattern, except for
    /// the [`NAMED_ONLY`] codes, which it must name exactly, for this very model.
    pub fn covers_code(&self, code: &str, model: &str) -> bool {
        if NAMED_ONLY.contains(&code) {
            return self.code == code && self.named_models.iter().any(|named| named == model);
        }
        self.code_matcher.is_match(code)
    }

    /// An exception is valid through the whole of its expiry day.
    pub fn expired(&self, today: NaiveDate) -> bool {
        today > self.expires
    }
}

/// Reads and validates the bundle's `exceptions.yaml` (none is fine); `environments` are
/// those the repository declares.
pub fn load(bundle: &Bundle, environments: &[String]) -> Result<Vec<Exception>> {
    match bundle.files_of(FileKind::Exceptions).next() {
        Some(file) => {
            let path = std::path::PathBuf::from(super::bundle::display_path(&bundle.root.join(&file.path)));
            parse(&file.contents, &path, environments)
        }
        None => Ok(Vec::new()),
    }
}

pub fn parse(text: &str, path: &Path, environments: &[String]) -> Result<Vec<Exception>> {
    let hint =
        "each exception needs code, models, reason, approved_by and expires (YYYY-MM-DD); see docs/policy-authoring.md";
    let source = Source::new(path, "the exceptions file", ErrorKind::Exceptions);
    let value = strict::parse(text, Syntax::Yaml, &source)?;
    if value.is_null() {
        return Ok(Vec::new());
    }
    let file: ExceptionsFile = strict::deserialize(value, text, &source).map_err(|error| error.hint(hint))?;
    let invalid = |index: usize, field: &str, message: String| {
        let segments = ["exceptions".to_string(), index.to_string(), field.to_string()];
        let line = nth_item_line(text, index).or_else(|| strict::line_of(text, &segments));
        let at = line.map(|line| format!("{}:{line}", path.display())).unwrap_or_else(|| path.display().to_string());
        Error::new(ErrorKind::Exceptions, format!("{at}: exceptions[{index}].{field} {message}"))
    };
    file.exceptions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let required = |value: Option<String>, field: &str| {
                value
                    .filter(|text| !text.trim().is_empty())
                    .ok_or_else(|| invalid(index, field, format!("is required (code {})", raw.code)).hint(hint))
            };
            let reason = required(raw.reason.clone(), "reason")?;
            let approved_by = required(raw.approved_by.clone(), "approved_by")?;
            let expires_text = required(raw.expires.clone(), "expires")?;
            let expires = NaiveDate::parse_from_str(&expires_text, "%Y-%m-%d").map_err(|_| {
                invalid(index, "expires", format!("is `{expires_text}`, expected a date YYYY-MM-DD")).hint(hint)
            })?;
            check_code(&raw.code).map_err(|message| {
                invalid(index, "code", message).hint(
                    "an exception waives violations of one category at most: start the pattern with the category, \
                     e.g. `fairness/demographic-parity-difference` or `documentation/*`",
                )
            })?;
            let glob = |pattern: &str, field: &str| {
                Glob::new(pattern).map(|glob| glob.compile_matcher()).map_err(|error| {
                    invalid(index, field, format!("has an invalid pattern `{pattern}`: {error}")).hint(hint)
                })
            };
            let models = raw.models.clone().unwrap_or_default();
            if models.is_empty() {
                return Err(invalid(
                    index,
                    "models",
                    "is required: list the model names (globs) the waiver covers, e.g. [\"credit-*\"]".to_string(),
                )
                .hint(hint));
            }
            let named_models: Vec<String> = models.iter().filter(|model| !is_pattern(model)).cloned().collect();
            if NAMED_ONLY.contains(&raw.code.as_str()) && named_models.len() != models.len() {
                return Err(invalid(
                    index,
                    "models",
                    format!(
                        "waives {} for a pattern of models; it may only be waived for models named exactly",
                        raw.code
                    ),
                )
                .hint(format!(
                    "{} is waived one model at a time: list the exact model names, with versions if you can",
                    raw.code
                )));
            }
            for environment in raw.environments.iter().flatten() {
                if !environments.contains(environment) {
                    let declared: Vec<&str> = environments.iter().map(String::as_str).collect();
                    let guess = suggest::nearest(environment, declared.iter().copied())
                        .map(|name| format!("did you mean `{name}`? "))
                        .unwrap_or_default();
                    return Err(invalid(
                        index,
                        "environments",
                        format!(
                            "names `{environment}`, which data.yaml does not declare ({})",
                            suggest::list(&declared)
                        ),
                    )
                    .hint(format!("{guess}a waiver for an undeclared environment never applies: fix the name")));
                }
            }
            Ok(Exception {
                code_matcher: glob(&raw.code, "code")?,
                models: models.iter().map(|model| glob(model, "models")).collect::<Result<_>>()?,
                named_models,
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

fn is_pattern(text: &str) -> bool {
    text.contains(GLOB_CHARACTERS)
}

/// A code pattern must name its category literally (`category/…`), so that it cannot
/// match across categories.
fn check_code(code: &str) -> std::result::Result<(), String> {
    let Some((category, rest)) = code.split_once('/') else {
        return Err(format!("is `{code}`, which names no category (`category/name`)"));
    };
    let literal = !category.is_empty()
        && category.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !is_pattern(category);
    if !literal {
        return Err(format!(
            "is `{code}`, whose category `{category}` is not written out, so it matches across categories"
        ));
    }
    if rest.is_empty() {
        return Err(format!("is `{code}`, which names no violation after the category"));
    }
    Ok(())
}

/// The line of the `index`-th item of the top-level `exceptions:` list (`- code: …`).
fn nth_item_line(text: &str, index: usize) -> Option<usize> {
    let start = text.lines().position(|line| line.starts_with("exceptions:"))?;
    text.lines()
        .enumerate()
        .skip(start + 1)
        .filter(|(_, line)| line.trim_start().starts_with("- "))
        .filter(|(_, line)| {
            let indent = line.len() - line.trim_start().len();
            indent <= 4
        })
        .nth(index)
        .map(|(number, _)| number + 1)
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

    fn parse(text: &str) -> Result<Vec<Exception>> {
        super::parse(text, Path::new("exceptions.yaml"), &["staging".to_string(), "production".to_string()])
    }

    #[test]
    fn parses_and_matches() {
        let exceptions = parse(ONE).expect("valid");
        let exception = &exceptions[0];
        assert!(exception.covers("credit-scoring", "2.4.0", Some("staging")));
        assert!(!exception.covers("credit-scoring", "2.4.1", Some("staging")));
        assert!(!exception.covers("credit-scoring", "2.4.0", Some("production")));
        assert!(!exception.covers("fraud", "2.4.0", Some("staging")));
        assert!(exception.covers_code("fairness/demographic-parity-difference", "credit-scoring"));
        let day = |text| NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date");
        assert!(!exception.expired(day("2027-01-31")));
        assert!(exception.expired(day("2027-02-01")));
    }

    #[test]
    fn missing_approver_is_an_error() {
        let text = ONE.replace("    approved_by: jane@example.com\n", "");
        let error = parse(&text).expect_err("no approver");
        assert!(
            error.message.contains("exceptions.yaml:3: exceptions[0].approved_by is required"),
            "{}",
            error.message
        );
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

    #[test]
    fn no_pattern_crosses_categories() {
        for code in ["*", "**", "*/x", "fair*/x", "{fairness,security}/*", "fairness", "fairness/"] {
            let text = ONE.replace("fairness/demographic-parity-difference", &format!("{code:?}"));
            let error = parse(&text).expect_err(code);
            assert!(error.message.contains("exceptions[0].code"), "{code}: {}", error.message);
        }
        assert!(parse(&ONE.replace("fairness/demographic-parity-difference", "documentation/*")).is_ok());
    }

    #[test]
    fn named_only_codes_need_the_exact_code_and_model() {
        let wide =
            ONE.replace("fairness/demographic-parity-difference", "security/*").replace("credit-*", "credit-scoring");
        let exception = &parse(&wide).expect("valid")[0];
        assert!(exception.covers_code("security/unpinned-dependency", "credit-scoring"));
        assert!(!exception.covers_code("security/unsafe-artifact", "credit-scoring"));
        let exact = ONE.replace("fairness/demographic-parity-difference", "security/unsafe-artifact");
        let error = parse(&exact).expect_err("a glob of models");
        assert!(error.message.contains("models named exactly"), "{}", error.message);
        let named = exact.replace("credit-*", "credit-scoring");
        let exception = &parse(&named).expect("valid")[0];
        assert!(exception.covers_code("security/unsafe-artifact", "credit-scoring"));
        assert!(!exception.covers_code("security/unsafe-artifact", "credit-scorer"));
    }

    #[test]
    fn environments_must_be_declared() {
        let error = parse(&ONE.replace("[staging]", "[stagign]")).expect_err("typo");
        assert!(error.message.contains("`stagign`"), "{}", error.message);
        assert!(error.hint.as_deref().is_some_and(|hint| hint.contains("did you mean `staging`")));
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let error = parse(&format!("{ONE}    expires: \"2099-01-01\"\n")).expect_err("duplicate");
        assert!(error.message.contains("duplicate key `expires`"), "{}", error.message);
    }
}
