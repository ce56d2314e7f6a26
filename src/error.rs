//! Errors people can act on: every error names what broke, where, and a `hint:` with the fix.
//!
//! Any error is exit 2 and a decision of `error`: the gate fails closed.

use std::path::{Path, PathBuf};

/// An error the user can act on: a message naming the file and field, and a hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub message: String,
    pub hint: Option<String>,
    /// What kind of problem this is; stable, for the JSON report (`policy-parse`, `evidence-invalid`, …).
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    Config,
    Io,
    EvidenceInvalid,
    PolicyMissing,
    PolicyParse,
    PolicyUnknownBuiltin,
    PolicyNoDeny,
    PolicyPackage,
    PolicyEvaluation,
    PolicyTimeout,
    PolicyResult,
    /// The policy repository's data.yaml is missing, ambiguous or does not match its schema.
    PolicyData,
    /// An environment the policy repository does not declare.
    UnknownEnvironment,
    Exceptions,
    /// The policy repository's controls.yaml (the rules' regulatory controls) is malformed
    /// or names what does not exist.
    PolicyControls,
    /// A predictions, test-set or other data file that cannot be used as it is.
    DataInvalid,
    /// A load test that could not run, or a load-test report that cannot be read.
    Serving,
    /// A model card, datasheet or risk assessment that cannot be read as a document.
    DocumentInvalid,
    /// The audit store cannot be opened, read, written or trusted.
    Store,
    /// A notifier that is misconfigured, or an alert that could not be delivered.
    Notify,
    /// `modelgate server` could not be reached, refused the request, or answered wrongly.
    Server,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Io => "io",
            ErrorKind::EvidenceInvalid => "evidence-invalid",
            ErrorKind::PolicyMissing => "policy-missing",
            ErrorKind::PolicyControls => "policy-controls",
            ErrorKind::PolicyParse => "policy-parse",
            ErrorKind::PolicyUnknownBuiltin => "policy-unknown-builtin",
            ErrorKind::PolicyNoDeny => "policy-no-deny",
            ErrorKind::PolicyPackage => "policy-package",
            ErrorKind::PolicyEvaluation => "policy-evaluation",
            ErrorKind::PolicyTimeout => "policy-timeout",
            ErrorKind::PolicyResult => "policy-result",
            ErrorKind::PolicyData => "policy-data",
            ErrorKind::UnknownEnvironment => "unknown-environment",
            ErrorKind::Exceptions => "exceptions",
            ErrorKind::DataInvalid => "data-invalid",
            ErrorKind::Serving => "serving",
            ErrorKind::DocumentInvalid => "document-invalid",
            ErrorKind::Store => "store",
            ErrorKind::Notify => "notify",
            ErrorKind::Server => "server",
        }
    }
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { message: message.into(), hint: None, kind }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// A file could not be read.
    pub fn read(path: &Path, source: std::io::Error) -> Error {
        let hint = match source.kind() {
            std::io::ErrorKind::NotFound => "check the path; relative paths are resolved from the config file's folder",
            std::io::ErrorKind::PermissionDenied => "make the file readable by the user running modelgate",
            _ => "check that the file exists and is readable",
        };
        Error::new(ErrorKind::Io, format!("cannot read {}: {source}", path.display())).hint(hint)
    }

    /// A file could not be written.
    pub fn write(path: &Path, source: std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("cannot write {}: {source}", path.display()))
            .hint("check that the folder exists and is writable")
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// At most the first 40 characters of `text` a file held, for a message: an error names
/// the offending token (a key, a value), never a line of a file it could not read (which
/// may be `/etc/shadow`'s).
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// A parser's message with every quoted value (in `"…"` or `` `…` ``) cut to an
/// [`excerpt`]: serde quotes the whole value or key it could not use, which may be a line
/// of another file.
pub fn shorten_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('"');
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find(quote) {
            Some(close) => {
                out.push_str(&excerpt(&after[..close]));
                out.push(quote);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&excerpt(after));
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Joins `path` onto `base` unless it is absolute.
pub fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}
