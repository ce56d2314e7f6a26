//! `modelgate audit package DECISION_ID`: one recorded decision as an evidence package
//! for an auditor or a regulator, and `audit package verify FILE.zip`, which re-checks it
//! offline.
//!
//! The package is a zip of:
//! - `decision/entry.json`, the decision's entry exactly as the chain holds it;
//! - `decision/findings.json` and `evidence/evidence.json`, its findings and the evidence it
//!   judged, byte for byte as stored under the digests the entry names;
//! - `policies/…`, the policy bundle's files at their revision;
//! - `chain/segment.jsonl`, the chain from the entry to the first signed checkpoint after it
//!   (each entry as stored, with its hash and the previous one), when one covers it;
//! - `keys/server.pub` and `attestation/attestation.json` when given;
//! - derived from those: `decision/report.json` and `decision/report.html` (the report as it
//!   was made, the rules' outcomes from a replay that reproduces it) and
//!   `controls/summary.json` and `controls/summary.md` (control by control: the rules that
//!   support it, their outcome, the evidence behind them);
//! - `manifest.json`: every file's SHA-256 and size, and what the package is of.
//!
//! Verification trusts nothing in the package that it can recompute: every primary file is
//! checked against the entry (and the entry against the chain, the chain against the
//! server's signed checkpoint), and every derived file is derived again and compared.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::audit::{decision_view, DecisionView};
use crate::artifacts::signing::keys::VerifyingKey;
use crate::audit::{self, chain, checkpoint, record, Entry, EntryKind, Filter, Record, Store};
use crate::decision::RuleStatus;
use crate::error::{Error, ErrorKind, Result};
use crate::exit::ExitStatus;
use crate::policy::bundle::{BundleFile, FileKind};
use crate::policy::controls::Controls;

pub const FORMAT: &str = "modelgate-evidence-package/1";
/// The frameworks `--framework` names without a policy repository of its own.
pub const FRAMEWORKS: &[&str] = &["eu-ai-act", "nist-ai-rmf", "iso-42001"];
/// Bounds on a package read back: it is untrusted input.
const MAX_PACKAGE: u64 = 1 << 30;
const MAX_FILES: usize = 10_000;
const MAX_FILE: u64 = 256 << 20;
/// The findings file of an entry that names none.
const NO_FINDINGS: &[u8] = b"{\"violations\":[],\"warnings\":[],\"exceptions\":[]}";
/// The most a package holds uncompressed, all files together.
const MAX_TOTAL: u64 = 2 << 30;
/// The longest chain segment a package carries (entry to checkpoint).
const MAX_SEGMENT: usize = 100_000;

/// What a package holds, beside the files' digests.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub tool: crate::decision::Tool,
    pub created: String,
    pub decision_id: String,
    pub model: String,
    pub version: String,
    pub environment: Option<String>,
    pub decision: Option<String>,
    /// The framework the control summary is limited to (all when absent).
    pub framework: Option<String>,
    /// The store the decision was read from, as the report names it.
    pub store: String,
    pub entry: ChainPosition,
    /// The signed checkpoint that covers the entry, when one does.
    pub checkpoint: Option<CheckpointRef>,
    /// The replay of the decision under its bundle: reproduced or not.
    pub replay: Option<Value>,
    pub files: Vec<PackedFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainPosition {
    pub seq: u64,
    pub hash: String,
    pub prev_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointRef {
    /// The checkpoint entry's own seq.
    pub entry_seq: u64,
    /// The head it signed: every entry up to this seq is covered.
    pub covers_seq: u64,
    pub key: String,
    pub time: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackedFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// `primary` (as recorded) or `derived` (rendered from the primary files).
    pub kind: String,
}

/// `audit package`: what to put in.
pub struct PackageRequest<'a> {
    pub id: &'a str,
    pub framework: Option<&'a str>,
    /// The DSSE envelope `check --server --attestation` wrote for this decision.
    pub attestation: Option<&'a Path>,
    /// The server's public key (`modelgate server key`), to carry and check with.
    pub public_key: Option<&'a Path>,
}

/// One chain link as a package carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentLine {
    seq: u64,
    prev_hash: String,
    hash: String,
    content: String,
}

/// The recorded files a package is made of, from which the rest is derived.
struct Primary {
    record: Record,
    location: String,
    findings: Vec<u8>,
    evidence: Option<Vec<u8>>,
    files: Vec<BundleFile>,
    framework: Option<String>,
}

/// Writes the package of decision `request.id` from `store` to `out`; returns its manifest.
pub fn package_in(store: &dyn Store, request: &PackageRequest, out: impl Write + Seek) -> Result<Manifest> {
    let record = store.get(request.id)?.ok_or_else(|| {
        Error::new(ErrorKind::Store, format!("no entry {} in the audit store {}", request.id, store.location()))
            .hint("`modelgate audit log --kind decision` lists decisions and their ids")
    })?;
    let entry = &record.entry;
    if !matches!(entry.kind, EntryKind::Decision | EntryKind::Reevaluation) || entry.bundle_digest.is_none() {
        return Err(Error::new(
            ErrorKind::Store,
            format!("{} is a {} entry, not a decision made under a policy bundle", entry.id, entry.kind.as_str()),
        )
        .hint("package a decision: `modelgate audit log --kind decision` lists them"));
    }
    let blob = |digest: &str, what: &str| -> Result<Vec<u8>> {
        store.blob(digest)?.ok_or_else(|| {
            Error::new(ErrorKind::Store, format!("{what} of {} ({digest}) is missing from the store", entry.id))
                .hint("the store has been altered: run `modelgate audit verify`")
        })
    };
    let findings = match entry.detail_str("findings") {
        Some(digest) => blob(digest, "the findings")?,
        None => NO_FINDINGS.to_vec(),
    };
    let evidence = entry.evidence_digest.as_deref().map(|digest| blob(digest, "the evidence")).transpose()?;
    let digest = entry.bundle_digest.as_deref().unwrap_or_default();
    let (_, files) = record::stored_bundle(store, digest)?;
    let primary = Primary {
        record: record.clone(),
        location: store.location(),
        findings,
        evidence,
        files,
        framework: request.framework.map(str::to_string),
    };
    let derived = derive(&primary)?;
    if let Some(framework) = request.framework {
        let controls = derived.view.controls.as_deref().ok_or_else(|| {
            Error::new(
                ErrorKind::Store,
                format!("{} cannot be replayed, so its bundle's controls are not known", entry.id),
            )
            .hint("package it without --framework: the summary then lists no controls")
        })?;
        check_framework(framework, controls)?;
    }
    let (segment, checkpoint_ref) = segment(store, &record)?;
    let mut files: Vec<(String, Vec<u8>, &str)> = vec![
        ("decision/entry.json".into(), record.content.clone().into_bytes(), "primary"),
        ("decision/findings.json".into(), primary.findings.clone(), "primary"),
    ];
    if let Some(evidence) = &primary.evidence {
        files.push(("evidence/evidence.json".into(), evidence.clone(), "primary"));
    }
    for file in &primary.files {
        files.push((format!("policies/{}", file.path), file.contents.clone().into_bytes(), "primary"));
    }
    let mut lines = String::new();
    for line in &segment {
        lines.push_str(&serde_json::to_string(line).unwrap_or_default());
        lines.push('\n');
    }
    files.push(("chain/segment.jsonl".into(), lines.into_bytes(), "primary"));
    let key = match request.public_key {
        Some(path) => {
            let text = crate::input::read_at_most(path, 64 << 10)?.ok_or_else(|| {
                Error::new(ErrorKind::Config, format!("{}: larger than 64 KiB, not a public key", path.display()))
                    .hint("pass the PEM file `modelgate server key` printed")
            })?;
            let key = VerifyingKey::read(path)?;
            files.push(("keys/server.pub".into(), text, "primary"));
            Some(key)
        }
        None => None,
    };
    if let Some(path) = request.attestation {
        let bytes = crate::input::read_at_most(path, 4 << 20)?.ok_or_else(|| {
            Error::new(ErrorKind::Config, format!("{}: larger than 4 MiB, not an attestation", path.display()))
                .hint("pass the attestation `modelgate check --server … --attestation FILE` wrote")
        })?;
        let problems = attestation_problems(&bytes, entry, &record.hash, key.as_ref());
        if let Some(problem) = problems.first() {
            return Err(Error::new(ErrorKind::Config, format!("{}: {problem}", path.display()))
                .hint("pass the attestation of this very decision (and --public-key, the server's key)"));
        }
        files.push(("attestation/attestation.json".into(), bytes, "primary"));
    }
    for (path, bytes) in derived.files {
        files.push((path, bytes, "derived"));
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        tool: crate::decision::Tool::default(),
        created: crate::decision::now_rfc3339(),
        decision_id: entry.id.clone(),
        model: entry.model.clone(),
        version: entry.version.clone(),
        environment: entry.environment.clone(),
        decision: entry.decision.clone(),
        framework: primary.framework.clone(),
        store: primary.location.clone(),
        entry: ChainPosition { seq: entry.seq, hash: record.hash.clone(), prev_hash: record.prev_hash.clone() },
        checkpoint: checkpoint_ref,
        replay: derived.view.replay.clone(),
        files: files
            .iter()
            .map(|(path, bytes, kind)| PackedFile {
                path: path.clone(),
                sha256: audit::sha256(bytes),
                size: bytes.len() as u64,
                kind: kind.to_string(),
            })
            .collect(),
    };
    write_zip(out, &manifest, &files)?;
    Ok(manifest)
}

/// `--framework` names one the bundle maps.
fn check_framework(framework: &str, controls: &Controls) -> Result<()> {
    if controls.frameworks.contains_key(framework) {
        return Ok(());
    }
    let known: Vec<&str> = controls.frameworks.keys().map(String::as_str).collect();
    let guess = crate::suggest::nearest(framework, known.iter().copied())
        .map(|near| format!("did you mean `{near}`? "))
        .unwrap_or_default();
    Err(Error::new(
        ErrorKind::Config,
        format!(
            "--framework {framework}: the decision's policy bundle maps no such framework ({})",
            crate::suggest::list(&known)
        ),
    )
    .hint(format!("{guess}the frameworks are those of the bundle's controls.yaml")))
}

fn write_zip(out: impl Write + Seek, manifest: &Manifest, files: &[(String, Vec<u8>, &str)]) -> Result<()> {
    let failed = |error: &dyn std::fmt::Display| {
        Error::new(ErrorKind::Io, format!("cannot write the package: {error}")).hint("check the --output path")
    };
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let manifest = serde_json::to_vec_pretty(manifest).map_err(|error| failed(&error))?;
    for (path, bytes) in
        std::iter::once(("manifest.json", &manifest)).chain(files.iter().map(|(p, b, _)| (p.as_str(), b)))
    {
        zip.start_file(path, options).map_err(|error| failed(&error))?;
        zip.write_all(bytes).map_err(|error| failed(&error))?;
    }
    zip.finish().map_err(|error| failed(&error))?;
    Ok(())
}

/// The chain from the entry to the first signed checkpoint after it, and that checkpoint;
/// the entry alone when no checkpoint covers it (yet, or ever: a local store has none).
fn segment(store: &dyn Store, record: &Record) -> Result<(Vec<SegmentLine>, Option<CheckpointRef>)> {
    let seq = record.entry.seq;
    let line = |record: &Record| SegmentLine {
        seq: record.entry.seq,
        prev_hash: record.prev_hash.clone(),
        hash: record.hash.clone(),
        content: record.content.clone(),
    };
    // Entries are stamped before the store numbers them: start a minute early.
    let since = chrono::DateTime::parse_from_rfc3339(&record.entry.time)
        .map(|time| (time - chrono::Duration::minutes(1)).with_timezone(&chrono::Utc))
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .ok();
    let mut covering = None;
    let filter = Filter { kinds: vec![EntryKind::Checkpoint], since: since.clone(), ..Filter::default() };
    store.scan(&filter, &mut |checkpoint| {
        let covers = checkpoint.entry.detail("seq").and_then(Value::as_u64).unwrap_or(0);
        if covers >= seq && checkpoint.entry.seq > seq {
            covering = Some(checkpoint);
            return Ok(false);
        }
        Ok(true)
    })?;
    let Some(checkpoint) = covering else { return Ok((vec![line(record)], None)) };
    if checkpoint.entry.seq - seq >= MAX_SEGMENT as u64 {
        return Ok((vec![line(record)], None));
    }
    let mut lines = Vec::new();
    store.scan(&Filter { since, ..Filter::default() }, &mut |each| {
        if each.entry.seq >= seq && each.entry.seq <= checkpoint.entry.seq {
            lines.push(line(&each));
        }
        Ok(each.entry.seq < checkpoint.entry.seq)
    })?;
    lines.sort_by_key(|line| line.seq);
    let reference = CheckpointRef {
        entry_seq: checkpoint.entry.seq,
        covers_seq: checkpoint.entry.detail("seq").and_then(Value::as_u64).unwrap_or(0),
        key: checkpoint.entry.detail_str("key").unwrap_or_default().to_string(),
        time: checkpoint.entry.detail_str("time").unwrap_or_default().to_string(),
    };
    Ok((lines, Some(reference)))
}

/// The files derived from the primary ones, and the view they came from.
struct Derived {
    files: Vec<(String, Vec<u8>)>,
    view: DecisionView,
}

fn derive(primary: &Primary) -> Result<Derived> {
    let entry = &primary.record.entry;
    let findings: Value = crate::strict::json_value(&primary.findings).map_err(|error| {
        Error::new(ErrorKind::Store, format!("the findings of {} are not JSON: {error}", entry.id))
            .hint("run `modelgate audit verify`")
    })?;
    let evidence = match &primary.evidence {
        Some(bytes) => Some(record::parse_evidence(entry, bytes)?),
        None => None,
    };
    let view = decision_view(
        &primary.record,
        primary.location.clone(),
        &findings,
        evidence.clone(),
        Some(primary.files.clone()),
    )?;
    let mut report = serde_json::to_vec_pretty(&view.report).unwrap_or_default();
    report.push(b'\n');
    let empty = Controls::default();
    let controls = view.controls.as_deref().unwrap_or(&empty);
    let summary = control_summary(&view.report, controls, primary.framework.as_deref(), evidence.as_ref());
    let mut summary_json = serde_json::to_vec_pretty(&summary).unwrap_or_default();
    summary_json.push(b'\n');
    let files = vec![
        ("decision/report.json".to_string(), report),
        ("decision/report.html".to_string(), view.page()?),
        ("controls/summary.json".to_string(), summary_json),
        ("controls/summary.md".to_string(), summary_markdown(&summary).into_bytes()),
    ];
    Ok(Derived { files, view })
}

/// Control by control: the rules that support it, their outcome and the evidence behind.
#[derive(Debug, Clone, Serialize)]
pub struct ControlSummary {
    pub decision_id: String,
    pub decision: String,
    pub evidence_digest: Option<String>,
    pub frameworks: Vec<FrameworkSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkSummary {
    pub name: String,
    pub title: String,
    pub controls: Vec<ControlOutcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlOutcome {
    pub id: String,
    pub title: String,
    /// `fail` when a supporting rule failed, else `warn`, `waived`, then `pass`; `not
    /// covered` when no rule of the decision supports it.
    pub outcome: String,
    pub rules: Vec<RuleEvidence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleEvidence {
    pub code: String,
    pub title: Option<String>,
    pub outcome: String,
    /// The findings of the rule: message, measured value, threshold.
    pub findings: Vec<Value>,
    /// The evidence section the rule judged (a JSON pointer into evidence/evidence.json).
    pub evidence: Option<String>,
}

/// Where in the evidence document each category's rules look.
fn evidence_section(category: &str, evidence: Option<&crate::evidence::Evidence>) -> Option<String> {
    let evidence = evidence?;
    let (pointer, present) = match category {
        "fairness" => ("/evaluation/fairness", evidence.evaluation.as_ref().is_some_and(|e| e.fairness.is_some())),
        "performance" => ("/evaluation", evidence.evaluation.is_some()),
        "data" => ("/data", evidence.data.is_some()),
        "security" => ("/artifacts", evidence.artifacts.is_some()),
        "documentation" => ("/documentation", evidence.documentation.is_some()),
        "config" => ("/model", true),
        _ => return None,
    };
    present.then(|| pointer.to_string())
}

pub fn control_summary(
    report: &crate::decision::Report,
    controls: &Controls,
    framework: Option<&str>,
    evidence: Option<&crate::evidence::Evidence>,
) -> ControlSummary {
    let mut frameworks = Vec::new();
    for (name, declared) in &controls.frameworks {
        if framework.is_some_and(|wanted| wanted != name) {
            continue;
        }
        let mut outcomes = Vec::new();
        for (id, title) in &declared.controls {
            let control = format!("{name}:{id}");
            let rules: Vec<RuleEvidence> = report
                .rules
                .iter()
                .filter(|rule| rule.controls.contains(&control))
                .map(|rule| {
                    let findings = [&report.violations, &report.warnings, &report.exceptions]
                        .into_iter()
                        .flatten()
                        .filter(|finding| finding.code == rule.code)
                        .map(|finding| {
                            json!({
                                "message": finding.msg,
                                "severity": finding.severity.as_str(),
                                "measured": finding.measured(),
                                "threshold": finding.threshold(),
                                "threshold_source": finding.threshold_source(),
                            })
                        })
                        .collect();
                    let category = rule.code.split('/').next().unwrap_or_default();
                    RuleEvidence {
                        code: rule.code.clone(),
                        title: rule.title.clone(),
                        outcome: rule.status.as_str().to_string(),
                        findings,
                        evidence: evidence_section(category, evidence),
                    }
                })
                .collect();
            let worst = [RuleStatus::Fail, RuleStatus::Warn, RuleStatus::Waived, RuleStatus::Pass]
                .into_iter()
                .find(|status| rules.iter().any(|rule| rule.outcome == status.as_str()))
                .map_or("not covered", RuleStatus::as_str);
            outcomes.push(ControlOutcome { id: id.clone(), title: title.clone(), outcome: worst.to_string(), rules });
        }
        frameworks.push(FrameworkSummary { name: name.clone(), title: declared.title.clone(), controls: outcomes });
    }
    ControlSummary {
        decision_id: report.decision_id.clone(),
        decision: report.decision.as_str().to_string(),
        evidence_digest: report.evidence_digest.clone(),
        frameworks,
    }
}

fn summary_markdown(summary: &ControlSummary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "# Controls: decision {} ({})\n", summary.decision_id, summary.decision);
    if let Some(digest) = &summary.evidence_digest {
        let _ = writeln!(out, "Evidence `{digest}` (evidence/evidence.json).\n");
    }
    for framework in &summary.frameworks {
        let _ = writeln!(out, "## {} ({})\n", framework.title, framework.name);
        let _ = writeln!(out, "| control | outcome | rules |\n|---|---|---|");
        for control in &framework.controls {
            let rules: Vec<String> =
                control.rules.iter().map(|rule| format!("`{}` {}", rule.code, rule.outcome)).collect();
            let _ = writeln!(
                out,
                "| {} {} | {} | {} |",
                control.id,
                control.title.replace('|', "\\|"),
                control.outcome,
                rules.join("<br>")
            );
        }
        out.push('\n');
    }
    out
}

// ------------------------------------------------------------------ verification

/// What `audit package verify` found: each check, passed or not, and why.
#[derive(Debug, Clone, Serialize)]
pub struct PackageVerification {
    pub package: String,
    pub decision_id: Option<String>,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl PackageVerification {
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|check| check.ok)
    }

    pub fn status(&self) -> ExitStatus {
        if self.ok() {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }

    fn check(&mut self, name: &str, problems: Vec<String>, ok_detail: String) {
        let ok = problems.is_empty();
        let detail = if ok { ok_detail } else { problems.join("; ") };
        self.checks.push(Check { name: name.to_string(), ok, detail });
    }

    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for check in &self.checks {
            let _ = writeln!(out, "{} {:<12} {}", if check.ok { "✓" } else { "✗" }, check.name, check.detail);
        }
        let _ = writeln!(
            out,
            "\n{}: {}",
            self.package,
            if self.ok() { "verified" } else { "NOT verified: the package was altered or is not of this decision" }
        );
        out
    }
}

/// Reads the package at `path` (bounded, a regular file) and verifies it; `key` is the
/// server's public key the verifier trusts (the package's own key is checked against it).
pub fn verify_file(
    path: &Path,
    key: Option<&VerifyingKey>,
    anchor: Option<&chain::Anchor>,
) -> Result<PackageVerification> {
    let bytes = crate::input::read_at_most(path, MAX_PACKAGE)?.ok_or_else(|| {
        Error::new(ErrorKind::Config, format!("{}: larger than 1 GiB, not an evidence package", path.display()))
            .hint("pass the .zip `modelgate audit package` wrote")
    })?;
    verify_bytes(&path.display().to_string(), &bytes, key, anchor)
}

/// Reads the zip: every file once, names that stay inside it, sizes bounded.
fn unzip(name: &str, bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>> {
    let unreadable = |message: String| {
        Error::new(ErrorKind::Config, format!("{name}: {message}"))
            .hint("pass the .zip `modelgate audit package` wrote")
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|error| unreadable(format!("not a zip archive ({error})")))?;
    if archive.len() > MAX_FILES {
        return Err(unreadable(format!("{} files, more than an evidence package holds", archive.len())));
    }
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|error| unreadable(format!("file {index}: {error}")))?;
        let path = file.name().to_string();
        if file.enclosed_name().is_none_or(|enclosed| enclosed.to_string_lossy() != path) || path.contains('\\') {
            return Err(unreadable(format!("`{path}` would be written outside the package")));
        }
        if file.is_dir() {
            continue;
        }
        if file.size() > MAX_FILE {
            return Err(unreadable(format!("{path} is larger than 256 MiB")));
        }
        let mut contents = Vec::new();
        file.by_ref()
            .take(MAX_FILE + 1)
            .read_to_end(&mut contents)
            .map_err(|error| unreadable(format!("{path}: {error}")))?;
        if contents.len() as u64 > MAX_FILE {
            return Err(unreadable(format!("{path} is larger than 256 MiB")));
        }
        total += contents.len() as u64;
        if total > MAX_TOTAL {
            return Err(unreadable("more than 2 GiB uncompressed, more than an evidence package holds".into()));
        }
        if files.insert(path.clone(), contents).is_some() {
            return Err(unreadable(format!("{path} is in the archive twice")));
        }
    }
    Ok(files)
}

/// [`verify_file`] on the package's bytes.
pub fn verify_bytes(
    name: &str,
    bytes: &[u8],
    trusted: Option<&VerifyingKey>,
    anchor: Option<&chain::Anchor>,
) -> Result<PackageVerification> {
    let files = unzip(name, bytes)?;
    let mut verification = PackageVerification { package: name.to_string(), decision_id: None, checks: Vec::new() };
    let manifest_path = Path::new("manifest.json");
    let Some(manifest_bytes) = files.get("manifest.json") else {
        verification.check("manifest", vec!["the package has no manifest.json".into()], String::new());
        return Ok(verification);
    };
    let manifest: Manifest = match std::str::from_utf8(manifest_bytes)
        .map_err(|_| Error::new(ErrorKind::Config, "manifest.json is not UTF-8"))
        .and_then(|text| {
            crate::strict::read(
                text,
                crate::strict::Syntax::Json,
                &crate::strict::Source::new(manifest_path, "the package manifest", ErrorKind::Config),
            )
        }) {
        Ok(manifest) => manifest,
        Err(error) => {
            verification.check("manifest", vec![error.message], String::new());
            return Ok(verification);
        }
    };
    verification.decision_id = Some(manifest.decision_id.clone());
    let mut problems = Vec::new();
    if manifest.format != FORMAT {
        problems.push(format!("format `{}`, this modelgate reads {FORMAT}", manifest.format));
    }
    // 1. Every file listed, as listed, and nothing else.
    let listed: BTreeSet<&str> = manifest.files.iter().map(|file| file.path.as_str()).collect();
    for file in &manifest.files {
        match files.get(&file.path) {
            None => problems.push(format!("{} is listed but missing", file.path)),
            Some(bytes) if audit::sha256(bytes) != file.sha256 || bytes.len() as u64 != file.size => {
                problems.push(format!("{} does not match its digest in manifest.json", file.path))
            }
            Some(_) => {}
        }
    }
    for path in files.keys().filter(|path| *path != "manifest.json" && !listed.contains(path.as_str())) {
        problems.push(format!("{path} is not listed in manifest.json"));
    }
    for file in &manifest.files {
        match kind_of(&file.path) {
            Some(kind) if kind == file.kind => {}
            Some(kind) => problems.push(format!("{} is {kind}, the manifest says {}", file.path, file.kind)),
            None => problems.push(format!("{} is not a file an evidence package holds", file.path)),
        }
    }
    verification.check("files", problems, format!("{} files match the manifest", manifest.files.len()));

    // 2. The entry: what the chain holds.
    let empty = Vec::new();
    let file = |path: &str| files.get(path).unwrap_or(&empty);
    let content = String::from_utf8(file("decision/entry.json").clone()).unwrap_or_default();
    let entry: Option<Entry> =
        crate::strict::json_value(content.as_bytes()).ok().and_then(|value| serde_json::from_value(value).ok());
    let Some(entry) = entry else {
        verification.check("entry", vec!["decision/entry.json is not an audit entry".into()], String::new());
        return Ok(verification);
    };
    let mut problems = Vec::new();
    if entry.id != manifest.decision_id {
        problems.push(format!("the entry is {}, the manifest says {}", entry.id, manifest.decision_id));
    }
    let described = (&manifest.model, &manifest.version, &manifest.environment, &manifest.decision);
    if described != (&entry.model, &entry.version, &entry.environment, &entry.decision) {
        problems.push("the manifest describes another model, environment or decision than the entry".into());
    }
    if chain::link(&manifest.entry.prev_hash, &content) != manifest.entry.hash || entry.seq != manifest.entry.seq {
        problems.push("the entry does not hash to its place in the chain".into());
    }
    verification.check(
        "entry",
        problems,
        format!(
            "{} {} at seq {} hashes to {}",
            entry.kind.as_str(),
            entry.id,
            entry.seq,
            chain::short(&manifest.entry.hash)
        ),
    );

    // 3. Evidence and findings: exactly what the entry names.
    let mut problems = Vec::new();
    match (&entry.evidence_digest, files.get("evidence/evidence.json")) {
        (Some(digest), Some(bytes)) if &audit::sha256(bytes) == digest => {}
        (Some(digest), Some(_)) => problems.push(format!("evidence/evidence.json is not the evidence {digest}")),
        (Some(digest), None) => problems.push(format!("the evidence {digest} is missing")),
        (None, Some(_)) => problems.push("the entry names no evidence, yet the package holds some".into()),
        (None, None) => {}
    }
    match entry.detail_str("findings") {
        Some(digest) if audit::sha256(file("decision/findings.json")) == digest => {}
        Some(digest) => problems.push(format!("decision/findings.json is not the findings {digest}")),
        None if file("decision/findings.json").as_slice() == NO_FINDINGS => {}
        None => problems.push("the entry names no findings, yet the package holds some".into()),
    }
    verification.check(
        "evidence",
        problems,
        format!(
            "the evidence {} and the findings are those the entry names",
            entry.evidence_digest.as_deref().unwrap_or("-")
        ),
    );

    // 4. The policy bundle at its revision.
    let mut problems = Vec::new();
    let mut bundle_files = Vec::new();
    for (path, bytes) in &files {
        let Some(relative) = path.strip_prefix("policies/") else { continue };
        match (FileKind::of(relative), String::from_utf8(bytes.clone())) {
            (Some(kind), Ok(contents)) => bundle_files.push(BundleFile { path: relative.to_string(), contents, kind }),
            _ => problems.push(format!("{path} is not a policy file")),
        }
    }
    bundle_files.sort_by(|a, b| a.path.cmp(&b.path));
    let digest = crate::policy::bundle::digest(&bundle_files);
    if entry.bundle_digest.as_deref() != Some(digest.as_str()) {
        problems.push(format!(
            "the policy files hash to {digest}, the entry names {}",
            entry.bundle_digest.as_deref().unwrap_or("none")
        ));
    }
    verification.check(
        "policies",
        problems,
        format!(
            "{} files hash to the bundle {}{}",
            bundle_files.len(),
            digest,
            entry.bundle_revision.as_deref().map(|revision| format!(" @ {revision}")).unwrap_or_default()
        ),
    );

    // 5. The chain from the entry to the checkpoint, and the server's signatures.
    let key = package_key(&files, trusted);
    let (problems, detail) = check_chain(file("chain/segment.jsonl"), &content, &manifest, key.as_ref());
    let chain_holds = problems.is_empty();
    verification.check("chain", problems, detail);
    if let Err(problem) = &key {
        verification.check("key", vec![problem.clone()], String::new());
    }
    // 5b. What vouches for the entry: something the verifier trusts, not the package.
    let (problems, detail) = anchored(
        &entry,
        &manifest,
        file("chain/segment.jsonl"),
        trusted,
        anchor,
        chain_holds,
        files.get("attestation/attestation.json"),
    );
    verification.check("anchor", problems, detail);

    // 6. The attestation, when there is one.
    if let Some(bytes) = files.get("attestation/attestation.json") {
        // Only the key the verifier trusts: the package's own key could be anyone's.
        let problems = attestation_problems(bytes, &entry, &manifest.entry.hash, trusted);
        verification.check("attestation", problems, "signed by your key, for this decision".into());
    }

    // 7. The derived files, derived again.
    let mut problems = Vec::new();
    if manifest.tool.version != env!("CARGO_PKG_VERSION") {
        problems.push(format!(
            "made by modelgate {}, this is {}: verify with the same version to re-derive the reports",
            manifest.tool.version,
            env!("CARGO_PKG_VERSION")
        ));
    } else {
        let record = Record {
            entry: entry.clone(),
            content: content.clone(),
            prev_hash: manifest.entry.prev_hash.clone(),
            hash: manifest.entry.hash.clone(),
            columns: audit::Columns::of(&entry),
        };
        let primary = Primary {
            record,
            location: manifest.store.clone(),
            findings: file("decision/findings.json").clone(),
            evidence: files.get("evidence/evidence.json").cloned(),
            files: bundle_files,
            framework: manifest.framework.clone(),
        };
        match derive(&primary) {
            Ok(derived) => {
                if derived.view.replay != manifest.replay {
                    problems.push("the manifest's replay is not what replaying the decision gives".into());
                }
                for (path, bytes) in &derived.files {
                    if files.get(path) != Some(bytes) {
                        problems.push(format!("{path} is not what the recorded decision renders to"));
                    }
                }
            }
            Err(error) => problems.push(format!("the reports cannot be derived again: {}", error.message)),
        }
    }
    verification.check(
        "reports",
        problems,
        "report.json, report.html and the control summary are what the recorded files render to".into(),
    );
    Ok(verification)
}

/// What a package may hold, and whether each file is recorded (`primary`) or rendered from
/// those (`derived`).
fn kind_of(path: &str) -> Option<&'static str> {
    match path {
        "decision/entry.json"
        | "decision/findings.json"
        | "evidence/evidence.json"
        | "chain/segment.jsonl"
        | "keys/server.pub"
        | "attestation/attestation.json" => Some("primary"),
        "decision/report.json" | "decision/report.html" | "controls/summary.json" | "controls/summary.md" => {
            Some("derived")
        }
        _ if path.strip_prefix("policies/").is_some_and(|rest| FileKind::of(rest).is_some()) => Some("primary"),
        _ => None,
    }
}

/// Whether something the verifier trusts vouches for the entry: the server's checkpoint
/// covering it or the server's signature on it, checked with the key the verifier gave; or
/// an anchor (`SEQ:HASH`) the verifier kept, of the entry or of a later link of the
/// segment. The package's own key proves nothing: whoever made the package could have made
/// the key.
fn anchored(
    entry: &Entry,
    manifest: &Manifest,
    segment: &[u8],
    trusted: Option<&VerifyingKey>,
    anchor: Option<&chain::Anchor>,
    chain_holds: bool,
    attestation: Option<&Vec<u8>>,
) -> (Vec<String>, String) {
    if let Some(anchor) = anchor {
        let links: Vec<(u64, String)> = std::str::from_utf8(segment)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<SegmentLine>(line).ok())
            .map(|line| (line.seq, line.hash))
            .collect();
        let held = links.iter().any(|(seq, hash)| *seq == anchor.seq && *hash == anchor.hash);
        return if held && chain_holds {
            (Vec::new(), format!("the anchor {}:{} you gave is in the chain", anchor.seq, chain::short(&anchor.hash)))
        } else {
            (
                vec![format!("the anchor {}:{} you gave is not in the package's chain", anchor.seq, anchor.hash)],
                String::new(),
            )
        };
    }
    if let Some(key) = trusted {
        if manifest.checkpoint.is_some() && chain_holds {
            return (Vec::new(), format!("the checkpoint signed by your key sha256:{} covers it", key.hint()));
        }
        // The server's signature on an entry does not cover its place in the chain (it
        // signs the entry before the store numbers it); the attestation does.
        if attestation
            .is_some_and(|bytes| attestation_problems(bytes, entry, &manifest.entry.hash, Some(key)).is_empty())
        {
            return (Vec::new(), format!("the attestation signed by your key sha256:{} names this entry", key.hint()));
        }
        return (
            vec![format!(
                "no checkpoint signed by your key sha256:{} covers the entry yet (package it again after the server's next checkpoint), and no attestation of it is included",
                key.hint()
            )],
            String::new(),
        );
    }
    (
        vec!["nothing you trust vouches for the entry: pass --public-key (the server's key) or --anchor SEQ:HASH (the decision's audit seq and hash, as its report gave them)".into()],
        String::new(),
    )
}

/// The key to check signatures with: the verifier's, which the package's key (if any)
/// must be; else the package's own. `Ok(None)` when there is none.
fn package_key(
    files: &BTreeMap<String, Vec<u8>>,
    trusted: Option<&VerifyingKey>,
) -> std::result::Result<Option<VerifyingKey>, String> {
    let carried = match files.get("keys/server.pub") {
        Some(bytes) => Some(
            std::str::from_utf8(bytes)
                .ok()
                .and_then(VerifyingKey::from_pem)
                .ok_or("keys/server.pub is not a public key")?,
        ),
        None => None,
    };
    match (trusted, carried) {
        (Some(trusted), Some(carried)) if trusted.hint() != carried.hint() => Err(format!(
            "the package carries key sha256:{}, not the key you trust (sha256:{})",
            carried.hint(),
            trusted.hint()
        )),
        (Some(trusted), _) => Ok(Some(trusted.clone())),
        (None, carried) => Ok(carried),
    }
}

fn check_chain(
    segment: &[u8],
    content: &str,
    manifest: &Manifest,
    key: std::result::Result<&Option<VerifyingKey>, &String>,
) -> (Vec<String>, String) {
    let mut problems = Vec::new();
    let lines: Vec<SegmentLine> = match std::str::from_utf8(segment) {
        Ok(text) => text
            .lines()
            .filter_map(|line| {
                let parsed = crate::strict::json_value(line.as_bytes())
                    .ok()
                    .and_then(|value| serde_json::from_value(value).ok());
                if parsed.is_none() {
                    problems.push("chain/segment.jsonl has a line that is not a chain link".to_string());
                }
                parsed
            })
            .collect(),
        Err(_) => {
            problems.push("chain/segment.jsonl is not UTF-8".into());
            Vec::new()
        }
    };
    match lines.first() {
        Some(first)
            if first.content == content
                && first.seq == manifest.entry.seq
                && first.hash == manifest.entry.hash
                && first.prev_hash == manifest.entry.prev_hash => {}
        _ => problems.push("the chain segment does not start at the decision's entry".into()),
    }
    for pair in lines.windows(2) {
        if pair[0].seq.checked_add(1) != Some(pair[1].seq) || pair[1].prev_hash != pair[0].hash {
            problems.push(format!("the chain breaks between seq {} and {}", pair[0].seq, pair[1].seq));
        }
    }
    for line in &lines {
        if chain::link(&line.prev_hash, &line.content) != line.hash {
            problems.push(format!("entry {} does not hash to its link", line.seq));
        }
    }
    let key = key.ok().cloned().flatten();
    let mut signed = 0;
    for line in &lines {
        let Ok(entry) = serde_json::from_str::<Entry>(&line.content) else {
            problems.push(format!("entry {} is not an audit entry", line.seq));
            continue;
        };
        if entry.detail(checkpoint::SIGNATURE_DETAIL).is_some() {
            match &key {
                Some(key) if checkpoint::signed_by(&entry, key) => signed += 1,
                Some(_) => problems.push(format!("entry {} is not signed by the server's key", line.seq)),
                None => problems.push(format!(
                    "entry {} carries the server's signature and no key was given to check it: pass --public-key",
                    line.seq
                )),
            }
        }
    }
    let detail = match &manifest.checkpoint {
        None => {
            if lines.len() != 1 {
                problems.push("the segment runs past the entry without a checkpoint".into());
            }
            "no signed checkpoint covers the decision (a local store has none; a server signs one every N entries)"
                .to_string()
        }
        Some(reference) => {
            let last = lines.last();
            let checkpoint_entry = last.and_then(|line| serde_json::from_str::<Entry>(&line.content).ok());
            match (checkpoint_entry, &key) {
                (Some(entry), Some(key)) if entry.kind == EntryKind::Checkpoint && entry.seq == reference.entry_seq => {
                    let covers = entry.detail("seq").and_then(Value::as_u64).unwrap_or(0);
                    let hash = entry.detail_str("hash").unwrap_or_default();
                    let time = entry.detail_str("time").unwrap_or_default();
                    let signature = entry.detail_str("signature").unwrap_or_default();
                    let authentic = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, signature)
                        .is_ok_and(|signature| key.verify(checkpoint::message(covers, hash, time).as_bytes(), &signature));
                    if !authentic {
                        problems.push(format!("the checkpoint at seq {} is not signed by sha256:{}", entry.seq, key.hint()));
                    }
                    if reference.covers_seq != covers
                        || reference.time != time
                        || reference.key != entry.detail_str("key").unwrap_or_default()
                    {
                        problems.push("the manifest's checkpoint is not the checkpoint entry's".into());
                    }
                    match lines.iter().find(|line| line.seq == covers) {
                        Some(line) if line.hash == hash && covers >= manifest.entry.seq => {}
                        _ => problems.push(format!("the checkpoint signs seq {covers}, which the segment does not hold as signed")),
                    }
                }
                (_, None) => problems.push("the decision is covered by a signed checkpoint and no key was given to check it: pass --public-key".into()),
                _ => problems.push("the segment does not end with the checkpoint the manifest names".into()),
            }
            format!(
                "{} links from seq {} to the checkpoint at seq {}, signed by {} ({} entries signed)",
                lines.len(),
                manifest.entry.seq,
                reference.entry_seq,
                key.as_ref().map(|key| format!("sha256:{}", key.hint())).unwrap_or_else(|| "?".into()),
                signed
            )
        }
    };
    (problems, detail)
}

/// Why an attestation does not vouch for this decision (empty when it does).
fn attestation_problems(bytes: &[u8], entry: &Entry, hash: &str, key: Option<&VerifyingKey>) -> Vec<String> {
    let Some(key) = key else {
        return vec!["an attestation is only checked with the server's key: pass --public-key".into()];
    };
    let statement = match crate::attestation::authentic_statement(bytes, key) {
        Ok(statement) => statement,
        Err(reason) => return vec![reason],
    };
    let extension =
        statement.get("predicate").and_then(|predicate| predicate.get(crate::attestation::DECISION_EXTENSION));
    let extension = extension.cloned().unwrap_or(Value::Null);
    let mut problems = Vec::new();
    let text = |pointer: &str| extension.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    if text("/decision_id").as_deref() != Some(entry.id.as_str()) {
        problems.push(format!("it attests decision {}, not {}", text("/decision_id").unwrap_or_default(), entry.id));
    }
    if text("/evidence_digest") != entry.evidence_digest || text("/bundle_digest") != entry.bundle_digest {
        problems.push("its evidence or bundle digest is not the entry's".into());
    }
    if extension.pointer("/audit/seq").and_then(Value::as_u64) != Some(entry.seq)
        || text("/audit/hash").as_deref() != Some(hash)
    {
        problems.push("its chain position is not the entry's".into());
    }
    problems
}
