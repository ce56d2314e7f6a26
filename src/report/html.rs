//! The HTML report: one self-contained file (no script, no external request: its
//! Content-Security-Policy forbids them) to attach to a pull request or a governance
//! ticket. It says what the JSON report says, and draws the fairness per group and the
//! drift per feature of the evidence the decision judged as inline SVG. Like every
//! renderer it computes nothing: the numbers are the report's and the evidence's.
//!
//! The page parts ([`escape`], [`STYLE`], [`fairness_chart`], [`drift_chart`]) are the
//! dashboard's too (`modelgate server`, `/ui`).

use std::fmt::Write as _;
use std::io::Write;

use super::text::plural;
use super::{display_value, group, Decision, Finding, RenderOptions, Report, RuleStatus};
use crate::evidence::{Drift, Evidence, FairnessAttribute};

/// The page's style sheet: inline, so the file stands alone.
pub const STYLE: &str = r#"
:root { --allow: #1a7f37; --deny: #cf222e; --error: #82071e; --warn: #9a6700; --muted: #57606a;
  --line: #d0d7de; --panel: #f6f8fa; --waived: #0969da; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  margin: 0; background: #fff; }
header.verdict { padding: 1.2rem 2rem; border-bottom: 4px solid var(--line); background: var(--panel); }
header.verdict.allow { border-color: var(--allow); }
header.verdict.deny { border-color: var(--deny); }
header.verdict.error { border-color: var(--error); }
header h1 { margin: 0; font-size: 1.5rem; }
header p { margin: .3rem 0 0; color: var(--muted); }
main { padding: 1rem 2rem 2rem; max-width: 1280px; }
nav.site { padding: .5rem 2rem; background: #24292f; }
nav.site a { color: #fff; margin-right: 1.2rem; text-decoration: none; font-weight: 600; }
nav.site a.current { text-decoration: underline; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: .3rem; margin-top: 2rem; }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; color: #fff; font-weight: 700;
  font-size: .9em; letter-spacing: .03em; }
.badge.allow, .badge.compliant, .badge.pass { background: var(--allow); }
.badge.deny, .badge.non-compliant, .badge.fail { background: var(--deny); }
.badge.error { background: var(--error); }
.badge.warn, .badge.grace { background: var(--warn); }
.badge.waived { background: var(--waived); }
.badge.unknown, .badge.retired { background: var(--muted); }
.sev { font-size: .75rem; text-transform: uppercase; font-weight: 700; padding: 0 .4rem; border-radius: .3rem;
  border: 1px solid currentColor; }
.sev.critical { color: #8250df; } .sev.high { color: var(--deny); } .sev.medium { color: var(--warn); }
.sev.low { color: var(--waived); }
article.finding { border: 1px solid var(--line); border-left: 4px solid var(--deny); border-radius: 6px;
  padding: .6rem 1rem; margin: .7rem 0; }
article.finding.warning { border-left-color: var(--warn); }
article.finding h4 { margin: 0 0 .3rem; font-size: 1rem; }
article.finding p { margin: .2rem 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .4rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
p.fix { background: #ddf4ff; padding: .3rem .6rem; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; }
th { background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; }
pre { background: var(--panel); padding: .6rem; overflow-x: auto; border-radius: 6px; }
figure { margin: .8rem 0; }
figcaption { color: var(--muted); font-size: .85rem; }
svg text { font: 12px system-ui, sans-serif; fill: #1f2328; }
.muted { color: var(--muted); }
form.filter { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin: .8rem 0; }
form.filter label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); }
"#;

/// The colours of the rate series in the fairness chart, by metric.
const SERIES: &[(&str, &str, &str)] = &[
    ("selection_rate", "selection rate", "#0969da"),
    ("tpr", "true-positive rate", "#1a7f37"),
    ("fpr", "false-positive rate", "#cf222e"),
];

pub fn render(report: &Report, options: &RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    let mut page = String::with_capacity(64 * 1024);
    head(&mut page, &title(report));
    let _ = writeln!(page, "<body>");
    body(&mut page, report, options);
    let _ = writeln!(
        page,
        "<footer class=\"muted\" style=\"padding: 1rem 2rem\">{} {} · report schema {} · decision {}</footer>",
        escape(&report.tool.name),
        escape(&report.tool.version),
        escape(&report.schema_version),
        escape(&report.decision_id)
    );
    let _ = writeln!(page, "</body>\n</html>");
    out.write_all(page.as_bytes())
}

/// The report's header and `<main>`: the page's body, for the report file.
pub fn body(page: &mut String, report: &Report, options: &RenderOptions) {
    body_with(page, report, options, |_| {});
}

/// [`body`], with `more` written at the end of `<main>` (the dashboard's decision page adds
/// the evidence and the bundle's files).
pub fn body_with(page: &mut String, report: &Report, options: &RenderOptions, more: impl FnOnce(&mut String)) {
    verdict_header(page, report);
    let _ = writeln!(page, "<main>");
    summary(page, report);
    if let Some(error) = &report.error {
        let _ = writeln!(page, "<section id=\"error\"><h2>Error</h2>");
        let _ = writeln!(page, "<p><strong>{}</strong></p>", escape(&error.message));
        if let Some(hint) = &error.hint {
            let _ = writeln!(page, "<p class=\"fix\"><strong>Hint:</strong> {}</p>", escape(hint));
        }
        let _ = writeln!(page, "<p>The gate failed closed: nothing was allowed.</p></section>");
    }
    findings(page, report);
    if let Some(evidence) = options.evidence.as_deref() {
        evidence_charts(page, evidence);
    }
    for (heading, facts) in &options.sections {
        let id = heading.to_lowercase().replace(' ', "-");
        let _ = writeln!(page, "<section id=\"{}\"><h2>{}</h2><dl class=\"facts\">", escape(&id), escape(heading));
        for (key, value) in facts {
            let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(key), escape(value));
        }
        let _ = writeln!(page, "</dl></section>");
    }
    controls(page, report);
    rules(page, report);
    more(page);
    let _ = writeln!(page, "</main>");
}

/// `<!DOCTYPE html>` to `</head>`: the policy that keeps the file from loading anything.
pub fn head(page: &mut String, title: &str) {
    let _ = writeln!(page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">");
    let _ = writeln!(
        page,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
    );
    let _ = writeln!(page, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = writeln!(page, "<link rel=\"icon\" href=\"data:,\">");
    let _ = writeln!(page, "<title>{}</title>\n<style>{STYLE}</style>\n</head>", escape(title));
}

/// The page's title: the decision, the model and the environment.
pub fn title(report: &Report) -> String {
    let decision = report.decision.as_str().to_uppercase();
    match &report.model {
        Some(model) => {
            let environment = report.environment.as_deref().map(|e| format!(" → {e}")).unwrap_or_default();
            format!("modelgate {decision}: {} {}{environment}", model.name, model.version)
        }
        None => format!("modelgate {decision}"),
    }
}

fn verdict_header(page: &mut String, report: &Report) {
    let class = report.decision.as_str();
    let decision = report.decision.as_str().to_uppercase();
    let _ = writeln!(page, "<header class=\"verdict {class}\">");
    let subject = report
        .model
        .as_ref()
        .map(|model| format!(" {} {}", escape(&model.name), escape(&model.version)))
        .unwrap_or_default();
    let _ = writeln!(page, "<h1><span class=\"badge {class}\">{decision}</span>{subject}</h1>");
    let mut facts = Vec::new();
    if let Some(model) = &report.model {
        facts.push(format!("risk tier {}", escape(&model.risk_tier)));
    }
    if let Some(environment) = &report.environment {
        facts.push(format!("environment {}", escape(environment)));
    }
    if let Some(owner) = report.model.as_ref().and_then(|model| model.owner.as_ref()) {
        facts.push(format!("owner {}", escape(owner)));
    }
    facts.push(escape(&report.timestamp));
    let _ = writeln!(page, "<p>{}</p>", facts.join(" · "));
    let _ = writeln!(page, "</header>");
}

fn summary(page: &mut String, report: &Report) {
    let _ = writeln!(page, "<section id=\"summary\"><h2>Decision</h2><dl class=\"facts\">");
    let mut fact = |key: &str, value: String| {
        let _ = writeln!(page, "<dt>{key}</dt><dd>{value}</dd>");
    };
    fact("decision", format!("<span class=\"badge {0}\">{0}</span>", report.decision.as_str()));
    fact("decision id", format!("<code>{}</code>", escape(&report.decision_id)));
    if let Some(policy) = &report.policy {
        let revision = match (&policy.revision, policy.dirty) {
            (Some(revision), Some(true)) => format!(" @ <code>{}</code> (uncommitted changes)", escape(revision)),
            (Some(revision), _) => format!(" @ <code>{}</code>", escape(revision)),
            _ => String::new(),
        };
        fact(
            "policies",
            format!(
                "{} <code>{}</code>{revision}, {} files",
                escape(&policy.path),
                escape(&policy.digest),
                policy.files
            ),
        );
    }
    if let Some(digest) = &report.evidence_digest {
        let source = report.evidence_source.as_deref().map(|source| format!(" from {}", escape(source)));
        fact("evidence", format!("<code>{}</code>{}", escape(digest), source.unwrap_or_default()));
    }
    if let Some(audit) = &report.audit {
        fact("recorded", format!("{} entry {} <code>{}</code>", escape(&audit.store), audit.seq, escape(&audit.hash)));
    }
    if !report.violations.is_empty() {
        let links: Vec<String> = group(&report.violations)
            .iter()
            .map(|(category, findings)| {
                format!("<a href=\"#category-{0}\">{0}</a> {1}", escape(category), findings.len())
            })
            .collect();
        fact("violations", links.join(" · "));
    }
    let count = |status| report.rules.iter().filter(|rule| rule.status == status).count();
    if !report.rules.is_empty() {
        fact(
            "rules",
            format!(
                "{} checked: {} passed, {} failed, {} warned, {} waived",
                report.rules.len(),
                count(RuleStatus::Pass),
                count(RuleStatus::Fail),
                count(RuleStatus::Warn),
                count(RuleStatus::Waived)
            ),
        );
    }
    let _ = writeln!(page, "</dl></section>");
}

fn findings(page: &mut String, report: &Report) {
    if !report.violations.is_empty() {
        let count = plural(report.violations.len(), "violation");
        let verb = if report.decision == Decision::Deny { "block this deployment" } else { "found" };
        let _ = writeln!(page, "<section id=\"violations\"><h2>{count} {verb}</h2>");
        for (category, findings) in group(&report.violations) {
            let _ = writeln!(
                page,
                "<h3 id=\"category-{0}\">{0} <span class=\"muted\">({1})</span></h3>",
                escape(category),
                findings.len()
            );
            for finding in findings {
                finding_block(page, finding, "violation");
            }
        }
        let _ = writeln!(page, "</section>");
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(page, "<section id=\"warnings\"><h2>{}</h2>", plural(report.warnings.len(), "warning"));
        for (_, findings) in group(&report.warnings) {
            for finding in findings {
                finding_block(page, finding, "warning");
            }
        }
        let _ = writeln!(page, "</section>");
    }
    if !report.exceptions.is_empty() {
        let _ = writeln!(
            page,
            "<section id=\"exceptions\"><h2>{} applied</h2><table><thead><tr><th>code</th><th>finding</th><th>reason</th><th>approved by</th><th>expires</th></tr></thead><tbody>",
            plural(report.exceptions.len(), "exception")
        );
        for finding in &report.exceptions {
            if let Some(exception) = &finding.exception {
                let _ = writeln!(
                    page,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&finding.code),
                    escape(&finding.msg),
                    escape(&exception.reason),
                    escape(&exception.approved_by),
                    escape(&exception.expires)
                );
            }
        }
        let _ = writeln!(page, "</tbody></table></section>");
    }
}

/// One finding: what, how much against what (and where that is set), and the fix.
pub fn finding_block(page: &mut String, finding: &Finding, class: &str) {
    let upcoming = match (&finding.effective_on, finding.upcoming) {
        (Some(date), true) => format!(" <span class=\"muted\">(upcoming: blocks from {})</span>", escape(date)),
        _ => String::new(),
    };
    let _ = writeln!(
        page,
        "<article class=\"finding {class}\" data-code=\"{}\"><h4><span class=\"sev {1}\">{1}</span> <code>{2}</code>{upcoming}</h4>",
        escape(&finding.code),
        finding.severity.as_str(),
        escape(&finding.code)
    );
    let _ = writeln!(page, "<p>{}</p><dl class=\"facts\">", escape(&finding.msg));
    if let Some(measured) = finding.measured() {
        let _ = writeln!(page, "<dt>measured</dt><dd>{}</dd>", escape(&display_value(measured)));
    }
    if let Some(threshold) = finding.threshold() {
        let source = finding
            .threshold_source()
            .map(|source| format!(" <span class=\"muted\">({})</span>", escape(source)))
            .unwrap_or_default();
        let _ = writeln!(page, "<dt>threshold</dt><dd>{}{source}</dd>", escape(&display_value(threshold)));
    }
    for (key, value) in &finding.details {
        if !["measured", "threshold", "threshold_source"].contains(&key.as_str()) {
            let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(key), escape(&display_value(value)));
        }
    }
    let _ = writeln!(
        page,
        "<dt>policy</dt><dd><code>{}</code> {}</dd></dl>",
        escape(&finding.policy.package),
        escape(&finding.policy.rule)
    );
    if let Some(remediation) = &finding.remediation {
        let _ = writeln!(page, "<p class=\"fix\"><strong>Fix:</strong> {}</p>", escape(remediation));
    }
    let _ = writeln!(page, "</article>");
}

fn evidence_charts(page: &mut String, evidence: &Evidence) {
    let fairness = evidence.evaluation.as_ref().and_then(|evaluation| evaluation.fairness.as_ref());
    if let Some(fairness) = fairness.filter(|fairness| !fairness.is_empty()) {
        let _ = writeln!(page, "<section id=\"fairness\"><h2>Fairness per group</h2>");
        for (key, attribute) in fairness {
            fairness_chart(page, key, attribute);
        }
        let _ = writeln!(page, "</section>");
    }
    if let Some(drift) = evidence.data.as_ref().and_then(|data| data.drift.as_ref()) {
        let _ = writeln!(page, "<section id=\"drift\"><h2>Drift per feature</h2>");
        drift_chart(page, drift);
        let _ = writeln!(page, "</section>");
    }
}

/// Per-group rates of one sensitive attribute as horizontal bars on a 0–1 axis, with the
/// attribute's aggregates below.
pub fn fairness_chart(page: &mut String, key: &str, attribute: &FairnessAttribute) {
    let series: Vec<&(&str, &str, &str)> = SERIES
        .iter()
        .filter(|(metric, _, _)| attribute.groups.values().any(|group| group.metrics.contains_key(*metric)))
        .collect();
    let label_width = 170.0;
    let plot = 420.0;
    let bar = 11.0;
    let row = bar * series.len() as f64 + 10.0;
    let height = 24.0 + row * attribute.groups.len() as f64 + 20.0;
    let _ = writeln!(page, "<figure><h3>{}</h3>", escape(key));
    let _ = writeln!(
        page,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"rates per group of {}\">",
        escape(key),
        w = label_width + plot + 60.0
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let x = label_width + plot * tick;
        let _ = writeln!(
            page,
            "<line x1=\"{x}\" y1=\"16\" x2=\"{x}\" y2=\"{}\" stroke=\"#d0d7de\"/><text x=\"{x}\" y=\"12\" text-anchor=\"middle\">{tick}</text>",
            height - 20.0
        );
    }
    for (index, (group, stats)) in attribute.groups.iter().enumerate() {
        let top = 22.0 + row * index as f64;
        let _ = writeln!(
            page,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{} (n={})</text>",
            label_width - 8.0,
            top + row / 2.0,
            escape(group),
            stats.count
        );
        for (position, (metric, _, colour)) in series.iter().enumerate() {
            let y = top + bar * position as f64;
            match stats.metrics.get(*metric).copied().flatten() {
                Some(value) => {
                    let _ = writeln!(
                        page,
                        "<rect x=\"{label_width}\" y=\"{y}\" width=\"{:.1}\" height=\"{}\" fill=\"{colour}\"><title>{} {}: {}</title></rect><text x=\"{:.1}\" y=\"{}\">{}</text>",
                        plot * value.clamp(0.0, 1.0),
                        bar - 2.0,
                        escape(group),
                        metric,
                        number(value),
                        label_width + plot * value.clamp(0.0, 1.0) + 4.0,
                        y + bar - 3.0,
                        number(value)
                    );
                }
                None => {
                    let _ = writeln!(
                        page,
                        "<text x=\"{}\" y=\"{}\" class=\"muted\">{metric} undefined</text>",
                        label_width + 4.0,
                        y + bar - 3.0
                    );
                }
            }
        }
    }
    let mut x = label_width;
    for (_, name, colour) in &series {
        let _ = writeln!(
            page,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\">{name}</text>",
            height - 14.0,
            x + 14.0,
            height - 5.0
        );
        x += 150.0;
    }
    let _ = writeln!(page, "</svg>");
    let aggregates = [
        ("demographic parity difference", attribute.demographic_parity_difference),
        ("demographic parity ratio", attribute.demographic_parity_ratio),
        ("equalized odds difference", attribute.equalized_odds_difference),
        ("equalized odds ratio", attribute.equalized_odds_ratio),
        ("equal opportunity difference", attribute.equal_opportunity_difference),
    ];
    let shown: Vec<String> =
        aggregates.iter().filter_map(|(name, value)| value.map(|value| format!("{name} {}", number(value)))).collect();
    let _ = writeln!(page, "<figcaption>{}</figcaption></figure>", escape(&shown.join(" · ")));
}

/// Each feature's drift score against the threshold its method used (a tick), drifted
/// features in red; p-values on a 0–1 axis, distances on one axis shared by every
/// distance-measured feature (to the largest score or threshold).
pub fn drift_chart(page: &mut String, drift: &Drift) {
    let drifted = match drift.drifted_count {
        Some(count) => format!("{count} of {} features drifted", drift.features.len()),
        None => format!("{} features", drift.features.len()),
    };
    let _ = writeln!(
        page,
        "<p>{drifted} (drifted share {}); reference {} rows, current {} rows.</p>",
        number(drift.drifted_share),
        drift.reference_rows,
        drift.current_rows
    );
    let _ = writeln!(
        page,
        "<table><thead><tr><th>feature</th><th>method</th><th class=\"num\">score</th><th class=\"num\">threshold</th><th>drifted</th><th>score against threshold</th></tr></thead><tbody>"
    );
    let is_p_value = |feature: &crate::evidence::FeatureDrift| {
        feature.rule.as_deref().is_some_and(|rule| rule.starts_with("p_value"))
    };
    let distance_axis = drift
        .features
        .values()
        .filter(|feature| !is_p_value(feature))
        .map(|feature| feature.score.max(feature.threshold))
        .filter(|value| value.is_finite())
        .fold(f64::MIN_POSITIVE, f64::max)
        * 1.1;
    for (name, feature) in &drift.features {
        let axis = if is_p_value(feature) { 1.0 } else { distance_axis };
        let width = 240.0;
        let colour = if feature.drifted { "#cf222e" } else { "#1a7f37" };
        let score_x = width * (feature.score / axis).clamp(0.0, 1.0);
        let threshold_x = width * (feature.threshold / axis).clamp(0.0, 1.0);
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"14\" role=\"img\" aria-label=\"{} score {} against threshold {}\"><rect x=\"0\" y=\"2\" width=\"{score_x:.1}\" height=\"10\" fill=\"{colour}\"/><line x1=\"{threshold_x:.1}\" y1=\"0\" x2=\"{threshold_x:.1}\" y2=\"14\" stroke=\"#1f2328\" stroke-width=\"2\"/></svg></td></tr>",
            escape(name),
            escape(&feature.method),
            number(feature.score),
            number(feature.threshold),
            if feature.drifted { "<span class=\"badge deny\">drifted</span>" } else { "no" },
            escape(name),
            number(feature.score),
            number(feature.threshold)
        );
    }
    let _ = writeln!(page, "</tbody></table>");
}

/// The rules grouped by the regulatory controls they support, one table per framework.
fn controls(page: &mut String, report: &Report) {
    let mut frameworks: std::collections::BTreeMap<&str, Vec<(&str, Vec<&super::RuleOutcome>)>> = Default::default();
    for rule in &report.rules {
        for control in &rule.controls {
            let Some((framework, id)) = control.split_once(':') else { continue };
            let controls = frameworks.entry(framework).or_default();
            match controls.iter_mut().find(|(known, _)| *known == id) {
                Some((_, rules)) => rules.push(rule),
                None => controls.push((id, vec![rule])),
            }
        }
    }
    if frameworks.is_empty() {
        return;
    }
    let _ = writeln!(page, "<section id=\"controls\"><h2>Rules by regulatory control</h2>");
    for (framework, controls) in frameworks {
        let _ = writeln!(
            page,
            "<details><summary>{} ({} controls)</summary><table><thead><tr><th>control</th><th>rules and outcomes</th></tr></thead><tbody>",
            escape(framework),
            controls.len()
        );
        for (id, rules) in controls {
            let outcomes: Vec<String> = rules
                .iter()
                .map(|rule| {
                    format!(
                        "<span class=\"badge {0}\">{0}</span> <code>{1}</code>",
                        rule.status.as_str(),
                        escape(&rule.code)
                    )
                })
                .collect();
            let _ = writeln!(page, "<tr><td>{}</td><td>{}</td></tr>", escape(id), outcomes.join("<br>"));
        }
        let _ = writeln!(page, "</tbody></table></details>");
    }
    let _ = writeln!(page, "</section>");
}

fn rules(page: &mut String, report: &Report) {
    if report.rules.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<section id=\"rules\"><h2>Rules</h2><details><summary>All {} rules checked</summary><table><thead><tr><th>rule</th><th>title</th><th>severity</th><th>outcome</th></tr></thead><tbody>",
        report.rules.len()
    );
    for rule in &report.rules {
        let status = rule.status.as_str();
        let _ = writeln!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td><td><span class=\"sev {2}\">{2}</span></td><td><span class=\"badge {status}\">{status}</span></td></tr>",
            escape(&rule.code),
            escape(rule.title.as_deref().unwrap_or("")),
            rule.severity.as_str()
        );
    }
    let _ = writeln!(page, "</tbody></table></details></section>");
}

/// Text made safe for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn number(value: f64) -> String {
    display_value(&serde_json::json!(value))
}
