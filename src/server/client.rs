//! The command line as a client of `modelgate server`: submit a model project's evidence
//! (collected here: the data never leaves the pipeline), publish and activate bundles.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::service::{DecisionResponse, PublishRequest, PublishedFile};
use crate::attestation::{self, Subject};
use crate::collect::{self, Context};
use crate::error::{Error, ErrorKind, Result};
use crate::policy::bundle::Bundle;

/// The environment variable naming the server, like `--server`.
pub const SERVER_ENV: &str = "MODELGATE_SERVER";
/// The environment variable holding the bearer token.
pub const TOKEN_ENV: &str = "MODELGATE_TOKEN";
/// The environment variable naming the CA certificates (PEM) that the server's TLS
/// certificate must lead to, for a server whose certificate an internal CA issued.
pub const CA_ENV: &str = "MODELGATE_SERVER_CA";
/// The largest answer read from the server.
const MAX_ANSWER_BYTES: u64 = 256 << 20;
/// How long one request may take (an activation re-evaluates a fleet).
const TIMEOUT: Duration = Duration::from_secs(900);

/// A server and the token to show it.
pub struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    /// `url` is `https://HOST[:PORT]` (or `http://` to a loopback address: a token is never
    /// sent in clear over a network).
    pub fn new(url: &str, token: Option<&str>, ca: Option<&Path>) -> Result<Client> {
        let base = url.trim_end_matches('/').to_string();
        let uri: ureq::http::Uri = base.parse().map_err(|_| {
            Error::new(ErrorKind::Config, format!("--server `{base}` is not a URL"))
                .hint("write https://modelgate.example.com (MODELGATE_SERVER)")
        })?;
        let host = uri.host().unwrap_or_default().to_string();
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if crate::notify::http::is_loopback(&host) => {}
            Some("http") => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("--server `{base}` is plain http to {host}: the token would cross the network in clear"),
                )
                .hint("use https:// (plain http is accepted only to a loopback address)"))
            }
            _ => {
                return Err(Error::new(ErrorKind::Config, format!("--server `{base}` is not an http(s) URL"))
                    .hint("write https://modelgate.example.com (MODELGATE_SERVER)"))
            }
        }
        let token = token.filter(|token| !token.trim().is_empty()).ok_or_else(|| {
            Error::new(ErrorKind::Config, format!("no token for the server {base}"))
                .hint(format!("set {TOKEN_ENV} to the token the server's admin created for you"))
        })?;
        let roots = ca.map(read_ca).transpose()?;
        let agent = crate::notify::http::agent_trusting(&base, TIMEOUT, roots);
        Ok(Client { agent, base, token: token.trim().to_string() })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// A GET with query parameters (encoded here).
    pub fn get_query(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let mut request = self.agent.get(format!("{}{path}", self.base)).header("Authorization", &self.bearer());
        for (key, value) in query {
            request = request.query(*key, value);
        }
        self.answer(path, request.call())
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let request = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &self.bearer())
            .header("Content-Type", "application/json");
        self.answer(path, request.send(&bytes[..]))
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn answer(
        &self,
        path: &str,
        response: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value> {
        let mut response = response.map_err(|error| {
            Error::new(
                ErrorKind::Server,
                format!("cannot reach the server {}: {}", self.base, crate::notify::http::describe(&error)),
            )
            .hint(format!("check --server ({SERVER_ENV}) and that the server is running"))
        })?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response.body_mut().as_reader().take(MAX_ANSWER_BYTES + 1).read_to_end(&mut bytes).map_err(|error| {
            Error::new(ErrorKind::Server, format!("{}{path}: the answer broke off: {error}", self.base))
        })?;
        if bytes.len() as u64 > MAX_ANSWER_BYTES {
            return Err(Error::new(
                ErrorKind::Server,
                format!("{}{path}: the answer is larger than 256 MiB", self.base),
            ));
        }
        let value = crate::strict::json_value(&bytes);
        if (200..300).contains(&status) {
            return value.map_err(|error| {
                Error::new(ErrorKind::Server, format!("{}{path}: the answer is not JSON: {error}", self.base))
                    .hint("is --server the modelgate server, and not a proxy's page?")
            });
        }
        let error = value.ok().and_then(|value| value.get("error").cloned()).unwrap_or(Value::Null);
        let message = error.get("message").and_then(Value::as_str).unwrap_or("(no message)");
        let mut failure =
            Error::new(ErrorKind::Server, format!("the server refused {path} with HTTP {status}: {message}"));
        if let Some(hint) = error.get("hint").and_then(Value::as_str) {
            failure = failure.hint(hint.to_string());
        }
        Err(failure)
    }
}

/// The CA certificates of `MODELGATE_SERVER_CA`: at least one, PEM.
fn read_ca(path: &Path) -> Result<std::sync::Arc<Vec<ureq::tls::Certificate<'static>>>> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "CA certificates")?;
    let certificates: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(text.as_bytes())
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(certificate)) => Some(certificate),
            _ => None,
        })
        .collect();
    if certificates.is_empty() {
        return Err(Error::new(ErrorKind::Config, format!("{}: no PEM certificate in it", path.display()))
            .hint(format!("{CA_ENV} names the CA certificates (PEM) that issued the server's TLS certificate")));
    }
    Ok(std::sync::Arc::new(certificates))
}

/// `modelgate check --server`: the project's evidence, collected here, and the model
/// artifact's subject, submitted for a decision.
pub fn check(client: &Client, project: crate::run::Project) -> Result<DecisionResponse> {
    let config = project.load()?;
    // The environment is checked by the server, against the bundles it has active: the
    // project's own policy repository plays no part here.
    let evidence = collect::collect(&Context { config: &config, environment: project.environment })?;
    let subject: Option<Subject> = match &config.config.artifacts {
        Some(artifacts) => {
            let signature = artifacts.signature.as_ref().and_then(|signature| signature.path.as_ref());
            let signature = signature.map(|path| config.resolve(path));
            Some(attestation::artifact_subject(&config.resolve(&artifacts.model), signature.as_deref())?)
        }
        None => None,
    };
    let mut answer = submit(client, &evidence, subject.as_ref())?;
    answer.evidence = Some(std::sync::Arc::new(evidence));
    Ok(answer)
}

/// Submits an evidence document for a decision.
pub fn submit(
    client: &Client,
    evidence: &crate::evidence::Evidence,
    subject: Option<&Subject>,
) -> Result<DecisionResponse> {
    let answer = client.post("/v1/decisions", &json!({"evidence": evidence, "subject": subject}))?;
    serde_json::from_value(answer).map_err(|error| {
        Error::new(
            ErrorKind::Server,
            format!("{}: the decision is not a report this modelgate reads: {error}", client.base()),
        )
        .hint("use the same modelgate version as the server")
    })
}

/// `modelgate policy publish DIR --server`: sends every file of the bundle, its digest and
/// its git commit. A checkout with uncommitted changes is refused: the commit would not
/// say what was published.
pub fn publish(client: &Client, dir: &Path) -> Result<Value> {
    let bundle = Bundle::load(dir)?;
    if bundle.info.dirty == Some(true) {
        return Err(Error::new(ErrorKind::Config, format!("{} has changes that are not committed", bundle.info.path))
            .hint(
            "publish from a clean checkout of the policy repository (CI does), so its commit names what was published",
        ));
    }
    let request = PublishRequest {
        digest: bundle.info.digest.clone(),
        revision: bundle.info.revision.clone(),
        files: bundle
            .files
            .into_iter()
            .map(|file| PublishedFile { path: file.path, contents: file.contents })
            .collect(),
    };
    client.post("/v1/bundles", &serde_json::to_value(&request).unwrap_or_default())
}

/// `modelgate policy activate DIGEST --environment ENV --server`: the impact (with
/// `dry_run`), or the activation and the re-evaluation it starts.
pub fn activate(client: &Client, digest: &str, environment: &str, dry_run: bool, format: &str) -> Result<Value> {
    client.post(
        &format!("/v1/bundles/{digest}/activate"),
        &json!({"environment": environment, "dry_run": dry_run, "format": format}),
    )
}
