//! The policy lifecycle: every deployed model judged again when the policies change
//! (`reevaluate`, recorded), or under proposed policies (`policy impact`, not recorded).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::record::{self, codes};
use super::{BundleManifest, Entry, EntryKind, Filter, Record, Store};
use crate::decision::{Decision, Finding, Report};
use crate::error::Result;
use crate::evidence::Evidence;
use crate::policy::{fleet, Gate};

/// What became of a deployed model under the policies judged now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It complied and no longer does.
    NewlyNonCompliant,
    /// The judgement failed (fail closed: not compliant).
    Error,
    /// It already did not comply at the last re-evaluation.
    StillNonCompliant,
    /// It did not comply at the last re-evaluation and now does.
    NewlyCompliant,
    StillCompliant,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NewlyNonCompliant => "newly non-compliant",
            Status::Error => "error",
            Status::StillNonCompliant => "still non-compliant",
            Status::NewlyCompliant => "newly compliant",
            Status::StillCompliant => "still compliant",
        }
    }

    pub fn complies(self) -> bool {
        matches!(self, Status::NewlyCompliant | Status::StillCompliant)
    }
}

/// One deployed model judged again.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    pub model: String,
    pub version: String,
    pub environment: String,
    pub owner: Option<String>,
    pub status: Status,
    pub deployment_id: String,
    pub deployed_at: String,
    /// The decision it was deployed by.
    pub original_decision_id: String,
    /// The last judgement before this one: the original decision or the last re-evaluation.
    pub previous_decision_id: String,
    pub previous_decision: String,
    pub previous_bundle: BundleRef,
    pub bundle: BundleRef,
    /// Violations now that the previous judgement did not have.
    pub new_violations: Vec<Finding>,
    /// Codes the previous judgement violated that pass now.
    pub resolved: Vec<String>,
    /// Policy files that differ between the previous judgement's bundle and this one:
    /// `A path`, `D path`, `M path`.
    pub changed_files: Vec<String>,
    /// The judgement itself.
    pub report: Report,
    #[serde(skip)]
    pub evidence_digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleRef {
    pub digest: String,
    pub revision: Option<String>,
}

/// A deployment in force, with what it was last judged by.
struct Deployed {
    deployment: Entry,
    original: Record,
    previous: Record,
}

/// Deployed models judged at a time: each chunk's evidence is read, judged, recorded and
/// rendered before the next is read, so a re-evaluation's memory does not grow with the
/// fleet (a chunk of evidence documents and their reports, a few hundred KiB each).
pub const CHUNK: usize = 256;

/// The store reads of a re-evaluation alone (for benchmarks): how many deployments are in
/// force, with their evidence read and parsed.
pub fn read_deployed(store: &dyn Store) -> Result<usize> {
    let deployments = deployed_entries(store, None)?;
    let mut count = 0;
    for chunk in deployments.chunks(CHUNK) {
        count += load(store, chunk)?.1.len();
    }
    Ok(count)
}

/// Every deployment in force, as entries: what a re-evaluation keeps of the whole fleet
/// while it judges it a chunk at a time (not the stored JSON, hashes and columns too).
fn deployed_entries(store: &dyn Store, environment: Option<&str>) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    store.each_deployment_at(None, environment, None, &mut |record| {
        entries.push(record.entry);
        Ok(())
    })?;
    Ok(entries)
}

/// The deployments of `chunk` with their latest judgement, and the evidence each was decided on.
fn load(store: &dyn Store, chunk: &[Entry]) -> Result<(Vec<Deployed>, Vec<Evidence>)> {
    // Each deployment's latest re-evaluation: the newest for its model and environment
    // that names it (an index walk per deployment, however long the history).
    let mut latest_reevaluation: BTreeMap<String, Record> = BTreeMap::new();
    for entry in chunk {
        let filter = Filter {
            kinds: vec![EntryKind::Reevaluation],
            model: Some(entry.model.clone()),
            environment: entry.environment.clone(),
            newest_first: true,
            ..Filter::default()
        };
        store.scan(&filter, &mut |record| {
            if record.entry.seq < entry.seq {
                return Ok(false);
            }
            if record.entry.detail_str("deployment_id") == Some(entry.id.as_str()) {
                latest_reevaluation.insert(entry.id.clone(), record);
                return Ok(false);
            }
            Ok(true)
        })?;
    }
    let mut originals = Vec::with_capacity(chunk.len());
    for deployment in chunk {
        let decision_id = deployment.detail_str("decision_id").unwrap_or_default().to_string();
        let original = store.get(&decision_id)?.ok_or_else(|| {
            crate::error::Error::new(
                crate::error::ErrorKind::Store,
                format!("deployment {} names decision {decision_id}, which is not in the store", deployment.id),
            )
            .hint("the store has been altered: run `modelgate audit verify`")
        })?;
        originals.push(original);
    }
    // The evidence documents: read in one pass, decompressed and parsed on every core.
    let digests: Vec<String> =
        originals.iter().map(|original| original.entry.evidence_digest.clone().unwrap_or_default()).collect();
    let blobs = store.blobs(&digests)?;
    let inputs: Vec<(&Record, Option<Vec<u8>>)> = originals.iter().zip(blobs).collect();
    let documents = super::parallel_map(&inputs, |(original, bytes)| match bytes {
        Some(bytes) => record::parse_evidence(&original.entry, bytes),
        None => Err(crate::error::Error::new(
            crate::error::ErrorKind::Store,
            format!("the evidence of decision {} is missing from the store", original.entry.id),
        )
        .hint("the store has been altered: run `modelgate audit verify`")),
    });
    drop(inputs);
    let documents = documents.into_iter().collect::<Result<Vec<Evidence>>>()?;
    let mut fleet = Vec::with_capacity(chunk.len());
    for (deployment, original) in chunk.iter().cloned().zip(originals) {
        let previous = latest_reevaluation.remove(&deployment.id).unwrap_or_else(|| original.clone());
        fleet.push(Deployed { deployment, original, previous });
    }
    Ok((fleet, documents))
}

/// Sets what depends on the time of judgement: `collected_at` (review dates are judged
/// against it) and each document's age.
pub fn redate(evidence: &mut Evidence, now: DateTime<Utc>) {
    evidence.collected_at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(documentation) = evidence.documentation.as_mut() {
        let today = now.date_naive();
        for document in
            [&mut documentation.model_card, &mut documentation.datasheet, &mut documentation.risk_assessment]
                .into_iter()
                .flatten()
        {
            crate::docs::read::date(document, today);
        }
    }
}

/// The manifest `gate`'s bundle would be stored under.
pub fn manifest_of(gate: &Gate) -> BundleManifest {
    record::bundle_content(&gate.bundle.digest, &gate.files).0
}

/// `A path`, `D path`, `M path` for each file that differs between two bundles.
pub fn changed_files(before: Option<&BundleManifest>, after: &BundleManifest) -> Vec<String> {
    let Some(before) = before else {
        return Vec::new();
    };
    let old: BTreeMap<&str, &str> = before.files.iter().map(|f| (f.path.as_str(), f.digest.as_str())).collect();
    let new: BTreeMap<&str, &str> = after.files.iter().map(|f| (f.path.as_str(), f.digest.as_str())).collect();
    let paths: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    paths
        .into_iter()
        .filter_map(|path| match (old.get(path), new.get(path)) {
            (None, Some(_)) => Some(format!("A {path}")),
            (Some(_), None) => Some(format!("D {path}")),
            (Some(a), Some(b)) if a != b => Some(format!("M {path}")),
            _ => None,
        })
        .collect()
}

/// Judges every deployed model under `gate` as of `now`, all at once (for a small fleet
/// and for benchmarks; [`judge_each`] bounds the memory).
pub fn judge(store: &dyn Store, gate: &Gate, now: DateTime<Utc>) -> Result<Vec<Judgement>> {
    let deployments = deployed_entries(store, None)?;
    let manifest = manifest_of(gate);
    let mut manifests = BTreeMap::new();
    let mut judgements = Vec::with_capacity(deployments.len());
    for chunk in deployments.chunks(CHUNK) {
        judgements.extend(judge_chunk(store, gate, &manifest, now, chunk, &mut manifests)?);
    }
    Ok(judgements)
}

/// What [`judge_each`] does with each chunk of judgements, with the store to write to.
pub type JudgedChunk<'a> = dyn FnMut(&mut dyn Store, Vec<Judgement>) -> Result<()> + 'a;

/// Judges every model deployed (in `environment`, when given) under `gate` as of `now`,
/// [`CHUNK`] at a time, handing each chunk to `each` (which records, alerts and renders it)
/// before the next is read. Returns how many were judged.
pub fn judge_each(
    store: &mut dyn Store,
    gate: &Gate,
    environment: Option<&str>,
    now: DateTime<Utc>,
    each: &mut JudgedChunk,
) -> Result<usize> {
    let deployments = deployed_entries(store, environment)?;
    let manifest = manifest_of(gate);
    let mut manifests = BTreeMap::new();
    for chunk in deployments.chunks(CHUNK) {
        let judgements = judge_chunk(&*store, gate, &manifest, now, chunk, &mut manifests)?;
        each(store, judgements)?;
    }
    Ok(deployments.len())
}

/// Judges the deployments of `chunk` under `gate` (whose stored form is `manifest`);
/// `manifests` caches the stored bundles compared against.
fn judge_chunk(
    store: &dyn Store,
    gate: &Gate,
    manifest: &BundleManifest,
    now: DateTime<Utc>,
    chunk: &[Entry],
    manifests: &mut BTreeMap<String, Option<BundleManifest>>,
) -> Result<Vec<Judgement>> {
    let (fleet, mut documents) = load(store, chunk)?;
    for evidence in &mut documents {
        redate(evidence, now);
    }
    let reports = fleet::evaluate_all(gate, &documents, None, now.date_naive());
    drop(documents);
    let bundle = BundleRef { digest: gate.bundle.digest.clone(), revision: gate.bundle.revision.clone() };
    let mut judgements = Vec::with_capacity(fleet.len());
    for (deployed, report) in fleet.into_iter().zip(reports) {
        let previous = &deployed.previous.entry;
        let previous_digest = previous.bundle_digest.clone().unwrap_or_default();
        if !manifests.contains_key(&previous_digest) {
            manifests.insert(previous_digest.clone(), store.bundle(&previous_digest)?);
        }
        let before = manifests.get(&previous_digest).and_then(Option::as_ref);
        let previous_codes: BTreeSet<String> = codes(previous, "violations").into_iter().collect();
        let now_codes: BTreeSet<&str> = report.violations.iter().map(|finding| finding.code.as_str()).collect();
        let previous_complied = previous.decision.as_deref() == Some("allow");
        let status = match (report.decision, previous_complied) {
            (Decision::Error, _) => Status::Error,
            (Decision::Allow, true) => Status::StillCompliant,
            (Decision::Allow, false) => Status::NewlyCompliant,
            (Decision::Deny, true) => Status::NewlyNonCompliant,
            (Decision::Deny, false) => Status::StillNonCompliant,
        };
        let entry = &deployed.deployment;
        judgements.push(Judgement {
            model: entry.model.clone(),
            version: entry.version.clone(),
            environment: entry.environment.clone().unwrap_or_default(),
            owner: deployed.original.entry.detail_str("owner").map(str::to_string),
            status,
            deployment_id: entry.id.clone(),
            deployed_at: entry.time.clone(),
            original_decision_id: deployed.original.entry.id.clone(),
            previous_decision_id: previous.id.clone(),
            previous_decision: previous.decision.clone().unwrap_or_default(),
            previous_bundle: BundleRef { digest: previous_digest, revision: previous.bundle_revision.clone() },
            bundle: bundle.clone(),
            new_violations: report
                .violations
                .iter()
                .filter(|finding| !previous_codes.contains(&finding.code))
                .cloned()
                .collect(),
            resolved: previous_codes.iter().filter(|code| !now_codes.contains(code.as_str())).cloned().collect(),
            changed_files: changed_files(before, manifest),
            report,
            evidence_digest: deployed.original.entry.evidence_digest.clone(),
        });
    }
    Ok(judgements)
}

/// Records each judgement as a re-evaluation decision linked to its deployment, all in
/// one transaction; the bundle's files go with the first when the store does not hold the
/// bundle yet (a fleet recorded chunk by chunk stores and checks them once).
pub fn record(store: &mut dyn Store, gate: &Gate, judgements: &mut [Judgement], now: DateTime<Utc>) -> Result<()> {
    let bundle_stored = store.bundle(&gate.bundle.digest)?.is_some();
    let mut drafts = Vec::with_capacity(judgements.len());
    for (index, judgement) in judgements.iter().enumerate() {
        let mut details = Map::new();
        details.insert("deployment_id".into(), json!(judgement.deployment_id));
        details.insert("original_decision_id".into(), json!(judgement.original_decision_id));
        details.insert("previous_decision_id".into(), json!(judgement.previous_decision_id));
        details.insert("previous_bundle_digest".into(), json!(judgement.previous_bundle.digest));
        details.insert("status".into(), json!(judgement.status));
        details.insert("judged_at".into(), json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        details.insert("changed_files".into(), json!(judgement.changed_files));
        details.insert("resolved".into(), json!(judgement.resolved));
        let files = (index == 0 && !bundle_stored).then_some(gate.files.as_slice());
        // The evidence is the deployment's, re-dated to `judged_at`: the stored document
        // plus that time replays the judgement, so no new copy is stored.
        let mut draft = record::decision_draft(EntryKind::Reevaluation, &judgement.report, None, files, details)?;
        draft.entry.evidence_digest = judgement.evidence_digest.clone();
        draft.entry.requester = Some("reevaluate".into());
        if let Some(details) = draft.entry.details.as_object_mut() {
            details.insert("judged_evidence_digest".into(), json!(judgement.report.evidence_digest));
        }
        drafts.push(draft);
    }
    if drafts.is_empty() {
        return Ok(());
    }
    let records = store.append(drafts)?;
    for (judgement, record) in judgements.iter_mut().zip(records) {
        judgement.report.decision_id = record.entry.id;
    }
    Ok(())
}

/// Whether `notifier` already delivered an alert for this deployment under `bundle`.
pub fn already_alerted(store: &dyn Store, judgement: &Judgement, notifier: &str) -> Result<bool> {
    let filter = Filter {
        kinds: vec![EntryKind::Alert],
        model: Some(judgement.model.clone()),
        environment: Some(judgement.environment.clone()),
        newest_first: true,
        ..Filter::default()
    };
    let mut delivered = false;
    store.scan(&filter, &mut |record| {
        let entry = &record.entry;
        if entry.bundle_digest.as_deref() == Some(judgement.bundle.digest.as_str())
            && entry.detail_str("deployment_id") == Some(judgement.deployment_id.as_str())
        {
            let deliveries = entry.detail("deliveries").and_then(Value::as_array);
            delivered = deliveries.is_some_and(|deliveries| {
                deliveries.iter().any(|delivery| {
                    delivery.get("notifier").and_then(Value::as_str) == Some(notifier)
                        && delivery.get("status").and_then(Value::as_str) == Some("delivered")
                })
            });
        }
        Ok(!delivered)
    })?;
    Ok(delivered)
}
