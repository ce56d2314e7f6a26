//! The hash chain and its verification.
//!
//! `hash = sha256("modelgate-audit-v1\n" + prev_hash + "\n" + content)`, where `content`
//! is the entry's JSON exactly as stored and the first entry's `prev_hash` is
//! [`GENESIS`]. Verification recomputes every link, checks that `seq` runs from 1 without
//! gaps, that the indexed columns say what the content says, that the chain ends where
//! the store last recorded its head, and that every blob and bundle still hashes to its
//! digest and every digest an entry names is there.

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Columns, Entry, Link, Store};
use crate::error::Result;
use crate::policy::bundle::{self, BundleFile, FileKind};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
const DOMAIN: &str = "modelgate-audit-v1\n";

pub fn link(prev_hash: &str, content: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN.as_bytes());
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(content.as_bytes());
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub store: String,
    pub entries: u64,
    pub blobs: u64,
    pub bundles: u64,
    /// The last entry's seq and hash: publish it (CI logs, a ticket) to anchor the chain.
    pub head: Option<Anchor>,
    /// Every mismatch, in chain order; the first is the first record that does not match.
    pub problems: Vec<Problem>,
    /// The server's signed checkpoints, when checked with its key (`--public-key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<super::checkpoint::Summary>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
}

impl Anchor {
    /// `SEQ:HASH`, as `audit verify` prints the head.
    pub fn parse(text: &str) -> Option<Anchor> {
        let (seq, hash) = text.split_once(':')?;
        let seq = seq.parse().ok()?;
        (hash.starts_with("sha256:") && hash.len() == 71).then(|| Anchor { seq, hash: hash.to_string() })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The entry it concerns (`seq`, `id`), or the blob or bundle digest.
    pub seq: Option<u64>,
    pub id: Option<String>,
    pub digest: Option<String>,
    pub message: String,
}

impl Problem {
    fn entry(columns: &Columns, message: String) -> Problem {
        Problem { seq: Some(columns.seq), id: Some(columns.id.clone()), digest: None, message }
    }

    fn content(digest: &str, message: String) -> Problem {
        Problem { seq: None, id: None, digest: Some(digest.to_string()), message }
    }
}

/// Recomputes the chain and the content digests of `store`; `anchors` are heads
/// published earlier, each of which must still be in the chain.
pub fn verify(store: &dyn Store, anchors: &[Anchor]) -> Result<Verification> {
    // The database itself first: scrambled pages can hide entries from every query below.
    let mut problems: Vec<Problem> = store
        .integrity()?
        .into_iter()
        .map(|message| Problem {
            seq: None,
            id: None,
            digest: None,
            message: format!("the database is damaged: {message}"),
        })
        .collect();
    let mut expected_seq = 1;
    let mut prev_hash = GENESIS.to_string();
    let mut last: Option<Anchor> = None;
    let mut entries = 0;
    let mut evidence = BTreeSet::new();
    let mut bundles_named = BTreeSet::new();
    let mut seen_anchor = vec![false; anchors.len()];
    store.scan_links(&mut |link: Link| {
        entries += 1;
        let columns = &link.columns;
        if columns.seq != expected_seq {
            let message = if columns.seq > expected_seq {
                let missing = if columns.seq - expected_seq == 1 {
                    format!("entry {expected_seq} is missing")
                } else {
                    format!("entries {expected_seq}..{} are missing", columns.seq - 1)
                };
                format!("{missing} (deleted): the chain jumps from {} to {}", expected_seq - 1, columns.seq)
            } else {
                format!("seq {} where {expected_seq} was expected", columns.seq)
            };
            problems.push(Problem::entry(columns, message));
        }
        if link.prev_hash != prev_hash {
            problems.push(Problem::entry(
                columns,
                format!(
                    "its prev_hash {} is not the hash of the entry before it ({}): an entry was deleted, inserted or moved",
                    short(&link.prev_hash),
                    short(&prev_hash)
                ),
            ));
        }
        let actual = self::link(&link.prev_hash, &link.content);
        if actual != link.hash {
            problems.push(Problem::entry(
                columns,
                format!("its content hashes to {} but {} is recorded: the entry was edited", short(&actual), short(&link.hash)),
            ));
        }
        match serde_json::from_str::<Entry>(&link.content) {
            Ok(entry) => {
                let stated = Columns::of(&entry);
                if &stated != columns {
                    problems.push(Problem::entry(columns, column_difference(&stated, columns)));
                }
                if let Some(digest) = &entry.evidence_digest {
                    evidence.insert(digest.clone());
                }
                if let Some(digest) = entry.detail_str("findings") {
                    evidence.insert(digest.to_string());
                }
                if let Some(digest) = &entry.bundle_digest {
                    bundles_named.insert(digest.clone());
                }
            }
            Err(error) => problems.push(Problem::entry(columns, format!("its content is not an entry: {error}"))),
        }
        for (anchor, seen) in anchors.iter().zip(seen_anchor.iter_mut()) {
            if anchor.seq == columns.seq {
                *seen = anchor.hash == link.hash;
            }
        }
        expected_seq = columns.seq.max(expected_seq) + 1;
        prev_hash = link.hash.clone();
        last = Some(Anchor { seq: columns.seq, hash: link.hash });
    })?;
    match (store.head()?, &last) {
        (Some((seq, hash)), Some(last)) if seq != last.seq || hash != last.hash => problems.push(Problem {
            seq: Some(seq),
            id: None,
            digest: None,
            message: format!(
                "the store recorded its last entry as {seq} ({}) but the chain ends at {} ({}): entries at the end were deleted or replaced",
                short(&hash),
                last.seq,
                short(&last.hash)
            ),
        }),
        (Some((seq, _)), None) => problems.push(Problem {
            seq: Some(seq),
            id: None,
            digest: None,
            message: format!("the store recorded {seq} entries but none is left: they were deleted"),
        }),
        (None, Some(last)) => problems.push(Problem {
            seq: Some(last.seq),
            id: None,
            digest: None,
            message: "the store's record of its last entry is gone".to_string(),
        }),
        _ => {}
    }
    for (anchor, seen) in anchors.iter().zip(&seen_anchor) {
        if !seen {
            problems.push(Problem {
                seq: Some(anchor.seq),
                id: None,
                digest: None,
                message: format!(
                    "the published head {}:{} is not in the chain: the history before it was rewritten",
                    anchor.seq, anchor.hash
                ),
            });
        }
    }
    let mut good_blobs = BTreeSet::new();
    let mut blobs = 0;
    store.check_blobs(&mut |digest, result| {
        blobs += 1;
        match result {
            Ok(()) => {
                good_blobs.insert(digest.to_string());
            }
            Err(problem) => problems.push(Problem::content(digest, format!("blob {digest} is corrupt: {problem}"))),
        }
    })?;
    let manifests = store.bundles()?;
    let stored_bundles: BTreeSet<String> = manifests.iter().map(|manifest| manifest.digest.clone()).collect();
    for manifest in &manifests {
        if let Some(problem) = check_bundle(store, manifest, &good_blobs)? {
            problems.push(Problem::content(&manifest.digest, problem));
        }
    }
    for digest in &evidence {
        if !good_blobs.contains(digest) {
            problems.push(Problem::content(
                digest,
                format!("the evidence {digest} that entries name is missing or corrupt"),
            ));
        }
    }
    for digest in bundles_named.difference(&stored_bundles) {
        problems.push(Problem::content(digest, format!("the policy bundle {digest} that entries name is missing")));
    }
    problems.sort_by_key(|problem| problem.seq.unwrap_or(u64::MAX));
    Ok(Verification {
        store: store.location(),
        entries,
        blobs,
        bundles: manifests.len() as u64,
        head: last,
        problems,
        checkpoints: None,
    })
}

/// Rebuilds a bundle from its stored files and checks it still has its digest.
fn check_bundle(
    store: &dyn Store,
    manifest: &super::BundleManifest,
    good_blobs: &BTreeSet<String>,
) -> Result<Option<String>> {
    let mut files = Vec::with_capacity(manifest.files.len());
    for file in &manifest.files {
        if !good_blobs.contains(&file.digest) {
            return Ok(Some(format!(
                "bundle {}: the file {} ({}) is missing or corrupt",
                manifest.digest, file.path, file.digest
            )));
        }
        let Some(bytes) = store.blob(&file.digest).ok().flatten() else {
            return Ok(Some(format!("bundle {}: the file {} cannot be read", manifest.digest, file.path)));
        };
        // Every field of the manifest is covered: path and content by the bundle digest, the
        // kind by the path it follows from, the size by the content.
        let Some(kind) = FileKind::of(&file.path).filter(|kind| kind.as_str() == file.kind) else {
            return Ok(Some(format!(
                "bundle {}: the manifest says {} is `{}`, which its path does not allow: the manifest was altered",
                manifest.digest, file.path, file.kind
            )));
        };
        if bytes.len() as u64 != file.size {
            return Ok(Some(format!(
                "bundle {}: the manifest gives {} {} bytes, but it holds {}: the manifest was altered",
                manifest.digest,
                file.path,
                file.size,
                bytes.len()
            )));
        }
        let Ok(contents) = String::from_utf8(bytes) else {
            return Ok(Some(format!("bundle {}: the file {} is not UTF-8", manifest.digest, file.path)));
        };
        files.push(BundleFile { path: file.path.clone(), contents, kind });
    }
    let actual = bundle::digest(&files);
    Ok((actual != manifest.digest)
        .then(|| format!("bundle {}: its files hash to {actual}: the manifest was altered", manifest.digest)))
}

fn column_difference(stated: &Columns, stored: &Columns) -> String {
    let pairs: [(&str, String, String); 10] = [
        ("seq", stated.seq.to_string(), stored.seq.to_string()),
        ("id", stated.id.clone(), stored.id.clone()),
        ("kind", stated.kind.clone(), stored.kind.clone()),
        ("time", stated.time.clone(), stored.time.clone()),
        ("model", stated.model.clone(), stored.model.clone()),
        ("version", stated.version.clone(), stored.version.clone()),
        ("environment", format!("{:?}", stated.environment), format!("{:?}", stored.environment)),
        ("decision", format!("{:?}", stated.decision), format!("{:?}", stored.decision)),
        ("evidence_digest", format!("{:?}", stated.evidence_digest), format!("{:?}", stored.evidence_digest)),
        ("bundle_digest", format!("{:?}", stated.bundle_digest), format!("{:?}", stored.bundle_digest)),
    ];
    let differing: Vec<String> = pairs
        .iter()
        .filter(|(_, stated, stored)| stated != stored)
        .map(|(name, stated, stored)| format!("{name} is {stored} in the index but {stated} in the entry"))
        .collect();
    format!("its indexed columns were edited: {}", differing.join("; "))
}

/// `sha256:0123456789ab…`
pub fn short(hash: &str) -> String {
    // Whole characters: a hash read from an untrusted file may hold anything.
    let end = hash.char_indices().nth(19).map_or(hash.len(), |(end, _)| end);
    format!("{}…", &hash[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_depend_on_previous_hash_and_content() {
        let first = link(GENESIS, "{}");
        assert_ne!(first, link(GENESIS, "{ }"));
        assert_ne!(first, link(&link(GENESIS, "x"), "{}"));
        assert_eq!(first.len(), 71);
    }

    #[test]
    fn anchors_parse() {
        let hash = link(GENESIS, "{}");
        assert_eq!(Anchor::parse(&format!("7:{hash}")), Some(Anchor { seq: 7, hash: hash.clone() }));
        assert_eq!(Anchor::parse("7:sha256:abc"), None);
        assert_eq!(Anchor::parse(&hash), None);
    }
}
