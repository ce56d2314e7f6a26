//! The embedded store: one SQLite file in WAL mode with durable commits.
//!
//! Several CI jobs may write the same file at once: each append is one `BEGIN IMMEDIATE`
//! transaction (the chain's head is read and extended under the write lock), waits up to
//! the busy timeout for the lock, and is retried when SQLite still answers busy. A record
//! is either fully there (entry, blobs, bundle, head) or not at all.

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, params_from_iter, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use super::blobs::{self, Packed, Prepared};
use super::{store_error, Access, BundleManifest, Columns, Draft, Filter, Link, Record, Store};
use crate::error::{Error, Result};

/// `PRAGMA application_id` of a modelgate store: "MGAT".
const APPLICATION_ID: i64 = 0x4D47_4154;
/// The schema this build writes; a store with a higher `user_version` is refused.
pub const SCHEMA_VERSION: i64 = 2;
/// How long a writer waits for another's lock before SQLite answers busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Appends retried after a busy answer.
const BUSY_RETRIES: u32 = 5;

/// Schema migrations, applied in order; `user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    concat!(
        r#"
CREATE TABLE entries (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,
    model TEXT NOT NULL,
    version TEXT NOT NULL,
    environment TEXT,
    decision TEXT,
    evidence_digest TEXT,
    bundle_digest TEXT,
    content TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"#,
        super::entry_indexes!(),
        r#"
CREATE TABLE blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE bundles (digest TEXT PRIMARY KEY, manifest TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"#
    ),
    r#"
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    models TEXT NOT NULL,
    environments TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT,
    revoked TEXT
) WITHOUT ROWID;
-- The newest entry of a kind in an environment (the bundle active there) without reading
-- the environment's decisions.
CREATE INDEX entries_kind_environment ON entries (kind, environment, time);
"#,
];

use super::tokens::{Token, TOKEN_COLUMNS};
use super::ENTRY_COLUMNS;

pub struct SqliteStore {
    connection: Connection,
    location: String,
}

impl SqliteStore {
    /// Opens (and on first use creates) the store. Several first writers may race to
    /// create it: an open that SQLite answers busy or locked is tried again.
    pub fn open(path: &Path, access: Access) -> Result<SqliteStore> {
        let mut attempt = 0;
        loop {
            match Self::open_once(path, access) {
                Err(error) if attempt < BUSY_RETRIES * 4 && is_busy_message(&error.message) => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path, access: Access) -> Result<SqliteStore> {
        let location = path.display().to_string();
        let exists = path.exists();
        if !exists && access != Access::Create {
            return Err(store_error(&location, "does not exist").hint(
                "create a store with `modelgate audit init --store PATH` (a missing store is never created by \
                 accident: a volume that failed to mount would start an empty history); check the path, \
                 --store and MODELGATE_STORE",
            ));
        }
        if exists {
            let metadata = std::fs::metadata(path).map_err(|error| store_error(&location, error))?;
            if !metadata.is_file() {
                let what = if metadata.is_dir() { "a folder" } else { "not a regular file" };
                return Err(store_error(&location, format!("is {what}"))
                    .hint("point --store (or MODELGATE_STORE) at the store file itself"));
            }
            // SQLite would take an empty file for a new database: that is creating a store.
            if metadata.len() == 0 && access != Access::Create {
                return Err(store_error(&location, "is an empty file, not an audit store").hint(
                    "create the store with `modelgate audit init --store PATH`, or point --store at an existing one",
                ));
            }
        }
        if !exists {
            if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|error| {
                    store_error(&location, format!("cannot create its folder: {error}"))
                        .hint("pass --store PATH in a writable folder, or record nothing with --no-record")
                })?;
            }
        }
        let flags = match access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
            Access::Create => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut connection = Connection::open_with_flags(path, flags).map_err(|error| sql_error(&location, error))?;
        if access == Access::ReadOnly {
            let probe = connection.query_row("PRAGMA application_id", [], |_| Ok(()));
            if let Err(error) = probe {
                if matches!(error.sqlite_error_code(), Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen)) {
                    // An auditor's archive on read-only media: no -shm file can be made
                    // beside it. Nothing writes to such a copy, so it is read as immutable.
                    connection = Connection::open_with_flags(immutable_uri(path), flags)
                        .map_err(|error| sql_error(&location, error))?;
                }
            }
        }
        let store = SqliteStore { connection, location };
        store.connection.busy_timeout(BUSY_TIMEOUT).map_err(|error| store.error(error))?;
        store.check_identity()?;
        if access != Access::ReadOnly {
            let mode: String = store
                .connection
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .map_err(|error| store.error(error))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(store_error(
                    &store.location,
                    format!("cannot use write-ahead logging (journal mode {mode})"),
                )
                .hint("put the store on a local file system (WAL needs shared memory beside the file)"));
            }
            // FULL: every commit is on disk (the WAL is synced) before a decision is acknowledged.
            store.connection.pragma_update(None, "synchronous", "FULL").map_err(|error| store.error(error))?;
            store.migrate()?;
        } else if store.user_version()? < 1 {
            return Err(store_error(&store.location, "is empty or was never initialised")
                .hint("record a decision with `modelgate check` first, or point --store at an existing store"));
        }
        Ok(store)
    }

    fn error(&self, error: rusqlite::Error) -> Error {
        sql_error(&self.location, error)
    }

    fn read_token(row: &rusqlite::Row) -> rusqlite::Result<[Option<String>; 9]> {
        let mut columns: [Option<String>; 9] = Default::default();
        for (index, column) in columns.iter_mut().enumerate() {
            *column = row.get(index)?;
        }
        Ok(columns)
    }

    fn user_version(&self) -> Result<i64> {
        self.connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|error| self.error(error))
    }

    /// Refuses a file that is not a modelgate store, or one from a newer schema.
    fn check_identity(&self) -> Result<()> {
        let application_id: i64 = self
            .connection
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(|error| self.error(error))?;
        let tables: i64 = self
            .connection
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(|error| self.error(error))?;
        if application_id != APPLICATION_ID && (application_id != 0 || tables > 0) {
            return Err(store_error(&self.location, "is an SQLite database but not a modelgate audit store")
                .hint("point --store (or MODELGATE_STORE) at a modelgate store, or at a new file to create one"));
        }
        let version = self.user_version()?;
        super::check_schema_version(&self.location, version, SCHEMA_VERSION)?;
        Ok(())
    }

    /// Applies the migrations this store lacks, under the write lock (two first writers
    /// racing to create the store apply them once).
    fn migrate(&self) -> Result<()> {
        if self.user_version()? >= SCHEMA_VERSION {
            return Ok(());
        }
        let transaction = self.begin()?;
        let version: i64 =
            transaction.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|error| self.error(error))?;
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            transaction.execute_batch(migration).map_err(|error| self.error(error))?;
            transaction.pragma_update(None, "user_version", index as i64 + 1).map_err(|error| self.error(error))?;
        }
        transaction.pragma_update(None, "application_id", APPLICATION_ID).map_err(|error| self.error(error))?;
        transaction.commit().map_err(|error| self.error(error))
    }

    fn begin(&self) -> Result<rusqlite::Transaction<'_>> {
        rusqlite::Transaction::new_unchecked(&self.connection, TransactionBehavior::Immediate)
            .map_err(|error| self.error(error))
    }

    /// One append or import in one write transaction: `rows` gets the chain's head (read
    /// under the write lock) and returns the records to insert with the blobs and bundles.
    fn try_write(
        &self,
        blobs: &[&Packed],
        bundles: &[&(String, String)],
        rows: &dyn Fn(Option<(u64, String)>) -> std::result::Result<Vec<Record>, String>,
    ) -> rusqlite::Result<std::result::Result<Vec<Record>, String>> {
        let transaction = rusqlite::Transaction::new_unchecked(&self.connection, TransactionBehavior::Immediate)?;
        let head: Option<(u64, String)> = transaction
            .query_row("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1", [], |row| {
                Ok((row.get::<_, i64>(0)? as u64, row.get(1)?))
            })
            .optional()?;
        let records = match rows(head) {
            Ok(records) => records,
            Err(refusal) => return Ok(Err(refusal)),
        };
        {
            let mut insert_blob =
                transaction.prepare_cached("INSERT OR IGNORE INTO blobs (digest, size, data) VALUES (?1, ?2, ?3)")?;
            for blob in blobs {
                insert_blob.execute(params![blob.digest, blob.size as i64, blob.data])?;
            }
            let mut insert_bundle =
                transaction.prepare_cached("INSERT OR IGNORE INTO bundles (digest, manifest) VALUES (?1, ?2)")?;
            for (digest, manifest) in bundles {
                insert_bundle.execute(params![digest, manifest])?;
            }
            let mut insert_entry = transaction.prepare_cached(&format!(
                "INSERT INTO entries ({ENTRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?;
            for record in &records {
                let columns = &record.columns;
                insert_entry.execute(params![
                    columns.seq as i64,
                    columns.id,
                    columns.kind,
                    columns.time,
                    columns.model,
                    columns.version,
                    columns.environment,
                    columns.decision,
                    columns.evidence_digest,
                    columns.bundle_digest,
                    record.content,
                    record.prev_hash,
                    record.hash,
                ])?;
            }
            if let Some(last) = records.last() {
                let mut set_meta =
                    transaction.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")?;
                set_meta.execute(params!["head_seq", last.columns.seq.to_string()])?;
                set_meta.execute(params!["head_hash", last.hash])?;
            }
        }
        transaction.commit()?;
        Ok(Ok(records))
    }

    /// [`Self::try_write`], tried again while another writer holds the lock.
    fn write(
        &self,
        blobs: &[&Packed],
        bundles: &[&(String, String)],
        rows: &dyn Fn(Option<(u64, String)>) -> std::result::Result<Vec<Record>, String>,
    ) -> Result<Vec<Record>> {
        let mut attempt = 0;
        loop {
            match self.try_write(blobs, bundles, rows) {
                Ok(Ok(records)) => return Ok(records),
                Ok(Err(refusal)) => return Err(store_error(&self.location, refusal)),
                Err(error) if is_busy(&error) && attempt < BUSY_RETRIES => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(50 << attempt));
                }
                Err(error) => return Err(self.error(error)),
            }
        }
    }

    fn read_record(row: &rusqlite::Row) -> rusqlite::Result<Link> {
        Ok(Link {
            columns: Columns {
                seq: row.get::<_, i64>(0)? as u64,
                id: row.get(1)?,
                kind: row.get(2)?,
                time: row.get(3)?,
                model: row.get(4)?,
                version: row.get(5)?,
                environment: row.get(6)?,
                decision: row.get(7)?,
                evidence_digest: row.get(8)?,
                bundle_digest: row.get(9)?,
            },
            content: row.get(10)?,
            prev_hash: row.get(11)?,
            hash: row.get(12)?,
        })
    }

    fn records(&self, sql: &str, values: &[rusqlite::types::Value]) -> Result<Vec<Record>> {
        let mut statement = self.connection.prepare_cached(sql).map_err(|error| self.error(error))?;
        let rows = statement
            .query_map(params_from_iter(values.iter()), Self::read_record)
            .map_err(|error| self.error(error))?;
        let mut records = Vec::new();
        for row in rows {
            records.push(row.map_err(|error| self.error(error))?.parse(&self.location)?);
        }
        Ok(records)
    }
}

impl Drop for SqliteStore {
    /// Lets SQLite refresh the statistics its query planner uses, when they are due.
    fn drop(&mut self) {
        if !self.connection.is_readonly(rusqlite::MAIN_DB).unwrap_or(true) {
            let _ = self.connection.execute_batch("PRAGMA optimize");
        }
    }
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn append(&mut self, drafts: Vec<Draft>) -> Result<Vec<Record>> {
        let prepared: Vec<Prepared> = blobs::prepare(&self.location, drafts, |digests| {
            let mut exists =
                self.connection.prepare_cached("SELECT 1 FROM blobs WHERE digest = ?1").map_err(|e| self.error(e))?;
            let mut present = std::collections::HashSet::new();
            for digest in digests {
                if exists.exists([digest]).map_err(|error| self.error(error))? {
                    present.insert(digest.clone());
                }
            }
            Ok(present)
        })?;
        let packed: Vec<&Packed> = prepared.iter().flat_map(|draft| &draft.blobs).collect();
        let bundles: Vec<&(String, String)> = prepared.iter().filter_map(|draft| draft.bundle.as_ref()).collect();
        self.write(&packed, &bundles, &|head| Ok(super::chain_drafts(head, &prepared)))
    }

    fn import(&mut self, records: Vec<Record>, blobs: Vec<Packed>, bundles: Vec<BundleManifest>) -> Result<()> {
        let packed: Vec<&Packed> = blobs.iter().collect();
        let bundles: Vec<(String, String)> = bundles.into_iter().map(blobs::manifest_text).collect();
        let bundles: Vec<&(String, String)> = bundles.iter().collect();
        self.write(&packed, &bundles, &|head| {
            super::check_import(head.as_ref(), &records)?;
            Ok(records.clone())
        })
        .map(|_| ())
    }

    fn get(&self, id: &str) -> Result<Option<Record>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?1");
        Ok(self.records(&sql, &[id.to_string().into()])?.into_iter().next())
    }

    fn scan(&self, filter: &Filter, visit: &mut dyn FnMut(Record) -> Result<bool>) -> Result<()> {
        let mut conditions = Vec::new();
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let mut bind = |condition: &str, value: &Option<String>, values: &mut Vec<rusqlite::types::Value>| {
            if let Some(value) = value {
                values.push(value.clone().into());
                conditions.push(condition.replace('?', &format!("?{}", values.len())));
            }
        };
        bind("model = ?", &filter.model, &mut values);
        bind("version = ?", &filter.version, &mut values);
        bind("environment = ?", &filter.environment, &mut values);
        bind("decision = ?", &filter.decision, &mut values);
        bind("time >= ?", &filter.since, &mut values);
        bind("time <= ?", &filter.until, &mut values);
        if !filter.kinds.is_empty() {
            let kinds: Vec<String> = filter.kinds.iter().map(|kind| format!("'{}'", kind.as_str())).collect();
            conditions.push(format!("kind IN ({})", kinds.join(", ")));
        }
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM entries");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        // Newest first walks a (column, time) index backwards; chain order is seq.
        sql.push_str(if filter.newest_first { " ORDER BY time DESC, seq DESC" } else { " ORDER BY seq" });
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut statement = self.connection.prepare_cached(&sql).map_err(|error| self.error(error))?;
        let mut rows = statement.query(params_from_iter(values.iter())).map_err(|error| self.error(error))?;
        while let Some(row) = rows.next().map_err(|error| self.error(error))? {
            let record = Self::read_record(row).map_err(|error| self.error(error))?.parse(&self.location)?;
            if !visit(record)? {
                break;
            }
        }
        Ok(())
    }

    fn scan_links(&self, visit: &mut dyn FnMut(Link)) -> Result<()> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM entries ORDER BY seq");
        let mut statement = self.connection.prepare(&sql).map_err(|error| self.error(error))?;
        let mut rows = statement.query([]).map_err(|error| self.error(error))?;
        while let Some(row) = rows.next().map_err(|error| self.error(error))? {
            visit(Self::read_record(row).map_err(|error| self.error(error))?);
        }
        Ok(())
    }

    fn blob(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(i64, Vec<u8>)> = self
            .connection
            .query_row("SELECT size, data FROM blobs WHERE digest = ?1", [digest], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(|error| self.error(error))?;
        let Some((size, data)) = row else {
            return Ok(None);
        };
        blobs::unpack_or_error(&self.location, digest, size, &data).map(Some)
    }

    fn blobs(&self, digests: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut rows = Vec::with_capacity(digests.len());
        {
            let mut statement = self
                .connection
                .prepare_cached("SELECT size, data FROM blobs WHERE digest = ?1")
                .map_err(|error| self.error(error))?;
            for digest in digests {
                let row: Option<(i64, Vec<u8>)> = statement
                    .query_row([digest], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
                    .map_err(|error| self.error(error))?;
                rows.push((digest, row));
            }
        }
        let location = self.location.as_str();
        super::parallel_map(&rows, |(digest, row)| match row {
            None => Ok(None),
            Some((size, data)) => blobs::unpack_or_error(location, digest, *size, data).map(Some),
        })
        .into_iter()
        .collect()
    }

    fn check_blobs(&self, visit: &mut dyn FnMut(&str, std::result::Result<(), String>)) -> Result<()> {
        let mut statement = self
            .connection
            .prepare("SELECT digest, size, data FROM blobs ORDER BY digest")
            .map_err(|e| self.error(e))?;
        let mut rows = statement.query([]).map_err(|error| self.error(error))?;
        while let Some(row) = rows.next().map_err(|error| self.error(error))? {
            let digest: String = row.get(0).map_err(|error| self.error(error))?;
            let size: i64 = row.get(1).map_err(|error| self.error(error))?;
            let data: Vec<u8> = row.get(2).map_err(|error| self.error(error))?;
            visit(&digest, blobs::unpack(&digest, size, &data).map(|_| ()));
        }
        Ok(())
    }

    fn bundle(&self, digest: &str) -> Result<Option<BundleManifest>> {
        let text: Option<String> = self
            .connection
            .query_row("SELECT manifest FROM bundles WHERE digest = ?1", [digest], |row| row.get(0))
            .optional()
            .map_err(|error| self.error(error))?;
        text.map(|text| blobs::parse_manifest(&self.location, digest, &text)).transpose()
    }

    fn bundles(&self) -> Result<Vec<BundleManifest>> {
        let mut statement = self
            .connection
            .prepare("SELECT digest, manifest FROM bundles ORDER BY digest")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
            .map_err(|error| self.error(error))?;
        let mut manifests = Vec::new();
        for row in rows {
            let (digest, text) = row.map_err(|error| self.error(error))?;
            manifests.push(blobs::parse_manifest(&self.location, &digest, &text)?);
        }
        Ok(manifests)
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
                WHERE kind IN ('deploy', 'retire') AND (?1 IS NULL OR time <= ?1)
                  AND (?2 IS NULL OR environment = ?2) AND (?3 IS NULL OR model = ?3)
                GROUP BY model, environment)
             AND kind = 'deploy' ORDER BY model, environment"
        );
        let value = |text: Option<&str>| match text {
            Some(text) => rusqlite::types::Value::Text(text.to_string()),
            None => rusqlite::types::Value::Null,
        };
        let mut statement = self.connection.prepare_cached(&sql).map_err(|error| self.error(error))?;
        let mut rows = statement
            .query(params_from_iter([value(time), value(environment), value(model)].iter()))
            .map_err(|error| self.error(error))?;
        while let Some(row) = rows.next().map_err(|error| self.error(error))? {
            visit(Self::read_record(row).map_err(|error| self.error(error))?.parse(&self.location)?)?;
        }
        Ok(())
    }

    fn environments(&self) -> Result<Vec<String>> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT DISTINCT environment FROM entries WHERE environment IS NOT NULL ORDER BY environment",
            )
            .map_err(|error| self.error(error))?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|error| self.error(error))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(|error| self.error(error))?;
        Ok(rows)
    }

    fn put_token(&mut self, token: &Token) -> Result<()> {
        let sql = format!("INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        self.connection.execute(&sql, params_from_iter(token.columns())).map_err(|error| self.error(error))?;
        Ok(())
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<Token>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1");
        let mut statement = self.connection.prepare_cached(&sql).map_err(|error| self.error(error))?;
        let row = statement.query_row([hash], Self::read_token).optional().map_err(|error| self.error(error))?;
        row.map(|row| Token::from_columns(&self.location, row)).transpose()
    }

    fn revoke_token(&mut self, id: &str, time: &str) -> Result<bool> {
        let changed = self
            .connection
            .execute("UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL", params![id, time])
            .map_err(|error| self.error(error))?;
        Ok(changed == 1)
    }

    fn tokens(&self) -> Result<Vec<Token>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created, id");
        let mut statement = self.connection.prepare_cached(&sql).map_err(|error| self.error(error))?;
        let rows = statement
            .query_map([], Self::read_token)
            .map_err(|error| self.error(error))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|error| self.error(error))?;
        rows.into_iter().map(|row| Token::from_columns(&self.location, row)).collect()
    }

    fn integrity(&self) -> Result<Vec<String>> {
        let mut statement = self.connection.prepare("PRAGMA quick_check").map_err(|error| self.error(error))?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|error| self.error(error))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(|error| self.error(error))?;
        Ok(rows.into_iter().filter(|row| row != "ok").collect())
    }

    fn head(&self) -> Result<Option<(u64, String)>> {
        let get = |key: &str| -> Result<Option<String>> {
            self.connection
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
                .optional()
                .map_err(|error| self.error(error))
        };
        match (get("head_seq")?, get("head_hash")?) {
            (Some(seq), Some(hash)) => Ok(seq.parse().ok().map(|seq| (seq, hash))),
            _ => Ok(None),
        }
    }
}

/// SQLITE_BUSY and SQLITE_LOCKED as rusqlite words them (the open maps errors to messages).
fn is_busy_message(message: &str) -> bool {
    message.ends_with(": database is locked") || message.ends_with(": database table is locked")
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(error.sqlite_error_code(), Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked))
}

/// An SQLite error as the user can act on it.
/// `file:/abs/path?immutable=1`, with the characters a URI gives meaning to escaped.
fn immutable_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for byte in absolute.to_string_lossy().bytes() {
        match byte {
            b'?' | b'#' | b'%' | b' ' | 0x80.. => uri.push_str(&format!("%{byte:02X}")),
            _ => uri.push(char::from(byte)),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

fn sql_error(location: &str, error: rusqlite::Error) -> Error {
    let hint = match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            return store_error(location, "is not a modelgate audit store (not an SQLite database)")
                .hint("point --store (or MODELGATE_STORE) at a modelgate store, or at a new file to create one");
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "another process held the store's write lock for longer than the busy timeout (30 s); retry"
        }
        Some(ErrorCode::ReadOnly) => {
            "the store (or its folder, which holds the -wal and -shm files) is not writable: fix the permissions, \
             pass --store PATH, or use --no-record / --allow-unrecorded deliberately"
        }
        Some(ErrorCode::DiskFull) => "the disk is full: free space, then run the command again",
        Some(ErrorCode::CannotOpen) => "check that the path exists and is writable",
        Some(ErrorCode::DatabaseCorrupt) => {
            "the file is damaged: restore it from a backup; `modelgate audit verify` on a copy shows what is left"
        }
        Some(ErrorCode::SystemIoFailure) => {
            "the file system refused a read or write (full disk, quota, file size limit)"
        }
        _ => "run `modelgate audit verify` to check the store",
    };
    store_error(location, error).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{chain, Blob, Entry, EntryKind};

    fn draft(model: &str) -> Draft {
        let blob = Blob::new(format!("{{\"model\": \"{model}\"}}").into_bytes());
        let mut entry = Entry::new(EntryKind::Decision, model, "1.0", Some("production"));
        entry.decision = Some("allow".into());
        entry.evidence_digest = Some(blob.digest.clone());
        Draft { entry, blobs: vec![blob], bundle: None }
    }

    #[test]
    fn appends_chain_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/audit.db");
        let mut store = SqliteStore::open(&path, Access::Create).expect("create");
        let first = store.append(vec![draft("a"), draft("b")]).expect("append");
        let second = store.append(vec![draft("a")]).expect("append");
        assert_eq!(first[0].prev_hash, chain::GENESIS);
        assert_eq!(first[1].prev_hash, first[0].hash);
        assert_eq!(second[0].prev_hash, first[1].hash);
        assert_eq!(second[0].entry.seq, 3);
        assert_eq!(store.head().expect("head"), Some((3, second[0].hash.clone())));
        let got = store.get(&first[1].entry.id).expect("get").expect("present");
        assert_eq!(got.entry, first[1].entry);
        let digest = first[0].entry.evidence_digest.clone().expect("digest");
        assert_eq!(store.blob(&digest).expect("blob").expect("present"), b"{\"model\": \"a\"}");
        let mut models = Vec::new();
        let filter = Filter { model: Some("a".into()), newest_first: true, ..Filter::default() };
        store
            .scan(&filter, &mut |record| {
                models.push(record.entry.seq);
                Ok(true)
            })
            .expect("scan");
        assert_eq!(models, vec![3, 1]);
        drop(store);
        let reopened = SqliteStore::open(&path, Access::ReadOnly).expect("read-only");
        assert_eq!(reopened.head().expect("head").map(|(seq, _)| seq), Some(3));
    }

    #[test]
    fn refuses_missing_foreign_and_newer_stores() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = SqliteStore::open(&dir.path().join("none.db"), Access::ReadOnly).err().expect("missing");
        assert!(missing.message.contains("does not exist"), "{}", missing.message);

        let text = dir.path().join("notes.db");
        std::fs::write(&text, "these are not the droids\n".repeat(200)).expect("write");
        let error = SqliteStore::open(&text, Access::Create).err().expect("not sqlite");
        assert!(error.message.contains("not a modelgate audit store"), "{}", error.message);
        assert!(error.hint.is_some());

        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign).expect("open").execute_batch("CREATE TABLE t (x)").expect("create");
        let error = SqliteStore::open(&foreign, Access::Create).err().expect("foreign");
        assert!(error.message.contains("not a modelgate audit store"), "{}", error.message);

        let newer = dir.path().join("newer.db");
        SqliteStore::open(&newer, Access::Create).expect("create");
        Connection::open(&newer).expect("open").pragma_update(None, "user_version", SCHEMA_VERSION + 1).expect("bump");
        let error = SqliteStore::open(&newer, Access::Create).err().expect("newer");
        assert!(error.message.contains("newer than this modelgate"), "{}", error.message);
    }

    #[test]
    fn corrupt_blob_is_an_error_never_wrong_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.db");
        let mut store = SqliteStore::open(&path, Access::Create).expect("create");
        let record = store.append(vec![draft("a")]).expect("append").remove(0);
        let digest = record.entry.evidence_digest.expect("digest");
        store
            .connection
            .execute("UPDATE blobs SET data = x'28b52ffd0000' WHERE digest = ?1", [&digest])
            .expect("corrupt");
        let error = store.blob(&digest).expect_err("corrupt");
        assert!(error.message.contains("is corrupt"), "{}", error.message);
        let other = zstd::bulk::compress(b"{\"model\": \"b\"}", 3).expect("compress");
        store
            .connection
            .execute("UPDATE blobs SET data = ?1, size = 14 WHERE digest = ?2", params![other, digest])
            .expect("swap");
        let error = store.blob(&digest).expect_err("swapped");
        assert!(error.message.contains("hashes to"), "{}", error.message);
    }
}
