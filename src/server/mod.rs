//! `modelgate server`: the governance service. It owns the policy bundles (published by the
//! policy repository's CI, activated per environment by the governance team), judges the
//! evidence pipelines submit under the bundle active for their environment, records every
//! decision in the audit store with the token's holder as requester, and signs each one as
//! an in-toto / SLSA verification summary that a deploy step checks offline
//! ([`crate::attestation`]).
//!
//! [`service`] does the work, on blocking threads; [`api`] is the HTTP face (axum);
//! [`client`] is what the command line uses to reach it.

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod metrics;
pub mod service;
pub mod ui;

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use crate::artifacts::signing::keys::SigningKey;
use crate::error::{Error, ErrorKind, Result};
pub use config::{Overrides, ServerConfig};
pub use service::Service;

/// A request refused or failed, with its HTTP status; the body is one documented shape:
/// `{"error": {"status", "code", "message", "hint"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), hint: Some(hint.into()) }
    }

    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> ApiError {
        ApiError::new(422, "invalid", message, hint)
    }

    pub fn not_found(message: impl Into<String>, hint: impl Into<String>) -> ApiError {
        ApiError::new(404, "not_found", message, hint)
    }

    pub fn conflict(message: impl Into<String>, hint: impl Into<String>) -> ApiError {
        ApiError::new(409, "conflict", message, hint)
    }

    /// An error in what the caller sent (evidence, policies): 422, with the library's hint.
    pub fn from_input(error: Error) -> ApiError {
        match error.kind {
            ErrorKind::Store | ErrorKind::Io => ApiError::from(error),
            _ => ApiError { status: 422, code: "invalid", message: error.message, hint: error.hint },
        }
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"status": self.status, "code": self.code, "message": self.message, "hint": self.hint}})
    }
}

/// A failure of the server itself: the store is unavailable (503) or something else broke (500).
impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        let (status, code) = match error.kind {
            ErrorKind::Store => (503, "store_unavailable"),
            ErrorKind::UnknownEnvironment => (422, "invalid"),
            _ => (500, "internal"),
        };
        ApiError { status, code, message: error.message, hint: error.hint }
    }
}

impl From<auth::Refusal> for ApiError {
    fn from(refusal: auth::Refusal) -> ApiError {
        match refusal {
            auth::Refusal::Unauthorized(message) => ApiError {
                status: 401,
                code: "unauthorized",
                message,
                hint: Some("send a valid token: `Authorization: Bearer mgt_…` (MODELGATE_TOKEN for the CLI)".into()),
            },
            auth::Refusal::Forbidden(message) => ApiError {
                status: 403,
                code: "forbidden",
                message,
                hint: Some("ask the server's admin for a token with that role and scope".into()),
            },
        }
    }
}

/// The signing key: the configured one, or the one generated in the data folder on the
/// first start (kept readable by its owner only).
pub fn signing_key(config: &ServerConfig) -> Result<SigningKey> {
    if config.generated_key && !config.signing_key.exists() {
        generate_key(&config.signing_key)?;
    }
    SigningKey::read(&config.signing_key)
}

/// Writes a new P-256 private key (PKCS#8 PEM) to `path`; refuses to overwrite one.
pub fn generate_key(path: &Path) -> Result<()> {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    use std::io::Write;
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| Error::write(parent, error))?;
    }
    let key = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot encode the new key: {error}")))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|error| {
        Error::write(path, error).hint("the signing key is never overwritten: move the old one away deliberately")
    })?;
    file.write_all(pem.as_bytes()).and_then(|()| file.sync_all()).map_err(|error| Error::write(path, error))
}

/// Runs the server until SIGINT or SIGTERM; in-flight requests finish (and their decisions
/// are recorded) before it exits. `ready` is told the bound address.
pub fn serve(mut config: ServerConfig, ready: impl FnOnce(std::net::SocketAddr)) -> Result<()> {
    let listener = std::net::TcpListener::bind(config.listen).map_err(|error| {
        Error::new(ErrorKind::Config, format!("cannot listen on {}: {error}", config.listen))
            .hint("choose a free port with --listen or `listen` in server.toml")
    })?;
    let local = listener.local_addr().map_err(|error| Error::new(ErrorKind::Io, error.to_string()))?;
    listener.set_nonblocking(true).map_err(|error| Error::new(ErrorKind::Io, error.to_string()))?;
    config.listen = local;
    if config.default_verifier {
        config.verifier_id = config::default_verifier_id(config.tls.is_some(), local);
    }
    let key = signing_key(&config)?;
    let notifiers = config.notifications.as_deref().map(crate::notify::NotifyConfig::load).transpose()?;
    // The store must open (and migrate) before the server says it is listening.
    let address = crate::audit::Address::parse(&config.store)?;
    let access = if config.default_store { crate::audit::Access::Create } else { crate::audit::Access::ReadWrite };
    crate::audit::open(&address, access)?;
    let tls = config.tls.as_ref().map(api::tls_config).transpose()?;
    let service = Arc::new(Service::new(config, key, notifiers)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("modelgate-server")
        .build()
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot start the server's runtime: {error}")))?;
    let served = runtime.block_on(api::run(service.clone(), listener, tls, ready));
    // The idle store connections are dropped here, off the runtime: the PostgreSQL client
    // blocks on its own runtime as it closes, which cannot happen inside another.
    drop(runtime);
    // The last word: every entry this server wrote is covered by a signed checkpoint.
    let last = service.stores.with(|store| {
        if crate::audit::checkpoint::uncovered(store)? > 0 {
            service.checkpoint(store)?;
        }
        Ok(())
    });
    drop(service);
    served?;
    last.map_err(|error| Error::new(ErrorKind::Store, error.message).hint(error.hint.unwrap_or_default()))
}
