//! JUnit XML: one test case per rule checked, passing ones too, so a CI test tab shows
//! what the gate looked at, not only what failed.

use std::collections::BTreeMap;
use std::io::Write;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{Finding, Report, RuleStatus};

pub fn render(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut writer = Writer::new_with_indent(&mut *out, b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let failures = report.rules.iter().filter(|rule| rule.status == RuleStatus::Fail).count();
    let skipped = report.rules.iter().filter(|rule| rule.status == RuleStatus::Waived).count();
    let errors = usize::from(report.error.is_some());
    let tests = report.rules.len() + errors;
    let time = format!("{:.6}", report.timings.evaluate_us as f64 / 1e6);
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "modelgate"));
    suites.push_attribute(("tests", tests.to_string().as_str()));
    suites.push_attribute(("failures", failures.to_string().as_str()));
    suites.push_attribute(("errors", errors.to_string().as_str()));
    suites.push_attribute(("skipped", skipped.to_string().as_str()));
    suites.push_attribute(("time", time.as_str()));
    writer.write_event(Event::Start(suites))?;

    if let Some(error) = &report.error {
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", "modelgate"));
        suite.push_attribute(("tests", "1"));
        suite.push_attribute(("failures", "0"));
        suite.push_attribute(("errors", "1"));
        writer.write_event(Event::Start(suite))?;
        let mut case = BytesStart::new("testcase");
        case.push_attribute(("classname", "modelgate"));
        case.push_attribute(("name", "policy evaluation"));
        writer.write_event(Event::Start(case))?;
        let mut element = BytesStart::new("error");
        element.push_attribute(("message", error.message.as_str()));
        element.push_attribute(("type", error.kind.as_str()));
        writer.write_event(Event::Start(element))?;
        let body = match &error.hint {
            Some(hint) => format!("{}\nhint: {hint}", error.message),
            None => error.message.clone(),
        };
        writer.write_event(Event::Text(BytesText::new(&body)))?;
        writer.write_event(Event::End(BytesEnd::new("error")))?;
        writer.write_event(Event::End(BytesEnd::new("testcase")))?;
        writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }

    let mut by_package: BTreeMap<&str, Vec<&super::RuleOutcome>> = BTreeMap::new();
    for rule in &report.rules {
        by_package.entry(rule.package.as_str()).or_default().push(rule);
    }
    for (package, rules) in by_package {
        let mut suite = BytesStart::new("testsuite");
        let failed = rules.iter().filter(|rule| rule.status == RuleStatus::Fail).count();
        let waived = rules.iter().filter(|rule| rule.status == RuleStatus::Waived).count();
        suite.push_attribute(("name", package));
        suite.push_attribute(("tests", rules.len().to_string().as_str()));
        suite.push_attribute(("failures", failed.to_string().as_str()));
        suite.push_attribute(("errors", "0"));
        suite.push_attribute(("skipped", waived.to_string().as_str()));
        writer.write_event(Event::Start(suite))?;
        for rule in rules {
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("classname", package));
            case.push_attribute(("name", rule.code.as_str()));
            let findings = |list: &'_ [Finding]| -> Vec<Finding> {
                list.iter().filter(|finding| finding.code == rule.code).cloned().collect()
            };
            match rule.status {
                RuleStatus::Pass => {
                    writer.write_event(Event::Empty(case))?;
                    continue;
                }
                RuleStatus::Fail => {
                    writer.write_event(Event::Start(case))?;
                    let violations = findings(&report.violations);
                    let mut failure = BytesStart::new("failure");
                    let message = violations.first().map(|finding| finding.msg.as_str()).unwrap_or("violated");
                    failure.push_attribute(("message", message));
                    failure.push_attribute(("type", rule.severity.as_str()));
                    writer.write_event(Event::Start(failure))?;
                    writer.write_event(Event::Text(BytesText::new(&describe(&violations))))?;
                    writer.write_event(Event::End(BytesEnd::new("failure")))?;
                }
                RuleStatus::Waived => {
                    writer.write_event(Event::Start(case))?;
                    let waived = findings(&report.exceptions);
                    let mut skipped = BytesStart::new("skipped");
                    let message = waived
                        .first()
                        .and_then(|finding| finding.exception.as_ref())
                        .map(|exception| {
                            format!(
                                "waived: {} (approved by {}, expires {})",
                                exception.reason, exception.approved_by, exception.expires
                            )
                        })
                        .unwrap_or_else(|| "waived".to_string());
                    skipped.push_attribute(("message", message.as_str()));
                    writer.write_event(Event::Empty(skipped))?;
                }
                RuleStatus::Warn => {
                    writer.write_event(Event::Start(case))?;
                    writer.write_event(Event::Start(BytesStart::new("system-out")))?;
                    writer.write_event(Event::Text(BytesText::new(&format!(
                        "warning: {}",
                        describe(&findings(&report.warnings))
                    ))))?;
                    writer.write_event(Event::End(BytesEnd::new("system-out")))?;
                }
            }
            writer.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    writeln!(out)
}

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|finding| format!("[{}] {}", finding.severity.as_str(), finding.summary_lines().join("\n")))
        .collect::<Vec<_>>()
        .join("\n\n")
}
