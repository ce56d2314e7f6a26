//! The commands that have logic, as library entry points: each takes a request, does the
//! work (recording in the audit store where the command records), writes what it
//! reports to an `io::Write` and returns its exit status. The command line is one caller;
//! a service is another.

pub mod audit;
pub mod batch;
pub mod deploy;
pub mod docs;
pub mod gate;
pub mod lifecycle;
pub mod package;

use std::path::Path;

use crate::config::LoadedConfig;
use crate::error::{Error, ErrorKind, Result};

/// How a command's answer is written: text to read, or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// A model project as the commands name it.
#[derive(Debug, Clone, Copy)]
pub struct Project<'a> {
    /// The folder holding modelgate.toml.
    pub dir: &'a Path,
    /// Another config file than `dir/modelgate.toml`.
    pub config: Option<&'a Path>,
    /// Overrides `[deployment] environment`.
    pub environment: Option<&'a str>,
}

impl Project<'_> {
    pub fn load(&self) -> Result<LoadedConfig> {
        LoadedConfig::load(self.config.unwrap_or(self.dir))
    }

    /// The folder of the config it names: the default store's place.
    pub fn base(&self) -> std::path::PathBuf {
        match self.config {
            Some(file) => file.parent().map(Path::to_path_buf).unwrap_or_else(|| ".".into()),
            None => self.dir.to_path_buf(),
        }
    }
}

/// Writes `value` as pretty JSON (and a newline) to `path`.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot serialize: {error}")))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|error| Error::write(path, error))
}
