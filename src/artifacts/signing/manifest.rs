//! The manifest of a model folder as OpenSSF model_signing serializes it: every file (or
//! every fixed-size shard of every file) paired with its SHA-256, sorted, under a
//! serialization description that says how to recompute it.
//!
//! The rules are model_signing 1.x's, so that a manifest computed here equals the one its
//! signer computed: paths are relative and `/`-separated; a path is ignored when it equals
//! an ignored path or lies under it; the git files (`.git`, `.gitattributes`, `.github`,
//! `.gitignore`) are ignored unless told otherwise; items are sorted by path components
//! (then shard start and end); in shard mode an empty file has no shard; the subject
//! digest is the SHA-256 of the item digests concatenated in that order.
//!
//! A model folder is untrusted: links are never followed out of it. With `allow_symlinks`
//! false (model_signing's default) a link anywhere is an error, as in model_signing; with
//! it true, a link to a file inside the folder is hashed as that file, and anything else
//! is an error.

use std::cmp::Ordering as CmpOrdering;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::artifacts::digest::{self, EntryKind};
use crate::error::{Error, ErrorKind, Result};

/// The paths model_signing ignores unless `--no-ignore-git-paths`.
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// model_signing's default shard size (1 GB).
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// How a folder becomes a manifest: the `serialization` object of the signed predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serialization {
    pub method: Method,
    /// Only `sha256` is computed; a signature declaring another hash is refused with a hint.
    pub hash_type: String,
    pub allow_symlinks: bool,
    /// Relative to the model folder, as recorded in the signature.
    pub ignore_paths: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Files,
    Shards { shard_size: u64 },
}

impl Serialization {
    /// The `algorithm` of each resource: the hash, or for shards `sha256-sharded-SIZE`
    /// (model_signing names a shard hasher so).
    pub fn resource_algorithm(&self) -> String {
        match self.method {
            Method::Files => self.hash_type.clone(),
            Method::Shards { shard_size } => format!("{}-sharded-{shard_size}", self.hash_type),
        }
    }

    /// The JSON object of the predicate, keys sorted as protobuf's Struct prints them.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("allow_symlinks".into(), json!(self.allow_symlinks));
        object.insert("hash_type".into(), json!(self.hash_type));
        if !self.ignore_paths.is_empty() {
            object.insert("ignore_paths".into(), json!(self.ignore_paths));
        }
        match self.method {
            Method::Files => {
                object.insert("method".into(), json!("files"));
            }
            Method::Shards { shard_size } => {
                object.insert("method".into(), json!("shards"));
                // An integer. model_signing's signer writes `1000000000.0` (a protobuf Struct
                // number), which its own verifier then cannot use as a shard size
                // (`TypeError: 'float' object cannot be interpreted as an integer`).
                object.insert("shard_size".into(), json!(shard_size));
            }
        }
        Value::Object(object)
    }

    /// Reads the `serialization` object of a signed predicate; `at` names it in errors.
    pub fn from_json(value: &Value, at: &str) -> Result<Serialization> {
        let invalid = |field: &str, why: &str| {
            Error::new(ErrorKind::EvidenceInvalid, format!("{at}: `predicate.serialization.{field}` {why}"))
                .hint("the signature was not written by model_signing 1.x or modelgate sign; re-sign the model")
        };
        let object = value.as_object().ok_or_else(|| invalid("", "is not an object"))?;
        let hash_type =
            object.get("hash_type").and_then(Value::as_str).ok_or_else(|| invalid("hash_type", "is missing"))?;
        let allow_symlinks = match object.get("allow_symlinks") {
            Some(Value::Bool(value)) => *value,
            None => false,
            Some(_) => return Err(invalid("allow_symlinks", "is not a boolean")),
        };
        let ignore_paths = match object.get("ignore_paths") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| invalid("ignore_paths", "holds a value that is not a string"))?,
            Some(_) => return Err(invalid("ignore_paths", "is not a list")),
        };
        let method = match object.get("method").and_then(Value::as_str) {
            Some("files") => Method::Files,
            Some("shards") => {
                // protobuf's Struct holds numbers as doubles, so `1000000000.0` is common.
                let size = object
                    .get("shard_size")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| invalid("shard_size", "is missing or not a number"))?;
                if !(size >= 1.0 && size.fract() == 0.0 && size <= (1u64 << 53) as f64) {
                    return Err(invalid("shard_size", "is not a positive whole number"));
                }
                Method::Shards { shard_size: size as u64 }
            }
            Some(other) => return Err(invalid("method", &format!("is `{other}`, not `files` or `shards`"))),
            None => return Err(invalid("method", "is missing")),
        };
        Ok(Serialization { method, hash_type: hash_type.to_string(), allow_symlinks, ignore_paths })
    }
}

/// One signed item: a file, or a shard `path:start:end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub path: String,
    /// The byte range, for shards.
    pub range: Option<(u64, u64)>,
    /// Lower-case hex SHA-256.
    pub digest: String,
}

impl Item {
    /// The resource name in the signed predicate.
    pub fn name(&self) -> String {
        match self.range {
            None => self.path.clone(),
            Some((start, end)) => format!("{}:{start}:{end}", self.path),
        }
    }

    /// Parses a resource name of the given serialization.
    pub fn parse_name(name: &str, method: Method) -> Option<(String, Option<(u64, u64)>)> {
        match method {
            Method::Files => Some((name.to_string(), None)),
            Method::Shards { .. } => {
                let mut parts = name.rsplitn(3, ':');
                let end = parts.next()?.parse().ok()?;
                let start = parts.next()?.parse().ok()?;
                let path = parts.next()?;
                // model_signing splits on every `:`, so a path holding one never verifies there.
                (!path.contains(':') && start <= end).then(|| (path.to_string(), Some((start, end))))
            }
        }
    }
}

/// model_signing's order: `PurePosixPath` compares path components, then the shard range.
pub fn compare_items(a: &Item, b: &Item) -> CmpOrdering {
    a.path.split('/').cmp(b.path.split('/')).then(a.range.cmp(&b.range))
}

/// The subject digest: SHA-256 over the raw item digests in manifest order.
pub fn root_digest(items: &[Item]) -> Result<String> {
    let mut hasher = Sha256::new();
    for item in items {
        let raw = hex::decode(&item.digest).map_err(|_| {
            Error::new(ErrorKind::EvidenceInvalid, format!("`{}`: digest `{}` is not hex", item.name(), item.digest))
        })?;
        hasher.update(raw);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Whether `path` is ignored: equal to an ignored path or under it.
fn ignored(path: &str, ignore: &[String]) -> bool {
    ignore.iter().any(|prefix| {
        let prefix = prefix.trim_end_matches('/');
        let prefix = prefix.strip_prefix("./").unwrap_or(prefix);
        prefix.is_empty() || prefix == "." || path == prefix || path.starts_with(&format!("{prefix}/"))
    })
}

/// The files of `root` that a manifest covers, relative and sorted, with the link policy
/// applied: `(relative path, path to read)`.
pub fn files(root: &Path, serialization: &Serialization) -> Result<Vec<(String, PathBuf, u64)>> {
    let metadata = std::fs::symlink_metadata(root).map_err(|source| Error::read(root, source))?;
    if !metadata.is_dir() {
        return Err(Error::new(ErrorKind::Io, format!("{}: not a folder", root.display()))
            .hint("sign and verify the model folder, not one file of it"));
    }
    let canonical_root = root.canonicalize().map_err(|source| Error::read(root, source))?;
    let mut out = Vec::new();
    // Ignored folders (`.git` can be huge) are not entered.
    let skip: Vec<&str> = serialization.ignore_paths.iter().map(|path| path.trim_end_matches('/')).collect();
    for entry in digest::walk(root, &skip)? {
        if ignored(&entry.path, &serialization.ignore_paths) {
            continue;
        }
        match entry.kind {
            EntryKind::File { size } => out.push((entry.path.clone(), root.join(&entry.path), size)),
            EntryKind::Symlink { target } => {
                let at = root.join(&entry.path);
                if !serialization.allow_symlinks {
                    return Err(Error::new(
                        ErrorKind::EvidenceInvalid,
                        format!("{}: a symbolic link (to {target}) in the model folder", at.display()),
                    )
                    .hint("replace the link with the file it points to, or sign with --allow-symlinks"));
                }
                let resolved = at.canonicalize().map_err(|source| Error::read(&at, source))?;
                let target_metadata = std::fs::metadata(&resolved).map_err(|source| Error::read(&at, source))?;
                if !resolved.starts_with(&canonical_root) || !target_metadata.is_file() {
                    return Err(Error::new(
                        ErrorKind::EvidenceInvalid,
                        format!(
                            "{}: a symbolic link to {target}, which is not a file inside the model folder",
                            at.display()
                        ),
                    )
                    .hint("links are followed only to files inside the model folder; copy the file in instead"));
                }
                out.push((entry.path.clone(), resolved, target_metadata.len()));
            }
        }
    }
    out.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
    Ok(out)
}

/// Hashes the folder into a sorted manifest, files or shards on every core.
pub fn compute(root: &Path, serialization: &Serialization) -> Result<Vec<Item>> {
    compute_reusing(root, serialization, &Known::new())
}

/// SHA-256 digests already computed in this run (by the scan), keyed by the path relative to
/// the model folder, with the size they were computed at.
pub type Known = std::collections::BTreeMap<String, (u64, String)>;

/// [`compute`], taking a file's digest from `known` instead of hashing it again when the
/// manifest hashes whole files and the file has the size it had then: `check` scans and
/// verifies the folder, and reads each byte once for both.
pub fn compute_reusing(root: &Path, serialization: &Serialization, known: &Known) -> Result<Vec<Item>> {
    if serialization.hash_type != "sha256" {
        return Err(Error::new(
            ErrorKind::EvidenceInvalid,
            format!("the signature hashes with `{}`; modelgate computes sha256 only", serialization.hash_type),
        )
        .hint("sign with the default hash (sha256)"));
    }
    let mut pieces = Vec::new();
    let mut reused = Vec::new();
    for (path, read_from, size) in files(root, serialization)? {
        match serialization.method {
            Method::Files => match known.get(&path) {
                // Only the file itself: a link's target was hashed under its own path.
                Some((known_size, digest)) if *known_size == size && read_from == root.join(&path) => {
                    reused.push(Item { path, range: None, digest: digest.clone() });
                }
                _ => pieces.push(Piece { path, read_from, range: None }),
            },
            Method::Shards { shard_size } => {
                let mut start = 0;
                while start < size {
                    let end = (start + shard_size).min(size);
                    pieces.push(Piece { path: path.clone(), read_from: read_from.clone(), range: Some((start, end)) });
                    start = end;
                }
            }
        }
    }
    let mut items = hash_pieces(&pieces, digest::default_threads())?;
    items.extend(reused);
    items.sort_by(compare_items);
    Ok(items)
}

struct Piece {
    path: String,
    read_from: PathBuf,
    range: Option<(u64, u64)>,
}

fn hash_pieces(pieces: &[Piece], threads: usize) -> Result<Vec<Item>> {
    digest::parallel_map(pieces, threads, |piece, buffer| {
        hash_piece(piece, buffer).map(|digest| Item { path: piece.path.clone(), range: piece.range, digest })
    })
}

fn hash_piece(piece: &Piece, buffer: &mut [u8]) -> Result<String> {
    let path = &piece.read_from;
    let mut file = crate::input::open(path)?;
    let (start, mut left) = match piece.range {
        Some((start, end)) => (start, Some(end - start)),
        None => (0, None),
    };
    if start > 0 {
        file.seek(SeekFrom::Start(start)).map_err(|source| Error::read(path, source))?;
    }
    let mut hasher = Sha256::new();
    loop {
        let want = left.map_or(buffer.len(), |left| buffer.len().min(left as usize));
        if want == 0 {
            break;
        }
        let read = file.read(&mut buffer[..want]).map_err(|source| Error::read(path, source))?;
        if read == 0 {
            if left.is_some() {
                // The file shrank while it was being hashed.
                return Err(Error::new(ErrorKind::Io, format!("{}: ended before byte {start}+", path.display()))
                    .hint("do not change the model folder while it is signed or verified"));
            }
            break;
        }
        hasher.update(&buffer[..read]);
        if let Some(left) = left.as_mut() {
            *left -= read as u64;
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// What differs between the signed manifest and the folder as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// In the folder, not in the signed manifest.
    pub extra: Vec<String>,
    /// In the signed manifest, not in the folder.
    pub missing: Vec<String>,
    /// In both, with different digests (files; for shards, the file of the shard).
    pub modified: Vec<String>,
}

impl Comparison {
    pub fn matches(&self) -> bool {
        self.extra.is_empty() && self.missing.is_empty() && self.modified.is_empty()
    }
}

/// Compares by item, reporting file paths (a file with any changed shard is modified;
/// a file whose shards differ in number or bounds is modified too).
pub fn compare(signed: &[Item], actual: &[Item]) -> Comparison {
    use std::collections::{BTreeMap, BTreeSet};
    let by_name = |items: &[Item]| -> BTreeMap<String, BTreeMap<Option<(u64, u64)>, String>> {
        let mut map: BTreeMap<String, BTreeMap<_, _>> = BTreeMap::new();
        for item in items {
            map.entry(item.path.clone()).or_default().insert(item.range, item.digest.clone());
        }
        map
    };
    let signed = by_name(signed);
    let actual = by_name(actual);
    let signed_paths: BTreeSet<&String> = signed.keys().collect();
    let actual_paths: BTreeSet<&String> = actual.keys().collect();
    Comparison {
        extra: actual_paths.difference(&signed_paths).map(|p| p.to_string()).collect(),
        missing: signed_paths.difference(&actual_paths).map(|p| p.to_string()).collect(),
        modified: signed_paths
            .intersection(&actual_paths)
            .filter(|path| signed[**path] != actual[**path])
            .map(|p| p.to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, range: Option<(u64, u64)>) -> Item {
        Item { path: path.into(), range, digest: "00".into() }
    }

    #[test]
    fn a_digest_the_scan_computed_is_reused_only_for_the_same_file_at_the_same_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.bin"), b"abc").expect("write");
        std::fs::write(dir.path().join("b.bin"), b"xyz").expect("write");
        let files = Serialization {
            method: Method::Files,
            hash_type: "sha256".into(),
            allow_symlinks: false,
            ignore_paths: Vec::new(),
        };
        let known: Known =
            [("a.bin".to_string(), (3, "reused".to_string())), ("b.bin".to_string(), (4, "stale".to_string()))].into();
        let items = compute_reusing(dir.path(), &files, &known).expect("compute");
        assert_eq!(items[0].digest, "reused");
        // a size that differs from the scan's is hashed again
        assert_eq!(items[1].digest, "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282");
        let shards = Serialization { method: Method::Shards { shard_size: 2 }, ..files };
        let items = compute_reusing(dir.path(), &shards, &known).expect("compute");
        assert!(items.iter().all(|item| item.digest != "reused"), "shard digests are not whole-file digests");
    }

    #[test]
    fn items_sort_by_components_then_numeric_range() {
        let mut items = [item("a.b", None), item("a/b", None), item("w:x", Some((10, 20))), item("w:x", Some((2, 10)))];
        items.sort_by(compare_items);
        let names: Vec<String> = items.iter().map(Item::name).collect();
        // "a" < "a.b" component-wise, although "a.b" < "a/b" as strings.
        assert_eq!(names, ["a/b", "a.b", "w:x:2:10", "w:x:10:20"]);
    }

    #[test]
    fn ignore_paths_match_the_path_or_what_lies_under_it() {
        let ignore = vec!["model.sig".to_string(), ".github".to_string(), "docs/".to_string()];
        assert!(ignored("model.sig", &ignore));
        assert!(ignored(".github/workflows/ci.yml", &ignore));
        assert!(ignored("docs/card.md", &ignore));
        assert!(!ignored("model.sig.bak", &ignore));
        assert!(!ignored("documents", &ignore));
    }

    #[test]
    fn shard_names_round_trip_and_refuse_nonsense() {
        let method = Method::Shards { shard_size: 10 };
        assert_eq!(Item::parse_name("w/a.bin:0:10", method), Some(("w/a.bin".into(), Some((0, 10)))));
        assert_eq!(Item::parse_name("a.bin:10:0", method), None);
        assert_eq!(Item::parse_name("a.bin:x:10", method), None);
        assert_eq!(Item::parse_name("a.bin", method), None);
    }

    #[test]
    fn serialization_reads_protobuf_doubles_and_refuses_bad_fields() {
        let value =
            json!({"method": "shards", "hash_type": "sha256", "shard_size": 1000000000.0, "allow_symlinks": false});
        let serialization = Serialization::from_json(&value, "s").expect("valid");
        assert_eq!(serialization.method, Method::Shards { shard_size: 1_000_000_000 });
        for bad in [
            json!({"method": "shards", "hash_type": "sha256", "shard_size": 0.5}),
            json!({"method": "tensors", "hash_type": "sha256"}),
            json!({"method": "files", "hash_type": "sha256", "ignore_paths": [1]}),
            json!({"method": "files"}),
        ] {
            assert!(Serialization::from_json(&bad, "s").is_err(), "{bad}");
        }
    }
}
