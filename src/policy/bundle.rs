//! A policy bundle: the files of a policy repository, their digest and git revision.
//!
//! The digest covers every file modelgate reads (Rego, data, exceptions, controls) by relative
//! path and content, so it is the same on every machine and in any file order.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// Names of data files, loaded into `data` at their folder's path, as OPA bundles do.
pub const DATA_FILES: &[&str] = &["data.yaml", "data.yml", "data.json"];
pub const EXCEPTIONS_FILE: &str = "exceptions.yaml";
/// The JSON Schema the repository's own data.yaml must satisfy (docs/policy-authoring.md).
pub const DATA_SCHEMA_FILE: &str = "data.schema.json";

/// Folders a bundle never descends into.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules", ".modelgate"];

#[derive(Debug, Clone)]
pub struct BundleFile {
    /// Path relative to the bundle root, with `/` separators.
    pub path: String,
    pub contents: String,
    pub kind: FileKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Rego,
    RegoTest,
    Data,
    Exceptions,
    DataSchema,
    /// `controls.yaml`: the regulatory controls each rule supports.
    Controls,
}

impl FileKind {
    /// What a file at `path` (relative to the bundle root, `/`-separated) is, if modelgate
    /// reads it. The kind follows from the path alone, so a stored bundle's manifest cannot
    /// say otherwise (`audit verify` checks that it does not).
    pub fn of(path: &str) -> Option<FileKind> {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.ends_with("_test.rego") {
            Some(FileKind::RegoTest)
        } else if name.ends_with(".rego") {
            Some(FileKind::Rego)
        } else if DATA_FILES.contains(&name) {
            Some(FileKind::Data)
        } else if path == EXCEPTIONS_FILE {
            Some(FileKind::Exceptions)
        } else if path == DATA_SCHEMA_FILE {
            Some(FileKind::DataSchema)
        } else if path == super::controls::CONTROLS_FILE {
            Some(FileKind::Controls)
        } else {
            None
        }
    }

    /// The name a bundle manifest records.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Rego => "rego",
            FileKind::RegoTest => "rego_test",
            FileKind::Data => "data",
            FileKind::Exceptions => "exceptions",
            FileKind::DataSchema => "data_schema",
            FileKind::Controls => "controls",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bundle {
    pub root: PathBuf,
    pub files: Vec<BundleFile>,
    pub info: BundleInfo,
}

pub use crate::decision::BundleInfo;

impl Bundle {
    /// Reads every policy, data and exceptions file under `root`.
    pub fn load(root: &Path) -> Result<Bundle> {
        let metadata = std::fs::metadata(root).map_err(|source| {
            Error::new(ErrorKind::PolicyMissing, format!("cannot read policy folder {}: {source}", root.display()))
                .hint(
                "pass --policies DIR or set [policies] path in modelgate.toml; `modelgate policy init DIR` creates one",
            )
        })?;
        if !metadata.is_dir() {
            return Err(Error::new(
                ErrorKind::PolicyMissing,
                format!("policy path {} is not a folder", root.display()),
            )
            .hint("point --policies at the policy repository folder, not at a single file"));
        }
        let mut files = Vec::new();
        let mut folders = std::collections::HashSet::new();
        folders.insert(folder_identity(root)?);
        collect(root, root, &mut files, &mut folders)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if !files.iter().any(|file| file.kind == FileKind::Rego) {
            return Err(Error::new(
                ErrorKind::PolicyMissing,
                format!("no .rego policy files under {}", root.display()),
            )
            .hint("`modelgate policy init DIR` writes the built-in library to start from"));
        }
        let git = git_revision(root);
        let info = BundleInfo {
            path: display_path(root),
            digest: digest(&files),
            revision: git.revision,
            subpath: git.subpath,
            dirty: git.dirty,
            files: files.len(),
        };
        Ok(Bundle { root: root.to_path_buf(), files, info })
    }

    /// A bundle of files held elsewhere (the audit store), named `path`, sorted as [`Bundle::load`] sorts them.
    pub fn from_files(path: &str, revision: Option<String>, mut files: Vec<BundleFile>) -> Bundle {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let info = BundleInfo {
            path: path.to_string(),
            digest: digest(&files),
            revision,
            subpath: None,
            dirty: None,
            files: files.len(),
        };
        Bundle { root: PathBuf::from(path), files, info }
    }

    pub fn files_of(&self, kind: FileKind) -> impl Iterator<Item = &BundleFile> {
        self.files.iter().filter(move |file| file.kind == kind)
    }
}

/// The most a policy file may hold: Rego, data and exceptions are text written by people.
const MAX_FILE_BYTES: u64 = crate::input::MAX_TEXT_BYTES;

/// A folder as the file system knows it (device and inode, links followed), without
/// resolving its path: that needs every folder above it to be searchable, which a
/// checkout in a private temporary folder read by another user is not.
#[cfg(unix)]
fn folder_identity(path: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path).map_err(|source| Error::read(path, source))?;
    Ok((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn folder_identity(path: &Path) -> Result<(u64, u64)> {
    use std::hash::{Hash, Hasher};
    let canonical = path.canonicalize().map_err(|source| Error::read(path, source))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    canonical.hash(&mut hasher);
    Ok((0, hasher.finish()))
}

/// Reads the bundle's files under `dir`. Links are followed, to folders too (a policy
/// folder shared by a link must not be skipped in silence); `folders` holds the folders
/// read so far, so that a link back into the bundle is refused rather than read twice.
fn collect(
    root: &Path,
    dir: &Path,
    files: &mut Vec<BundleFile>,
    folders: &mut std::collections::HashSet<(u64, u64)>,
) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::read(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::read(dir, source))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type().map_err(|source| Error::read(&path, source))?;
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let kind = FileKind::of(&relative);
        let is_dir = file_type.is_dir()
            || (file_type.is_symlink() && std::fs::metadata(&path).is_ok_and(|metadata| metadata.is_dir()));
        if is_dir {
            if kind.is_some() {
                // A folder named data.yaml would otherwise be walked into and the file skipped.
                return Err(Error::new(
                    ErrorKind::PolicyParse,
                    format!("{}: is a folder, but a policy repository's {relative} is a file", path.display()),
                )
                .hint(format!("replace the folder {relative} by the file it should be")));
            }
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                if !folders.insert(folder_identity(&path)?) {
                    return Err(Error::new(
                        ErrorKind::PolicyParse,
                        format!("{}: links to a folder the policy repository holds already", path.display()),
                    )
                    .hint("remove the link: its policies would be read twice"));
                }
                collect(root, &path, files, folders)?;
            }
            continue;
        }
        let Some(kind) = kind else { continue };
        // Links are followed, to regular files only: a FIFO or a device would block or
        // read without end.
        let contents = crate::input::read_text(&path, MAX_FILE_BYTES, "a policy repository file")?;
        files.push(BundleFile { path: relative, contents, kind });
    }
    Ok(())
}

/// `examples/x/../../policies` as `policies`: folded lexically, so the path a report
/// shows is the one a reader would type, without resolving symlinks.
pub fn display_path(path: &Path) -> String {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return ".".to_string();
    }
    parts.iter().collect::<PathBuf>().display().to_string()
}

/// sha256 over `len(path) path len(contents) contents` of each file, sorted by path.
/// Lengths keep `a` + `bc` from colliding with `ab` + `c`.
pub fn digest(files: &[BundleFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update((file.path.len() as u64).to_be_bytes());
        hasher.update(file.path.as_bytes());
        hasher.update((file.contents.len() as u64).to_be_bytes());
        hasher.update(file.contents.as_bytes());
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// Where a bundle comes from in git.
#[derive(Debug, Default)]
struct GitState {
    revision: Option<String>,
    subpath: Option<String>,
    dirty: Option<bool>,
}

/// The commit of the git checkout holding `root`, where `root` sits in it, and whether any
/// file modelgate reads under `root` differs from that commit (edited, added, deleted,
/// untracked or ignored). No git, or not a checkout: all `None` (the digest still
/// identifies the bundle).
fn git_revision(root: &Path) -> GitState {
    let run = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let Some(revision) = run(&["rev-parse", "HEAD"]).map(|text| text.trim().to_string()) else {
        return GitState::default();
    };
    let prefix = run(&["rev-parse", "--show-prefix"]).map(|text| text.trim().to_string()).unwrap_or_default();
    // Paths in porcelain output are relative to the top of the checkout, NUL-separated
    // with -z (no quoting); a rename is followed by its source path.
    let status = run(&["status", "--porcelain", "-z", "--ignored", "--untracked-files=all", "--", "."]);
    let dirty = status.map(|status| {
        status.split('\0').filter(|record| record.len() > 3).any(|record| {
            let path = record.get(3..).unwrap_or(record);
            let inside = path.strip_prefix(prefix.as_str()).unwrap_or(path);
            let skipped = inside.split('/').any(|part| SKIPPED_DIRS.contains(&part));
            !skipped && FileKind::of(inside).is_some()
        })
    });
    let subpath = prefix.trim_end_matches('/');
    GitState { revision: Some(revision), subpath: (!subpath.is_empty()).then(|| subpath.to_string()), dirty }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str) -> BundleFile {
        BundleFile { path: path.into(), contents: contents.into(), kind: FileKind::Rego }
    }

    #[test]
    fn digest_depends_on_paths_and_contents() {
        let base = digest(&[file("a.rego", "x"), file("b.rego", "y")]);
        assert_ne!(base, digest(&[file("a.rego", "x"), file("b.rego", "z")]));
        assert_ne!(base, digest(&[file("a.rego", "x"), file("c.rego", "y")]));
        // Moving bytes between a path and its contents changes the digest.
        assert_ne!(digest(&[file("ab", "c")]), digest(&[file("a", "bc")]));
        assert!(base.starts_with("sha256:"));
    }

    #[test]
    fn load_is_order_independent_and_skips_other_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("b.rego"), "package modelgate.b\n").expect("write");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/a.rego"), "package modelgate.a\n").expect("write");
        std::fs::write(dir.path().join("sub/a_test.rego"), "package modelgate.a\n").expect("write");
        std::fs::write(dir.path().join("notes.txt"), "ignored").expect("write");
        std::fs::write(dir.path().join("data.yaml"), "thresholds: {}\n").expect("write");
        let bundle = Bundle::load(dir.path()).expect("bundle");
        let paths: Vec<_> = bundle.files.iter().map(|f| (f.path.as_str(), f.kind)).collect();
        assert_eq!(
            paths,
            vec![
                ("b.rego", FileKind::Rego),
                ("data.yaml", FileKind::Data),
                ("sub/a.rego", FileKind::Rego),
                ("sub/a_test.rego", FileKind::RegoTest),
            ]
        );
        assert_eq!(bundle.info.digest, digest(&bundle.files));
    }

    #[test]
    fn display_path_folds_parent_folders() {
        assert_eq!(display_path(Path::new("examples/x/../../policies")), "policies");
        assert_eq!(display_path(Path::new("../shared/./p")), "../shared/p");
        assert_eq!(display_path(Path::new("/a/b/../c")), "/a/c");
        assert_eq!(display_path(Path::new("a/..")), ".");
    }

    #[test]
    fn missing_folder_is_an_error_with_hint() {
        let error = Bundle::load(Path::new("/nonexistent/policies")).expect_err("missing");
        assert_eq!(error.kind, ErrorKind::PolicyMissing);
        assert!(error.hint.is_some());
    }
}
