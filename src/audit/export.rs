//! Exports of the store for log pipelines: JSON Lines of the chained entries, CSV, and
//! OPA decision-log events (the field names OPA's decision logger writes).

use std::io::Write;

use serde_json::{json, Value};

use super::record::codes;
use super::{Entry, EntryKind, Filter, Record, Store};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One chained entry per line: `{"seq", "hash", "prev_hash", "entry"}`.
    Jsonl,
    /// One row per entry, findings as `;`-separated codes.
    Csv,
    /// OPA decision-log events, one per decision and re-evaluation.
    Opa,
}

pub struct ExportOptions {
    /// OPA events carry the evidence as `input`; false leaves it out (it is large).
    pub with_input: bool,
}

const CSV_HEADER: [&str; 17] = [
    "seq",
    "id",
    "kind",
    "time",
    "model",
    "version",
    "environment",
    "requester",
    "decision",
    "violations",
    "warnings",
    "exceptions",
    "evidence_digest",
    "bundle_digest",
    "bundle_revision",
    "tool_version",
    "hash",
];

/// Writes every entry `filter` selects; returns how many were written.
pub fn export(
    store: &dyn Store,
    filter: &Filter,
    format: ExportFormat,
    options: &ExportOptions,
    out: &mut dyn Write,
) -> Result<u64> {
    let write_error = |error: std::io::Error| Error::new(ErrorKind::Io, format!("cannot write the export: {error}"));
    if format == ExportFormat::Csv {
        out.write_all(&csv_line(CSV_HEADER.iter().map(|name| name.to_string()).collect())?).map_err(write_error)?;
    }
    let mut written = 0;
    let mut filter = filter.clone();
    if format == ExportFormat::Opa && filter.kinds.is_empty() {
        filter.kinds = vec![EntryKind::Decision, EntryKind::Reevaluation];
    }
    store.scan(&filter, &mut |record: Record| {
        match format {
            ExportFormat::Jsonl => {
                let line = json!({
                    "seq": record.entry.seq,
                    "hash": record.hash,
                    "prev_hash": record.prev_hash,
                    "entry": serde_json::from_str::<Value>(&record.content).unwrap_or(Value::Null),
                });
                writeln!(out, "{line}").map_err(write_error)?;
            }
            ExportFormat::Opa => {
                let event = opa_event(store, &record.entry, options)?;
                writeln!(out, "{event}").map_err(write_error)?;
            }
            ExportFormat::Csv => out.write_all(&csv_line(csv_row(&record))?).map_err(write_error)?,
        }
        written += 1;
        Ok(true)
    })?;
    out.flush().map_err(write_error)?;
    Ok(written)
}

/// One CSV record, quoted as needed, with its line end.
fn csv_line(fields: Vec<String>) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&fields).map_err(|error| Error::new(ErrorKind::Io, error.to_string()))?;
    writer.into_inner().map_err(|error| Error::new(ErrorKind::Io, error.to_string()))
}

fn csv_row(record: &Record) -> Vec<String> {
    let entry = &record.entry;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    vec![
        entry.seq.to_string(),
        entry.id.clone(),
        entry.kind.as_str().to_string(),
        entry.time.clone(),
        entry.model.clone(),
        entry.version.clone(),
        text(&entry.environment),
        text(&entry.requester),
        text(&entry.decision),
        codes(entry, "violations").join(";"),
        codes(entry, "warnings").join(";"),
        codes(entry, "exceptions").join(";"),
        text(&entry.evidence_digest),
        text(&entry.bundle_digest),
        text(&entry.bundle_revision),
        entry.tool_version.clone(),
        record.hash.clone(),
    ]
}

/// An OPA decision-log event for a decision entry.
pub fn opa_event(store: &dyn Store, entry: &Entry, options: &ExportOptions) -> Result<Value> {
    let mut event = serde_json::Map::new();
    event.insert("decision_id".into(), json!(entry.id));
    event.insert("path".into(), json!("modelgate"));
    if options.with_input && entry.evidence_digest.is_some() {
        let evidence = super::record::stored_evidence(store, entry)?;
        event.insert("input".into(), serde_json::to_value(evidence).unwrap_or(Value::Null));
    }
    let findings = super::record::stored_findings(store, entry)?;
    let field = |key: &str| findings.get(key).cloned().unwrap_or(Value::Null);
    event.insert(
        "result".into(),
        json!({
            "decision": entry.decision,
            "violations": field("violations"),
            "warnings": field("warnings"),
            "exceptions": field("exceptions"),
            "error": entry.detail("error").cloned().unwrap_or(Value::Null),
        }),
    );
    if let Some(digest) = &entry.bundle_digest {
        let revision = entry.bundle_revision.clone().unwrap_or_else(|| digest.clone());
        event.insert("bundles".into(), json!({"policies": {"revision": revision}}));
    }
    event.insert("timestamp".into(), json!(entry.time));
    if let Some(requester) = &entry.requester {
        event.insert("requested_by".into(), json!(requester));
    }
    event.insert(
        "labels".into(),
        json!({
            "app": "modelgate",
            "version": entry.tool_version,
            "kind": entry.kind.as_str(),
            "model": entry.model,
            "model_version": entry.version,
            "environment": entry.environment,
            "evidence_digest": entry.evidence_digest,
            "bundle_digest": entry.bundle_digest,
        }),
    );
    Ok(Value::Object(event))
}
