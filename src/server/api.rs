//! The HTTP face of the server: a versioned JSON API under `/v1`, `/healthz` and `/readyz`.
//! Every `/v1` request carries a bearer token; the work runs on a blocking thread with a
//! store of its own, and a decision is answered only once it is durably recorded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

use super::auth::{self, Caller, Role};
use super::config::TlsFile;
use super::service::{AuditQuery, Service};
use super::ui;
use super::ApiError;
use crate::audit::Store;
use crate::error::{Error, ErrorKind, Result};

type Shared = Arc<Service>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

/// The routes, their limits and their state.
pub fn router(service: Shared) -> Router {
    let limit = service.config.max_body_bytes;
    let timeout = service.config.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/key", get(public_key))
        .route("/v1/bundles", get(list_bundles).post(publish))
        .route("/v1/bundles/{digest}/activate", post(activate))
        .route("/v1/decisions", post(decide))
        .route("/v1/deployments", post(deploy))
        .route("/v1/deployments/retire", post(retire))
        .route("/v1/audit/{question}", get(audit))
        .route("/v1/tokens", get(list_tokens).post(create_token))
        .route("/v1/tokens/{id}/revoke", post(revoke_token))
        .route("/ui", get(ui_root))
        .route("/ui/", get(ui_root))
        .route("/ui/login", get(ui_login_form).post(ui_login))
        .route("/ui/logout", post(ui_logout))
        .route("/ui/fleet", get(ui_fleet))
        .route("/ui/models/{model}", get(ui_model))
        .route("/ui/decisions/{id}", get(ui_decision))
        .route("/ui/bundles", get(ui_bundles))
        .route("/ui/audit", get(ui_audit))
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(service.clone(), gatekeeper))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .with_state(service)
}

async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            408,
            "timeout",
            format!("the request took longer than {} ms", limit.as_millis()),
            "send the body at once; a decision that timed out was not acknowledged: submit it again",
        )
        .into_response(),
    }
}

/// Every request but the health checks shows a valid token before its body is read (a
/// client without one cannot make the server hold request bodies); the handlers get the
/// caller it authenticated.
async fn gatekeeper(State(service): State<Shared>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/ui/login") {
        return next.run(request).await;
    }
    let ui = path == "/ui" || path.starts_with("/ui/");
    let authorization =
        request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).map(str::to_string);
    // The dashboard's pages take the session cookie when no bearer token is sent.
    let session = match (ui, &authorization) {
        (true, None) => ui::session_id(request.headers().get(header::COOKIE).and_then(|value| value.to_str().ok())),
        _ => None,
    };
    if ui && authorization.is_none() && session.is_none() {
        return ui_html(StatusCode::UNAUTHORIZED, ui::login_page(None));
    }
    let asked = working(service, move |service, store| match &session {
        Some(id) => Ok(ui::session_caller(store, &service.sessions, id)??),
        None => Ok(auth::authenticate(store, authorization.as_deref())??),
    })
    .await;
    match asked {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) if ui => ui_html(
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::UNAUTHORIZED),
            ui::login_page(Some(&error.message)),
        ),
        Err(error) => error.into_response(),
    }
}

// ------------------------------------------------------------------ dashboard (/ui)

/// A dashboard page: HTML that loads nothing from elsewhere, is never cached and is never
/// framed.
fn ui_html(status: StatusCode, page: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
            ),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        page,
    )
        .into_response()
}

fn ui_redirect(to: &str, cookie: Option<String>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    if let Some(cookie) = cookie.and_then(|cookie| axum::http::HeaderValue::from_str(&cookie).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn ui_root() -> Response {
    ui_redirect("/ui/fleet", None)
}

async fn ui_login_form() -> Response {
    ui_html(StatusCode::OK, ui::login_page(None))
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

/// An auditor or governance token opens a session: an HttpOnly, SameSite=Strict cookie.
async fn ui_login(
    State(service): State<Shared>,
    headers: axum::http::HeaderMap,
    form: axum::Form<LoginForm>,
) -> Response {
    let token = form.0.token.trim().to_string();
    // Secure when the server speaks TLS, or a TLS proxy in front of it says the browser did.
    let forwarded = headers.get("x-forwarded-proto").and_then(|value| value.to_str().ok()) == Some("https");
    let secure = service.config.tls.is_some() || forwarded;
    let opened = working(service, move |service, store| {
        let caller = auth::authenticate(store, Some(&format!("Bearer {token}")))??;
        caller.require(ui::ROLES, "open the dashboard")?;
        Ok(service.sessions.open(&auth::hash(&token)))
    })
    .await;
    match opened {
        Ok(id) => {
            let cookie = format!(
                "{}={id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={}{}",
                ui::COOKIE,
                ui::SESSION.as_secs(),
                if secure { "; Secure" } else { "" }
            );
            ui_redirect("/ui/fleet", Some(cookie))
        }
        Err(error) => ui_html(
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::UNAUTHORIZED),
            ui::login_page(Some(&error.message)),
        ),
    }
}

async fn ui_logout(State(service): State<Shared>, headers: axum::http::HeaderMap) -> Response {
    if let Some(id) = ui::session_id(headers.get(header::COOKIE).and_then(|value| value.to_str().ok())) {
        service.sessions.close(&id);
    }
    ui_redirect("/ui/login", Some(format!("{}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0", ui::COOKIE)))
}

/// A page for an auditor or governance caller: `work` gives its title and content, or
/// `None` when what it shows does not exist (404).
async fn ui_page(
    service: Shared,
    caller: Caller,
    current: &'static str,
    work: impl FnOnce(&Service, &dyn Store) -> std::result::Result<Option<(String, String)>, ApiError> + Send + 'static,
) -> Response {
    if let Err(refusal) = caller.require(ui::ROLES, "open the dashboard") {
        let error = ApiError::from(refusal);
        return ui_html(StatusCode::FORBIDDEN, ui::page("modelgate: forbidden", current, None, &error_content(&error)));
    }
    match working(service, move |service, store| work(service, store)).await {
        Ok(Some((title, content))) => ui_html(StatusCode::OK, ui::page(&title, current, Some(&caller), &content)),
        Ok(None) => ui_html(
            StatusCode::NOT_FOUND,
            ui::page(
                "modelgate: not found",
                current,
                Some(&caller),
                &error_content(&ApiError::not_found("nothing here", "follow the links from the fleet page")),
            ),
        ),
        Err(error) => ui_html(
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ui::page("modelgate: error", current, Some(&caller), &error_content(&error)),
        ),
    }
}

fn error_content(error: &ApiError) -> String {
    let escape = crate::report::html::escape;
    format!(
        "<main><h1>{}</h1><p>{}</p><p class=\"fix\">{}</p></main>",
        error.status,
        escape(&error.message),
        escape(error.hint.as_deref().unwrap_or(""))
    )
}

async fn ui_fleet(
    State(service): State<Shared>,
    Extension(caller): Extension<Caller>,
    axum::extract::Query(filter): axum::extract::Query<ui::FleetFilter>,
) -> Response {
    ui_page(service, caller, "Fleet", move |_, store| {
        Ok(Some(("modelgate: fleet".to_string(), ui::fleet(store, &filter).map_err(ApiError::from_input)?)))
    })
    .await
}

async fn ui_model(
    State(service): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(model): Path<String>,
) -> Response {
    ui_page(service, caller, "Fleet", move |_, store| {
        let content = ui::model(store, &model).map_err(ApiError::from_input)?;
        Ok(content.map(|content| (format!("modelgate: {model}"), content)))
    })
    .await
}

async fn ui_decision(
    State(service): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    ui_page(service, caller, "Fleet", move |_, store| ui::decision(store, &id).map_err(ApiError::from_input)).await
}

async fn ui_bundles(
    State(service): State<Shared>,
    Extension(caller): Extension<Caller>,
    axum::extract::Query(query): axum::extract::Query<ui::BundlesQuery>,
) -> Response {
    ui_page(service, caller, "Bundles", move |_, store| {
        Ok(Some(("modelgate: bundles".to_string(), ui::bundles(store, &query)?)))
    })
    .await
}

async fn ui_audit(
    State(service): State<Shared>,
    Extension(caller): Extension<Caller>,
    axum::extract::Query(query): axum::extract::Query<ui::AuditPageQuery>,
) -> Response {
    ui_page(service, caller, "Audit", move |service, store| {
        let key = service.key.verifying_key();
        Ok(Some((
            "modelgate: audit".to_string(),
            ui::audit_page(store, &key, &query, &service.verifications).map_err(ApiError::from_input)?,
        )))
    })
    .await
}

async fn unknown_route() -> Response {
    ApiError::not_found("no such endpoint", "the endpoints are listed in docs/server.md").into_response()
}

async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Ready when the store answers.
async fn readyz(State(service): State<Shared>) -> Response {
    match working(service, |_, store| Ok(store.head()?)).await {
        Ok(_) => Json(json!({"status": "ready"})).into_response(),
        // Without a token, nothing about the store (its address) is told.
        _ => {
            ApiError::new(503, "store_unavailable", "the store does not answer", "see the server's log").into_response()
        }
    }
}

fn internal() -> ApiError {
    ApiError::new(500, "internal", "the request failed inside the server", "see the server's log")
}

/// Runs `work` on a blocking thread with a store, in turn.
async fn working<T: Send + 'static>(
    service: Shared,
    work: impl FnOnce(&Service, &mut dyn Store) -> std::result::Result<T, ApiError> + Send + 'static,
) -> std::result::Result<T, ApiError> {
    // The semaphore lives as long as the service; it is never closed. The turn is held by
    // the work itself: a request that timed out keeps it until its work is done.
    let Ok(turn) = service.turns.clone().acquire_owned().await else { return Err(internal()) };
    let worker = service.clone();
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let service = worker;
        service.stores.with(|store| work(&service, store))
    })
    .await
    .unwrap_or_else(|_| Err(internal()))
}

/// `work` for the caller the gatekeeper authenticated.
async fn authorized<T: Send + 'static>(
    service: Shared,
    caller: Caller,
    work: impl FnOnce(&Service, &mut dyn Store, Caller) -> std::result::Result<T, ApiError> + Send + 'static,
) -> std::result::Result<T, ApiError> {
    working(service, move |service, store| work(service, store, caller)).await
}

/// [`authorized`], answered as JSON.
async fn with_caller<T: Serialize + Send + 'static>(
    service: Shared,
    caller: Caller,
    work: impl FnOnce(&Service, &mut dyn Store, Caller) -> std::result::Result<T, ApiError> + Send + 'static,
) -> Response {
    match authorized(service, caller, work).await {
        Ok(value) => Json(value).into_response(),
        Err(error) => error.into_response(),
    }
}

/// A JSON body read by the one strict reader (duplicate keys, depth, trailing data), then
/// into `T`, whose unknown keys are refused.
fn body<T: DeserializeOwned>(body: std::result::Result<Bytes, BytesRejection>) -> std::result::Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        let status = rejection.status();
        ApiError::new(
            status.as_u16(),
            if status == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "invalid" },
            format!("the request body cannot be read: {}", rejection.body_text()),
            "the server's limits.max_body_bytes bounds a request body",
        )
    })?;
    let value = crate::strict::json_value(&bytes).map_err(|error| {
        ApiError::invalid(
            format!("the request body is not JSON as modelgate reads it: {error}"),
            "send one JSON object",
        )
    })?;
    serde_path_to_error::deserialize(value).map_err(|error| {
        ApiError::invalid(
            format!("the request body at `{}`: {}", error.path(), error.inner()),
            "the request shapes are in docs/server.md",
        )
    })
}

/// Prometheus metrics, for a scraper with an auditor (or governance, admin) token.
async fn metrics(State(service): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    let answer = authorized(service, caller, |service, store, caller| {
        caller.require(&[Role::Auditor, Role::Governance, Role::Admin], "read the metrics")?;
        Ok(service.metrics.render(store)?)
    })
    .await;
    match answer {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// The API's OpenAPI 3 document, as checked in (docs/api/openapi.json).
pub const OPENAPI: &str = include_str!("../../docs/api/openapi.json");

async fn openapi(State(service): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    with_caller(service, caller, |_, _, _| {
        serde_json::from_str::<serde_json::Value>(OPENAPI).map_err(|error| {
            ApiError::new(500, "internal", format!("the OpenAPI document does not parse: {error}"), "a build defect")
        })
    })
    .await
}

async fn public_key(State(service): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    with_caller(service, caller, |service, _, _| {
        let public = service.key.verifying_key();
        Ok(json!({
            "public_key": public.to_pem(),
            "fingerprint": format!("sha256:{}", public.hint()),
            "verifier_id": service.config.verifier_id,
        }))
    })
    .await
}

async fn list_bundles(State(service): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    with_caller(service, caller, |service, store, caller| {
        caller.require(&[Role::Governance, Role::Auditor, Role::Admin], "list policy bundles")?;
        service.bundles(store)
    })
    .await
}

type Body = std::result::Result<Bytes, BytesRejection>;

/// A `POST` of a JSON request `T` that only `role` may make (`action`, for the refusal).
async fn posted<T: DeserializeOwned + Send + 'static, U: Serialize + Send + 'static>(
    service: Shared,
    caller: Caller,
    request: Body,
    role: Role,
    action: &'static str,
    work: impl FnOnce(&Service, &mut dyn Store, &Caller, T) -> std::result::Result<U, ApiError> + Send + 'static,
) -> Response {
    with_caller(service, caller, move |service, store, caller| {
        caller.require(&[role], action)?;
        work(service, store, &caller, body(request)?)
    })
    .await
}

async fn publish(State(service): State<Shared>, Extension(caller): Extension<Caller>, request: Body) -> Response {
    posted(service, caller, request, Role::Governance, "publish a policy bundle", |service, store, caller, request| {
        service.publish(store, caller, request)
    })
    .await
}

async fn activate(
    State(service): State<Shared>,
    Path(digest): Path<String>,
    Extension(caller): Extension<Caller>,
    request: Body,
) -> Response {
    posted(
        service,
        caller,
        request,
        Role::Governance,
        "activate a policy bundle",
        move |service, store, caller, request| service.activate(store, caller, &digest, request),
    )
    .await
}

async fn decide(State(service): State<Shared>, Extension(caller): Extension<Caller>, request: Body) -> Response {
    posted(
        service,
        caller,
        request,
        Role::Pipeline,
        "submit evidence for a decision",
        |service, store, caller, request| service.decide(store, caller, request),
    )
    .await
}

async fn deploy(State(service): State<Shared>, Extension(caller): Extension<Caller>, request: Body) -> Response {
    posted(service, caller, request, Role::Pipeline, "record a deployment", |service, store, caller, request| {
        service.deploy(store, caller, request)
    })
    .await
}

async fn retire(State(service): State<Shared>, Extension(caller): Extension<Caller>, request: Body) -> Response {
    posted(service, caller, request, Role::Pipeline, "retire a deployment", |service, store, caller, request| {
        service.retire(store, caller, request)
    })
    .await
}

async fn audit(
    State(service): State<Shared>,
    Path(question): Path<String>,
    Extension(caller): Extension<Caller>,
    query: std::result::Result<axum::extract::Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    with_caller(service, caller, move |service, store, caller| {
        caller.require(&[Role::Auditor, Role::Governance, Role::Admin], "read the audit trail")?;
        let axum::extract::Query(query) = query.map_err(|rejection| {
            ApiError::invalid(
                format!("the query cannot be read: {}", rejection.body_text()),
                "the parameters are in docs/server.md",
            )
        })?;
        service.audit(store, &question, query)
    })
    .await
}

async fn list_tokens(State(service): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    with_caller(service, caller, |_, store, caller| {
        caller.require(&[Role::Admin], "list tokens")?;
        Ok(store.tokens()?)
    })
    .await
}

async fn create_token(State(service): State<Shared>, Extension(caller): Extension<Caller>, request: Body) -> Response {
    posted(service, caller, request, Role::Admin, "create tokens", |service, store, _, request| {
        service.create_token(store, request)
    })
    .await
}

async fn revoke_token(
    State(service): State<Shared>,
    Path(id): Path<String>,
    Extension(caller): Extension<Caller>,
) -> Response {
    with_caller(service, caller, move |service, store, caller| {
        caller.require(&[Role::Admin], "revoke tokens")?;
        service.revoke_token(store, &id)
    })
    .await
}

// ---------------------------------------------------------------- serving

/// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
pub async fn run(
    service: Shared,
    listener: std::net::TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    ready: impl FnOnce(SocketAddr),
) -> Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot listen: {error}")))?;
    let local = service.config.listen;
    let app = router(service);
    ready(local);
    let served = match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown()).await,
        Some(tls) => axum::serve(TlsListener::new(listener, local, tls), app).with_graceful_shutdown(shutdown()).await,
    };
    served.map_err(|error| Error::new(ErrorKind::Io, format!("the server stopped: {error}")))
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// The TLS settings of `server.toml`: the certificate chain and key, PEM.
pub fn tls_config(files: &TlsFile) -> Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certificates| certificates.collect::<std::result::Result<_, _>>())
        .map_err(|error| {
            Error::new(ErrorKind::Config, format!("{}: not a PEM certificate chain: {error}", files.cert.display()))
                .hint("[tls] cert is the server's certificate, then its intermediates, in PEM")
        })?;
    if certificates.is_empty() {
        return Err(Error::new(ErrorKind::Config, format!("{}: no certificate in it", files.cert.display()))
            .hint("[tls] cert is the server's certificate, then its intermediates, in PEM"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|error| {
        Error::new(ErrorKind::Config, format!("{}: not a PEM private key: {error}", files.key.display()))
            .hint("[tls] key is the certificate's private key, unencrypted PEM")
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certificates, key))
        .map_err(|error| {
            Error::new(ErrorKind::Config, format!("the TLS certificate and key cannot be used: {error}"))
                .hint("check that [tls] key is the private key of [tls] cert")
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TCP connections and hands over those whose TLS handshake completed within 10 s;
/// handshakes run concurrently, so a slow one holds up no one.
struct TlsListener {
    incoming: tokio::sync::mpsc::Receiver<(tokio_rustls::server::TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    fn new(listener: tokio::net::TcpListener, local: SocketAddr, config: Arc<rustls::ServerConfig>) -> TlsListener {
        let (sender, incoming) = tokio::sync::mpsc::channel(64);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    // Out of file descriptors, say: wait rather than spin.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let sender = sender.clone();
                tokio::spawn(async move {
                    if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await
                    {
                        let _ = sender.send((stream, peer)).await;
                    }
                });
            }
        });
        TlsListener { incoming, local }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(accepted) => accepted,
            // The accepting task never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
