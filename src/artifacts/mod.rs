//! Evidence about the model's own files: what format each is (by content), whether its
//! serialization can run code, and what it would run ([`pickle`], [`formats`]); and what
//! it ships with, audited against an offline vulnerability database ([`lockfiles`], [`audit`]).
//!
//! Everything here reads untrusted bytes: nothing is executed, imported or unpickled,
//! reading is bounded, and a file that cannot be parsed is unsafe, with the reason.

pub mod audit;
pub mod container;
pub mod cvss;
pub mod digest;
pub mod formats;
pub mod lockfiles;
pub mod osv;
pub mod pep440;
pub mod pickle;
pub mod requirements;
pub mod scan;
pub mod signing;

use std::path::PathBuf;

use serde::Deserialize;

/// `[artifacts]` in modelgate.toml (docs/artifacts.md): the model's files, the key its
/// signature must verify with, and the dependencies it ships with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactsConfig {
    /// The model folder (every file under it is scanned), relative to the config file.
    pub model: PathBuf,
    /// Which pickle globals pass: `allow` (only those needed to load tensors, the default)
    /// or `deny` (anything not on the deny list).
    #[serde(default)]
    pub globals: GlobalsSetting,
    #[serde(default)]
    pub signature: Option<SignatureConfig>,
    #[serde(default)]
    pub dependencies: Option<DependenciesConfig>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GlobalsSetting {
    #[default]
    Allow,
    Deny,
}

/// `[artifacts.signature]`: how the model folder is signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureConfig {
    /// The signature (a model_signing Sigstore bundle); default `<model>/model.sig`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// The release key's public half (PEM) that the signature must verify with.
    #[serde(default)]
    pub public_key: Option<PathBuf>,
    /// Or, for certificate signatures: the CA certificates (PEM) the chain must lead to.
    #[serde(default)]
    pub certificate_chain: Vec<PathBuf>,
}

/// `[artifacts.dependencies]`: what the model's serving environment installs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependenciesConfig {
    /// A requirements file, a lock file (uv.lock, poetry.lock, Pipfile.lock), a conda
    /// environment or an MLflow model folder.
    pub path: PathBuf,
    /// The offline advisory database: a folder of OSV records or osv-scanner's `all.zip`.
    pub osv: PathBuf,
}
