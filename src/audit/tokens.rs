//! The API tokens of `modelgate server`, kept in the store beside the chain: a token is
//! revoked by an update, which the chain does not allow. Only a token's SHA-256 is kept,
//! never the token: a copy of the store lets no one in.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// The columns of the `tokens` table, in the order both backends read and write them.
pub(crate) const TOKEN_COLUMNS: &str = "id, hash, name, role, models, environments, created, expires, revoked";

/// One token as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// The public name of the token (`tok_…`), for listing and revoking.
    pub id: String,
    /// `sha256:…` of the secret.
    #[serde(skip)]
    pub hash: String,
    /// Who holds it: recorded as the requester of every decision and deployment made with it.
    pub name: String,
    /// `pipeline`, `governance`, `auditor` or `admin`.
    pub role: String,
    /// Model-name globs a pipeline token may submit and deploy (`credit-*`).
    pub models: Vec<String>,
    /// Environments a pipeline token may submit and deploy to.
    pub environments: Vec<String>,
    /// RFC 3339, as entries record times.
    pub created: String,
    pub expires: Option<String>,
    pub revoked: Option<String>,
}

impl Token {
    /// The token's row as text columns, in [`TOKEN_COLUMNS`] order.
    pub(crate) fn columns(&self) -> [Option<String>; 9] {
        let list = |items: &[String]| Some(serde_json::to_string(items).unwrap_or_else(|_| "[]".into()));
        [
            Some(self.id.clone()),
            Some(self.hash.clone()),
            Some(self.name.clone()),
            Some(self.role.clone()),
            list(&self.models),
            list(&self.environments),
            Some(self.created.clone()),
            self.expires.clone(),
            self.revoked.clone(),
        ]
    }

    /// A token from its row, in [`TOKEN_COLUMNS`] order; a row that does not read is an
    /// error (an altered store), never a token with fewer limits.
    pub(crate) fn from_columns(location: &str, row: [Option<String>; 9]) -> Result<Token> {
        let [id, hash, name, role, models, environments, created, expires, revoked] = row;
        let id = id.unwrap_or_default();
        let broken = |what: &str| {
            Error::new(ErrorKind::Store, format!("audit store {location}: token {id}: {what}"))
                .hint("the tokens table has been altered: revoke the token and create a new one")
        };
        let list = |text: Option<String>, what: &str| -> Result<Vec<String>> {
            serde_json::from_str(text.as_deref().unwrap_or("")).map_err(|_| broken(what))
        };
        Ok(Token {
            hash: hash.ok_or_else(|| broken("no hash"))?,
            name: name.ok_or_else(|| broken("no name"))?,
            role: role.ok_or_else(|| broken("no role"))?,
            models: list(models, "its models are not a JSON list")?,
            environments: list(environments, "its environments are not a JSON list")?,
            created: created.ok_or_else(|| broken("no creation time"))?,
            expires,
            revoked,
            id,
        })
    }
}
