//! The commands that have logic, as library entry points: each takes a request, does the
//! work (recording in the audit store where the command records), writes what it
//! reports to an `io::Write` and returns its exit status. The command line is one caller;
//! a service is another.

pub mod audit;
pub mod deploy;
pub mod docs;
pub mod gate;
pub mod lifecycle;

use std::path::Path;

use crate::error::{Error, ErrorKind, Result};

/// Writes `value` as pretty JSON (and a newline) to `path`.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot serialize: {error}")))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|error| Error::write(path, error))
}
