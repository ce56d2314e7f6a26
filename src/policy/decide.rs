//! From raw rule results to a decision: normalise violations, apply grace periods and
//! exceptions, and list every rule that was checked.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::engine::{PackageResult, PACKAGE_PREFIX};
use super::exceptions::Exception;
use crate::decision::{Decision, Finding, PolicyRef, RuleOutcome, RuleStatus};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::Severity;

/// Who and where the decision is for: what exceptions match against.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub model: &'a str,
    pub version: &'a str,
    pub environment: Option<&'a str>,
    pub today: NaiveDate,
}

/// The judgement part of a report.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub decision: Decision,
    pub violations: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub exceptions: Vec<Finding>,
    pub rules: Vec<RuleOutcome>,
}

pub fn decide(results: &[PackageResult], exceptions: &[Exception], subject: &Subject) -> Result<Outcome> {
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    let mut waived = Vec::new();
    for result in results {
        for (rule, items) in [("deny", &result.deny), ("warn", &result.warn)] {
            for raw in items {
                let mut finding = normalise(raw, &result.package, rule, &result.catalog)?;
                if rule == "deny" && finding.effective_on.as_deref().is_some_and(|date| !in_effect(date, subject.today))
                {
                    finding.upcoming = true;
                }
                let exception = exceptions.iter().find(|exception| {
                    exception.covers_code(&finding.code, subject.model)
                        && exception.covers(subject.model, subject.version, subject.environment)
                        && !exception.expired(subject.today)
                });
                if let Some(exception) = exception {
                    finding.exception = Some(exception.info());
                    waived.push(finding);
                } else if rule == "deny" && !finding.upcoming {
                    violations.push(finding);
                } else {
                    warnings.push(finding);
                }
            }
        }
    }
    for exception in exceptions {
        if exception.expired(subject.today) && exception.covers(subject.model, subject.version, subject.environment) {
            warnings.push(expired_exception(exception));
        }
    }
    for list in [&mut violations, &mut warnings, &mut waived] {
        list.sort_by(|a, b| {
            a.category
                .cmp(&b.category)
                .then(b.severity.cmp(&a.severity))
                .then_with(|| a.code.cmp(&b.code))
                .then_with(|| a.msg.cmp(&b.msg))
        });
    }
    let rules = rule_outcomes(results, &violations, &warnings, &waived)?;
    let decision = if violations.is_empty() { Decision::Allow } else { Decision::Deny };
    Ok(Outcome { decision, violations, warnings, exceptions: waived, rules })
}

fn in_effect(effective_on: &str, today: NaiveDate) -> bool {
    parse_date(effective_on).is_none_or(|date| today >= date)
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| chrono::DateTime::parse_from_rfc3339(text).ok().map(|time| time.date_naive()))
}

/// Turns what a rule produced (an object or a bare string) into a finding.
fn normalise(
    raw: &serde_json::Value,
    package: &str,
    rule: &str,
    catalog: &serde_json::Map<String, serde_json::Value>,
) -> Result<Finding> {
    let category = package.strip_prefix(PACKAGE_PREFIX).unwrap_or(package).to_string();
    let policy = PolicyRef { package: package.to_string(), rule: rule.to_string() };
    let bad = |message: String| {
        Error::new(ErrorKind::PolicyResult, format!("data.{package}.{rule}: {message}"))
            .hint("a violation is a string or an object {code, msg, remediation, severity, details, effective_on} (docs/policy-authoring.md)")
    };
    let object = match raw {
        serde_json::Value::String(msg) => {
            let code = format!("{}/{rule}", category.replace('.', "-"));
            let entry = catalog.get(&code);
            return Ok(Finding {
                severity: catalog_severity(entry).unwrap_or(Severity::High),
                remediation: entry.and_then(|entry| text_field(entry, "remediation")),
                category: code_category(&code),
                code,
                msg: msg.clone(),
                details: serde_json::Map::new(),
                effective_on: None,
                upcoming: false,
                policy,
                raw: raw.clone(),
                exception: None,
            });
        }
        serde_json::Value::Object(object) => object,
        other => return Err(bad(format!("a violation must be a string or an object, found {other}"))),
    };
    // An object must say what the contract says it says: a stable code, a message and a
    // severity. A deny without them cannot be reported, waived or recorded faithfully.
    let code = match object.get("code") {
        Some(serde_json::Value::String(code)) if is_code(code) => code.clone(),
        Some(serde_json::Value::String(code)) => {
            return Err(bad(format!(
                "violation code `{code}` is not a kebab-case `category/name` (like `fairness/demographic-parity-difference`)"
            )))
        }
        None => return Err(bad(format!("a violation object has no `code`: {}", shortened(raw)))),
        Some(other) => return Err(bad(format!("`code` must be a string, found {other}"))),
    };
    let entry = catalog.get(&code);
    match object.get("msg") {
        Some(serde_json::Value::String(msg)) if !msg.trim().is_empty() => {}
        Some(serde_json::Value::String(_)) | None => {
            return Err(bad(format!("violation {code} has no `msg`: the developer would not be told what is wrong")))
        }
        Some(other) => return Err(bad(format!("violation {code}: `msg` must be a string, found {other}"))),
    }
    let severity = match object.get("severity") {
        Some(serde_json::Value::String(text)) => Severity::parse(text).ok_or_else(|| {
            bad(format!("violation {code} has severity `{text}`; expected low, medium, high or critical"))
        })?,
        None => return Err(bad(format!("violation {code} has no `severity` (low, medium, high or critical)"))),
        Some(other) => return Err(bad(format!("violation {code}: `severity` must be a string, found {other}"))),
    };
    let details = match object.get("details") {
        Some(serde_json::Value::Object(details)) => details.clone(),
        None | Some(serde_json::Value::Null) => serde_json::Map::new(),
        Some(other) => return Err(bad(format!("violation {code}: `details` must be an object, found {other}"))),
    };
    let effective_on = match object.get("effective_on") {
        Some(serde_json::Value::String(date)) => {
            if parse_date(date).is_none() {
                return Err(bad(format!(
                    "violation {code}: effective_on `{date}` is not a date (YYYY-MM-DD or RFC 3339)"
                )));
            }
            Some(date.clone())
        }
        None | Some(serde_json::Value::Null) => None,
        Some(other) => {
            return Err(bad(format!("violation {code}: `effective_on` must be a date string, found {other}")))
        }
    };
    Ok(Finding {
        category: code_category(&code),
        msg: text_field(raw, "msg").unwrap_or_default(),
        remediation: text_field(raw, "remediation")
            .or_else(|| entry.and_then(|entry| text_field(entry, "remediation"))),
        severity,
        details,
        effective_on,
        upcoming: false,
        policy,
        raw: raw.clone(),
        exception: None,
        code,
    })
}

/// A violation code: kebab-case `category/name`.
pub fn is_code(code: &str) -> bool {
    let kebab = |part: &str| {
        !part.is_empty()
            && part
                .split('-')
                .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    };
    matches!(code.split_once('/'), Some((category, name)) if kebab(category) && kebab(name))
}

/// A violation as text for a message, cut short.
fn shortened(raw: &serde_json::Value) -> String {
    let text = raw.to_string();
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

fn code_category(code: &str) -> String {
    code.split('/').next().unwrap_or(code).to_string()
}

fn text_field(value: &serde_json::Value, field: &str) -> Option<String> {
    value.get(field).and_then(|text| text.as_str()).map(str::to_string)
}

fn catalog_severity(entry: Option<&serde_json::Value>) -> Option<Severity> {
    entry.and_then(|entry| entry.get("severity")).and_then(|text| text.as_str()).and_then(Severity::parse)
}

fn expired_exception(exception: &Exception) -> Finding {
    let info = exception.info();
    let mut details = serde_json::Map::new();
    details.insert("exception_code".into(), info.code.clone().into());
    details.insert("expired".into(), info.expires.clone().into());
    details.insert("approved_by".into(), info.approved_by.clone().into());
    Finding {
        code: "modelgate/exception-expired".into(),
        category: "modelgate".into(),
        msg: format!(
            "The exception for {} (approved by {}) expired on {} and was not applied.",
            info.code, info.approved_by, info.expires
        ),
        remediation: Some(
            "Renew the exception in exceptions.yaml with a new approval, or fix the violation it covered.".into(),
        ),
        severity: Severity::Medium,
        details,
        effective_on: None,
        upcoming: false,
        policy: PolicyRef { package: "modelgate".into(), rule: "exceptions".into() },
        raw: serde_json::Value::Null,
        exception: None,
    }
}

/// Every catalogued rule with its outcome, plus codes that fired without a catalog entry.
fn rule_outcomes(
    results: &[PackageResult],
    violations: &[Finding],
    warnings: &[Finding],
    waived: &[Finding],
) -> Result<Vec<RuleOutcome>> {
    let mut outcomes: BTreeMap<String, RuleOutcome> = BTreeMap::new();
    for result in results {
        for (code, entry) in &result.catalog {
            if let Some(existing) = outcomes.get(code) {
                return Err(Error::new(
                    ErrorKind::PolicyResult,
                    format!(
                        "violation code {code} is catalogued by both data.{} and data.{}",
                        existing.package, result.package
                    ),
                )
                .hint("codes must be unique across packages: rename one of them"));
            }
            outcomes.insert(
                code.clone(),
                RuleOutcome {
                    code: code.clone(),
                    package: result.package.clone(),
                    title: text_field(entry, "title"),
                    description: text_field(entry, "description"),
                    severity: catalog_severity(Some(entry)).unwrap_or(Severity::High),
                    remediation: text_field(entry, "remediation"),
                    status: RuleStatus::Pass,
                    controls: Vec::new(),
                },
            );
        }
    }
    let ranked = [(waived, RuleStatus::Waived), (warnings, RuleStatus::Warn), (violations, RuleStatus::Fail)];
    for (findings, status) in ranked {
        for finding in findings.iter().filter(|finding| finding.policy.package != "modelgate") {
            let outcome = outcomes.entry(finding.code.clone()).or_insert_with(|| RuleOutcome {
                code: finding.code.clone(),
                package: finding.policy.package.clone(),
                title: None,
                description: None,
                severity: finding.severity,
                remediation: finding.remediation.clone(),
                status: RuleStatus::Pass,
                controls: Vec::new(),
            });
            outcome.status = status;
        }
    }
    Ok(outcomes.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(deny: serde_json::Value, warn: serde_json::Value) -> PackageResult {
        PackageResult {
            package: "modelgate.fairness".into(),
            deny: deny.as_array().cloned().unwrap_or_default(),
            warn: warn.as_array().cloned().unwrap_or_default(),
            catalog: json!({"fairness/dp": {"title": "DP", "severity": "critical", "remediation": "rebalance"},
                            "fairness/eo": {"title": "EO", "severity": "high"}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        }
    }

    fn subject(today: &str) -> Subject<'static> {
        Subject {
            model: "credit",
            version: "1.0",
            environment: Some("production"),
            today: NaiveDate::parse_from_str(today, "%Y-%m-%d").expect("date"),
        }
    }

    #[test]
    fn deny_blocks_and_catalog_fills_gaps() {
        let results =
            [result(json!([{"code": "fairness/dp", "msg": "too far apart", "severity": "critical"}]), json!([]))];
        let outcome = decide(&results, &[], &subject("2026-01-01")).expect("decide");
        assert_eq!(outcome.decision, Decision::Deny);
        let finding = &outcome.violations[0];
        assert_eq!(finding.severity, Severity::Critical);
        assert_eq!(finding.remediation.as_deref(), Some("rebalance"));
        let statuses: Vec<_> = outcome.rules.iter().map(|rule| (rule.code.as_str(), rule.status)).collect();
        assert_eq!(statuses, vec![("fairness/dp", RuleStatus::Fail), ("fairness/eo", RuleStatus::Pass)]);
    }

    #[test]
    fn bare_string_gets_a_derived_code() {
        let results = [result(json!(["something is off"]), json!([]))];
        let outcome = decide(&results, &[], &subject("2026-01-01")).expect("decide");
        assert_eq!(outcome.violations[0].code, "fairness/deny");
        assert_eq!(outcome.violations[0].severity, Severity::High);
    }

    #[test]
    fn effective_on_in_the_future_is_an_upcoming_warning() {
        let results = [result(
            json!([{"code": "fairness/eo", "msg": "m", "severity": "high", "effective_on": "2026-06-01"}]),
            json!([]),
        )];
        let before = decide(&results, &[], &subject("2026-05-31")).expect("decide");
        assert_eq!(before.decision, Decision::Allow);
        assert!(before.warnings[0].upcoming);
        let after = decide(&results, &[], &subject("2026-06-01")).expect("decide");
        assert_eq!(after.decision, Decision::Deny);
    }

    #[test]
    fn invalid_severity_fails_closed() {
        let results = [result(json!([{"code": "fairness/dp", "msg": "m", "severity": "urgent"}]), json!([]))];
        let error = decide(&results, &[], &subject("2026-01-01")).expect_err("bad severity");
        assert_eq!(error.kind, ErrorKind::PolicyResult);
    }

    #[test]
    fn objects_must_carry_code_msg_and_severity() {
        for raw in [
            json!({"msg": "m", "severity": "high"}),
            json!({"code": "fairness/dp", "severity": "high"}),
            json!({"code": "fairness/dp", "msg": "", "severity": "high"}),
            json!({"code": "fairness/dp", "msg": "m"}),
            json!({"code": "Fairness/DP", "msg": "m", "severity": "high"}),
            json!({"code": "dp", "msg": "m", "severity": "high"}),
        ] {
            let results = [result(json!([raw.clone()]), json!([]))];
            let error = decide(&results, &[], &subject("2026-01-01")).expect_err("incomplete");
            assert_eq!(error.kind, ErrorKind::PolicyResult, "{raw}");
        }
        assert!(is_code("acme-privacy/pii-in-logs"));
        assert!(!is_code("acme.privacy/x") && !is_code("a/b/c") && !is_code("a--b/c"));
    }

    #[test]
    fn exceptions_apply_until_they_expire() {
        let exceptions = super::super::exceptions::parse(
            "exceptions:\n  - code: fairness/dp\n    models: [cred*]\n    reason: r\n    approved_by: a\n    expires: '2026-03-01'\n",
            std::path::Path::new("exceptions.yaml"),
            &[],
        )
        .expect("exceptions");
        let results = [result(json!([{"code": "fairness/dp", "msg": "m", "severity": "high"}]), json!([]))];
        let waived = decide(&results, &exceptions, &subject("2026-03-01")).expect("decide");
        assert_eq!(waived.decision, Decision::Allow);
        assert_eq!(waived.exceptions[0].exception.as_ref().map(|e| e.approved_by.as_str()), Some("a"));
        let expired = decide(&results, &exceptions, &subject("2026-03-02")).expect("decide");
        assert_eq!(expired.decision, Decision::Deny);
        assert_eq!(expired.warnings[0].code, "modelgate/exception-expired");
    }
}
