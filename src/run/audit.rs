//! The auditor's questions and the store's upkeep: `audit init|log|show|at|verify|copy|export`.
//! Each entry point opens the store, answers, and writes the answer as text or JSON to an
//! `io::Write`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use crate::artifacts::signing::keys::VerifyingKey;
use crate::audit::chain::{self, short, Anchor};
use crate::audit::export::{self, ExportFormat, ExportOptions};
use crate::audit::{self, record, Access, Entry, EntryKind, Filter, Record, Store};
use crate::error::{Error, ErrorKind, Result};
use crate::exit::ExitStatus;

pub use super::Format;

/// Writes JSON or the text `text` makes.
fn emit(out: &mut dyn Write, format: Format, value: &Value, text: impl FnOnce() -> String) -> Result<()> {
    let mut text = match format {
        Format::Json => serde_json::to_string_pretty(value)
            .map_err(|error| Error::new(ErrorKind::Io, format!("cannot serialize the output: {error}")))?,
        Format::Text => text(),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the output: {error}")))
}

/// The store named by `--store` / `MODELGATE_STORE`, else `.modelgate/audit.db` here, read-only.
pub fn open_store(store: Option<&str>) -> Result<Box<dyn Store>> {
    open(store)
}

fn open(store: Option<&str>) -> Result<Box<dyn Store>> {
    audit::open(&audit::resolve(store, Path::new("."))?, Access::ReadOnly)
}

/// A `--since`/`--until` filter as the command line gives it.
#[derive(Debug, Clone, Default)]
pub struct FilterRequest<'a> {
    pub kinds: Vec<EntryKind>,
    pub model: Option<&'a str>,
    pub version: Option<&'a str>,
    pub environment: Option<&'a str>,
    pub decision: Option<&'a str>,
    /// RFC 3339, or a date (midnight UTC).
    pub since: Option<&'a str>,
    /// RFC 3339, or a date (the whole day).
    pub until: Option<&'a str>,
}

impl FilterRequest<'_> {
    pub fn filter(&self) -> Result<Filter> {
        Ok(Filter {
            kinds: self.kinds.clone(),
            model: self.model.map(str::to_string),
            version: self.version.map(str::to_string),
            environment: self.environment.map(str::to_string),
            decision: self.decision.map(str::to_string),
            since: self.since.map(|text| audit::parse_time(text, "--since")).transpose()?,
            until: self.until.map(|text| audit::parse_until(text, "--until")).transpose()?,
            limit: None,
            newest_first: false,
        })
    }
}

/// `audit init`: creates the store unless it is one already.
pub fn init(store: Option<&str>, format: Format, out: &mut dyn Write) -> Result<ExitStatus> {
    let address = audit::resolve(store, Path::new("."))?;
    let (store, created) = audit::init(&address)?;
    let existed = !created;
    let head = store.head()?;
    let entries = head.as_ref().map_or(0, |(seq, _)| *seq);
    let value = json!({"store": store.location(), "created": !existed, "entries": entries});
    emit(out, format, &value, || {
        if existed {
            format!("{} is already an audit store ({entries} entries)\n", store.location())
        } else {
            format!("created the audit store {}\n", store.location())
        }
    })?;
    Ok(ExitStatus::Success)
}

/// `audit log`: the entries `filter` matches, newest first, at most `limit` (0: all).
pub fn log(
    store: Option<&str>,
    filter: &FilterRequest,
    limit: usize,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    log_in(open(store)?.as_ref(), filter, limit, format, out)
}

/// [`log`] on a store already open (the server's).
pub fn log_in(
    store: &dyn Store,
    filter: &FilterRequest,
    limit: usize,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    if let Some(environment) = filter.environment {
        audit::check_environment(store, environment)?;
    }
    let mut filter = filter.filter()?;
    filter.newest_first = true;
    filter.limit = (limit > 0).then_some(limit);
    let mut records = Vec::new();
    store.scan(&filter, &mut |record| {
        records.push(record);
        Ok(true)
    })?;
    let value = Value::Array(
        records
            .iter()
            .map(|record| json!({"seq": record.entry.seq, "hash": record.hash, "entry": record.entry}))
            .collect(),
    );
    emit(out, format, &value, || {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<27} {:<12} {:<8} {:<24} {:<10} {:<12} {:<14} {:>4}  ID",
            "TIME", "KIND", "DECISION", "MODEL", "VERSION", "ENVIRONMENT", "POLICIES", "VIOL"
        );
        for record in &records {
            let entry = &record.entry;
            let _ = writeln!(
                out,
                "{:<27} {:<12} {:<8} {:<24} {:<10} {:<12} {:<14} {:>4}  {}",
                entry.time,
                entry.kind.as_str(),
                entry.decision.as_deref().unwrap_or("-"),
                entry.model,
                entry.version,
                entry.environment.as_deref().unwrap_or("-"),
                policies(entry),
                record::count(entry, "violations"),
                entry.id
            );
        }
        let _ = writeln!(out, "{} entries (newest first)", records.len());
        out
    })?;
    Ok(ExitStatus::Success)
}

/// `@ 1a2b3c4d5e6f` (git revision) or `sha256:…` (bundle digest).
fn policies(entry: &Entry) -> String {
    match (&entry.bundle_revision, &entry.bundle_digest) {
        (Some(revision), _) => format!("@ {}", &revision[..revision.len().min(12)]),
        (None, Some(digest)) => digest.chars().take(14).collect(),
        _ => "-".into(),
    }
}

fn findings_text(out: &mut String, findings: &Value, list: &str, title: &str) {
    let Some(items) = findings.get(list).and_then(Value::as_array).filter(|items| !items.is_empty()) else {
        return;
    };
    let _ = writeln!(out, "\n{title} ({}):", items.len());
    for item in items {
        let text = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        let _ = writeln!(out, "  [{}] {} {}", text("severity"), text("code"), text("msg"));
        if let Some(exception) = item.get("exception").filter(|value| !value.is_null()) {
            let field = |key: &str| exception.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
            let _ = writeln!(
                out,
                "      waived: {} (approved by {}, expires {})",
                field("reason"),
                field("approved_by"),
                field("expires")
            );
        } else if !text("remediation").is_empty() {
            let _ = writeln!(out, "      fix: {}", text("remediation"));
        }
    }
}

/// `audit show`: one entry in full (without the evidence and policy texts when `brief`),
/// and with `replay`, whether evaluating its stored evidence under its stored policies
/// reproduces it (exit 1 when not).
pub fn show(
    store: Option<&str>,
    id: &str,
    brief: bool,
    replay: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    show_in(open(store)?.as_ref(), id, brief, replay, format, out)
}

/// [`show`] on a store already open (the server's).
pub fn show_in(
    store: &dyn Store,
    id: &str,
    brief: bool,
    replay: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    let record = store.get(id)?.ok_or_else(|| {
        Error::new(ErrorKind::Store, format!("no entry {id} in the audit store {}", store.location()))
            .hint("`modelgate audit log` lists entries and their ids")
    })?;
    let entry = &record.entry;
    let evidence = match (&entry.evidence_digest, brief) {
        (Some(_), false) => Some(record::stored_evidence(store, entry)?),
        _ => None,
    };
    let bundle = match (&entry.bundle_digest, brief) {
        (Some(digest), false) => Some(record::stored_bundle(store, digest)?),
        _ => None,
    };
    let replay = if replay { Some(self::replay(store, entry)?) } else { None };
    let findings = record::stored_findings(store, entry)?;
    let value = json!({
        "seq": entry.seq,
        "hash": record.hash,
        "prev_hash": record.prev_hash,
        "entry": entry,
        "findings": findings,
        "evidence": evidence,
        "policy_files": bundle.as_ref().map(|(_, files)| files.iter().map(|file| json!({"path": file.path, "contents": file.contents})).collect::<Vec<_>>()),
        "replay": replay,
    });
    let mut status = ExitStatus::Success;
    if let Some(replay) = &replay {
        if replay.get("reproduced") != Some(&Value::Bool(true)) {
            status = ExitStatus::Failure;
        }
    }
    emit(out, format, &value, || {
        let mut out = String::new();
        let _ = writeln!(out, "{} {} (seq {}, hash {})", entry.kind.as_str(), entry.id, entry.seq, short(&record.hash));
        let _ = writeln!(out, "  time:        {}", entry.time);
        let _ = writeln!(out, "  model:       {} {}", entry.model, entry.version);
        let _ = writeln!(out, "  environment: {}", entry.environment.as_deref().unwrap_or("-"));
        if let Some(requester) = &entry.requester {
            let _ = writeln!(out, "  requester:   {requester}");
        }
        if let Some(decision) = &entry.decision {
            let _ = writeln!(out, "  decision:    {decision}");
        }
        if let Some(digest) = &entry.bundle_digest {
            let revision =
                entry.bundle_revision.as_deref().map(|revision| format!(" @ {revision}")).unwrap_or_default();
            let _ = writeln!(out, "  policies:    {digest}{revision}");
        }
        if let Some(digest) = &entry.evidence_digest {
            let _ = writeln!(out, "  evidence:    {digest}");
        }
        let _ = writeln!(out, "  tool:        modelgate {}", entry.tool_version);
        for key in [
            "decision_id",
            "action",
            "previous_version",
            "deployment_id",
            "original_decision_id",
            "status",
            "judged_at",
            "reason",
        ] {
            if let Some(value) = entry.detail(key).filter(|value| !value.is_null()) {
                let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
                let _ = writeln!(out, "  {:<12} {text}", format!("{key}:"));
            }
        }
        if let Some(rules) = entry.detail("rules") {
            let _ = writeln!(out, "  rules:       {rules}");
        }
        if let Some(error) = entry.detail("error").filter(|value| !value.is_null()) {
            let _ =
                writeln!(out, "  error:       {}", error.get("message").and_then(Value::as_str).unwrap_or_default());
        }
        findings_text(&mut out, &findings, "violations", "violations");
        findings_text(&mut out, &findings, "exceptions", "waived by exceptions");
        findings_text(&mut out, &findings, "warnings", "warnings");
        if let Some(deliveries) = entry.detail("deliveries").and_then(Value::as_array) {
            let _ = writeln!(out, "\ndeliveries:");
            for delivery in deliveries {
                let _ = writeln!(out, "  {delivery}");
            }
        }
        if let Some(replay) = &replay {
            let _ = writeln!(out, "\nreplay: {}", replay.get("summary").and_then(Value::as_str).unwrap_or_default());
        }
        if let Some((manifest, files)) = &bundle {
            let _ = writeln!(out, "\npolicy files ({}, {} files):", manifest.digest, files.len());
            for file in files {
                let _ = writeln!(out, "\n----- {} -----\n{}", file.path, file.contents.trim_end());
            }
        }
        if let Some(evidence) = &evidence {
            let _ = writeln!(out, "\nevidence:\n{}", serde_json::to_string_pretty(evidence).unwrap_or_default());
        }
        out
    })?;
    Ok(status)
}

/// Evaluates the stored evidence under the stored bundle, on the day it was judged.
fn replay(store: &dyn Store, entry: &Entry) -> Result<Value> {
    replay_report(store, entry).map(|(summary, _)| summary)
}

/// [`replay`], with the report of the replay (its per-rule outcomes).
pub fn replay_report(store: &dyn Store, entry: &Entry) -> Result<(Value, crate::decision::Report)> {
    let digest = entry.bundle_digest.as_deref().ok_or_else(|| {
        Error::new(ErrorKind::Store, format!("{} recorded no policy bundle", entry.id))
            .hint("only decisions can be replayed")
    })?;
    let evidence = record::stored_evidence(store, entry)?;
    let (_, files) = record::stored_bundle(store, digest)?;
    let replayed = replay_of(entry, evidence, files)?;
    Ok((replayed.summary, replayed.report))
}

/// What a replay found: whether it reproduced the decision, its report, and the
/// regulatory controls of the bundle it ran.
pub struct Replayed {
    pub summary: Value,
    pub report: crate::decision::Report,
    pub controls: std::sync::Arc<crate::policy::controls::Controls>,
}

/// Evaluates `evidence` under the bundle `files` as `entry` recorded them, on the day the
/// entry was judged, and compares the outcome with what it recorded.
pub fn replay_of(
    entry: &Entry,
    mut evidence: crate::evidence::Evidence,
    files: Vec<crate::policy::bundle::BundleFile>,
) -> Result<Replayed> {
    let digest = entry.bundle_digest.as_deref().ok_or_else(|| {
        Error::new(ErrorKind::Store, format!("{} recorded no policy bundle", entry.id))
            .hint("only decisions can be replayed")
    })?;
    let bundle = crate::policy::bundle::Bundle::from_files("audit-store", entry.bundle_revision.clone(), files);
    let judged_at = entry.detail_str("judged_at").map(str::to_string).unwrap_or_else(|| entry.time.clone());
    let time = chrono::DateTime::parse_from_rfc3339(&judged_at)
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|_| Error::new(ErrorKind::Store, format!("{}: time {judged_at} is not RFC 3339", entry.id)))?;
    if entry.kind == EntryKind::Reevaluation {
        audit::lifecycle::redate(&mut evidence, time);
    }
    let digest_matches = bundle.info.digest == digest;
    let mut gate = crate::policy::Gate::from_bundle(bundle, crate::policy::engine::DEFAULT_TIMEOUT)?;
    let report = gate.report_at(&evidence, None, time.date_naive());
    let recorded: Vec<String> = record::codes(entry, "violations");
    let mut replayed: Vec<String> = report.violations.iter().map(|finding| finding.code.clone()).collect();
    replayed.sort();
    replayed.dedup();
    let reproduced =
        digest_matches && Some(report.decision.as_str()) == entry.decision.as_deref() && recorded == replayed;
    let summary = if reproduced {
        format!("reproduced: {} with the same {} violation codes", report.decision.as_str(), replayed.len())
    } else {
        format!(
            "NOT reproduced: recorded {} {:?}, replayed {} {:?}",
            entry.decision.as_deref().unwrap_or("?"),
            recorded,
            report.decision.as_str(),
            replayed
        )
    };
    let summary = json!({"reproduced": reproduced, "decision": report.decision.as_str(), "violations": replayed, "summary": summary});
    Ok(Replayed { summary, report, controls: gate.controls.clone() })
}

/// `audit show --format html`: the decision's report as it was made, with the evidence's
/// charts, its place in the chain, its bundle's files and the replay (whose per-rule
/// outcomes fill the rules table when it reproduces the decision). With `replay`, a
/// decision the replay does not reproduce exits 1, as `--replay` does.
pub fn show_html(store: Option<&str>, id: &str, replay: bool, out: &mut dyn Write) -> Result<ExitStatus> {
    show_html_in(open(store)?.as_ref(), id, replay, out)
}

/// [`show_html`] on a store already open (the server's).
pub fn show_html_in(store: &dyn Store, id: &str, replay: bool, out: &mut dyn Write) -> Result<ExitStatus> {
    let record = store.get(id)?.ok_or_else(|| {
        Error::new(ErrorKind::Store, format!("no entry {id} in the audit store {}", store.location()))
            .hint("`modelgate audit log` lists entries and their ids")
    })?;
    let view = stored_decision_view(store, &record)?;
    out.write_all(&view.page()?)
        .and_then(|()| out.flush())
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the output: {error}")))?;
    let reproduced = view.replay.as_ref().is_none_or(|summary| summary.get("reproduced") == Some(&Value::Bool(true)));
    Ok(if replay && !reproduced { ExitStatus::Failure } else { ExitStatus::Success })
}

/// [`decision_view`] of a decision in `store`.
pub fn stored_decision_view(store: &dyn Store, record: &crate::audit::Record) -> Result<DecisionView> {
    let entry = &record.entry;
    let findings = record::stored_findings(store, entry)?;
    let evidence = match &entry.evidence_digest {
        Some(_) => Some(record::stored_evidence(store, entry)?),
        None => None,
    };
    let files = match &entry.bundle_digest {
        Some(digest) => Some(record::stored_bundle(store, digest)?.1),
        None => None,
    };
    decision_view(record, store.location(), &findings, evidence, files)
}

/// A recorded decision as a person reads it: its report as it was made, and that report
/// as the HTML page of `audit show --format html` and of an evidence package.
pub struct DecisionView {
    pub report: crate::decision::Report,
    /// What the page shows beside the report: the evidence's charts, the chain position,
    /// the replay, the policy files' digests.
    pub options: crate::report::RenderOptions,
    /// The decision's bundle files, as stored.
    pub files: Option<Vec<crate::policy::bundle::BundleFile>>,
    /// The replay's summary, when the decision could be replayed.
    pub replay: Option<Value>,
    /// The regulatory controls of the decision's bundle, when it could be replayed.
    pub controls: Option<std::sync::Arc<crate::policy::controls::Controls>>,
}

impl DecisionView {
    /// The report as one self-contained HTML page.
    pub fn page(&self) -> Result<Vec<u8>> {
        let mut page = Vec::new();
        crate::report::render(&self.report, crate::report::Format::Html, &self.options, &mut page)
            .map_err(|error| Error::new(ErrorKind::Io, format!("cannot render the report: {error}")))?;
        Ok(page)
    }
}

/// Builds [`DecisionView`] from what a decision is made of: its record, the store's
/// location, its findings, its evidence and its bundle's files. The replay's per-rule
/// outcomes fill the report's rules when it reproduces the decision (the entry keeps only
/// their counts).
pub fn decision_view(
    record: &crate::audit::Record,
    location: String,
    findings: &Value,
    evidence: Option<crate::evidence::Evidence>,
    files: Option<Vec<crate::policy::bundle::BundleFile>>,
) -> Result<DecisionView> {
    let entry = &record.entry;
    let bundle_files = files.as_ref().map_or(0, Vec::len);
    let mut report = record::report_of(entry, &record.hash, findings, bundle_files, location.clone())?;
    let mut sections = vec![(
        "Audit chain".to_string(),
        vec![
            ("store".to_string(), location),
            ("entry".to_string(), format!("{} seq {}", entry.kind.as_str(), entry.seq)),
            ("hash".to_string(), record.hash.clone()),
            ("previous hash".to_string(), record.prev_hash.clone()),
            ("recorded".to_string(), entry.time.clone()),
            ("requester".to_string(), entry.requester.clone().unwrap_or_else(|| "-".to_string())),
        ],
    )];
    let (mut replay, mut controls) = (None, None);
    if let (Some(evidence), Some(files)) = (&evidence, &files) {
        let replayed = replay_of(entry, evidence.clone(), files.clone())?;
        if replayed.summary.get("reproduced") == Some(&Value::Bool(true)) {
            report.rules = replayed.report.rules;
        }
        let text = replayed.summary.get("summary").and_then(Value::as_str).unwrap_or_default().to_string();
        sections.push(("Replay".to_string(), vec![("result".to_string(), text)]));
        replay = Some(replayed.summary);
        controls = Some(replayed.controls);
    }
    if let Some(files) = &files {
        let listed = files.iter().map(|file| (file.path.clone(), audit::sha256(file.contents.as_bytes()))).collect();
        sections.push(("Policy files".to_string(), listed));
    }
    let options =
        crate::report::RenderOptions { evidence: evidence.map(std::sync::Arc::new), sections, ..Default::default() };
    Ok(DecisionView { report, options, files, replay, controls })
}

/// `audit at`: what was deployed (in `environment`, of `model`) at `time` (now when
/// `None`): by which decision, under which policies, with which waivers.
pub fn at(
    store: Option<&str>,
    environment: Option<&str>,
    time: Option<&str>,
    model: Option<&str>,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    at_in(open(store)?.as_ref(), environment, time, model, format, out)
}

/// [`at`] on a store already open (the server's).
pub fn at_in(
    store: &dyn Store,
    environment: Option<&str>,
    time: Option<&str>,
    model: Option<&str>,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    if let Some(environment) = environment {
        audit::check_environment(store, environment)?;
    }
    let time = match time {
        Some(text) => audit::parse_time(text, "--time")?,
        None => audit::now(),
    };
    let rows = deployed_rows_of(store, environment, model, &time)?;
    let value = json!({"time": time, "environment": environment, "deployments": rows});
    emit(out, format, &value, || {
        let mut out = String::new();
        let scope = environment.map(|environment| format!(" in {environment}")).unwrap_or_default();
        let _ = writeln!(out, "deployed{scope} at {time}:");
        if rows.is_empty() {
            let _ = writeln!(out, "  nothing");
        }
        for row in &rows {
            let text = |key: &str| row.get(key).and_then(Value::as_str).unwrap_or("-").to_string();
            let _ = writeln!(
                out,
                "\n  {} {} in {} (since {}, {} by {})",
                text("model"),
                text("version"),
                text("environment"),
                text("deployed_at"),
                text("action"),
                text("deployed_by")
            );
            let _ = writeln!(
                out,
                "    decision:  {} ({} at {})",
                text("decision_id"),
                text("decision"),
                text("decided_at")
            );
            let _ = writeln!(out, "    policies:  {} @ {}", text("bundle_digest"), text("bundle_revision"));
            let _ = writeln!(out, "    evidence:  {}", text("evidence_digest"));
            match row.get("exceptions").and_then(Value::as_array).filter(|items| !items.is_empty()) {
                Some(exceptions) => {
                    for exception in exceptions {
                        let field = |key: &str| exception.get(key).and_then(Value::as_str).unwrap_or("-").to_string();
                        let _ = writeln!(
                            out,
                            "    waived:    {} ({}; approved by {}, expires {})",
                            field("code"),
                            field("reason"),
                            field("approved_by"),
                            field("expires")
                        );
                    }
                }
                None => {
                    let _ = writeln!(out, "    waived:    nothing");
                }
            }
            if let Some(last) = row.get("last_reevaluation").filter(|value| !value.is_null()) {
                let field = |key: &str| last.get(key).and_then(Value::as_str).unwrap_or("-").to_string();
                let _ = writeln!(
                    out,
                    "    re-check:  {} at {} under {}",
                    field("status"),
                    field("time"),
                    field("bundle_digest")
                );
            }
        }
        out
    })?;
    Ok(ExitStatus::Success)
}

/// A deployment in force at `time`, with the decision it was made by.
/// What was deployed (in `environment`) at `time`: `audit at`'s rows.
pub fn deployed_rows(store: &dyn Store, environment: Option<&str>, time: &str) -> Result<Vec<Value>> {
    deployed_rows_of(store, environment, None, time)
}

fn deployed_rows_of(
    store: &dyn Store,
    environment: Option<&str>,
    model: Option<&str>,
    time: &str,
) -> Result<Vec<Value>> {
    let deployments = store.deployments_at(Some(time), environment, model)?;
    deployments.iter().map(|deployment| deployed_row(store, deployment, time)).collect()
}

fn deployed_row(store: &dyn Store, deployment: &Record, time: &str) -> Result<Value> {
    let entry = &deployment.entry;
    let decision_id = entry.detail_str("decision_id").unwrap_or_default();
    let decision = store.get(decision_id)?.ok_or_else(|| {
        Error::new(
            ErrorKind::Store,
            format!("deployment {} names decision {decision_id}, which is not in the store", entry.id),
        )
        .hint("the store has been altered: run `modelgate audit verify`")
    })?;
    let findings = record::stored_findings(store, &decision.entry)?;
    let exceptions: Vec<Value> = findings
        .get("exceptions")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let exception = item.get("exception").cloned().unwrap_or(Value::Null);
                    json!({
                        "code": item.get("code"),
                        "reason": exception.get("reason"),
                        "approved_by": exception.get("approved_by"),
                        "expires": exception.get("expires"),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut last = None;
    let filter = Filter {
        kinds: vec![EntryKind::Reevaluation],
        model: Some(entry.model.clone()),
        environment: entry.environment.clone(),
        since: Some(entry.time.clone()),
        until: Some(time.to_string()),
        newest_first: true,
        ..Filter::default()
    };
    store.scan(&filter, &mut |record| {
        if record.entry.detail_str("deployment_id") == Some(entry.id.as_str()) {
            last = Some(json!({
                "id": record.entry.id,
                "time": record.entry.time,
                "status": record.entry.detail("status"),
                "bundle_digest": record.entry.bundle_digest,
                "bundle_revision": record.entry.bundle_revision,
            }));
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(json!({
        "model": entry.model,
        "version": entry.version,
        "environment": entry.environment,
        "deployment_id": entry.id,
        "deployed_at": entry.time,
        "deployed_by": entry.requester,
        "action": entry.detail("action"),
        "decision_id": decision.entry.id,
        "decision": decision.entry.decision,
        "decided_at": decision.entry.time,
        "bundle_digest": decision.entry.bundle_digest,
        "bundle_revision": decision.entry.bundle_revision,
        "evidence_digest": decision.entry.evidence_digest,
        "exceptions": exceptions,
        "last_reevaluation": last,
    }))
}

/// `audit copy`: the store at `from` into a new, empty one at `to` (created when absent).
pub fn copy(from: &str, to: &str, format: Format, out: &mut dyn Write) -> Result<ExitStatus> {
    let from = audit::open(&audit::Address::parse(from)?, Access::ReadOnly)?;
    let mut to = audit::open(&audit::Address::parse(to)?, Access::Create)?;
    let copied = audit::copy::copy(from.as_ref(), to.as_mut())?;
    let value = serde_json::to_value(&copied).unwrap_or(Value::Null);
    emit(out, format, &value, || {
        let head =
            copied.head.as_ref().map_or_else(|| "(empty)".to_string(), |head| format!("{}:{}", head.seq, head.hash));
        format!(
            "copied {} entries, {} blobs, {} policy bundles from {} to {}\nhead: {head} (verified in both)\n",
            copied.entries, copied.blobs, copied.bundles, copied.from, copied.to
        )
    })?;
    Ok(ExitStatus::Success)
}

/// `audit verify`: the chain and every content digest, and each published head in
/// `anchors` (`SEQ:sha256:…`) still in the chain; exit 1 when anything does not match.
pub fn verify(
    store: Option<&str>,
    anchors: &[String],
    key: Option<&VerifyingKey>,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    let anchors = parse_anchors(anchors)?;
    verify_in(open(store)?.as_ref(), &anchors, key, format, out)
}

pub fn parse_anchors(anchors: &[String]) -> Result<Vec<Anchor>> {
    anchors
        .iter()
        .map(|text| {
            Anchor::parse(text).ok_or_else(|| {
                Error::new(ErrorKind::Config, format!("--anchor `{text}` is not SEQ:sha256:<64 hex>"))
                    .hint("pass a head as `audit verify` prints it, e.g. 42:sha256:3f…")
            })
        })
        .collect::<Result<Vec<_>>>()
}

/// [`verify`] on a store already open (the server's). With `key`, the server's signed
/// checkpoints are checked too.
pub fn verify_in(
    store: &dyn Store,
    anchors: &[Anchor],
    key: Option<&VerifyingKey>,
    format: Format,
    out: &mut dyn Write,
) -> Result<ExitStatus> {
    let mut verification = chain::verify(store, anchors)?;
    if let Some(key) = key {
        verification.checkpoints = Some(audit::checkpoint::verify(store, key, &mut verification.problems)?);
    }
    let value = serde_json::to_value(&verification).unwrap_or(Value::Null);
    emit(out, format, &value, || {
        let mut out = String::new();
        let head = verification
            .head
            .as_ref()
            .map(|head| format!("{}:{}", head.seq, head.hash))
            .unwrap_or_else(|| "(empty)".into());
        if verification.ok() {
            let _ = writeln!(
                out,
                "ok: {} entries, {} blobs, {} policy bundles verified in {}",
                verification.entries, verification.blobs, verification.bundles, verification.store
            );
            let _ = writeln!(out, "head: {head}");
            if let Some(checkpoints) = &verification.checkpoints {
                let _ = writeln!(
                    out,
                    "checkpoints: {} signed by {} verified; the latest at entry {} ({}); {} entries after it",
                    checkpoints.verified,
                    checkpoints.key,
                    checkpoints.latest_seq.map_or("-".into(), |seq| seq.to_string()),
                    checkpoints.latest_time.as_deref().unwrap_or("-"),
                    checkpoints.after_latest
                );
            }
        } else {
            let first = &verification.problems[0];
            let at = match (&first.seq, &first.id, &first.digest) {
                (Some(seq), Some(id), _) => format!("entry {seq} ({id})"),
                (Some(seq), None, _) => format!("entry {seq}"),
                (_, _, Some(digest)) => digest.clone(),
                _ => "the store".into(),
            };
            let _ = writeln!(
                out,
                "TAMPERED: {} problems in {}; the first is at {at}",
                verification.problems.len(),
                verification.store
            );
            for problem in &verification.problems {
                let place = match (&problem.seq, &problem.id) {
                    (Some(seq), Some(id)) => format!("entry {seq} ({id}): "),
                    (Some(seq), None) => format!("entry {seq}: "),
                    _ => String::new(),
                };
                let _ = writeln!(out, "  {place}{}", problem.message);
            }
            let _ = writeln!(out, "head: {head}");
        }
        out
    })?;
    Ok(if verification.ok() { ExitStatus::Success } else { ExitStatus::Failure })
}

/// `audit export`: the entries `filter` matches, in chain order, as JSON Lines, CSV or OPA
/// decision-log events (`with_input`: with the evidence document as the event's input).
/// Returns how many were written.
pub fn export(
    store: Option<&str>,
    filter: &FilterRequest,
    format: ExportFormat,
    with_input: bool,
    out: &mut dyn Write,
) -> Result<u64> {
    export_in(open(store)?.as_ref(), filter, format, with_input, out)
}

/// [`export`] from a store already open (the server's).
pub fn export_in(
    store: &dyn Store,
    filter: &FilterRequest,
    format: ExportFormat,
    with_input: bool,
    out: &mut dyn Write,
) -> Result<u64> {
    let filter = filter.filter()?;
    let options = ExportOptions { with_input };
    let written = export::export(store, &filter, format, &options, out)?;
    out.flush().map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the export: {error}")))?;
    Ok(written)
}
