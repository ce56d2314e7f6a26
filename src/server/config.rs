//! `server.toml`: where the server listens, where it keeps its store and its signing key,
//! whom it alerts, and its limits. Every key is optional: `modelgate server` with no file
//! listens on 127.0.0.1:8480 and keeps an SQLite store and a generated key in `modelgate-server/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8480";
pub const DEFAULT_DATA: &str = "modelgate-server";
/// The generated signing key, inside the data folder.
pub const KEY_FILE: &str = "signing-key.pem";
/// The store, inside the data folder, when no `store` is named.
pub const STORE_FILE: &str = "audit.db";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    pub listen: Option<String>,
    /// The folder of the default store and the generated key.
    pub data: Option<PathBuf>,
    /// An SQLite path or a postgres:// URL (`MODELGATE_STORE` overrides it).
    pub store: Option<String>,
    /// The ECDSA P-256 (or P-384) private key that signs attestations, PEM.
    pub signing_key: Option<PathBuf>,
    /// `verifier.id` in every attestation: the server's URI.
    pub verifier_id: Option<String>,
    /// The notifiers of re-evaluations after an activation (notifications.yaml).
    pub notifications: Option<PathBuf>,
    /// A signed checkpoint of the chain at least every this many entries (default 100); also
    /// on every activation and when the server stops.
    pub checkpoint_every: Option<u64>,
    pub tls: Option<TlsFile>,
    #[serde(default)]
    pub limits: LimitsFile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// The largest request body accepted (default 16 MiB).
    pub max_body_bytes: Option<usize>,
    /// The longest a request may take, body included (default 60 s).
    pub request_timeout_ms: Option<u64>,
    /// The policy evaluation time limit per decision (default: the engine's).
    pub evaluation_timeout_ms: Option<u64>,
    /// Store connections kept open for reuse (default 16).
    pub store_connections: Option<usize>,
    /// Requests worked on at once (evaluating, recording); the others wait their turn
    /// without a thread (default: twice the cores).
    pub concurrent_requests: Option<usize>,
}

/// The server's settings, resolved: paths relative to the config file's folder.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data: PathBuf,
    pub store: String,
    /// Whether the store is the default one in the data folder (created when missing); a
    /// store named in the file or with `--store` must exist (`modelgate audit init`).
    pub default_store: bool,
    pub signing_key: PathBuf,
    /// Whether the key is the generated one in the data folder (created when missing).
    pub generated_key: bool,
    pub verifier_id: String,
    /// Whether `verifier_id` is the default (the listen URL, fixed once the port is bound).
    pub default_verifier: bool,
    pub notifications: Option<PathBuf>,
    pub checkpoint_every: u64,
    pub tls: Option<TlsFile>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub evaluation_timeout: Duration,
    pub store_connections: usize,
    pub concurrent_requests: usize,
}

/// What the command line says over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides<'a> {
    pub listen: Option<&'a str>,
    pub data: Option<&'a Path>,
    pub store: Option<&'a str>,
}

impl ServerConfig {
    /// Reads `file` (none: every default) and applies `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<ServerConfig> {
        let (parsed, base) = match file {
            Some(path) => {
                let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "server.toml")?;
                let parsed: ServerFile = crate::config::parse_toml(path, &text, "docs/server.md")?;
                let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (parsed, base)
            }
            None => (ServerFile::default(), PathBuf::new()),
        };
        let resolve = |path: &Path| if path.is_absolute() { path.to_path_buf() } else { base.join(path) };
        let listen_text = overrides.listen.map(str::to_string).or(parsed.listen).unwrap_or(DEFAULT_LISTEN.into());
        let listen = listen_text.parse::<SocketAddr>().map_err(|_| {
            Error::new(ErrorKind::Config, format!("listen address `{listen_text}` is not IP:PORT"))
                .hint("write e.g. 127.0.0.1:8480, or 0.0.0.0:8443 behind TLS")
        })?;
        let data = match overrides.data {
            Some(path) => path.to_path_buf(),
            None => resolve(parsed.data.as_deref().unwrap_or(Path::new(DEFAULT_DATA))),
        };
        let (store, default_store) = match overrides.store.map(str::to_string).or(parsed.store) {
            Some(store) => (store, false),
            None => (data.join(STORE_FILE).display().to_string(), true),
        };
        let (signing_key, generated_key) = match &parsed.signing_key {
            Some(path) => (resolve(path), false),
            None => (data.join(KEY_FILE), true),
        };
        let default_verifier = parsed.verifier_id.is_none();
        let verifier_id = parsed.verifier_id.unwrap_or_else(|| default_verifier_id(parsed.tls.is_some(), listen));
        let tls = parsed.tls.map(|tls| TlsFile { cert: resolve(&tls.cert), key: resolve(&tls.key) });
        let limits = parsed.limits;
        Ok(ServerConfig {
            listen,
            data,
            store,
            default_store,
            signing_key,
            generated_key,
            verifier_id,
            default_verifier,
            notifications: parsed.notifications.as_deref().map(resolve),
            checkpoint_every: parsed.checkpoint_every.unwrap_or(100).max(1),
            tls,
            max_body_bytes: limits.max_body_bytes.unwrap_or(16 << 20),
            request_timeout: Duration::from_millis(limits.request_timeout_ms.unwrap_or(60_000)),
            evaluation_timeout: limits
                .evaluation_timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(crate::policy::engine::DEFAULT_TIMEOUT),
            store_connections: limits.store_connections.unwrap_or(16).max(1),
            concurrent_requests: limits
                .concurrent_requests
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get) * 2)
                .max(1),
        })
    }
}

/// The `verifier.id` of a server that names none: the URL it listens on.
pub fn default_verifier_id(tls: bool, listen: SocketAddr) -> String {
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{listen}")
}
