//! The built-in policy library (`policies/` in the source tree), embedded in the binary.

use std::path::Path;

use include_dir::{include_dir, Dir};

use crate::error::{Error, ErrorKind, Result};

static LIBRARY: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// Every file of the library as (relative path, contents), sorted by path.
pub fn files() -> Vec<(String, &'static str)> {
    let mut files = Vec::new();
    gather(&LIBRARY, &mut files);
    files.sort();
    files
}

fn gather(dir: &'static Dir<'static>, files: &mut Vec<(String, &'static str)>) {
    for file in dir.files() {
        if let Some(contents) = file.contents_utf8() {
            files.push((file.path().to_string_lossy().replace('\\', "/"), contents));
        }
    }
    for sub in dir.dirs() {
        gather(sub, files);
    }
}

/// Writes the library to `target` as a standalone policy repository. Refuses to write
/// into a non-empty folder unless `force`, so nobody's policies are overwritten by accident.
pub fn init(target: &Path, force: bool) -> Result<Vec<String>> {
    if let Ok(mut entries) = std::fs::read_dir(target) {
        if entries.next().is_some() && !force {
            return Err(Error::new(ErrorKind::Io, format!("{} exists and is not empty", target.display()))
                .hint("choose a new folder, or pass --force to overwrite the library's files in it"));
        }
    }
    let mut written = Vec::new();
    for (path, contents) in files() {
        let destination = target.join(&path);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::write(parent, source))?;
        }
        std::fs::write(&destination, contents).map_err(|source| Error::write(&destination, source))?;
        written.push(path);
    }
    Ok(written)
}
