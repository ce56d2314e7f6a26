//! Who is asking: bearer tokens, their roles and their scopes.
//!
//! A token is `mgt_` and 43 characters of base64url (256 random bits). The store keeps its
//! SHA-256 only. Roles: `pipeline` submits evidence and records or retires deployments of
//! the models and environments it is scoped to; `governance` publishes and activates
//! policy bundles; `auditor` reads everything; `admin` manages tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::RngCore;

use crate::audit::tokens::Token;
use crate::audit::Store;
use crate::error::{Error, ErrorKind, Result};

pub const TOKEN_PREFIX: &str = "mgt_";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Pipeline,
    Governance,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Pipeline, Role::Governance, Role::Auditor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pipeline => "pipeline",
            Role::Governance => "governance",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// A request's caller, once its token checked out.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: Token,
    pub role: Role,
}

/// Why a request is refused: 401 (no valid token) or 403 (a token without the right).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Unauthorized(String),
    Forbidden(String),
}

/// The SHA-256 a token is stored under.
pub fn hash(secret: &str) -> String {
    crate::audit::sha256(secret.as_bytes())
}

/// What `token create` asks for.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub models: Vec<String>,
    pub environments: Vec<String>,
    /// RFC 3339; `None` never expires.
    pub expires: Option<String>,
}

/// An expiry as written: a duration from now (`90d`, `12h`) or a date / RFC 3339 time.
pub fn expiry(text: &str) -> Result<String> {
    if text.ends_with(|c: char| c.is_ascii_alphabetic()) && !text.contains('-') {
        let duration = crate::attestation::parse_duration(text, "--expires")?;
        let far = || {
            Error::new(ErrorKind::Config, format!("--expires `{text}` is too far away"))
                .hint("write a duration of at most a few years, or a date")
        };
        let duration = chrono::Duration::from_std(duration).map_err(|_| far())?;
        let when = chrono::Utc::now().checked_add_signed(duration).ok_or_else(far)?;
        return Ok(when.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    crate::audit::parse_time(text, "--expires")
}

/// Creates a token in `store`; returns it as stored and its secret (shown once).
pub fn create(store: &mut dyn Store, new: &NewToken) -> Result<(Token, String)> {
    if new.name.trim().is_empty() || new.name.len() > 200 || new.name.chars().any(char::is_control) {
        return Err(Error::new(ErrorKind::Config, format!("token name `{}` is empty, too long or not text", new.name))
            .hint("name the holder: a pipeline (`ci/credit-scoring`) or a person (`jane.doe`)"));
    }
    if new.role == Role::Pipeline && (new.models.is_empty() || new.environments.is_empty()) {
        return Err(Error::new(ErrorKind::Config, "a pipeline token needs --models and --environments")
            .hint("scope it: --models 'credit-*' --environments staging,production"));
    }
    if new.role != Role::Pipeline && (!new.models.is_empty() || !new.environments.is_empty()) {
        return Err(Error::new(
            ErrorKind::Config,
            format!("--models and --environments scope pipeline tokens; a {} token has no scope", new.role.as_str()),
        )
        .hint("drop --models and --environments, or create a pipeline token"));
    }
    for pattern in &new.models {
        globset::Glob::new(pattern).map_err(|error| {
            Error::new(ErrorKind::Config, format!("--models `{pattern}` is not a glob: {error}"))
                .hint("write model names or globs such as credit-*")
        })?;
    }
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let mut id_bytes = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut id_bytes);
    let token = Token {
        id: format!("tok_{}", hex::encode(id_bytes)),
        hash: hash(&secret),
        name: new.name.to_string(),
        role: new.role.as_str().to_string(),
        models: new.models.clone(),
        environments: new.environments.clone(),
        created: crate::audit::now(),
        expires: new.expires.clone(),
        revoked: None,
    };
    store.put_token(&token)?;
    Ok((token, secret))
}

/// The caller of a request whose `Authorization` header is `header`: 401 without a valid,
/// unexpired, unrevoked token. A store that cannot be read is an error (the request fails;
/// it is never let through).
pub fn authenticate(store: &dyn Store, header: Option<&str>) -> Result<std::result::Result<Caller, Refusal>> {
    let Some(header) = header else {
        return Ok(Err(Refusal::Unauthorized("no bearer token: send `Authorization: Bearer mgt_…`".into())));
    };
    let Some(secret) = header.strip_prefix("Bearer ").map(str::trim) else {
        return Ok(Err(Refusal::Unauthorized("the Authorization header is not `Bearer TOKEN`".into())));
    };
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(Err(Refusal::Unauthorized("not a modelgate token (they start with mgt_)".into())));
    }
    authenticate_hash(store, &hash(secret))
}

/// The caller of the token whose hash is `token_hash` (a dashboard session keeps the hash):
/// 401 when it is unknown, revoked or expired.
pub fn authenticate_hash(store: &dyn Store, token_hash: &str) -> Result<std::result::Result<Caller, Refusal>> {
    let Some(token) = store.token_by_hash(token_hash)? else {
        return Ok(Err(Refusal::Unauthorized("unknown token".into())));
    };
    if let Some(revoked) = &token.revoked {
        return Ok(Err(Refusal::Unauthorized(format!("token {} was revoked at {revoked}", token.id))));
    }
    if let Some(expires) = &token.expires {
        if expires.as_str() <= crate::audit::now().as_str() {
            return Ok(Err(Refusal::Unauthorized(format!("token {} expired at {expires}", token.id))));
        }
    }
    let Some(role) = Role::parse(&token.role) else {
        return Ok(Err(Refusal::Unauthorized(format!("token {} has an unknown role `{}`", token.id, token.role))));
    };
    Ok(Ok(Caller { token, role }))
}

impl Caller {
    /// Refuses a caller whose role is not one of `roles`.
    pub fn require(&self, roles: &[Role], action: &str) -> std::result::Result<(), Refusal> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let allowed: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        Err(Refusal::Forbidden(format!(
            "a {} token may not {action} (that needs a {} token)",
            self.role.as_str(),
            allowed.join(" or ")
        )))
    }

    /// Refuses a pipeline token for a model or environment outside its scope.
    pub fn require_scope(&self, model: &str, environment: &str) -> std::result::Result<(), Refusal> {
        let models = self.token.models.iter().any(|pattern| {
            globset::Glob::new(pattern).map(|glob| glob.compile_matcher().is_match(model)).unwrap_or(false)
        });
        if !models {
            return Err(Refusal::Forbidden(format!(
                "token {} ({}) is scoped to models {:?}, not `{model}`",
                self.token.id, self.token.name, self.token.models
            )));
        }
        if !self.token.environments.iter().any(|name| name == environment) {
            return Err(Refusal::Forbidden(format!(
                "token {} ({}) is scoped to environments {:?}, not `{environment}`",
                self.token.id, self.token.name, self.token.environments
            )));
        }
        Ok(())
    }

    /// The identity recorded as the requester.
    pub fn identity(&self) -> String {
        format!("{} ({})", self.token.name, self.token.id)
    }
}
