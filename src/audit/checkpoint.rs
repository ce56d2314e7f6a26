//! What `modelgate server` vouches for with its key, so that its store can be checked
//! without a hand-kept anchor:
//! - every entry it appends carries its signature ([`Signed`]): an entry written straight
//!   into the database by anyone without the key, or altered, fails;
//! - the chain's head (seq, hash, time) is signed and appended as a checkpoint at least
//!   every N entries, on every bundle activation and when the server stops: a history
//!   rewritten before a checkpoint no longer matches it.
//!
//! `audit verify --public-key` checks both.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;

use super::chain::Problem;
use super::{Draft, Entry, EntryKind, Filter, Store};
use crate::artifacts::signing::keys::{SigningKey, VerifyingKey};
use crate::error::Result;

/// What the signature covers.
pub fn message(seq: u64, hash: &str, time: &str) -> String {
    format!("modelgate-checkpoint/v1\n{seq}\n{hash}\n{time}\n")
}

/// A checkpoint of `store`'s head signed with `key`; `None` for an empty store.
pub fn draft(store: &dyn Store, key: &SigningKey) -> Result<Option<Draft>> {
    let Some((seq, hash)) = store.head()? else { return Ok(None) };
    let time = super::now();
    let signature = BASE64.encode(key.sign(message(seq, &hash, &time).as_bytes()));
    let mut entry = Entry::new(EntryKind::Checkpoint, "", "", None);
    entry.details = json!({
        "seq": seq,
        "hash": hash,
        "time": time,
        "key": format!("sha256:{}", key.verifying_key().hint()),
        "signature": signature,
    });
    Ok(Some(Draft { entry, blobs: Vec::new(), bundle: None }))
}

/// The newest checkpoint entry.
pub fn latest(store: &dyn Store) -> Result<Option<Entry>> {
    let filter = Filter { kinds: vec![EntryKind::Checkpoint], newest_first: true, limit: Some(1), ..Filter::default() };
    super::first_entry(store, &filter)
}

/// Entries appended after the newest checkpoint (all of them when there is none).
pub fn uncovered(store: &dyn Store) -> Result<u64> {
    let head = store.head()?.map_or(0, |(seq, _)| seq);
    Ok(head - latest(store)?.map_or(0, |entry| entry.seq.min(head)))
}

/// What the checkpoints say about the chain.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// `sha256:` fingerprint of the key they were checked with.
    pub key: String,
    /// Checkpoints whose signature and (seq, hash) hold.
    pub verified: u64,
    /// Entries carrying a valid signature of the server.
    pub signed_entries: u64,
    /// The newest checkpoint: the entry's seq and when it was signed.
    pub latest_seq: Option<u64>,
    pub latest_time: Option<String>,
    /// Entries after the newest checkpoint: not yet signed for (a running server writes
    /// one at least every N decisions, and when it stops).
    pub after_latest: u64,
}

/// Checks every checkpoint against `key` and the chain; each one that does not hold is a
/// problem. A store without any checkpoint is a problem too: `--public-key` says the store
/// is a server's, and a server's store has them.
pub fn verify(store: &dyn Store, key: &VerifyingKey, problems: &mut Vec<Problem>) -> Result<Summary> {
    let mut checkpoints = Vec::new();
    store.scan(&Filter { kinds: vec![EntryKind::Checkpoint], ..Filter::default() }, &mut |record| {
        checkpoints.push(record.entry);
        Ok(true)
    })?;
    let mut summary = Summary { key: format!("sha256:{}", key.hint()), ..Summary::default() };
    // One pass over the chain: the hashes it holds at the checkpointed positions, and
    // every entry's signature.
    let wanted: std::collections::BTreeSet<u64> =
        checkpoints.iter().filter_map(|entry| entry.detail("seq").and_then(serde_json::Value::as_u64)).collect();
    let mut hashes = std::collections::BTreeMap::new();
    let mut started = false;
    store.scan_links(&mut |link| {
        if wanted.contains(&link.columns.seq) {
            hashes.insert(link.columns.seq, link.hash.clone());
        }
        // Entries from the first the server signed on must all be signed by it; an entry
        // that does not read is chain::verify's finding.
        let Ok(entry) = serde_json::from_str::<Entry>(&link.content) else { return };
        if signed_by(&entry, key) {
            started = true;
            summary.signed_entries += 1;
        } else if started || entry.detail(SIGNATURE_DETAIL).is_some() {
            problems.push(Problem {
                seq: Some(entry.seq),
                id: Some(entry.id.clone()),
                digest: None,
                message: "not signed by the server's key: written straight into the store, or altered".into(),
            });
        }
    })?;
    for entry in &checkpoints {
        let problem =
            |message: String| Problem { seq: Some(entry.seq), id: Some(entry.id.clone()), digest: None, message };
        let seq = entry.detail("seq").and_then(serde_json::Value::as_u64);
        let (Some(seq), Some(hash), Some(time), Some(signature)) =
            (seq, entry.detail_str("hash"), entry.detail_str("time"), entry.detail_str("signature"))
        else {
            problems.push(problem("a checkpoint without seq, hash, time and signature".into()));
            continue;
        };
        let signed =
            BASE64.decode(signature).is_ok_and(|signature| key.verify(message(seq, hash, time).as_bytes(), &signature));
        if !signed {
            problems.push(problem(format!(
                "the checkpoint of entry {seq} is not signed by the given key ({}): it was forged or altered",
                summary.key
            )));
            continue;
        }
        match hashes.get(&seq) {
            Some(actual) if actual == hash => summary.verified += 1,
            Some(actual) => problems.push(problem(format!(
                "the server signed entry {seq} as {} but the chain holds {}: the history before it was rewritten",
                super::chain::short(hash),
                super::chain::short(actual)
            ))),
            None => problems
                .push(problem(format!("the server signed entry {seq}, which is not in the chain: it was deleted"))),
        }
    }
    match checkpoints.last() {
        Some(latest) => {
            summary.latest_seq = Some(latest.seq);
            summary.latest_time = latest.detail_str("time").map(str::to_string);
        }
        None => problems.push(Problem {
            seq: None,
            id: None,
            digest: None,
            message: "the store holds no signed checkpoint: it is not a modelgate server's store, or they were deleted"
                .into(),
        }),
    }
    summary.after_latest = uncovered(store)?;
    Ok(summary)
}

/// The detail that carries the server's signature of an entry.
pub const SIGNATURE_DETAIL: &str = "server_signature";

/// What an entry's signature covers: the entry as written, before the store numbers it
/// (`seq` 0) and without the signature itself.
fn signed_bytes(entry: &Entry) -> Vec<u8> {
    let mut bare = entry.clone();
    bare.seq = 0;
    if let Some(details) = bare.details.as_object_mut() {
        details.remove(SIGNATURE_DETAIL);
    }
    // An Entry always serialises.
    serde_json::to_vec(&bare).unwrap_or_default()
}

/// Whether the checkpoint `entry`'s signature of the head it names verifies with `key`.
pub fn signed_by_checkpoint(entry: &Entry, key: &VerifyingKey) -> bool {
    let seq = entry.detail("seq").and_then(serde_json::Value::as_u64);
    let (Some(seq), Some(hash), Some(time), Some(signature)) =
        (seq, entry.detail_str("hash"), entry.detail_str("time"), entry.detail_str("signature"))
    else {
        return false;
    };
    BASE64.decode(signature).is_ok_and(|signature| key.verify(message(seq, hash, time).as_bytes(), &signature))
}

/// Whether `entry` carries a valid signature of `key`.
pub fn signed_by(entry: &Entry, key: &VerifyingKey) -> bool {
    let signature = entry.detail_str(SIGNATURE_DETAIL).and_then(|text| BASE64.decode(text).ok());
    signature.is_some_and(|signature| key.verify(&signed_bytes(entry), &signature))
}

/// A store whose every appended entry the server signs: an entry appended to the chain by
/// anyone without the key (straight into the database) fails `audit verify --public-key`.
pub struct Signed<'a> {
    pub store: &'a mut dyn Store,
    pub key: &'a SigningKey,
}

impl Store for Signed<'_> {
    fn location(&self) -> String {
        self.store.location()
    }
    fn append(&mut self, mut drafts: Vec<Draft>) -> Result<Vec<super::Record>> {
        for draft in &mut drafts {
            let signature = BASE64.encode(self.key.sign(&signed_bytes(&draft.entry)));
            if !draft.entry.details.is_object() {
                draft.entry.details = json!({});
            }
            if let Some(details) = draft.entry.details.as_object_mut() {
                details.insert(SIGNATURE_DETAIL.into(), json!(signature));
            }
        }
        self.store.append(drafts)
    }
    fn import(
        &mut self,
        records: Vec<super::Record>,
        blobs: Vec<super::blobs::Packed>,
        bundles: Vec<super::BundleManifest>,
    ) -> Result<()> {
        self.store.import(records, blobs, bundles)
    }
    fn get(&self, id: &str) -> Result<Option<super::Record>> {
        self.store.get(id)
    }
    fn scan(&self, filter: &Filter, visit: &mut dyn FnMut(super::Record) -> Result<bool>) -> Result<()> {
        self.store.scan(filter, visit)
    }
    fn scan_links(&self, visit: &mut dyn FnMut(super::Link)) -> Result<()> {
        self.store.scan_links(visit)
    }
    fn blob(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        self.store.blob(digest)
    }
    fn blobs(&self, digests: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        self.store.blobs(digests)
    }
    fn check_blobs(&self, visit: &mut dyn FnMut(&str, std::result::Result<(), String>)) -> Result<()> {
        self.store.check_blobs(visit)
    }
    fn bundle(&self, digest: &str) -> Result<Option<super::BundleManifest>> {
        self.store.bundle(digest)
    }
    fn bundles(&self) -> Result<Vec<super::BundleManifest>> {
        self.store.bundles()
    }
    fn each_deployment_at(
        &self,
        time: Option<&str>,
        environment: Option<&str>,
        model: Option<&str>,
        visit: &mut dyn FnMut(super::Record) -> Result<()>,
    ) -> Result<()> {
        self.store.each_deployment_at(time, environment, model, visit)
    }
    fn head(&self) -> Result<Option<(u64, String)>> {
        self.store.head()
    }
    fn integrity(&self) -> Result<Vec<String>> {
        self.store.integrity()
    }
    fn environments(&self) -> Result<Vec<String>> {
        self.store.environments()
    }
    fn put_token(&mut self, token: &super::tokens::Token) -> Result<()> {
        self.store.put_token(token)
    }
    fn token_by_hash(&self, hash: &str) -> Result<Option<super::tokens::Token>> {
        self.store.token_by_hash(hash)
    }
    fn revoke_token(&mut self, id: &str, time: &str) -> Result<bool> {
        self.store.revoke_token(id, time)
    }
    fn tokens(&self) -> Result<Vec<super::tokens::Token>> {
        self.store.tokens()
    }
}
