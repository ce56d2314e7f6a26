//! Decisions as entries: what `check`, `eval` and `reevaluate` record.

use serde_json::{json, Map, Value};

use super::{Blob, BundleManifest, Draft, Entry, EntryKind, ManifestFile, Record, Store};
use crate::decision::{AuditRef, Report, RuleStatus};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::Evidence;
use crate::policy::bundle::{BundleFile, FileKind};

/// The evidence as judged: its canonical JSON is what the report's digest covers.
pub fn evidence_blob(evidence: &Evidence) -> Result<Blob> {
    let json = serde_json::to_string(evidence)
        .map_err(|error| Error::new(ErrorKind::EvidenceInvalid, format!("evidence is not JSON: {error}")))?;
    Ok(Blob::new(json.into_bytes()))
}

/// A bundle's manifest and its files as blobs.
pub fn bundle_content(digest: &str, files: &[BundleFile]) -> (BundleManifest, Vec<Blob>) {
    let mut blobs = Vec::with_capacity(files.len());
    let mut manifest = BundleManifest { digest: digest.to_string(), files: Vec::with_capacity(files.len()) };
    for file in files {
        let blob = Blob::new(file.contents.clone().into_bytes());
        manifest.files.push(ManifestFile {
            path: file.path.clone(),
            kind: file.kind.as_str().to_string(),
            digest: blob.digest.clone(),
            size: file.contents.len() as u64,
        });
        blobs.push(blob);
    }
    (manifest, blobs)
}

/// The entry for a decision (or re-evaluation) `report`, with the evidence and bundle
/// files it was made from. `details` extends what is recorded.
pub fn decision_draft(
    kind: EntryKind,
    report: &Report,
    evidence: Option<&Evidence>,
    files: Option<&[BundleFile]>,
    mut details: Map<String, Value>,
) -> Result<Draft> {
    let model = report.model.as_ref();
    let mut entry = Entry::new(
        kind,
        model.map_or("", |model| model.name.as_str()),
        model.map_or("", |model| model.version.as_str()),
        report.environment.as_deref(),
    );
    entry.id = report.decision_id.clone();
    entry.decision = Some(report.decision.as_str().to_string());
    entry.requester = evidence.and_then(|evidence| evidence.deployment.as_ref()?.requested_by.clone());
    let mut blobs = Vec::new();
    if let Some(evidence) = evidence {
        let blob = evidence_blob(evidence)?;
        if let Some(digest) = &report.evidence_digest {
            if digest != &blob.digest {
                return Err(Error::new(
                    ErrorKind::Store,
                    format!("the evidence serialises to {} but the decision judged {digest}", blob.digest),
                )
                .hint("this is a bug in modelgate: please report it with the evidence document"));
            }
        }
        entry.evidence_digest = Some(blob.digest.clone());
        blobs.push(blob);
    }
    let mut bundle = None;
    if let Some(policy) = &report.policy {
        entry.bundle_digest = Some(policy.digest.clone());
        entry.bundle_revision = policy.revision.clone();
        if let Some(files) = files {
            let (manifest, file_blobs) = bundle_content(&policy.digest, files);
            blobs.extend(file_blobs);
            bundle = Some(manifest);
        }
    }
    let count = |status: RuleStatus| report.rules.iter().filter(|rule| rule.status == status).count();
    let mut recorded = Map::new();
    recorded.insert("timestamp".into(), json!(report.timestamp));
    if let Some(model) = model {
        recorded.insert("owner".into(), json!(model.owner));
        recorded.insert("risk_tier".into(), json!(model.risk_tier));
    }
    if let Some(policy) = &report.policy {
        recorded.insert("policy_path".into(), json!(policy.path));
        recorded.insert("policy_dirty".into(), json!(policy.dirty));
        if let Some(subpath) = &policy.subpath {
            recorded.insert("policy_subpath".into(), json!(subpath));
        }
    }
    recorded.insert("evidence_source".into(), json!(report.evidence_source));
    recorded.insert(
        "rules".into(),
        json!({
            "total": report.rules.len(),
            "pass": count(RuleStatus::Pass),
            "fail": count(RuleStatus::Fail),
            "warn": count(RuleStatus::Warn),
            "waived": count(RuleStatus::Waived),
        }),
    );
    // The findings in full (messages, measured values, fixes, waivers) are a blob: the
    // entry names it and keeps the codes, so entries stay small for queries and a
    // re-evaluation that finds what the last one found stores nothing new.
    let findings = json!({
        "violations": report.violations,
        "warnings": report.warnings,
        "exceptions": report.exceptions,
    });
    let findings = Blob::new(serde_json::to_vec(&findings).unwrap_or_default());
    recorded.insert("findings".into(), json!(findings.digest));
    blobs.push(findings);
    for (list, items) in
        [("violations", &report.violations), ("warnings", &report.warnings), ("exceptions", &report.exceptions)]
    {
        let codes: Vec<&str> = items.iter().map(|finding| finding.code.as_str()).collect();
        recorded.insert(list.into(), json!(codes));
    }
    recorded.insert("error".into(), json!(report.error));
    recorded.append(&mut details);
    entry.details = Value::Object(recorded);
    Ok(Draft { entry, blobs, bundle })
}

/// Records `report` in `store` and notes where in the report.
pub fn record_decision(
    store: &mut dyn Store,
    report: &mut Report,
    evidence: Option<&Evidence>,
    files: Option<&[BundleFile]>,
) -> Result<Record> {
    let draft = decision_draft(EntryKind::Decision, report, evidence, files, Map::new())?;
    let record = store.append(vec![draft])?.remove(0);
    report.audit = Some(AuditRef { store: store.location(), seq: record.entry.seq, hash: record.hash.clone() });
    Ok(record)
}

/// The distinct codes of the findings an entry recorded under `list` (`violations`,
/// `warnings`, `exceptions`), sorted.
pub fn codes(entry: &Entry, list: &str) -> Vec<String> {
    let mut codes: Vec<String> = entry
        .detail(list)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    codes.sort();
    codes.dedup();
    codes
}

/// How many findings an entry recorded under `list`.
pub fn count(entry: &Entry, list: &str) -> usize {
    entry.detail(list).and_then(Value::as_array).map_or(0, Vec::len)
}

/// The findings an entry recorded, in full: `{"violations": [...], "warnings": [...],
/// "exceptions": [...]}`; empty lists for an entry without findings.
pub fn stored_findings(store: &dyn Store, entry: &Entry) -> Result<Value> {
    let Some(digest) = entry.detail_str("findings") else {
        return Ok(json!({"violations": [], "warnings": [], "exceptions": []}));
    };
    let bytes = required_blob(store, digest, &format!("the findings of {} {}", entry.kind.as_str(), entry.id))?;
    serde_json::from_slice(&bytes).map_err(|error| {
        Error::new(ErrorKind::Store, format!("the findings {digest} are not JSON: {error}"))
            .hint("run `modelgate audit verify`")
    })
}

/// The report of a recorded decision (or re-evaluation), rebuilt from its entry and its
/// findings: what the report said when it was made, except the per-rule outcomes (the
/// entry keeps their counts; a replay gives them again) and the timings.
pub fn stored_report(store: &dyn Store, record: &Record) -> Result<Report> {
    let findings = stored_findings(store, &record.entry)?;
    let files = match &record.entry.bundle_digest {
        Some(digest) => store.bundle(digest)?.map_or(0, |manifest| manifest.files.len()),
        None => 0,
    };
    report_of(&record.entry, &record.hash, &findings, files, store.location())
}

/// [`stored_report`] from what it is made of: the entry, its hash, its findings, the
/// number of its bundle's files and the store's location (an evidence package has them
/// without the store).
pub fn report_of(entry: &Entry, hash: &str, findings: &Value, bundle_files: usize, location: String) -> Result<Report> {
    let decision = match entry.decision.as_deref() {
        Some("allow") => crate::decision::Decision::Allow,
        Some("deny") => crate::decision::Decision::Deny,
        Some("error") => crate::decision::Decision::Error,
        _ => {
            return Err(Error::new(ErrorKind::Store, format!("{} {} is not a decision", entry.kind.as_str(), entry.id))
                .hint("`modelgate audit log --kind decision` lists decisions"))
        }
    };
    let list = |name: &str| -> Result<Vec<crate::decision::Finding>> {
        serde_json::from_value(findings.get(name).cloned().unwrap_or(Value::Array(Vec::new()))).map_err(|error| {
            Error::new(ErrorKind::Store, format!("the {name} recorded by {} are not findings: {error}", entry.id))
                .hint("run `modelgate audit verify`")
        })
    };
    let text = |key: &str| entry.detail_str(key).map(str::to_string);
    let policy = entry.bundle_digest.as_ref().map(|digest| crate::decision::BundleInfo {
        path: text("policy_path").unwrap_or_else(|| "audit-store".to_string()),
        digest: digest.clone(),
        revision: entry.bundle_revision.clone(),
        subpath: text("policy_subpath"),
        dirty: entry.detail("policy_dirty").and_then(Value::as_bool),
        files: bundle_files,
    });

    Ok(Report {
        schema_version: crate::decision::REPORT_SCHEMA_VERSION.to_string(),
        decision,
        decision_id: entry.id.clone(),
        timestamp: text("timestamp").unwrap_or_else(|| entry.time.clone()),
        model: (!entry.model.is_empty()).then(|| crate::decision::ModelRef {
            name: entry.model.clone(),
            version: entry.version.clone(),
            owner: text("owner"),
            risk_tier: text("risk_tier").unwrap_or_default(),
        }),
        environment: entry.environment.clone(),
        policy,
        evidence_digest: entry.evidence_digest.clone(),
        evidence_source: text("evidence_source"),
        violations: list("violations")?,
        warnings: list("warnings")?,
        exceptions: list("exceptions")?,
        rules: Vec::new(),
        error: entry
            .detail("error")
            .filter(|error| !error.is_null())
            .and_then(|error| serde_json::from_value(error.clone()).ok()),
        timings: crate::decision::Timings::default(),
        tool: crate::decision::Tool { name: "modelgate".to_string(), version: entry.tool_version.clone() },
        audit: Some(AuditRef { store: location, seq: entry.seq, hash: hash.to_string() }),
    })
}

/// Reads an entry's evidence back from the store.
pub fn stored_evidence(store: &dyn Store, entry: &Entry) -> Result<Evidence> {
    let Some(digest) = &entry.evidence_digest else {
        return Err(Error::new(ErrorKind::Store, format!("{} {} recorded no evidence", entry.kind.as_str(), entry.id))
            .hint("only decisions made on an evidence document can be shown or re-evaluated"));
    };
    let bytes = required_blob(store, digest, &format!("the evidence of {} {}", entry.kind.as_str(), entry.id))?;
    parse_evidence(entry, &bytes)
}

/// An entry's evidence document from its stored bytes.
pub fn parse_evidence(entry: &Entry, bytes: &[u8]) -> Result<Evidence> {
    let digest = entry.evidence_digest.as_deref().unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::new(ErrorKind::Store, format!("the evidence {digest} is not UTF-8")).hint("run `modelgate audit verify`")
    })?;
    crate::evidence::parse(digest, text)
}

/// Reads a stored bundle's files back, in manifest order.
pub fn stored_bundle(store: &dyn Store, digest: &str) -> Result<(BundleManifest, Vec<BundleFile>)> {
    let manifest = store.bundle(digest)?.ok_or_else(|| {
        Error::new(ErrorKind::Store, format!("the policy bundle {digest} is not in the store"))
            .hint("the store has been altered: run `modelgate audit verify`")
    })?;
    let mut files = Vec::with_capacity(manifest.files.len());
    for file in &manifest.files {
        let bytes = required_blob(store, &file.digest, &format!("{} of bundle {digest}", file.path))?;
        // The kind follows from the path, as when the bundle was read: a manifest that says
        // otherwise was altered (`audit verify` names it), and must not change what is evaluated.
        let kind = FileKind::of(&file.path).filter(|kind| kind.as_str() == file.kind).ok_or_else(|| {
            Error::new(
                ErrorKind::Store,
                format!(
                    "bundle {digest}: the manifest says {} is `{}`, which its path does not allow",
                    file.path, file.kind
                ),
            )
            .hint("the store has been altered: run `modelgate audit verify`")
        })?;
        let contents = String::from_utf8(bytes).map_err(|_| {
            Error::new(ErrorKind::Store, format!("bundle {digest}: {} is not UTF-8", file.path))
                .hint("the store has been altered: run `modelgate audit verify`")
        })?;
        files.push(BundleFile { path: file.path.clone(), contents, kind });
    }
    Ok((manifest, files))
}

/// A blob an entry names, which must be there: its absence means the store was altered.
fn required_blob(store: &dyn Store, digest: &str, what: &str) -> Result<Vec<u8>> {
    store.blob(digest)?.ok_or_else(|| {
        Error::new(ErrorKind::Store, format!("{what} ({digest}) is missing from the store"))
            .hint("the store has been altered: run `modelgate audit verify`")
    })
}
