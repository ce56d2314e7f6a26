//! The files of a model folder and their SHA-256 digests, hashed in parallel.
//!
//! A model folder is untrusted: symbolic links are never followed (a link is listed as
//! such, so that a signature check or a scan can refuse it), and the walk does not leave
//! the folder. Files are hashed on every core, each read in large blocks; SHA-256 uses
//! the CPU's SHA extensions when it has them (the sha2 crate detects them at run time).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// One entry of a model folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the folder, `/`-separated.
    pub path: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File {
        size: u64,
    },
    /// A symbolic link, with its target as written; never followed.
    Symlink {
        target: String,
    },
}

/// A file and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub path: String,
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// Lists the files and links under `root`, sorted by path, skipping the folders named in
/// `ignore` (relative paths such as `.git`).
pub fn walk(root: &Path, ignore: &[&str]) -> Result<Vec<Entry>> {
    let metadata = std::fs::symlink_metadata(root).map_err(|source| Error::read(root, source))?;
    if !metadata.is_dir() {
        let size = metadata.len();
        let name = root.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        return Ok(vec![Entry { path: name, kind: EntryKind::File { size } }]);
    }
    let mut entries = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let listing = std::fs::read_dir(&dir).map_err(|source| Error::read(&dir, source))?;
        for item in listing {
            let item = item.map_err(|source| Error::read(&dir, source))?;
            let child = relative.join(item.file_name());
            let shown = slash_path(&child);
            if ignore.contains(&shown.as_str()) {
                continue;
            }
            let file_type = item.file_type().map_err(|source| Error::read(&item.path(), source))?;
            if file_type.is_symlink() {
                let target = std::fs::read_link(item.path()).map_err(|source| Error::read(&item.path(), source))?;
                entries.push(Entry {
                    path: shown,
                    kind: EntryKind::Symlink { target: target.to_string_lossy().into_owned() },
                });
            } else if file_type.is_dir() {
                pending.push(child);
            } else if file_type.is_file() {
                let size = item.metadata().map_err(|source| Error::read(&item.path(), source))?.len();
                entries.push(Entry { path: shown, kind: EntryKind::File { size } });
            } else {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("{}: not a regular file, folder or link (a device, socket or pipe)", item.path().display()),
                )
                .hint("a model folder holds files only; remove it"));
            }
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// A path relative to the folder, `/`-separated on every platform.
fn slash_path(path: &Path) -> String {
    path.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Read size per call: large enough that hashing, not system calls, is the cost.
const BLOCK: usize = 4 << 20;

/// The SHA-256 of each file under `root` named in `paths` (relative), in the same order,
/// hashed on up to `threads` threads.
pub fn sha256_files(root: &Path, paths: &[String], threads: usize) -> Result<Vec<FileDigest>> {
    parallel_map(paths, threads, |path, buffer| {
        sha256_file(&root.join(path), buffer).map(|(size, sha256)| FileDigest { path: path.clone(), size, sha256 })
    })
}

/// `work(item, buffer)` for every item on up to `threads` threads, each thread with its own
/// read buffer of [`BLOCK`] bytes; the results in the items' order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T, &mut [u8]) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<R>>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let worker = || {
        let mut buffer = vec![0u8; BLOCK];
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            let result = work(item, &mut buffer);
            // Each slot is written by one thread only.
            *results[index].lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(result);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.clamp(1, items.len().max(1)) {
            scope.spawn(worker);
        }
        worker();
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unwrap_or_else(|| Err(Error::new(ErrorKind::Io, "a file was not hashed")))
        })
        .collect()
}

/// The size and SHA-256 (hex) of the file at `path`, read with `buffer`.
pub fn sha256_file(path: &Path, buffer: &mut [u8]) -> Result<(u64, String)> {
    let mut file = crate::input::open(path)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let read = file.read(buffer).map_err(|source| Error::read(path, source))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The threads to hash with: one per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, bytes: &[u8]) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    }

    #[test]
    fn walks_sorted_skips_ignored_and_never_follows_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "b/weights.bin", b"abc");
        write(dir.path(), "a.json", b"{}");
        write(dir.path(), ".git/HEAD", b"ref");
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("b/escape")).expect("symlink");
        let entries = walk(dir.path(), &[".git"]).expect("walk");
        let paths: Vec<&str> = entries.iter().map(|entry| entry.path.as_str()).collect();
        #[cfg(unix)]
        assert_eq!(paths, ["a.json", "b/escape", "b/weights.bin"]);
        #[cfg(unix)]
        assert_eq!(entries[1].kind, EntryKind::Symlink { target: "/etc/passwd".into() });
        assert!(entries.iter().any(|entry| entry.kind == EntryKind::File { size: 3 }));
    }

    #[test]
    fn digests_match_known_values_in_order_on_any_thread_count() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "abc", b"abc");
        write(dir.path(), "empty", b"");
        let big: Vec<u8> = (0..(BLOCK + 17)).map(|i| (i % 251) as u8).collect();
        write(dir.path(), "big", &big);
        let paths = vec!["abc".to_string(), "empty".to_string(), "big".to_string()];
        let expected_big = hex::encode(Sha256::digest(&big));
        for threads in [1, 2, 8] {
            let digests = sha256_files(dir.path(), &paths, threads).expect("hash");
            // FIPS 180-2 test vectors.
            assert_eq!(digests[0].sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            assert_eq!(digests[1].sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
            assert_eq!(digests[2].sha256, expected_big);
            assert_eq!(digests[2].size, big.len() as u64);
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = sha256_files(dir.path(), &["gone.bin".to_string()], 2).expect_err("missing");
        assert!(error.message.contains("gone.bin"), "{}", error.message);
    }
}
