//! How every backend stores what an entry references: blobs compressed with zstd under the
//! digest of their content, read back bounded and checked against that digest; bundle
//! manifests as JSON. One codec, so a store copied between backends is byte for byte the
//! same content.

use std::collections::HashSet;

use super::{store_error, BundleManifest, Draft, Entry};
use crate::error::{Error, Result};

/// The largest blob read back: bounds the memory a corrupt size field can ask for.
pub const MAX_BLOB: u64 = 1 << 30;
/// zstd level for blobs: evidence JSON shrinks about tenfold at level 3, in well under a millisecond.
const ZSTD_LEVEL: i32 = 3;

/// A blob as stored: digest, uncompressed size, compressed bytes.
#[derive(Debug, Clone)]
pub struct Packed {
    pub digest: String,
    pub size: u64,
    pub data: Vec<u8>,
}

/// A draft ready for the write transaction: its new blobs compressed, its manifest serialised.
pub struct Prepared {
    pub entry: Entry,
    pub blobs: Vec<Packed>,
    /// (digest, manifest JSON).
    pub bundle: Option<(String, String)>,
}

/// Compresses, outside the store's write lock and on every core, only the blobs that
/// `held` says the store does not have yet (a re-evaluation that finds what the last one
/// found adds none). `held` gets every distinct digest once and returns those present.
pub fn prepare(
    location: &str,
    drafts: Vec<Draft>,
    held: impl FnOnce(&[String]) -> Result<HashSet<String>>,
) -> Result<Vec<Prepared>> {
    let mut seen = HashSet::new();
    let mut digests = Vec::new();
    let mut positions = Vec::new();
    for (index, draft) in drafts.iter().enumerate() {
        for (position, blob) in draft.blobs.iter().enumerate() {
            if seen.insert(blob.digest.as_str()) {
                digests.push(blob.digest.clone());
                positions.push((index, position));
            }
        }
    }
    let present = held(&digests)?;
    let missing: Vec<(usize, usize)> = positions
        .into_iter()
        .filter(|&(index, position)| !present.contains(&drafts[index].blobs[position].digest))
        .collect();
    let drafts_ref = &drafts;
    let compressed = super::parallel_map(&missing, |&(index, position)| {
        let blob = &drafts_ref[index].blobs[position];
        pack(&blob.digest, &blob.bytes)
    });
    let mut per_draft: Vec<Vec<Packed>> = drafts.iter().map(|_| Vec::new()).collect();
    for (&(index, _), blob) in missing.iter().zip(compressed) {
        per_draft[index].push(blob.map_err(|message| store_error(location, message))?);
    }
    Ok(drafts
        .into_iter()
        .zip(per_draft)
        .map(|(draft, blobs)| Prepared { entry: draft.entry, blobs, bundle: draft.bundle.map(manifest_text) })
        .collect())
}

/// A blob compressed for storage.
pub fn pack(digest: &str, bytes: &[u8]) -> std::result::Result<Packed, String> {
    zstd::bulk::compress(bytes, ZSTD_LEVEL)
        .map(|data| Packed { digest: digest.to_string(), size: bytes.len() as u64, data })
        .map_err(|error| format!("cannot compress {digest}: {error}"))
}

/// Decompresses a blob (bounded by its recorded size) and checks it against its digest.
pub fn unpack(digest: &str, size: i64, data: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let size = u64::try_from(size).map_err(|_| format!("negative size {size}"))?;
    if size > MAX_BLOB {
        return Err(format!("recorded size {size} is above the {MAX_BLOB}-byte bound"));
    }
    let bytes = zstd::bulk::decompress(data, size as usize).map_err(|error| format!("cannot decompress: {error}"))?;
    if bytes.len() as u64 != size {
        return Err(format!("{} bytes where {size} were recorded", bytes.len()));
    }
    let actual = super::sha256(&bytes);
    if actual != digest {
        return Err(format!("its content hashes to {actual}"));
    }
    Ok(bytes)
}

/// [`unpack`], with a failure worded for the user.
pub fn unpack_or_error(location: &str, digest: &str, size: i64, data: &[u8]) -> Result<Vec<u8>> {
    unpack(digest, size, data).map_err(|problem| corrupt(location, digest, &problem))
}

pub fn corrupt(location: &str, digest: &str, problem: &str) -> Error {
    store_error(location, format!("blob {digest} is corrupt: {problem}"))
        .hint("the store has been damaged or altered: run `modelgate audit verify`, and restore it from a backup")
}

/// (digest, JSON) of a manifest as stored.
pub fn manifest_text(manifest: BundleManifest) -> (String, String) {
    let text = serde_json::to_string(&manifest).unwrap_or_default();
    (manifest.digest, text)
}

pub fn parse_manifest(location: &str, digest: &str, text: &str) -> Result<BundleManifest> {
    serde_json::from_str(text).map_err(|error| {
        store_error(location, format!("the manifest of bundle {digest} is not valid: {error}"))
            .hint("the store has been altered: run `modelgate audit verify`")
    })
}
