//! A policy bundle: the files of a policy repository, their digest and git revision.
//!
//! The digest covers every file modelgate reads (Rego, data, exceptions) by relative
//! path and content, so it is the same on every machine and in any file order.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

/// Names of data files, loaded into `data` at their folder's path, as OPA bundles do.
const DATA_FILES: &[&str] = &["data.yaml", "data.yml", "data.json"];
pub const EXCEPTIONS_FILE: &str = "exceptions.yaml";

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
}

#[derive(Debug, Clone)]
pub struct Bundle {
    pub root: PathBuf,
    pub files: Vec<BundleFile>,
    pub info: BundleInfo,
}

/// How a bundle is identified in every report and audit record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BundleInfo {
    pub path: String,
    /// `sha256:<hex>` over the bundle's files.
    pub digest: String,
    /// The git commit of the checkout holding the bundle, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Whether the bundle's files differ from that commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    pub files: usize,
}

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
        collect(root, root, &mut files)?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        if !files.iter().any(|file| file.kind == FileKind::Rego) {
            return Err(Error::new(
                ErrorKind::PolicyMissing,
                format!("no .rego policy files under {}", root.display()),
            )
            .hint("`modelgate policy init DIR` writes the built-in library to start from"));
        }
        let (revision, dirty) = git_revision(root);
        let info = BundleInfo { path: display_path(root), digest: digest(&files), revision, dirty, files: files.len() };
        Ok(Bundle { root: root.to_path_buf(), files, info })
    }

    /// A bundle of files held elsewhere (the audit store), named `path`, sorted as [`Bundle::load`] sorts them.
    pub fn from_files(path: &str, revision: Option<String>, mut files: Vec<BundleFile>) -> Bundle {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let info =
            BundleInfo { path: path.to_string(), digest: digest(&files), revision, dirty: None, files: files.len() };
        Bundle { root: PathBuf::from(path), files, info }
    }

    pub fn files_of(&self, kind: FileKind) -> impl Iterator<Item = &BundleFile> {
        self.files.iter().filter(move |file| file.kind == kind)
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<BundleFile>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::read(dir, source))?;
    for entry in entries {
        let entry = entry.map_err(|source| Error::read(dir, source))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type().map_err(|source| Error::read(&path, source))?;
        if file_type.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                collect(root, &path, files)?;
            }
            continue;
        }
        let kind = if name.ends_with("_test.rego") {
            FileKind::RegoTest
        } else if name.ends_with(".rego") {
            FileKind::Rego
        } else if DATA_FILES.contains(&name.as_str()) {
            FileKind::Data
        } else if name == EXCEPTIONS_FILE && path.parent() == Some(root) {
            FileKind::Exceptions
        } else {
            continue;
        };
        let contents = crate::error::read_to_string(&path)?;
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
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

/// The commit of the git checkout holding `root`, and whether files under `root` differ from it.
/// No git, or not a checkout: both `None` (the digest still identifies the bundle).
fn git_revision(root: &Path) -> (Option<String>, Option<bool>) {
    let run = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let Some(revision) = run(&["rev-parse", "HEAD"]) else {
        return (None, None);
    };
    let dirty = run(&["status", "--porcelain", "--", "."]).map(|status| !status.is_empty());
    (Some(revision), dirty)
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
