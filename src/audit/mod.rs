//! The audit store: the governance memory.
//!
//! Every decision, deployment, retirement, re-evaluation and alert is an [`Entry`] in
//! one hash chain ([`chain`]): each entry's hash covers its exact content and the hash
//! before it, so an edited, deleted, inserted or reordered entry is found by
//! [`chain::verify`]. The evidence documents and every file of the policy bundles that
//! decisions were made under are stored content-addressed (compressed, deduplicated), so
//! the exact Rego text and evidence behind any past decision can be shown and replayed.
//!
//! Commands reach the store through the [`Store`] trait; [`sqlite`] is the embedded
//! default, one file that several CI jobs on one machine may write at once; [`postgres`]
//! is the shared store that pipelines on throw-away runners and the policy repository's
//! CI all write to. [`Address`] names either.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

pub mod alerts;
pub mod blobs;
pub mod chain;
pub mod checkpoint;
pub mod copy;
pub mod deploy;
pub mod export;
pub mod lifecycle;
pub mod postgres;
pub mod record;
pub mod sqlite;
pub mod tokens;

/// The environment variable naming the store, like `--store`.
pub const STORE_ENV: &str = "MODELGATE_STORE";
/// Where the store lives by default, relative to the folder of the config.
pub const DEFAULT_STORE: &str = ".modelgate/audit.db";

/// The columns of the `entries` table, in the order both backends read and write them.
pub(crate) const ENTRY_COLUMNS: &str =
    "seq, id, kind, time, model, version, environment, decision, evidence_digest, bundle_digest, content, prev_hash, hash";

/// The indexes on `entries`, the same on both backends (their queries are the same).
macro_rules! entry_indexes {
    () => {
        "CREATE INDEX entries_model ON entries (model, time);
CREATE INDEX entries_model_environment ON entries (model, environment, time);
CREATE INDEX entries_environment ON entries (environment, time);
CREATE INDEX entries_decision ON entries (decision, time);
CREATE INDEX entries_time ON entries (time);
CREATE INDEX entries_kind ON entries (kind, time);
CREATE INDEX entries_deployments ON entries (environment, model, time) WHERE kind IN ('deploy', 'retire');
"
    };
}
pub(crate) use entry_indexes;

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A gate decision (`check`, `eval`).
    Decision,
    /// A deployed model judged again under the current policies (`reevaluate`).
    Reevaluation,
    /// A version marked as deployed in an environment (`deploy record`), rollbacks included.
    Deploy,
    /// A deployment ended (`deploy retire`).
    Retire,
    /// An alert to a model's owner and what became of each delivery.
    Alert,
    /// A policy bundle published to `modelgate server` (its files stored with it).
    Publish,
    /// A published bundle made the one in force for an environment.
    Activate,
    /// The chain's head signed by `modelgate server`.
    Checkpoint,
}

impl EntryKind {
    pub const ALL: [EntryKind; 8] = [
        EntryKind::Decision,
        EntryKind::Reevaluation,
        EntryKind::Deploy,
        EntryKind::Retire,
        EntryKind::Alert,
        EntryKind::Publish,
        EntryKind::Activate,
        EntryKind::Checkpoint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Decision => "decision",
            EntryKind::Reevaluation => "reevaluation",
            EntryKind::Deploy => "deploy",
            EntryKind::Retire => "retire",
            EntryKind::Alert => "alert",
            EntryKind::Publish => "publish",
            EntryKind::Activate => "activate",
            EntryKind::Checkpoint => "checkpoint",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One entry of the chain. Its JSON serialization, exactly as stored, is what the hash covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    pub id: String,
    pub kind: EntryKind,
    /// RFC 3339, UTC, microseconds: `2026-12-03T07:40:12.123456Z` (sorts as text).
    pub time: String,
    pub model: String,
    pub version: String,
    pub environment: Option<String>,
    /// Who asked: the evidence's `deployment.requested_by`, or `--requester`.
    pub requester: Option<String>,
    /// `allow`, `deny` or `error` for decisions and re-evaluations.
    pub decision: Option<String>,
    /// `sha256:…` of the evidence document judged (stored as a blob under that digest).
    pub evidence_digest: Option<String>,
    /// `sha256:…` of the policy bundle (its files stored as blobs, its manifest in the store).
    pub bundle_digest: Option<String>,
    /// The git commit of the policy repository, when it was a checkout.
    pub bundle_revision: Option<String>,
    pub tool_version: String,
    /// What the kind adds: findings, the deployment's decision, the alert's deliveries.
    pub details: serde_json::Value,
}

impl Entry {
    /// A new entry of `kind` for `model`/`version`, stamped now; the store assigns `seq`.
    pub fn new(kind: EntryKind, model: &str, version: &str, environment: Option<&str>) -> Entry {
        Entry {
            seq: 0,
            id: uuid::Uuid::now_v7().to_string(),
            kind,
            time: now(),
            model: model.to_string(),
            version: version.to_string(),
            environment: environment.map(str::to_string),
            requester: None,
            decision: None,
            evidence_digest: None,
            bundle_digest: None,
            bundle_revision: None,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    pub fn detail(&self, key: &str) -> Option<&serde_json::Value> {
        self.details.get(key)
    }

    pub fn detail_str(&self, key: &str) -> Option<&str> {
        self.details.get(key).and_then(serde_json::Value::as_str)
    }
}

/// An entry as stored: the exact content bytes and its links in the chain.
#[derive(Debug, Clone)]
pub struct Record {
    pub entry: Entry,
    /// The entry's JSON exactly as stored (what the hash covers).
    pub content: String,
    pub prev_hash: String,
    pub hash: String,
    /// The indexed columns as stored, which must agree with the content.
    pub columns: Columns,
}

/// An entry as stored, before its content is read: what [`chain::verify`] checks.
#[derive(Debug, Clone)]
pub struct Link {
    pub columns: Columns,
    pub content: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Link {
    /// Reads the entry; content that is not an entry is an error naming it.
    pub fn parse(self, location: &str) -> Result<Record> {
        let entry: Entry = serde_json::from_str(&self.content).map_err(|error| {
            store_error(
                location,
                format!("entry {} (seq {}) is not a valid entry: {error}", self.columns.id, self.columns.seq),
            )
            .hint("the store has been altered: run `modelgate audit verify` to see where")
        })?;
        Ok(Record { entry, content: self.content, prev_hash: self.prev_hash, hash: self.hash, columns: self.columns })
    }
}

/// The copies of entry fields a store keeps in indexed columns, for queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub seq: u64,
    pub id: String,
    pub kind: String,
    pub time: String,
    pub model: String,
    pub version: String,
    pub environment: Option<String>,
    pub decision: Option<String>,
    pub evidence_digest: Option<String>,
    pub bundle_digest: Option<String>,
}

impl Columns {
    pub fn of(entry: &Entry) -> Columns {
        Columns {
            seq: entry.seq,
            id: entry.id.clone(),
            kind: entry.kind.as_str().to_string(),
            time: entry.time.clone(),
            model: entry.model.clone(),
            version: entry.version.clone(),
            environment: entry.environment.clone(),
            decision: entry.decision.clone(),
            evidence_digest: entry.evidence_digest.clone(),
            bundle_digest: entry.bundle_digest.clone(),
        }
    }
}

/// What a writer hands the store: an entry and the content it references.
#[derive(Debug, Clone)]
pub struct Draft {
    pub entry: Entry,
    pub blobs: Vec<Blob>,
    pub bundle: Option<BundleManifest>,
}

/// Bytes stored under the digest of their content.
#[derive(Debug, Clone)]
pub struct Blob {
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Blob {
    pub fn new(bytes: Vec<u8>) -> Blob {
        Blob { digest: sha256(&bytes), bytes }
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A policy bundle as stored: each file by path, kind and the digest of its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    pub digest: String,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub path: String,
    /// `rego`, `rego_test`, `data`, `exceptions`.
    pub kind: String,
    pub digest: String,
    pub size: u64,
}

/// Which entries a query wants. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kinds: Vec<EntryKind>,
    pub model: Option<String>,
    pub version: Option<String>,
    pub environment: Option<String>,
    pub decision: Option<String>,
    /// Inclusive, RFC 3339 (compared as normalised text).
    pub since: Option<String>,
    /// Inclusive.
    pub until: Option<String>,
    pub limit: Option<usize>,
    pub newest_first: bool,
}

/// The store's operations; every command goes through these, so another backend
/// (PostgreSQL) can follow without touching the commands. A store moves between threads
/// (the server's blocking pool), one user at a time.
pub trait Store: Send {
    /// Where the store is, for messages.
    fn location(&self) -> String;
    /// Appends the drafts in order, all or nothing, with their blobs and bundles; returns
    /// them as chained. Durable when it returns.
    fn append(&mut self, drafts: Vec<Draft>) -> Result<Vec<Record>>;
    /// Writes entries exactly as another store holds them (`audit copy`): they must extend
    /// this store's chain (the next seq, the head's hash as `prev_hash`, each hash
    /// recomputed), with the blobs and bundles given; all or nothing, durable when it returns.
    fn import(&mut self, records: Vec<Record>, blobs: Vec<blobs::Packed>, bundles: Vec<BundleManifest>) -> Result<()>;
    fn get(&self, id: &str) -> Result<Option<Record>>;
    /// Visits matching entries in chain order (or newest first); `visit` returns false to stop.
    fn scan(&self, filter: &Filter, visit: &mut dyn FnMut(Record) -> Result<bool>) -> Result<()>;
    /// Visits every entry as stored, in chain order, without reading it (for `verify`).
    fn scan_links(&self, visit: &mut dyn FnMut(Link)) -> Result<()>;
    /// A blob's bytes, decompressed and checked against its digest.
    fn blob(&self, digest: &str) -> Result<Option<Vec<u8>>>;
    /// Many blobs at once, in order (a store may decode them in parallel).
    fn blobs(&self, digests: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        digests.iter().map(|digest| self.blob(digest)).collect()
    }
    /// Every stored blob's digest and whether its bytes still hash to it (for `verify`).
    fn check_blobs(&self, visit: &mut dyn FnMut(&str, std::result::Result<(), String>)) -> Result<()>;
    fn bundle(&self, digest: &str) -> Result<Option<BundleManifest>>;
    /// Every stored bundle manifest (for `verify`).
    fn bundles(&self) -> Result<Vec<BundleManifest>>;
    /// Visits the deployments in force at `time` (now when `None`), ordered by model and
    /// environment: per model and environment, the last `deploy` entry not followed by a
    /// `retire`. One at a time, so that a fleet is never held twice.
    fn each_deployment_at(
        &self,
        time: Option<&str>,
        environment: Option<&str>,
        model: Option<&str>,
        visit: &mut dyn FnMut(Record) -> Result<()>,
    ) -> Result<()>;
    /// [`Store::each_deployment_at`], collected.
    fn deployments_at(
        &self,
        time: Option<&str>,
        environment: Option<&str>,
        model: Option<&str>,
    ) -> Result<Vec<Record>> {
        let mut records = Vec::new();
        self.each_deployment_at(time, environment, model, &mut |record| {
            records.push(record);
            Ok(())
        })?;
        Ok(records)
    }
    /// The last entry's seq and hash as the store recorded them on each append.
    fn head(&self) -> Result<Option<(u64, String)>>;
    /// What the database engine finds wrong with its own files (for `verify`); empty when
    /// nothing.
    fn integrity(&self) -> Result<Vec<String>>;
    /// Every environment an entry names, sorted.
    fn environments(&self) -> Result<Vec<String>>;
    /// Adds an API token of `modelgate server` (its hash; durable when it returns).
    fn put_token(&mut self, token: &tokens::Token) -> Result<()>;
    /// The token whose secret hashes to `hash`, revoked or not.
    fn token_by_hash(&self, hash: &str) -> Result<Option<tokens::Token>>;
    /// Marks the token `id` revoked at `time`; false when there is no such token, or it
    /// was revoked already.
    fn revoke_token(&mut self, id: &str, time: &str) -> Result<bool>;
    /// Every token, oldest first.
    fn tokens(&self) -> Result<Vec<tokens::Token>>;
}

/// The first entry `filter` matches (the newest with `newest_first`).
pub fn first_entry(store: &dyn Store, filter: &Filter) -> Result<Option<Entry>> {
    let mut found = None;
    store.scan(filter, &mut |record| {
        found = Some(record.entry);
        Ok(false)
    })?;
    Ok(found)
}

/// Refuses an environment that neither an entry of the store nor a policy bundle stored in
/// it names: a typo would otherwise be answered with "nothing deployed".
pub fn check_environment(store: &dyn Store, environment: &str) -> Result<()> {
    let mut known = store.environments()?;
    if known.iter().any(|name| name == environment) {
        return Ok(());
    }
    for manifest in store.bundles()? {
        let Some(file) =
            manifest.files.iter().find(|file| crate::policy::bundle::DATA_FILES.contains(&file.path.as_str()))
        else {
            continue;
        };
        let Some(bytes) = store.blob(&file.digest)? else { continue };
        let Ok(text) = String::from_utf8(bytes) else { continue };
        let syntax =
            if file.path.ends_with(".json") { crate::strict::Syntax::Json } else { crate::strict::Syntax::Yaml };
        let source = crate::strict::Source::new(Path::new(&file.path), "policy data", ErrorKind::Store);
        let Ok(value) = crate::strict::parse(&text, syntax, &source) else { continue };
        for name in
            value.get(crate::policy::data::ENVIRONMENTS_KEY).and_then(serde_json::Value::as_array).into_iter().flatten()
        {
            if let Some(name) = name.as_str() {
                known.push(name.to_string());
            }
        }
    }
    known.sort();
    known.dedup();
    if known.iter().any(|name| name == environment) {
        return Ok(());
    }
    Err(crate::policy::data::unknown_environment(environment, &known, &format!("the store {}", store.location())))
}

/// The prepared drafts as records that extend the chain at `head`.
pub(crate) fn chain_drafts(head: Option<(u64, String)>, drafts: &[blobs::Prepared]) -> Vec<Record> {
    let (mut seq, mut prev_hash) = head.unwrap_or((0, chain::GENESIS.to_string()));
    let mut records = Vec::with_capacity(drafts.len());
    for draft in drafts {
        seq += 1;
        let mut entry = draft.entry.clone();
        entry.seq = seq;
        // An Entry is strings, numbers and a JSON value: its serialisation cannot fail.
        let content = serde_json::to_string(&entry).unwrap_or_default();
        let hash = chain::link(&prev_hash, &content);
        let columns = Columns::of(&entry);
        records.push(Record { entry, content, prev_hash: prev_hash.clone(), hash: hash.clone(), columns });
        prev_hash = hash;
    }
    records
}

/// Checks that `records` extend the chain at `head` link by link, as [`Store::import`] must.
pub(crate) fn check_import(head: Option<&(u64, String)>, records: &[Record]) -> std::result::Result<(), String> {
    let (mut seq, mut prev_hash) = head.cloned().unwrap_or((0, chain::GENESIS.to_string()));
    for record in records {
        if record.columns.seq != seq + 1 || record.entry.seq != record.columns.seq {
            return Err(format!("entry {} does not follow the head at seq {seq}", record.columns.seq));
        }
        if record.prev_hash != prev_hash || chain::link(&prev_hash, &record.content) != record.hash {
            return Err(format!("entry {} does not link to the chain before it", record.columns.seq));
        }
        if Columns::of(&record.entry) != record.columns {
            return Err(format!("entry {}'s columns do not match its content", record.columns.seq));
        }
        seq += 1;
        prev_hash = record.hash.clone();
    }
    Ok(())
}

/// `f` over `items` on every core, in order.
pub fn parallel_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(items.len().max(1));
    if threads <= 1 || items.len() < 64 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            items.chunks(chunk).map(|slice| scope.spawn(move || slice.iter().map(f).collect::<Vec<U>>())).collect();
        // A worker that panicked has a bug; re-raise it here rather than lose its items.
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// How a command may use the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create the store (with its folder) when it does not exist yet: `audit init`, and
    /// the default store beside modelgate.toml. A store a command was pointed at
    /// (`--store`, `MODELGATE_STORE`) must exist: a volume that failed to mount must not
    /// turn into a fresh, empty history.
    Create,
    /// The store must exist; nothing is written.
    ReadOnly,
    /// The store must exist.
    ReadWrite,
}

/// Where a store is: an SQLite file, or a schema of a PostgreSQL database.
#[derive(Debug, Clone)]
pub enum Address {
    File(PathBuf),
    Postgres(Box<postgres::Address>),
}

impl Address {
    /// `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite://PATH` or a plain path for
    /// an SQLite file.
    pub fn parse(text: &str) -> Result<Address> {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Address::Postgres(Box::new(postgres::Address::parse(text)?)));
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            return Ok(Address::File(PathBuf::from(path)));
        }
        if text.contains("://") {
            return Err(Error::new(
                ErrorKind::Config,
                format!("store `{}`: unknown kind of store", postgres::redact(text)),
            )
            .hint("name a PostgreSQL store with postgres://USER@HOST/DATABASE, or an SQLite file by its path"));
        }
        if text.is_empty() {
            return Err(Error::new(ErrorKind::Config, "the store is named by an empty string")
                .hint("set --store (or MODELGATE_STORE) to a path or a postgres:// URL, or unset it"));
        }
        Ok(Address::File(PathBuf::from(text)))
    }

    /// How messages name it (never with a password).
    pub fn location(&self) -> String {
        match self {
            Address::File(path) => path.display().to_string(),
            Address::Postgres(address) => address.location().to_string(),
        }
    }
}

/// Opens the store at `address`.
pub fn open(address: &Address, access: Access) -> Result<Box<dyn Store>> {
    Ok(match address {
        Address::File(path) => Box::new(sqlite::SqliteStore::open(path, access)?),
        Address::Postgres(address) => Box::new(postgres::PostgresStore::open(address, access)?),
    })
}

/// Creates the store at `address` unless it is one already (`audit init`); says whether
/// it created it.
pub fn init(address: &Address) -> Result<(Box<dyn Store>, bool)> {
    let existed = match address {
        Address::File(path) => path.exists(),
        Address::Postgres(address) => postgres::PostgresStore::initialised(address)?,
    };
    Ok((open(address, Access::Create)?, !existed))
}

/// The store a command uses: `--store`, else `MODELGATE_STORE` (clap reads it), else
/// `.modelgate/audit.db` in `base` (the config's folder).
pub fn resolve(flag: Option<&str>, base: &Path) -> Result<Address> {
    match flag {
        Some(text) => Address::parse(text),
        None => Ok(Address::File(base.join(DEFAULT_STORE))),
    }
}

/// How a recording command (`check`, `eval`) opens its store: the default store beside
/// modelgate.toml is created on first use; a store named with `--store` or
/// `MODELGATE_STORE` must already exist (`modelgate audit init` creates one).
pub fn recording_access(flag: Option<&str>) -> Access {
    match flag {
        Some(_) => Access::ReadWrite,
        None => Access::Create,
    }
}

/// The current time as entries record it.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Normalises a time given on the command line (`2026-12-01`, `2026-12-01T10:00:00+01:00`)
/// to the entries' form, so that times compare as text.
pub fn parse_time(text: &str, flag: &str) -> Result<String> {
    let text = text.trim();
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let time = date.and_hms_opt(0, 0, 0).map(|time| time.and_utc()).unwrap_or_default();
        return Ok(time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    }
    Err(Error::new(ErrorKind::Config, format!("{flag} `{text}` is not a date or an RFC 3339 time"))
        .hint("write 2026-12-01 (midnight UTC) or 2026-12-01T09:30:00Z"))
}

/// The end of the day for an `--until` given as a date: the whole day is included.
pub fn parse_until(text: &str, flag: &str) -> Result<String> {
    let time = parse_time(text, flag)?;
    if chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").is_ok() {
        return Ok(time.replace("T00:00:00.000000Z", "T23:59:59.999999Z"));
    }
    Ok(time)
}

/// Refuses a store whose schema a newer modelgate wrote: an older one must not write to it.
pub(crate) fn check_schema_version(location: &str, version: i64, supported: i64) -> Result<()> {
    if version > supported {
        return Err(store_error(
            location,
            format!(
                "has schema version {version}, newer than this modelgate ({}) reads (up to {supported})",
                env!("CARGO_PKG_VERSION")
            ),
        )
        .hint("upgrade modelgate to the version that wrote this store; an older one must not write to it"));
    }
    Ok(())
}

pub(crate) fn store_error(location: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Store, format!("audit store {location}: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_normalise_to_comparable_text() {
        assert_eq!(parse_time("2026-12-01", "--since").expect("date"), "2026-12-01T00:00:00.000000Z");
        assert_eq!(parse_time("2026-12-01T10:00:00+01:00", "--since").expect("time"), "2026-12-01T09:00:00.000000Z");
        assert_eq!(parse_until("2026-12-01", "--until").expect("date"), "2026-12-01T23:59:59.999999Z");
        let error = parse_time("yesterday", "--since").expect_err("not a time");
        assert!(error.message.contains("--since `yesterday`"), "{}", error.message);
        assert!(now().as_str() > "2026-01-01");
    }

    #[test]
    fn kinds_round_trip() {
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EntryKind::parse("nope"), None);
    }
}
