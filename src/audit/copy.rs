//! `modelgate audit copy`: moves a store to another backend (SQLite to PostgreSQL, or
//! back) without breaking its chain. The entries are written exactly as stored (seq,
//! content, hashes), so a head published from the old store is still in the new one.

use serde::Serialize;

use super::chain::{self, Anchor};
use super::{blobs, store_error, Record, Store};
use crate::error::{Error, ErrorKind, Result};

/// Entries per write transaction.
const BATCH: usize = 1000;
/// Blobs per write transaction (each at most a few MiB).
const BLOB_BATCH: usize = 128;

/// What `audit copy` did.
#[derive(Debug, Clone, Serialize)]
pub struct Copied {
    pub from: String,
    pub to: String,
    pub entries: u64,
    pub blobs: u64,
    pub bundles: u64,
    /// The head of both stores after the copy.
    pub head: Option<Anchor>,
}

/// Copies every entry, blob and bundle of `from` into `to`, which must hold no entries. The
/// source must verify first (a broken chain is not carried over), and the destination must
/// verify after, with the same head.
pub fn copy(from: &dyn Store, to: &mut dyn Store) -> Result<Copied> {
    if let Some((seq, _)) = to.head()? {
        return Err(store_error(&to.location(), format!("already holds {seq} entries"))
            .hint("copy into a new, empty store (`modelgate audit init --store …`): two histories are not merged"));
    }
    let source = chain::verify(from, &[])?;
    if let Some(problem) = source.problems.first() {
        return Err(Error::new(
            ErrorKind::Store,
            format!(
                "audit store {}: does not verify ({} problems; the first: {}), so it is not copied",
                from.location(),
                source.problems.len(),
                problem.message
            ),
        )
        .hint("run `modelgate audit verify` on it and restore it from a backup first"));
    }
    let mut digests = Vec::new();
    from.check_blobs(&mut |digest, _| digests.push(digest.to_string()))?;
    for chunk in digests.chunks(BLOB_BATCH) {
        let mut packed = Vec::with_capacity(chunk.len());
        for (digest, bytes) in chunk.iter().zip(from.blobs(chunk)?) {
            let bytes = bytes.ok_or_else(|| store_error(&from.location(), format!("blob {digest} vanished")))?;
            packed.push(blobs::pack(digest, &bytes).map_err(|message| store_error(&to.location(), message))?);
        }
        to.import(Vec::new(), packed, Vec::new())?;
    }
    let bundles = from.bundles()?;
    let bundle_count = bundles.len() as u64;
    to.import(Vec::new(), Vec::new(), bundles)?;
    let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
    let mut failure: Option<Error> = None;
    let location = from.location();
    from.scan_links(&mut |link| {
        if failure.is_some() {
            return;
        }
        match link.parse(&location) {
            Ok(record) => batch.push(record),
            Err(error) => failure = Some(error),
        }
        if batch.len() >= BATCH {
            if let Err(error) = to.import(std::mem::take(&mut batch), Vec::new(), Vec::new()) {
                failure = Some(error);
            }
        }
    })?;
    if let Some(error) = failure {
        return Err(error);
    }
    to.import(batch, Vec::new(), Vec::new())?;
    let copied = chain::verify(to, &source.head.iter().cloned().collect::<Vec<_>>())?;
    if let Some(problem) = copied.problems.first() {
        return Err(store_error(&to.location(), format!("the copy does not verify: {}", problem.message))
            .hint("drop the destination and copy again; report this if it repeats"));
    }
    if copied.head != source.head || copied.entries != source.entries {
        return Err(store_error(&to.location(), "the copy does not end where the source does").hint(
            "something wrote to the source or the destination during the copy: stop the writers, copy into a new store",
        ));
    }
    Ok(Copied {
        from: from.location(),
        to: to.location(),
        entries: copied.entries,
        blobs: copied.blobs,
        bundles: bundle_count,
        head: copied.head,
    })
}
