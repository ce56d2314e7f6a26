//! The shared store: one schema of a PostgreSQL database that pipelines on many machines
//! write to at once.
//!
//! `--store postgres://user@host:port/database?schema=modelgate&sslmode=verify-full`. The
//! store is one schema (`modelgate` unless the URL names another with `schema=`), holding
//! the same four tables as the SQLite store. `modelgate audit init` creates it; every other
//! command refuses a schema that is missing, empty, belongs to another application or was
//! written by a newer modelgate, and applies this build's migrations forward on its first
//! write.
//!
//! Appends from every host go through one serialisation point: each append is one
//! transaction that first takes `LOCK TABLE entries IN EXCLUSIVE MODE` (readers are not
//! blocked), reads the chain's head, inserts, and commits with `synchronous_commit = on`, so
//! a decision is on disk before the command reports it. A connection lost before the
//! commit leaves nothing of the append; one lost during the commit is reported as not
//! recorded.
//!
//! The password may be in the URL or in `PGPASSWORD`; it never appears in the store's
//! location, in a message or in the store.

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row};

use super::blobs;
use super::{store_error, Access, BundleManifest, Columns, Draft, Filter, Link, Record, Store};
use crate::error::{Error, ErrorKind, Result};

/// The schema this build writes; a store whose `meta.schema_version` is higher is refused.
pub const SCHEMA_VERSION: i64 = 2;
/// `meta.application` of a modelgate store.
const APPLICATION: &str = "modelgate-audit";
/// The schema a URL without `schema=` names.
pub const DEFAULT_SCHEMA: &str = "modelgate";
/// How long a connection attempt may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an append waits for another host's append (the chain's lock).
const LOCK_TIMEOUT: &str = "30s";
/// Rows read per query when scanning: memory stays bounded on any history.
const PAGE: i64 = 500;

/// Schema migrations, applied in order; `meta.schema_version` is the number applied. Text
/// columns compare bytewise (`COLLATE "C"`), as SQLite's do, so both stores sort alike.
const MIGRATIONS: &[&str] = &[
    concat!(
        r#"
CREATE TABLE entries (
    seq BIGINT PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    kind TEXT COLLATE "C" NOT NULL,
    time TEXT COLLATE "C" NOT NULL,
    model TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    environment TEXT COLLATE "C",
    decision TEXT COLLATE "C",
    evidence_digest TEXT COLLATE "C",
    bundle_digest TEXT COLLATE "C",
    content TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"#,
        super::entry_indexes!(),
        r#"
CREATE TABLE blobs (digest TEXT COLLATE "C" PRIMARY KEY, size BIGINT NOT NULL, data BYTEA NOT NULL);
CREATE TABLE bundles (digest TEXT COLLATE "C" PRIMARY KEY, manifest TEXT NOT NULL);
CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
"#
    ),
    r#"
CREATE TABLE tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    hash TEXT COLLATE "C" NOT NULL UNIQUE,
    name TEXT COLLATE "C" NOT NULL,
    role TEXT COLLATE "C" NOT NULL,
    models TEXT NOT NULL,
    environments TEXT NOT NULL,
    created TEXT COLLATE "C" NOT NULL,
    expires TEXT COLLATE "C",
    revoked TEXT COLLATE "C"
);
-- The newest entry of a kind in an environment (the bundle active there) without reading
-- the environment's decisions.
CREATE INDEX entries_kind_environment ON entries (kind, environment, time);
"#,
];

use super::tokens::{Token, TOKEN_COLUMNS};
use super::ENTRY_COLUMNS;

fn read_token(row: &Row) -> [Option<String>; 9] {
    std::array::from_fn(|index| row.get(index))
}

/// How the connection is encrypted: libpq's `sslmode` words and meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    /// TLS when the server offers it (libpq's default, and `allow`); the certificate is
    /// checked only against `sslrootcert` when one is given.
    Prefer,
    /// TLS or no connection; the certificate is checked only against `sslrootcert` when given.
    Require,
    /// TLS with a certificate signed by a trusted root; any host name.
    VerifyCa,
    /// TLS with a certificate signed by a trusted root, for the host connected to.
    VerifyFull,
}

impl TlsMode {
    fn parse(text: &str) -> Option<TlsMode> {
        Some(match text {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }
}

/// A parsed `postgres://` store address.
#[derive(Clone)]
pub struct Address {
    config: postgres::Config,
    schema: String,
    tls: TlsMode,
    root_cert: Option<PathBuf>,
    location: String,
}

impl std::fmt::Debug for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The location has no password; the config's own Debug would redact it too.
        f.write_str(&self.location)
    }
}

impl Address {
    /// Reads `postgres://[user[:password]@]host[:port][/database][?param=value&…]`. The
    /// parameters modelgate reads itself: `schema`, `sslmode`, `sslrootcert`; every other one
    /// is libpq's (`connect_timeout`, `application_name`, `options`, …).
    pub fn parse(url: &str) -> Result<Address> {
        let shown = redact(url);
        let bad = |message: String, hint: &str| {
            Error::new(ErrorKind::Config, format!("store {shown}: {message}")).hint(hint.to_string())
        };
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, query),
            None => (url, ""),
        };
        let mut schema = DEFAULT_SCHEMA.to_string();
        let mut tls = TlsMode::Prefer;
        let mut root_cert = None;
        let mut passed = Vec::new();
        let mut seen = HashSet::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !seen.insert(key.to_string()) {
                return Err(bad(format!("the parameter `{key}` is given twice"), "give each parameter once"));
            }
            let value = percent_decode(value)
                .ok_or_else(|| bad(format!("the value of `{key}` is not valid percent-encoding"), "encode it"))?;
            match key {
                "schema" => schema = value,
                "sslmode" => {
                    tls = TlsMode::parse(&value).ok_or_else(|| {
                        bad(
                            format!("sslmode `{}` is not one of libpq's", crate::error::excerpt(&value)),
                            "use disable, allow, prefer, require, verify-ca or verify-full",
                        )
                    })?
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(value)),
                "password" => {
                    return Err(bad(
                        "a password as a URL parameter would be shown wherever the URL is".into(),
                        "put it in the user part (postgres://user:PASSWORD@host/db) or in PGPASSWORD",
                    ))
                }
                "sslcert" | "sslkey" | "sslcrl" | "sslpassword" | "requiressl" | "service" | "passfile" => {
                    return Err(bad(
                        format!("the parameter `{key}` is not supported"),
                        "connect with a password (in the URL or PGPASSWORD) over TLS (sslmode=verify-full)",
                    ))
                }
                _ => passed.push(pair),
            }
        }
        if !is_identifier(&schema) {
            return Err(bad(
                format!("schema `{}` is not a plain lower-case name", crate::error::excerpt(&schema)),
                "name the schema with lower-case letters, digits and _ (at most 63, not starting with a digit)",
            ));
        }
        let rest = if passed.is_empty() { base.to_string() } else { format!("{base}?{}", passed.join("&")) };
        let mut config = postgres::Config::from_str(&rest).map_err(|error| {
            bad(
                format!("is not a PostgreSQL connection URL: {}", crate::error::shorten_quoted(&error.to_string())),
                "write postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full",
            )
        })?;
        if config.get_hosts().is_empty() {
            return Err(bad("names no host".into(), "write postgres://USER@HOST:PORT/DATABASE"));
        }
        if config.get_user().is_none() {
            return Err(bad("names no user".into(), "write postgres://USER@HOST:PORT/DATABASE"));
        }
        if config.get_password().is_none() {
            if let Some(password) = std::env::var_os("PGPASSWORD") {
                config.password(password.as_encoded_bytes());
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.ssl_mode(match tls {
            TlsMode::Disable => postgres::config::SslMode::Disable,
            TlsMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        });
        if config.get_application_name().is_none() {
            config.application_name("modelgate");
        }
        let location = describe(&config, &schema);
        Ok(Address { config, schema, tls, root_cert, location })
    }

    /// `postgres://user@host:port/database?schema=…`: the address without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A connection to the server, without reading the store (tests create and drop schemas).
    pub fn connect(&self) -> Result<Client> {
        let tls = tls_config(self)?;
        let client = match tls {
            None => self.config.connect(postgres::NoTls),
            Some(tls) => self.config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls)),
        };
        client.map_err(|error| pg_error(&self.location, &error))
    }
}

pub struct PostgresStore {
    client: Mutex<Client>,
    location: String,
}

impl PostgresStore {
    pub fn open(address: &Address, access: Access) -> Result<PostgresStore> {
        let mut client = address.connect()?;
        let location = address.location.clone();
        let error = |error: postgres::Error| pg_error(&location, &error);
        let schema = address.schema.as_str();
        let exists = client
            .query_opt("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", &[&schema])
            .map_err(error)?
            .is_some();
        if !exists && access != Access::Create {
            return Err(store_error(&location, format!("does not exist (the database has no schema `{schema}`)"))
                .hint(
                    "create the store with `modelgate audit init --store URL` (a missing store is never created by \
                 accident); check the database and the schema= parameter of --store or MODELGATE_STORE",
                ));
        }
        // Quoted: a validated lower-case name, so the quotes only guard against keywords.
        client.batch_execute(&format!("SET search_path TO \"{schema}\"")).map_err(error)?;
        let store = PostgresStore { client: Mutex::new(client), location };
        let version = if exists { store.check_identity(schema)? } else { None };
        match (access, version) {
            (Access::ReadOnly, None) | (Access::ReadWrite, None) => {
                Err(store_error(&store.location, format!("schema `{schema}` is empty: it was never initialised"))
                    .hint("create the store with `modelgate audit init --store URL`"))
            }
            (Access::ReadOnly, Some(_)) => Ok(store),
            (_, version) => {
                if version.unwrap_or(0) < SCHEMA_VERSION {
                    store.migrate(schema)?;
                }
                Ok(store)
            }
        }
    }

    /// Whether the address names a store that `audit init` already made.
    pub fn initialised(address: &Address) -> Result<bool> {
        let mut client = address.connect()?;
        let row = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("\"{}\".meta", address.schema)])
            .map_err(|error| pg_error(&address.location, &error))?;
        Ok(row.get(0))
    }

    fn client(&self) -> MutexGuard<'_, Client> {
        // A panic while the client was held left no transaction open (the guard of a
        // postgres Transaction rolls back on drop): the connection is still usable.
        self.client.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn error(&self, error: postgres::Error) -> Error {
        pg_error(&self.location, &error)
    }

    /// The schema's applied migrations, or `None` for an empty schema; refuses a schema
    /// that holds another application's tables or a newer modelgate's.
    fn check_identity(&self, schema: &str) -> Result<Option<i64>> {
        let mut client = self.client();
        let tables: Vec<String> = client
            .query("SELECT tablename::text FROM pg_catalog.pg_tables WHERE schemaname = $1", &[&schema])
            .map_err(|error| self.error(error))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        if tables.is_empty() {
            return Ok(None);
        }
        let foreign = || {
            store_error(&self.location, format!("schema `{schema}` holds tables that are not a modelgate audit store"))
                .hint(
                "point --store at a modelgate store, or name an unused schema with schema=NAME (audit init creates it)",
            )
        };
        if !tables.iter().any(|table| table == "meta") {
            return Err(foreign());
        }
        let meta: Vec<(String, String)> = client
            .query("SELECT key, value FROM meta WHERE key IN ('application', 'schema_version')", &[])
            .map_err(|error| match error.as_db_error().map(|db| db.code().code()) {
                // No right to read it: say so, rather than call the store foreign.
                Some("42501") => self.error(error),
                _ => foreign(),
            })?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let get = |key: &str| meta.iter().find(|(name, _)| name == key).map(|(_, value)| value.as_str());
        if get("application") != Some(APPLICATION) {
            return Err(foreign());
        }
        let version: i64 = get("schema_version").and_then(|text| text.parse().ok()).ok_or_else(foreign)?;
        super::check_schema_version(&self.location, version, SCHEMA_VERSION)?;
        Ok(Some(version))
    }

    /// Creates the schema when needed and applies the migrations it lacks, under an
    /// advisory lock (two first writers racing apply them once).
    fn migrate(&self, schema: &str) -> Result<()> {
        let mut client = self.client();
        let mut transaction = client.transaction().map_err(|error| self.error(error))?;
        let key = format!("modelgate-audit-migrate:{schema}");
        transaction
            .execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&key])
            .map_err(|error| self.error(error))?;
        // Only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even
        // when the schema is there (one a DBA made and granted).
        let exists = transaction
            .query_opt("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", &[&schema])
            .map_err(|error| self.error(error))?
            .is_some();
        if !exists {
            transaction.batch_execute(&format!("CREATE SCHEMA \"{schema}\"")).map_err(|error| self.error(error))?;
        }
        let has_meta: bool = transaction
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("\"{schema}\".meta")])
            .map_err(|error| self.error(error))?
            .get(0);
        let version: i64 = if has_meta {
            transaction
                .query_opt("SELECT value FROM meta WHERE key = 'schema_version'", &[])
                .map_err(|error| self.error(error))?
                .and_then(|row| row.get::<_, String>(0).parse().ok())
                .unwrap_or(0)
        } else {
            0
        };
        for migration in MIGRATIONS.iter().skip(version.max(0) as usize) {
            transaction.batch_execute(migration).map_err(|error| self.error(error))?;
        }
        let set =
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        transaction.execute(set, &[&"application", &APPLICATION]).map_err(|error| self.error(error))?;
        transaction
            .execute(set, &[&"schema_version", &SCHEMA_VERSION.to_string()])
            .map_err(|error| self.error(error))?;
        transaction.batch_execute("SET LOCAL synchronous_commit TO on").map_err(|error| self.error(error))?;
        transaction.commit().map_err(|error| self.error(error))
    }

    /// One append or import: under the chain's lock, `rows` gets the head and returns the
    /// records to insert with their blobs and bundles.
    fn write(
        &self,
        blobs: &[&blobs::Packed],
        bundles: &[&(String, String)],
        rows: impl FnOnce(Option<(u64, String)>) -> Result<Vec<Record>>,
    ) -> Result<Vec<Record>> {
        let mut client = self.client();
        let error = |error: postgres::Error| pg_error(&self.location, &error);
        let mut transaction = client.transaction().map_err(error)?;
        transaction
            .batch_execute(&format!(
                "SET LOCAL synchronous_commit TO on; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; \
                 LOCK TABLE entries IN EXCLUSIVE MODE"
            ))
            .map_err(error)?;
        let head = transaction
            .query_opt("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1", &[])
            .map_err(error)?
            .map(|row| (row.get::<_, i64>(0) as u64, row.get::<_, String>(1)));
        let records = rows(head)?;
        if !blobs.is_empty() {
            let insert = transaction
                .prepare("INSERT INTO blobs (digest, size, data) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING")
                .map_err(error)?;
            for blob in blobs {
                transaction.execute(&insert, &[&blob.digest, &(blob.size as i64), &blob.data]).map_err(error)?;
            }
        }
        for (digest, manifest) in bundles {
            transaction
                .execute(
                    "INSERT INTO bundles (digest, manifest) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
                    &[digest, manifest],
                )
                .map_err(error)?;
        }
        if let Some(last) = records.last() {
            let insert = transaction
                .prepare(&format!(
                    "INSERT INTO entries ({ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                ))
                .map_err(error)?;
            for record in &records {
                let columns = &record.columns;
                transaction
                    .execute(
                        &insert,
                        &[
                            &(columns.seq as i64),
                            &columns.id,
                            &columns.kind,
                            &columns.time,
                            &columns.model,
                            &columns.version,
                            &columns.environment,
                            &columns.decision,
                            &columns.evidence_digest,
                            &columns.bundle_digest,
                            &record.content,
                            &record.prev_hash,
                            &record.hash,
                        ],
                    )
                    .map_err(error)?;
            }
            let set =
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
            transaction.execute(set, &[&"head_seq", &last.columns.seq.to_string()]).map_err(error)?;
            transaction.execute(set, &[&"head_hash", &last.hash]).map_err(error)?;
        }
        transaction.commit().map_err(|failure| {
            let mut error = error(failure);
            error.message.push_str(" (while committing: the entries may not have been recorded)");
            error
        })?;
        Ok(records)
    }

    fn read_link(row: &Row) -> Link {
        Link {
            columns: Columns {
                seq: row.get::<_, i64>(0) as u64,
                id: row.get(1),
                kind: row.get(2),
                time: row.get(3),
                model: row.get(4),
                version: row.get(5),
                environment: row.get(6),
                decision: row.get(7),
                evidence_digest: row.get(8),
                bundle_digest: row.get(9),
            },
            content: row.get(10),
            prev_hash: row.get(11),
            hash: row.get(12),
        }
    }

    fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.client().query(sql, params).map_err(|error| self.error(error))
    }

    /// `write` in one transaction, committed durably (`synchronous_commit` on).
    fn durably(
        &self,
        write: impl FnOnce(&mut postgres::Transaction) -> std::result::Result<(), postgres::Error>,
    ) -> Result<()> {
        let mut client = self.client();
        let mut transaction = client.transaction().map_err(|error| self.error(error))?;
        transaction.batch_execute("SET LOCAL synchronous_commit TO on").map_err(|error| self.error(error))?;
        write(&mut transaction).map_err(|error| self.error(error))?;
        transaction.commit().map_err(|error| self.error(error))
    }
}

impl Store for PostgresStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn append(&mut self, drafts: Vec<Draft>) -> Result<Vec<Record>> {
        let prepared = blobs::prepare(&self.location, drafts, |digests| {
            let digests: Vec<&str> = digests.iter().map(String::as_str).collect();
            let rows = self.rows("SELECT digest FROM blobs WHERE digest = ANY($1)", &[&digests])?;
            Ok(rows.iter().map(|row| row.get::<_, String>(0)).collect())
        })?;
        let packed: Vec<&blobs::Packed> = prepared.iter().flat_map(|draft| &draft.blobs).collect();
        let bundles: Vec<&(String, String)> = prepared.iter().filter_map(|draft| draft.bundle.as_ref()).collect();
        self.write(&packed, &bundles, |head| Ok(super::chain_drafts(head, &prepared)))
    }

    fn import(&mut self, records: Vec<Record>, blobs: Vec<blobs::Packed>, bundles: Vec<BundleManifest>) -> Result<()> {
        let blobs: Vec<&blobs::Packed> = blobs.iter().collect();
        let bundles: Vec<(String, String)> = bundles.into_iter().map(blobs::manifest_text).collect();
        let bundles: Vec<&(String, String)> = bundles.iter().collect();
        let location = self.location.clone();
        self.write(&blobs, &bundles, |head| {
            super::check_import(head.as_ref(), &records).map_err(|message| store_error(&location, message))?;
            Ok(records)
        })
        .map(|_| ())
    }

    fn get(&self, id: &str) -> Result<Option<Record>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = $1");
        match self.rows(&sql, &[&id])?.first() {
            Some(row) => Self::read_link(row).parse(&self.location).map(Some),
            None => Ok(None),
        }
    }

    fn scan(&self, filter: &Filter, visit: &mut dyn FnMut(Record) -> Result<bool>) -> Result<()> {
        let mut conditions = Vec::new();
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (column, value) in [
            ("model =", &filter.model),
            ("version =", &filter.version),
            ("environment =", &filter.environment),
            ("decision =", &filter.decision),
            ("time >=", &filter.since),
            ("time <=", &filter.until),
        ] {
            if let Some(value) = value {
                values.push(value);
                conditions.push(format!("{column} ${}", values.len()));
            }
        }
        if !filter.kinds.is_empty() {
            let kinds: Vec<String> = filter.kinds.iter().map(|kind| format!("'{}'", kind.as_str())).collect();
            conditions.push(format!("kind IN ({})", kinds.join(", ")));
        }
        // Read a page at a time after the last row seen (keyset), so that the history is
        // never held at once and `visit` may use the store between pages.
        let mut remaining = filter.limit.map(|limit| limit as i64);
        let mut last: Option<(String, i64)> = None;
        loop {
            let page = remaining.map_or(PAGE, |remaining| remaining.min(PAGE));
            if page <= 0 {
                return Ok(());
            }
            let mut sql_conditions = conditions.clone();
            let mut page_values = values.clone();
            let (last_time, last_seq);
            if let Some((time, seq)) = &last {
                last_time = time.clone();
                last_seq = *seq;
                if filter.newest_first {
                    page_values.push(&last_time);
                    page_values.push(&last_seq);
                    let (t, s) = (page_values.len() - 1, page_values.len());
                    sql_conditions.push(format!("(time, seq) < (${t}, ${s})"));
                } else {
                    page_values.push(&last_seq);
                    sql_conditions.push(format!("seq > ${}", page_values.len()));
                }
            }
            let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM entries");
            if !sql_conditions.is_empty() {
                sql.push_str(" WHERE ");
                sql.push_str(&sql_conditions.join(" AND "));
            }
            sql.push_str(if filter.newest_first { " ORDER BY time DESC, seq DESC" } else { " ORDER BY seq" });
            sql.push_str(&format!(" LIMIT {page}"));
            let rows = self.rows(&sql, &page_values)?;
            let count = rows.len() as i64;
            for row in &rows {
                let record = Self::read_link(row).parse(&self.location)?;
                last = Some((record.columns.time.clone(), record.columns.seq as i64));
                if !visit(record)? {
                    return Ok(());
                }
            }
            remaining = remaining.map(|remaining| remaining - count);
            if count < page {
                return Ok(());
            }
        }
    }

    fn scan_links(&self, visit: &mut dyn FnMut(Link)) -> Result<()> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE seq > $1 ORDER BY seq LIMIT {PAGE}");
        let mut after: i64 = i64::MIN;
        loop {
            let rows = self.rows(&sql, &[&after])?;
            for row in &rows {
                let link = Self::read_link(row);
                after = link.columns.seq as i64;
                visit(link);
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }

    fn blob(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        let rows = self.rows("SELECT size, data FROM blobs WHERE digest = $1", &[&digest])?;
        rows.first()
            .map(|row| blobs::unpack_or_error(&self.location, digest, row.get(0), row.get::<_, &[u8]>(1)))
            .transpose()
    }

    fn blobs(&self, digests: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let rows = self.rows("SELECT digest, size, data FROM blobs WHERE digest = ANY($1)", &[&digests])?;
        let found: std::collections::HashMap<String, (i64, Vec<u8>)> =
            rows.iter().map(|row| (row.get(0), (row.get(1), row.get(2)))).collect();
        let location = self.location.as_str();
        super::parallel_map(digests, |digest| match found.get(digest) {
            None => Ok(None),
            Some((size, data)) => blobs::unpack_or_error(location, digest, *size, data).map(Some),
        })
        .into_iter()
        .collect()
    }

    fn check_blobs(&self, visit: &mut dyn FnMut(&str, std::result::Result<(), String>)) -> Result<()> {
        let sql = format!("SELECT digest, size, data FROM blobs WHERE digest > $1 ORDER BY digest LIMIT {PAGE}");
        let mut after = String::new();
        loop {
            let rows = self.rows(&sql, &[&after])?;
            for row in &rows {
                let digest: String = row.get(0);
                visit(&digest, blobs::unpack(&digest, row.get(1), row.get::<_, &[u8]>(2)).map(|_| ()));
                after = digest;
            }
            if (rows.len() as i64) < PAGE {
                return Ok(());
            }
        }
    }

    fn bundle(&self, digest: &str) -> Result<Option<BundleManifest>> {
        let rows = self.rows("SELECT manifest FROM bundles WHERE digest = $1", &[&digest])?;
        rows.first().map(|row| blobs::parse_manifest(&self.location, digest, row.get(0))).transpose()
    }

    fn bundles(&self) -> Result<Vec<BundleManifest>> {
        self.rows("SELECT digest, manifest FROM bundles ORDER BY digest", &[])?
            .iter()
            .map(|row| blobs::parse_manifest(&self.location, row.get(0), row.get(1)))
            .collect()
    }

    fn each_deployment_at(
        &self,
        time: Option<&str>,
        environment: Option<&str>,
        model: Option<&str>,
        visit: &mut dyn FnMut(Record) -> Result<()>,
    ) -> Result<()> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries WHERE seq IN (
                SELECT max(seq) FROM entries
                WHERE kind IN ('deploy', 'retire') AND ($1::text IS NULL OR time <= $1)
                  AND ($2::text IS NULL OR environment = $2) AND ($3::text IS NULL OR model = $3)
                GROUP BY model, environment)
             AND kind = 'deploy' ORDER BY model, environment"
        );
        // Streamed: each row is handed on as it arrives, so a fleet is not held as rows too.
        // (`visit` must not use the store: the connection is busy until the rows end.)
        let mut client = self.client();
        let params: [&(dyn ToSql + Sync); 3] = [&time, &environment, &model];
        let mut rows = client.query_raw(sql.as_str(), params).map_err(|error| pg_error(&self.location, &error))?;
        while let Some(row) = rows.next().map_err(|error| pg_error(&self.location, &error))? {
            visit(Self::read_link(&row).parse(&self.location)?)?;
        }
        Ok(())
    }

    fn head(&self) -> Result<Option<(u64, String)>> {
        let rows = self.rows("SELECT key, value FROM meta WHERE key IN ('head_seq', 'head_hash')", &[])?;
        let get = |key: &str| rows.iter().find(|row| row.get::<_, &str>(0) == key).map(|row| row.get::<_, String>(1));
        match (get("head_seq"), get("head_hash")) {
            (Some(seq), Some(hash)) => Ok(seq.parse().ok().map(|seq| (seq, hash))),
            _ => Ok(None),
        }
    }

    /// PostgreSQL checks its own pages as it reads them (and with data checksums, when the
    /// cluster has them); what is left to check is that the store's tables are all there:
    /// one that is missing makes the store unreadable, which is an error, not a finding.
    fn integrity(&self) -> Result<Vec<String>> {
        let rows = self.rows(
            "SELECT t FROM unnest(ARRAY['entries', 'blobs', 'bundles', 'meta']) AS t \
             WHERE to_regclass(t) IS NULL",
            &[],
        )?;
        let missing: Vec<String> = rows.iter().map(|row| format!("`{}`", row.get::<_, String>(0))).collect();
        if !missing.is_empty() {
            return Err(store_error(&self.location, format!("the table {} is missing", missing.join(", ")))
                .hint("the store has been damaged: restore it from a backup (pg_dump of its schema)"));
        }
        Ok(Vec::new())
    }

    fn environments(&self) -> Result<Vec<String>> {
        Ok(self
            .rows("SELECT DISTINCT environment FROM entries WHERE environment IS NOT NULL ORDER BY environment", &[])?
            .iter()
            .map(|row| row.get(0))
            .collect())
    }

    fn put_token(&mut self, token: &Token) -> Result<()> {
        let columns = token.columns();
        let params: Vec<&(dyn ToSql + Sync)> = columns.iter().map(|column| column as &(dyn ToSql + Sync)).collect();
        let sql = format!("INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        self.durably(|transaction| transaction.execute(sql.as_str(), &params).map(|_| ()))
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1");
        let rows = self.rows(&sql, &[&hash])?;
        rows.first().map(|row| Token::from_columns(&self.location, read_token(row))).transpose()
    }

    fn revoke_token(&mut self, id: &str, time: &str) -> Result<bool> {
        let mut changed = 0;
        self.durably(|transaction| {
            changed = transaction
                .execute("UPDATE tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL", &[&id, &time])?;
            Ok(())
        })?;
        Ok(changed == 1)
    }

    fn tokens(&self) -> Result<Vec<Token>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created, id");
        self.rows(&sql, &[])?.iter().map(|row| Token::from_columns(&self.location, read_token(row))).collect()
    }
}

/// `postgres://user@host:port/database?schema=…`, without the password.
fn describe(config: &postgres::Config, schema: &str) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(index, host)| {
            let port = config.get_ports().get(index).or(config.get_ports().first()).copied().unwrap_or(5432);
            match host {
                postgres::config::Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                postgres::config::Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    format!(
        "postgres://{}@{}/{}?schema={schema}",
        config.get_user().unwrap_or_default(),
        hosts.join(","),
        config.get_dbname().or(config.get_user()).unwrap_or_default()
    )
}

/// The URL with the password of its user part replaced, for a message about the URL itself.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return crate::error::excerpt(url) };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn is_identifier(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0] == b'_')
        && bytes.iter().all(|&byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The rustls configuration `sslmode` asks for, or `None` for no TLS.
fn tls_config(address: &Address) -> Result<Option<rustls::ClientConfig>> {
    if address.tls == TlsMode::Disable {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = match &address.root_cert {
        Some(path) => {
            let bytes =
                crate::input::read(path, 1 << 20, "TLS root certificate file (sslrootcert)").map_err(|error| {
                    error.hint("sslrootcert names a PEM file, read from the current folder when the path is relative")
                })?;
            let mut roots = rustls::RootCertStore::empty();
            use rustls::pki_types::pem::PemObject;
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&bytes) {
                let added = cert
                    .map_err(|error| error.to_string())
                    .and_then(|cert| roots.add(cert).map_err(|error| error.to_string()));
                added.map_err(|problem| {
                    Error::new(
                        ErrorKind::Config,
                        format!("sslrootcert {}: not a PEM certificate: {problem}", path.display()),
                    )
                    .hint("give the PEM file of the CA that signed the database server's certificate")
                })?;
            }
            if roots.is_empty() {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("sslrootcert {}: holds no certificate", path.display()),
                )
                .hint("give the PEM file of the CA that signed the database server's certificate"));
            }
            Some(roots)
        }
        None if matches!(address.tls, TlsMode::VerifyCa | TlsMode::VerifyFull) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            Some(roots)
        }
        None => None,
    };
    let inner = match roots {
        Some(roots) => Some(
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|error| {
                    Error::new(ErrorKind::Config, format!("store {}: TLS roots: {error}", address.location))
                })?,
        ),
        None => None,
    };
    let verifier = Verifier { inner, check_name: address.tls == TlsMode::VerifyFull, provider: provider.clone() };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::new(ErrorKind::Config, format!("store {}: TLS: {error}", address.location)))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Some(config))
}

/// libpq's certificate checks: none without roots (`prefer`, `require`), the chain for
/// `verify-ca` (and for `require` with `sslrootcert`), the chain and the host for `verify-full`.
#[derive(Debug)]
struct Verifier {
    inner: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let Some(inner) = &self.inner else {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        };
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A PostgreSQL error as the user can act on it.
fn pg_error(location: &str, error: &postgres::Error) -> Error {
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        let hint = match code {
            "25006" => {
                "the database (or this role's session) is read-only: point --store at the primary, or use \
                        --no-record / --allow-unrecorded deliberately"
            }
            "53100" => "the database server's disk is full: free space, then run the command again",
            "53200" | "53300" => "the database server is out of memory or connections: retry, or raise its limits",
            "55P03" => "another host held the chain's lock for longer than 30 s; retry",
            "3D000" => "create the database, or name an existing one in the URL",
            "42501" => {
                "grant the role USAGE on the schema, SELECT and INSERT on its tables, and UPDATE on `entries` (for \
                 the chain's lock) and `meta` (docs/audit.md, roles and grants)"
            }
            "57P01" | "57P02" | "57P03" => "the database server is shutting down or starting: retry",
            _ if code.starts_with("28") => "check the user and password (in the URL or PGPASSWORD) and pg_hba.conf",
            _ if code.starts_with("42") => {
                "the store's tables are not what this modelgate expects: run `modelgate audit verify`"
            }
            _ => "check the database server's log",
        };
        return store_error(location, format!("{} (SQLSTATE {code})", db.message())).hint(hint);
    }
    let text = error.to_string();
    let hint = if error.is_closed() {
        "the connection to the database was lost: whatever the command was writing was not recorded; run it again"
    } else if text.contains("timed out") || text.contains("refused") || text.contains("error connecting") {
        "check that the database server is running and reachable (host, port, firewall), and the URL"
    } else if text.contains("tls") || text.contains("TLS") || text.contains("certificate") {
        "check sslmode and sslrootcert: the server's certificate must be signed by the CA in sslrootcert \
         (verify-full also checks the host name)"
    } else {
        "check that the database server is running and reachable, and the URL"
    };
    // Source chain: "error connecting to server: Connection refused (os error 111)".
    let mut message = text;
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        let text = inner.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        source = inner.source();
    }
    store_error(location, message).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_and_never_show_the_password() {
        let address =
            Address::parse("postgres://gate:s3cret@db.internal:6432/governance?sslmode=verify-full&schema=audit_1")
                .expect("parse");
        assert_eq!(address.location(), "postgres://gate@db.internal:6432/governance?schema=audit_1");
        assert_eq!(address.tls, TlsMode::VerifyFull);
        assert!(!format!("{address:?}").contains("s3cret"));
        let default = Address::parse("postgresql://gate@db/governance").expect("parse");
        assert_eq!(default.schema(), DEFAULT_SCHEMA);
        assert_eq!(default.tls, TlsMode::Prefer);

        for (url, needle) in [
            ("postgres://gate:s3cret@db/x?sslmode=maybe", "sslmode `maybe`"),
            ("postgres://gate:s3cret@db/x?schema=Robert%27);DROP", "not a plain lower-case name"),
            ("postgres://gate@db/x?password=s3cret", "password as a URL parameter"),
            ("postgres://gate:s3cret@db/x?sslmode=require&sslmode=disable", "given twice"),
            ("postgres://gate:s3cret@db/x?frobnicate=1", "not a PostgreSQL connection URL"),
            ("postgres://gate:s3cret@db/x?sslcert=/tmp/c", "not supported"),
        ] {
            let error = Address::parse(url).expect_err(url);
            assert!(error.message.contains(needle), "{url}: {}", error.message);
            assert!(!error.message.contains("s3cret"), "{url}: {}", error.message);
            assert!(error.hint.is_some(), "{url}");
        }
        assert_eq!(redact("postgres://u:p@h/d?password=x&a=b"), "postgres://u:***@h/d?password=***&a=b");
    }
}
