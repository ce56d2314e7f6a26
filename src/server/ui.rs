//! The dashboard under `/ui`: server-rendered HTML pages over the audit store, without
//! script (charts are inline SVG), read-only.
//!
//! An `auditor` or `governance` token opens a session (`POST /ui/login`): the browser gets
//! an HttpOnly, SameSite=Strict cookie holding a random session id; the server keeps the
//! id's SHA-256 and the token's hash, and checks the token again (revoked, expired) on
//! every page. A bearer token works too. Nothing a page offers changes state, so there is
//! nothing for another site to forge.
//!
//! The pages ([`fleet`], [`model`], [`decision`], [`bundles`], [`audit`]) are functions of
//! the store and write HTML; `api` routes them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::auth::{self, Caller, Role};
use super::ApiError;
use crate::audit::{self, checkpoint, lifecycle, record, EntryKind, Filter, Record, Store};
use crate::decision::{display_value, Finding};
use crate::report::html::{self, escape};

/// The session cookie.
pub const COOKIE: &str = "modelgate_session";
/// How long a session lasts.
pub const SESSION: Duration = Duration::from_secs(8 * 3600);
/// The roles that may open the dashboard.
pub const ROLES: &[Role] = &[Role::Auditor, Role::Governance];
/// The most rows the fleet page shows.
const FLEET_ROWS: usize = 500;

/// Open sessions: SHA-256 of the session id → the token's hash and when it ends.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, (String, Instant)>>,
}

impl Sessions {
    /// Opens a session for the token whose hash is `token_hash`; returns the cookie value.
    pub fn open(&self, token_hash: &str) -> String {
        use rand_core::RngCore;
        let mut bytes = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        open.retain(|_, (_, ends)| *ends > now);
        open.insert(audit::sha256(id.as_bytes()), (token_hash.to_string(), now + SESSION));
        id
    }

    /// The token hash of an open session.
    pub fn token_hash(&self, id: &str) -> Option<String> {
        let open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.get(&audit::sha256(id.as_bytes())).filter(|(_, ends)| *ends > Instant::now()).map(|(hash, _)| hash.clone())
    }

    pub fn close(&self, id: &str) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.remove(&audit::sha256(id.as_bytes()));
    }
}

/// The session id in a `Cookie` header.
pub fn session_id(cookie_header: Option<&str>) -> Option<String> {
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The caller of a session: the token is checked again (revoked, expired).
pub fn session_caller(
    store: &dyn Store,
    sessions: &Sessions,
    id: &str,
) -> crate::error::Result<std::result::Result<Caller, auth::Refusal>> {
    match sessions.token_hash(id) {
        Some(hash) => auth::authenticate_hash(store, &hash),
        None => Ok(Err(auth::Refusal::Unauthorized("the session ended: log in again".into()))),
    }
}

// ------------------------------------------------------------------ page frame

/// The navigation and the page around `content`.
pub fn page(title: &str, current: &str, caller: Option<&Caller>, content: &str) -> String {
    let mut page = String::with_capacity(content.len() + 8 * 1024);
    html::head(&mut page, title);
    let _ = writeln!(page, "<body>\n<nav class=\"site\">");
    for (href, name) in [("/ui/fleet", "Fleet"), ("/ui/bundles", "Bundles"), ("/ui/audit", "Audit")] {
        let class = if name == current { " class=\"current\"" } else { "" };
        let _ = writeln!(page, "<a href=\"{href}\"{class}>{name}</a>");
    }
    if let Some(caller) = caller {
        let _ = writeln!(
            page,
            "<span style=\"color:#d0d7de\">{} ({})</span> <form method=\"post\" action=\"/ui/logout\" style=\"display:inline\"><button type=\"submit\">Log out</button></form>",
            escape(&caller.token.name),
            caller.role.as_str()
        );
    }
    let _ = writeln!(page, "</nav>");
    page.push_str(content);
    let _ = writeln!(page, "</body>\n</html>");
    page
}

/// The login form, with a message when a login failed.
pub fn login_page(message: Option<&str>) -> String {
    let mut content = String::new();
    let _ = writeln!(content, "<main><h1>modelgate</h1><p>Sign in with an auditor or governance token.</p>");
    if let Some(message) = message {
        let _ = writeln!(content, "<p class=\"fix\" id=\"login-error\">{}</p>", escape(message));
    }
    let _ = writeln!(
        content,
        "<form method=\"post\" action=\"/ui/login\" class=\"filter\"><label>Token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" size=\"60\" required></label><button type=\"submit\" id=\"login\">Sign in</button></form></main>"
    );
    page("modelgate: sign in", "", None, &content)
}

// ------------------------------------------------------------------ fleet

/// The fleet page's filter (its query string).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FleetFilter {
    pub owner: Option<String>,
    pub environment: Option<String>,
    pub state: Option<String>,
    pub category: Option<String>,
}

/// Where a deployed model stands under the policies judged last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Compliant,
    /// Not compliant since the bundle (digest) of the first failing re-evaluation.
    NonCompliant {
        since_bundle: Option<String>,
        since: String,
    },
    /// Compliant, with denies that take effect on a date (warnings until then).
    Grace {
        until: String,
    },
    /// Compliant because violations are waived.
    Waived,
    Error,
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Compliant => "compliant",
            State::NonCompliant { .. } => "non-compliant",
            State::Grace { .. } => "grace",
            State::Waived => "waived",
            State::Error => "error",
        }
    }
}

/// One deployed model in one environment.
#[derive(Debug, Clone)]
pub struct FleetRow {
    pub model: String,
    pub version: String,
    pub environment: String,
    pub owner: Option<String>,
    pub state: State,
    pub deployed_at: String,
    /// The last judgement: the deploying decision or the latest re-evaluation.
    pub judgement_id: String,
    pub judgement: String,
    pub judged_at: String,
    pub categories: BTreeSet<String>,
    pub active_bundle: Option<String>,
}

/// Every model deployed now (in `environment`), with its state.
pub fn fleet_rows(store: &dyn Store, environment: Option<&str>) -> crate::error::Result<Vec<FleetRow>> {
    let mut rows = Vec::new();
    let mut active: BTreeMap<String, Option<String>> = BTreeMap::new();
    store.each_deployment_at(None, environment, None, &mut |deployment| {
        let entry = &deployment.entry;
        let environment = entry.environment.clone().unwrap_or_default();
        let Some(original) = store.get(entry.detail_str("decision_id").unwrap_or_default())? else {
            // A deployment whose decision is not in the store is shown, as an error: a
            // model must not drop out of the fleet because its record is broken.
            rows.push(FleetRow {
                model: entry.model.clone(),
                version: entry.version.clone(),
                environment,
                owner: None,
                state: State::Error,
                deployed_at: entry.time.clone(),
                judgement_id: String::new(),
                judgement: "missing decision".to_string(),
                judged_at: entry.time.clone(),
                categories: BTreeSet::new(),
                active_bundle: None,
            });
            return Ok(());
        };
        // The re-evaluations of this deployment, newest first: the latest is the state; a
        // run of failing ones says since when.
        let mut judgements: Vec<Record> = Vec::new();
        let filter = Filter {
            kinds: vec![EntryKind::Reevaluation],
            model: Some(entry.model.clone()),
            environment: entry.environment.clone(),
            since: Some(entry.time.clone()),
            newest_first: true,
            ..Filter::default()
        };
        store.scan(&filter, &mut |record| {
            if record.entry.detail_str("deployment_id") != Some(entry.id.as_str()) {
                return Ok(true);
            }
            let complies = complies(&record);
            judgements.push(record);
            Ok(!complies && judgements.len() < 100)
        })?;
        let latest = judgements.first().unwrap_or(&original);
        let state = if latest.entry.decision.as_deref() == Some("error") {
            State::Error
        } else if !complies(latest) {
            let first = judgements.iter().rev().find(|record| !complies(record)).unwrap_or(latest);
            State::NonCompliant { since_bundle: first.entry.bundle_digest.clone(), since: first.entry.time.clone() }
        } else if !record::codes(&latest.entry, "exceptions").is_empty() {
            State::Waived
        } else if !record::codes(&latest.entry, "warnings").is_empty() {
            let findings = record::stored_findings(store, &latest.entry)?;
            let upcoming = findings
                .get("warnings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|finding| finding.get("upcoming") == Some(&Value::Bool(true)))
                .filter_map(|finding| finding.get("effective_on").and_then(Value::as_str))
                .min()
                .map(str::to_string);
            match upcoming {
                Some(until) => State::Grace { until },
                None => State::Compliant,
            }
        } else {
            State::Compliant
        };
        if !active.contains_key(&environment) {
            let bundle = super::service::active_entry(store, &environment)?.and_then(|entry| entry.bundle_digest);
            active.insert(environment.clone(), bundle);
        }
        rows.push(FleetRow {
            model: entry.model.clone(),
            version: entry.version.clone(),
            environment: environment.clone(),
            owner: original.entry.detail_str("owner").map(str::to_string),
            state,
            deployed_at: entry.time.clone(),
            judgement_id: latest.entry.id.clone(),
            judgement: latest.entry.decision.clone().unwrap_or_default(),
            judged_at: latest.entry.time.clone(),
            categories: record::codes(&latest.entry, "violations")
                .iter()
                .filter_map(|code| code.split('/').next())
                .map(str::to_string)
                .collect(),
            active_bundle: active.get(&environment).cloned().flatten(),
        });
        Ok(())
    })?;
    Ok(rows)
}

/// A judgement complies when it allowed, or a re-evaluation says so.
fn complies(record: &Record) -> bool {
    match record.entry.detail("status").filter(|status| !status.is_null()) {
        Some(status) => {
            serde_json::from_value::<lifecycle::Status>(status.clone()).is_ok_and(lifecycle::Status::complies)
        }
        None => record.entry.decision.as_deref() == Some("allow"),
    }
}

pub fn fleet(store: &dyn Store, filter: &FleetFilter) -> crate::error::Result<String> {
    let environment = filter.environment.as_deref().filter(|value| !value.is_empty());
    if let Some(environment) = environment {
        audit::check_environment(store, environment)?;
    }
    let all = fleet_rows(store, environment)?;
    fn wanted(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|value| !value.is_empty())
    }
    let rows: Vec<&FleetRow> = all
        .iter()
        .filter(|row| wanted(&filter.owner).is_none_or(|owner| row.owner.as_deref() == Some(owner)))
        .filter(|row| wanted(&filter.state).is_none_or(|state| row.state.name() == state))
        .filter(|row| wanted(&filter.category).is_none_or(|category| row.categories.contains(category)))
        .collect();
    let mut content = String::new();
    let _ = writeln!(content, "<main><h1>Fleet</h1>");
    let count = |state: &str| all.iter().filter(|row| row.state.name() == state).count();
    let _ = writeln!(
        content,
        "<p>{} deployed: <span class=\"badge compliant\">{} compliant</span> <span class=\"badge non-compliant\">{} non-compliant</span> <span class=\"badge grace\">{} in a grace period</span> <span class=\"badge waived\">{} waived</span> <span class=\"badge error\">{} error</span></p>",
        all.len(),
        count("compliant"),
        count("non-compliant"),
        count("grace"),
        count("waived"),
        count("error")
    );
    // The filter: a GET form, so a filtered view is a link to share.
    let owners: BTreeSet<&str> = all.iter().filter_map(|row| row.owner.as_deref()).collect();
    let environments = store.environments()?;
    let categories: BTreeSet<&str> = all.iter().flat_map(|row| row.categories.iter().map(String::as_str)).collect();
    let _ = writeln!(content, "<form method=\"get\" action=\"/ui/fleet\" class=\"filter\" id=\"fleet-filter\">");
    select(&mut content, "owner", "owner", owners.iter().copied(), filter.owner.as_deref());
    select(&mut content, "environment", "environment", environments.iter().map(String::as_str), environment);
    select(
        &mut content,
        "state",
        "state",
        ["compliant", "non-compliant", "grace", "waived", "error"].into_iter(),
        filter.state.as_deref(),
    );
    select(&mut content, "category", "category of violation", categories.iter().copied(), filter.category.as_deref());
    let _ = writeln!(
        content,
        "<button type=\"submit\" id=\"apply\">Filter</button> <a href=\"/ui/fleet\">clear</a></form>"
    );
    let _ = writeln!(
        content,
        "<table id=\"fleet\"><thead><tr><th>model</th><th>version</th><th>environment</th><th>owner</th><th>state</th><th>last decision</th><th>active bundle</th></tr></thead><tbody>"
    );
    for row in rows.iter().take(FLEET_ROWS) {
        let state = match &row.state {
            State::NonCompliant { since_bundle, since } => format!(
                "<span class=\"badge non-compliant\">non-compliant</span> since {} ({})",
                since_bundle.as_deref().map(short).unwrap_or_else(|| "its deployment".into()),
                escape(prefix(since, 10))
            ),
            State::Grace { until } => format!("<span class=\"badge grace\">grace</span> until {}", escape(until)),
            other => format!("<span class=\"badge {0}\">{0}</span>", other.name()),
        };
        let categories = if row.categories.is_empty() {
            String::new()
        } else {
            format!(
                " <span class=\"muted\">({})</span>",
                escape(&row.categories.iter().cloned().collect::<Vec<_>>().join(", "))
            )
        };
        let _ = writeln!(
            content,
            "<tr class=\"state-{}\"><td><a href=\"/ui/models/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{state}{categories}</td><td>{} <span class=\"muted\">{}</span></td><td>{}</td></tr>",
            row.state.name(),
            url_part(&row.model),
            escape(&row.model),
            escape(&row.version),
            escape(&row.environment),
            escape(row.owner.as_deref().unwrap_or("-")),
            if row.judgement_id.is_empty() {
                escape(&row.judgement)
            } else {
                format!(
                    "<a href=\"/ui/decisions/{}\" class=\"judgement\">{}</a>",
                    url_part(&row.judgement_id),
                    escape(&row.judgement)
                )
            },
            escape(prefix(&row.judged_at, 19)),
            row.active_bundle.as_deref().map(short).unwrap_or_else(|| "-".into())
        );
    }
    let _ = writeln!(content, "</tbody></table>");
    if rows.len() > FLEET_ROWS {
        let _ = writeln!(content, "<p class=\"muted\">{} more: narrow the filter.</p>", rows.len() - FLEET_ROWS);
    }
    if rows.is_empty() {
        let _ = writeln!(content, "<p class=\"muted\" id=\"empty\">No deployed model matches.</p>");
    }
    let _ = writeln!(content, "</main>");
    Ok(content)
}

fn select<'a>(
    content: &mut String,
    name: &str,
    label: &str,
    options: impl Iterator<Item = &'a str>,
    chosen: Option<&str>,
) {
    let _ =
        write!(content, "<label>{label} <select name=\"{name}\" id=\"filter-{name}\"><option value=\"\">all</option>");
    for option in options {
        let selected = if Some(option) == chosen { " selected" } else { "" };
        let _ = write!(content, "<option value=\"{0}\"{selected}>{0}</option>", escape(option));
    }
    let _ = writeln!(content, "</select></label>");
}

// ------------------------------------------------------------------ model

/// A model: its versions and decisions over time, the metric trend across them, and the
/// latest judgement's violations and charts.
pub fn model(store: &dyn Store, name: &str) -> crate::error::Result<Option<String>> {
    let mut judgements = Vec::new();
    let filter = Filter {
        kinds: vec![EntryKind::Decision, EntryKind::Reevaluation],
        model: Some(name.to_string()),
        newest_first: true,
        limit: Some(100),
        ..Filter::default()
    };
    store.scan(&filter, &mut |record| {
        judgements.push(record);
        Ok(true)
    })?;
    let Some(latest) = judgements.first() else { return Ok(None) };
    let mut content = String::new();
    let _ = writeln!(content, "<main><h1>{}</h1>", escape(name));
    if let Some(owner) = latest.entry.detail_str("owner") {
        let _ = writeln!(content, "<p>owner {}</p>", escape(owner));
    }
    // The trend: the overall metrics of each decision's evidence, oldest first (up to 20).
    let decisions: Vec<&Record> =
        judgements.iter().filter(|record| record.entry.kind == EntryKind::Decision).take(20).collect();
    let mut series: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    let mut parity: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for record in decisions.iter().rev() {
        if record.entry.evidence_digest.is_none() {
            continue;
        }
        let evidence = record::stored_evidence(store, &record.entry)?;
        let label = format!("{} {}", record.entry.version, prefix(&record.entry.time, 10));
        for (metric, value) in evidence.evaluation.iter().flat_map(|evaluation| evaluation.metrics.iter()) {
            if let Some(value) = value.filter(|value| (0.0..=1.0).contains(value)) {
                series.entry(metric.clone()).or_default().push((label.clone(), value));
            }
        }
        let fairness = evidence.evaluation.iter().flat_map(|evaluation| evaluation.fairness.iter().flatten());
        for (attribute, figures) in fairness {
            if let Some(value) = figures.demographic_parity_difference.filter(|value| value.is_finite()) {
                parity.entry(attribute.clone()).or_default().push((label.clone(), value));
            }
        }
    }
    let findings = record::stored_findings(store, &latest.entry)?;
    if !series.is_empty() {
        let _ = writeln!(content, "<section id=\"trend\"><h2>Metrics across decisions</h2>");
        trend_chart(&mut content, &series, 1.0, None, "metrics across decisions");
        if !parity.is_empty() {
            // The threshold the latest judgement applied, where a finding names it.
            let threshold = ["violations", "warnings"]
                .iter()
                .flat_map(|list| findings.get(*list).and_then(Value::as_array).into_iter().flatten())
                .filter(|finding| {
                    finding.get("code").and_then(Value::as_str) == Some("fairness/demographic-parity-difference")
                })
                .find_map(|finding| {
                    let details = finding.get("details")?;
                    let value = details.get("threshold")?.as_f64()?;
                    let source = details.get("threshold_source").and_then(Value::as_str).unwrap_or("the policies");
                    Some((value, format!("maximum {} ({source})", display_value(&serde_json::json!(value)))))
                });
            let highest = parity.values().flatten().map(|(_, value)| *value).fold(0.0, f64::max);
            let axis = highest.max(threshold.as_ref().map_or(0.0, |(value, _)| *value)).max(0.01) * 1.25;
            let _ = writeln!(content, "<h3>Demographic parity difference per sensitive attribute</h3>");
            trend_chart(
                &mut content,
                &parity,
                axis,
                threshold.as_ref(),
                "demographic parity difference across decisions",
            );
        }
        let _ = writeln!(content, "</section>");
    }
    let violations: Vec<Finding> =
        serde_json::from_value(findings.get("violations").cloned().unwrap_or(Value::Array(Vec::new())))
            .unwrap_or_default();
    let _ = writeln!(
        content,
        "<section id=\"latest\"><h2>Latest judgement: <a href=\"/ui/decisions/{}\">{} {}</a> <span class=\"badge {}\">{}</span></h2>",
        url_part(&latest.entry.id),
        escape(latest.entry.kind.as_str()),
        escape(&latest.entry.time),
        escape(latest.entry.decision.as_deref().unwrap_or("error")),
        escape(latest.entry.decision.as_deref().unwrap_or("error"))
    );
    if violations.is_empty() {
        let _ = writeln!(content, "<p>No violations.</p>");
    }
    for (category, group) in crate::decision::group(&violations) {
        let _ = writeln!(content, "<h3>{}</h3>", escape(category));
        for finding in group {
            html::finding_block(&mut content, finding, "violation");
        }
    }
    if latest.entry.evidence_digest.is_some() {
        let evidence = record::stored_evidence(store, &latest.entry)?;
        if let Some(fairness) = evidence.evaluation.as_ref().and_then(|evaluation| evaluation.fairness.as_ref()) {
            let _ = writeln!(content, "<h3>Fairness per group</h3>");
            for (key, attribute) in fairness {
                html::fairness_chart(&mut content, key, attribute);
            }
        }
        if let Some(drift) = evidence.data.as_ref().and_then(|data| data.drift.as_ref()) {
            let _ = writeln!(content, "<h3>Drift per feature</h3>");
            html::drift_chart(&mut content, drift);
        }
    }
    let _ = writeln!(content, "</section>");
    let _ = writeln!(
        content,
        "<section id=\"history\"><h2>Decisions and re-evaluations</h2><table><thead><tr><th>time</th><th>kind</th><th>version</th><th>environment</th><th>decision</th><th>violations</th><th>bundle</th></tr></thead><tbody>"
    );
    for record in &judgements {
        let entry = &record.entry;
        let decision = escape(entry.decision.as_deref().unwrap_or("error"));
        let _ = writeln!(
            content,
            "<tr><td><a href=\"/ui/decisions/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td><span class=\"badge {decision}\">{decision}</span></td><td class=\"num\">{}</td><td>{}</td></tr>",
            url_part(&entry.id),
            escape(prefix(&entry.time, 19)),
            entry.kind.as_str(),
            escape(&entry.version),
            escape(entry.environment.as_deref().unwrap_or("-")),
            record::count(entry, "violations"),
            entry.bundle_digest.as_deref().map(short).unwrap_or_default()
        );
    }
    let _ = writeln!(content, "</tbody></table></section></main>");
    Ok(Some(content))
}

/// One line per series across the decisions, on a 0–`axis` axis, with the threshold drawn
/// as a dashed line when one is known.
fn trend_chart(
    content: &mut String,
    series: &BTreeMap<String, Vec<(String, f64)>>,
    axis: f64,
    threshold: Option<&(f64, String)>,
    label: &str,
) {
    const COLOURS: &[&str] = &["#0969da", "#1a7f37", "#cf222e", "#8250df", "#9a6700", "#57606a", "#bf3989"];
    let labels: Vec<&String> = {
        let mut seen = Vec::new();
        for points in series.values() {
            for (label, _) in points {
                if !seen.contains(&label) {
                    seen.push(label);
                }
            }
        }
        seen
    };
    let (left, width, height) = (40.0, 640.0, 220.0);
    let step = if labels.len() > 1 { width / (labels.len() - 1) as f64 } else { 0.0 };
    let y = |value: f64| 10.0 + (1.0 - (value / axis).clamp(0.0, 1.0)) * (height - 20.0);
    let _ = writeln!(
        content,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
        left + width + 260.0,
        height + 40.0,
        escape(label)
    );
    for share in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let tick = axis * share;
        let _ = writeln!(
            content,
            "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#d0d7de\"/><text x=\"4\" y=\"{2}\">{3}</text>",
            y(tick),
            left + width,
            y(tick) + 4.0,
            display_value(&serde_json::json!((tick * 1000.0).round() / 1000.0))
        );
    }
    if let Some((value, text)) = threshold {
        let _ = writeln!(
            content,
            "<line x1=\"{left}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#cf222e\" stroke-dasharray=\"6 4\" stroke-width=\"2\"><title>{2}</title></line><text x=\"{3}\" y=\"{4:.1}\" fill=\"#cf222e\">{2}</text>",
            y(*value),
            left + width,
            escape(text),
            left + 4.0,
            y(*value) - 4.0
        );
    }
    for (index, label) in labels.iter().enumerate() {
        let _ = writeln!(
            content,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            left + step * index as f64,
            height + 14.0,
            escape(label.split(' ').next().unwrap_or(""))
        );
    }
    for (number, (metric, points)) in series.iter().enumerate() {
        let colour = COLOURS[number % COLOURS.len()];
        let coordinates: Vec<String> = points
            .iter()
            .filter_map(|(label, value)| {
                let index = labels.iter().position(|known| *known == label)?;
                Some(format!("{:.1},{:.1}", left + step * index as f64, y(*value)))
            })
            .collect();
        let _ = writeln!(
            content,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
            coordinates.join(" "),
            escape(metric)
        );
        for coordinate in &coordinates {
            let (x, y) = coordinate.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(content, "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{colour}\"/>");
        }
        let _ = writeln!(
            content,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            left + width + 20.0,
            10.0 + 16.0 * number as f64,
            left + width + 34.0,
            19.0 + 16.0 * number as f64,
            escape(metric)
        );
    }
    let _ = writeln!(
        content,
        "</svg><figcaption>{}, oldest left.</figcaption></figure>",
        escape(&{
            let mut caption = label.to_string();
            if let Some(first) = caption.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            caption
        })
    );
}

// ------------------------------------------------------------------ decision

/// A decision: the full report as it was made with its chain position, replay and policy
/// files' digests (as `audit show --format html` has them), then the artifact it attested,
/// the evidence sections and the bundle's files with line numbers.
pub fn decision(store: &dyn Store, id: &str) -> crate::error::Result<Option<(String, String)>> {
    let Some(record) = store.get(id)? else { return Ok(None) };
    let entry = &record.entry;
    if !matches!(entry.kind, EntryKind::Decision | EntryKind::Reevaluation) {
        return Ok(None);
    }
    let view = crate::run::audit::stored_decision_view(store, &record)?;
    let mut content = String::new();
    html::body_with(&mut content, &view.report, &view.options, |content| {
        let _ = writeln!(content, "<section id=\"attestation\"><h2>Attestation</h2>");
        match entry.detail("subject").filter(|subject| !subject.is_null()) {
            Some(subject) => {
                let _ = writeln!(
                    content,
                    "<p>The server signed this decision for the artifact {} <code>{}</code> (an in-toto statement in a DSSE envelope, handed to the pipeline; `modelgate attestation verify` checks it).</p>",
                    escape(subject.get("name").and_then(Value::as_str).unwrap_or("-")),
                    escape(subject.get("digest").and_then(Value::as_str).unwrap_or("-"))
                );
            }
            None => {
                let _ = writeln!(content, "<p class=\"muted\">No artifact was attested for this decision.</p>");
            }
        }
        let _ = writeln!(content, "</section>");
        if let Some(evidence) = view.options.evidence.as_deref() {
            let _ = writeln!(content, "<section id=\"evidence\"><h2>Evidence</h2>");
            let value = serde_json::to_value(evidence).unwrap_or(Value::Null);
            for (section, part) in value.as_object().into_iter().flatten() {
                let text = serde_json::to_string_pretty(part).unwrap_or_default();
                let _ = writeln!(
                    content,
                    "<details><summary>{}</summary><pre>{}</pre></details>",
                    escape(section),
                    escape(&text)
                );
            }
            let _ = writeln!(content, "</section>");
        }
        if let Some(files) = &view.files {
            let _ = writeln!(
                content,
                "<section id=\"bundle\"><h2>Policy bundle <code>{}</code></h2>",
                escape(entry.bundle_digest.as_deref().unwrap_or(""))
            );
            for file in files {
                let _ = writeln!(content, "<details><summary>{}</summary><pre>", escape(&file.path));
                for (number, line) in file.contents.lines().enumerate() {
                    let _ = writeln!(content, "<span class=\"muted\">{:>4}</span>  {}", number + 1, escape(line));
                }
                let _ = writeln!(content, "</pre></details>");
            }
            let _ = writeln!(content, "</section>");
        }
    });
    Ok(Some((html::title(&view.report), content)))
}

// ------------------------------------------------------------------ bundles

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BundlesQuery {
    /// Two bundle digests: the data.yaml diff between them.
    pub from: Option<String>,
    pub to: Option<String>,
}

pub fn bundles(store: &dyn Store, query: &BundlesQuery) -> std::result::Result<String, ApiError> {
    let listed = super::service::bundle_listing(store)?;
    let mut content = String::new();
    let _ = writeln!(content, "<main><h1>Bundles</h1><section id=\"active\"><h2>In force</h2><table><thead><tr><th>environment</th><th>bundle</th><th>revision</th><th>since</th><th>by</th></tr></thead><tbody>");
    for (environment, active) in listed["active"].as_object().into_iter().flatten() {
        let text = |key: &str| active.get(key).and_then(Value::as_str).unwrap_or("-").to_string();
        let _ = writeln!(
            content,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(environment),
            short(&text("digest")),
            escape(&text("revision")),
            escape(&text("activated_at")),
            escape(&text("activated_by"))
        );
    }
    let _ = writeln!(content, "</tbody></table></section>");
    // Activations, newest first, with the models each turned non-compliant.
    let _ = writeln!(content, "<section id=\"activations\"><h2>Activations</h2><table><thead><tr><th>time</th><th>environment</th><th>bundle</th><th>previous</th><th>by</th><th>turned non-compliant</th></tr></thead><tbody>");
    let mut activations = Vec::new();
    store.scan(
        &Filter { kinds: vec![EntryKind::Activate], newest_first: true, limit: Some(100), ..Filter::default() },
        &mut |record| {
            activations.push(record);
            Ok(true)
        },
    )?;
    for activation in &activations {
        let entry = &activation.entry;
        let mut turned = Vec::new();
        let filter = Filter {
            kinds: vec![EntryKind::Reevaluation],
            environment: entry.environment.clone(),
            since: Some(entry.time.clone()),
            limit: Some(10_000),
            ..Filter::default()
        };
        store.scan(&filter, &mut |record| {
            if record.entry.bundle_digest != entry.bundle_digest {
                return Ok(false);
            }
            let status = record.entry.detail("status").cloned().map(serde_json::from_value::<lifecycle::Status>);
            if matches!(status, Some(Ok(lifecycle::Status::NewlyNonCompliant))) {
                turned.push(format!(
                    "<a href=\"/ui/decisions/{}\">{} {}</a>",
                    url_part(&record.entry.id),
                    escape(&record.entry.model),
                    escape(&record.entry.version)
                ));
            }
            Ok(true)
        })?;
        let _ = writeln!(
            content,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(prefix(&entry.time, 19)),
            escape(entry.environment.as_deref().unwrap_or("-")),
            entry.bundle_digest.as_deref().map(short).unwrap_or_default(),
            entry.detail_str("previous").map(short).unwrap_or_else(|| "-".into()),
            escape(entry.requester.as_deref().unwrap_or("-")),
            if turned.is_empty() { "none".to_string() } else { turned.join(", ") }
        );
    }
    let _ = writeln!(content, "</tbody></table></section>");
    let _ = writeln!(
        content,
        "<section id=\"published\"><h2>Published</h2><form method=\"get\" action=\"/ui/bundles\" class=\"filter\">"
    );
    let digests: Vec<String> = listed["bundles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|bundle| bundle["digest"].as_str().map(str::to_string))
        .collect();
    for (name, chosen) in [("from", &query.from), ("to", &query.to)] {
        let _ = write!(content, "<label>{name} <select name=\"{name}\" id=\"diff-{name}\">");
        for digest in &digests {
            let selected = if chosen.as_deref() == Some(digest.as_str()) { " selected" } else { "" };
            let _ = write!(content, "<option value=\"{0}\"{selected}>{1}</option>", escape(digest), short(digest));
        }
        let _ = writeln!(content, "</select></label>");
    }
    let _ = writeln!(content, "<button type=\"submit\" id=\"diff\">Diff data.yaml</button></form><table><thead><tr><th>bundle</th><th>revision</th><th>published</th><th>by</th></tr></thead><tbody>");
    for bundle in listed["bundles"].as_array().into_iter().flatten() {
        let text = |key: &str| bundle.get(key).and_then(Value::as_str).unwrap_or("-").to_string();
        let _ = writeln!(
            content,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&text("digest")),
            escape(&text("revision")),
            escape(&text("published_at")),
            escape(&text("published_by"))
        );
    }
    let _ = writeln!(content, "</tbody></table></section>");
    if let (Some(from), Some(to)) = (&query.from, &query.to) {
        let data = |digest: &str| -> std::result::Result<String, ApiError> {
            let (_, files) = record::stored_bundle(store, digest)
                .map_err(|_| ApiError::not_found(format!("no bundle {digest}"), "pick published bundles"))?;
            Ok(files.into_iter().find(|file| file.path == "data.yaml").map(|file| file.contents).unwrap_or_default())
        };
        let (before, after) = (data(from)?, data(to)?);
        let _ = writeln!(content, "<section id=\"data-diff\"><h2>data.yaml: {} → {}</h2><pre>", short(from), short(to));
        let diff = similar::TextDiff::from_lines(&before, &after);
        for change in diff.iter_all_changes() {
            let (sign, style) = match change.tag() {
                similar::ChangeTag::Delete => ("-", " style=\"background:#ffebe9\""),
                similar::ChangeTag::Insert => ("+", " style=\"background:#dafbe1\""),
                similar::ChangeTag::Equal => (" ", ""),
            };
            let _ = write!(content, "<span{style}>{sign} {}</span>", escape(&change.to_string()));
        }
        let _ = writeln!(content, "</pre></section>");
    }
    let _ = writeln!(content, "</main>");
    Ok(content)
}

// ------------------------------------------------------------------ audit

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditPageQuery {
    pub environment: Option<String>,
    pub time: Option<String>,
    /// `1`: verify the whole chain now (reads every entry: slow on a large store).
    pub verify: Option<String>,
}

/// The last full verification the audit page ran: asked again within a minute for the same
/// head, it is shown (with when it ran) instead of reading the whole store again, so
/// reloading the page does not tie up the server.
#[derive(Default)]
pub struct Verifications {
    last: Mutex<Option<Verified>>,
}

/// One full verification: the head it covered, when it ran (monotonic and as text),
/// whether it held, and what it said.
type Verified = (Option<(u64, String)>, Instant, String, bool, String);

/// How long a verification of an unchanged chain is shown instead of run again.
const VERIFICATION_KEPT: Duration = Duration::from_secs(60);

pub fn audit_page(
    store: &dyn Store,
    key: &crate::artifacts::signing::keys::VerifyingKey,
    query: &AuditPageQuery,
    verifications: &Verifications,
) -> crate::error::Result<String> {
    let environment = query.environment.as_deref().filter(|value| !value.is_empty());
    let time = match query.time.as_deref().filter(|value| !value.is_empty()) {
        Some(text) => audit::parse_time(text, "time")?,
        None => audit::now(),
    };
    if let Some(environment) = environment {
        audit::check_environment(store, environment)?;
    }
    let mut content = String::new();
    let _ = writeln!(content, "<main><h1>Audit</h1><form method=\"get\" action=\"/ui/audit\" class=\"filter\">");
    select(&mut content, "environment", "environment", store.environments()?.iter().map(String::as_str), environment);
    let _ = writeln!(content, "<label>time <input name=\"time\" id=\"time\" value=\"{}\" size=\"30\"></label><button type=\"submit\">Show</button></form>", escape(&time));
    let rows = crate::run::audit::deployed_rows(store, environment, &time)?;
    let _ = writeln!(content, "<section id=\"deployed\"><h2>Deployed at {}</h2><table><thead><tr><th>model</th><th>environment</th><th>since</th><th>decision</th><th>bundle</th><th>waivers</th></tr></thead><tbody>", escape(&time));
    for row in &rows {
        let text = |key: &str| row.get(key).and_then(Value::as_str).unwrap_or("-").to_string();
        let waivers: Vec<String> = row
            .get("exceptions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|exception| {
                format!(
                    "{} (until {})",
                    exception.get("code").and_then(Value::as_str).unwrap_or("-"),
                    exception.get("expires").and_then(Value::as_str).unwrap_or("-")
                )
            })
            .collect();
        let _ = writeln!(content, "<tr><td>{} {}</td><td>{}</td><td>{}</td><td><a href=\"/ui/decisions/{}\">{}</a></td><td><code>{}</code> {}</td><td>{}</td></tr>",
            escape(&text("model")), escape(&text("version")), escape(&text("environment")), escape(&text("deployed_at")), url_part(&text("decision_id")), escape(&text("decision")),
            short(&text("bundle_digest")), escape(&text("bundle_revision")), if waivers.is_empty() { "none".to_string() } else { escape(&waivers.join(", ")) });
    }
    if rows.is_empty() {
        let _ = writeln!(content, "<tr><td colspan=\"6\">nothing deployed</td></tr>");
    }
    let _ = writeln!(content, "</tbody></table></section><section id=\"chain\"><h2>The chain</h2><dl class=\"facts\">");
    if let Some((seq, hash)) = store.head()? {
        let _ = writeln!(content, "<dt>head</dt><dd>{seq} <code>{}</code></dd>", escape(&hash));
    }
    match checkpoint::latest(store)? {
        Some(entry) => {
            let _ = writeln!(
                content,
                "<dt>latest signed checkpoint</dt><dd>entry {} covers seq {} at {}, key {}</dd>",
                entry.seq,
                entry.detail("seq").and_then(Value::as_u64).unwrap_or(0),
                escape(entry.detail_str("time").unwrap_or("-")),
                escape(entry.detail_str("key").unwrap_or("-"))
            );
            let _ = writeln!(
                content,
                "<dt>signed by this server</dt><dd>{}</dd>",
                if checkpoint::signed_by_checkpoint(&entry, key) {
                    "yes"
                } else {
                    "NO: the checkpoint does not verify with this server's key"
                }
            );
        }
        None => {
            let _ = writeln!(content, "<dt>latest signed checkpoint</dt><dd>none yet</dd>");
        }
    }
    let _ = writeln!(content, "</dl>");
    if query.verify.as_deref() == Some("1") {
        let head = store.head()?;
        let kept = {
            let last = verifications.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            last.as_ref()
                .filter(|(at_head, when, ..)| *at_head == head && when.elapsed() < VERIFICATION_KEPT)
                .map(|(_, _, time, ok, text)| (time.clone(), *ok, text.clone()))
        };
        let (time, ok, text) = match kept {
            Some(kept) => kept,
            None => {
                let mut out = Vec::new();
                let status = crate::run::audit::verify_in(store, &[], Some(key), crate::run::Format::Text, &mut out)?;
                let ok = status == crate::exit::ExitStatus::Success;
                let text = String::from_utf8_lossy(&out).into_owned();
                let time = audit::now();
                let mut last = verifications.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                *last = Some((head, Instant::now(), time.clone(), ok, text.clone()));
                (time, ok, text)
            }
        };
        let _ = writeln!(
            content,
            "<p id=\"verification\"><span class=\"badge {}\">{}</span> at {}</p><pre>{}</pre>",
            if ok { "pass" } else { "fail" },
            if ok { "verified" } else { "NOT verified" },
            escape(&time),
            escape(&text)
        );
    } else {
        let _ = writeln!(content, "<p><a href=\"/ui/audit?verify=1\" id=\"verify\">Verify the whole chain now</a> <span class=\"muted\">(reads every entry, blob and signature)</span></p>");
    }
    let _ = writeln!(content, "</section></main>");
    Ok(content)
}

/// The first `characters` characters of `text` (whole characters, whatever it holds).
fn prefix(text: &str, characters: usize) -> &str {
    text.char_indices().nth(characters).map_or(text, |(end, _)| &text[..end])
}

/// `sha256:abcdef012345…` for a digest.
fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}…", escape(prefix(hex, 12)))
}

/// A path segment: ids and model names are made of safe characters, anything else is
/// percent-encoded.
fn url_part(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}
