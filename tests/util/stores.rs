//! Audit stores for the end-to-end tests, on both backends: an SQLite file in a temporary
//! folder, or a schema of its own in the real PostgreSQL server (dropped afterwards).
//!
//! The server is `MODELGATE_TEST_POSTGRES` (default `postgres://root@127.0.0.1:5432/test`,
//! trust authentication; `.ci/run` starts it when it is down).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests use, without parameters.
pub fn postgres_server() -> String {
    std::env::var("MODELGATE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string())
}

/// A client of the test server, for setting up and tampering.
pub fn postgres_client() -> postgres::Client {
    let url = postgres_server();
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|error| {
        panic!(
            "the PostgreSQL server for the tests ({url}) is not reachable: {error}; start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (.ci/run does)"
        )
    })
}

/// A schema name no other test (or test process) uses.
pub fn unique_schema(name: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let stem: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(30).collect();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("mgt_{stem}_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub struct TestStore {
    pub backend: Backend,
    address: String,
    path: Option<PathBuf>,
    schema: Option<String>,
}

impl TestStore {
    /// A new, initialised store (`audit init`).
    pub fn create(backend: Backend, dir: &Path, name: &str) -> TestStore {
        let store = TestStore::uninitialised(backend, dir, name);
        let init = super::run(super::command(&super::root()).args(["audit", "init", "--store", store.address()]));
        assert_eq!(init.code, 0, "audit init: {}", init.stderr);
        store
    }

    /// A store address where nothing exists yet.
    pub fn uninitialised(backend: Backend, dir: &Path, name: &str) -> TestStore {
        match backend {
            Backend::Sqlite => {
                let path = dir.join(format!("{name}.db"));
                TestStore { backend, address: path.display().to_string(), path: Some(path), schema: None }
            }
            Backend::Postgres => {
                let schema = unique_schema(name);
                let address = format!("{}?sslmode=disable&schema={schema}", postgres_server());
                TestStore { backend, address, path: None, schema: Some(schema) }
            }
        }
    }

    /// `--store` / `MODELGATE_STORE`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// How modelgate names the store in reports and messages.
    pub fn location(&self) -> String {
        match (&self.path, &self.schema) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(schema)) => {
                let server = postgres_server();
                let config: postgres::Config = server.parse().expect("test server URL");
                let host = match &config.get_hosts()[0] {
                    postgres::config::Host::Tcp(host) => host.clone(),
                    postgres::config::Host::Unix(path) => path.display().to_string(),
                };
                format!(
                    "postgres://{}@{host}:{}/{}?schema={schema}",
                    config.get_user().unwrap_or_default(),
                    config.get_ports().first().copied().unwrap_or(5432),
                    config.get_dbname().unwrap_or_default()
                )
            }
            (None, None) => unreachable!(),
        }
    }

    /// The SQLite file (SQLite stores only).
    pub fn path(&self) -> &Path {
        self.path.as_deref().expect("an SQLite store")
    }

    pub fn schema(&self) -> &str {
        self.schema.as_deref().expect("a PostgreSQL store")
    }

    /// A copy of the store (file copy, or `audit copy` into a new schema), to tamper with.
    pub fn copy(&self, dir: &Path, name: &str) -> TestStore {
        let copy = TestStore::uninitialised(self.backend, dir, name);
        match self.backend {
            Backend::Sqlite => {
                std::fs::copy(self.path(), copy.path()).expect("copy");
            }
            Backend::Postgres => {
                let run = super::run(super::command(&super::root()).args([
                    "audit",
                    "copy",
                    "--from",
                    self.address(),
                    "--to",
                    copy.address(),
                ]));
                assert_eq!(run.code, 0, "audit copy: {}\n{}", run.stdout, run.stderr);
            }
        }
        copy
    }

    /// `sqlite` on an SQLite store, `postgres` on a PostgreSQL one.
    pub fn dialect<'a>(&self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        }
    }

    /// Runs statements (`?1`… parameters, written as SQLite takes them) on the store's tables.
    pub fn execute(&self, sql: &str, params: &[&str]) {
        match self.backend {
            Backend::Sqlite => {
                let db = rusqlite::Connection::open(self.path()).expect("open");
                if params.is_empty() {
                    db.execute_batch(sql).unwrap_or_else(|error| panic!("{sql}: {error}"));
                } else {
                    db.execute(sql, rusqlite::params_from_iter(params.iter()))
                        .unwrap_or_else(|error| panic!("{sql}: {error}"));
                }
            }
            Backend::Postgres => {
                let mut client = postgres_client();
                client.batch_execute(&format!("SET search_path TO {}", self.schema())).expect("search_path");
                if params.is_empty() {
                    client.batch_execute(sql).unwrap_or_else(|error| panic!("{sql}: {error}"));
                } else {
                    let sql = dollar_parameters(sql);
                    let values: Vec<&(dyn postgres::types::ToSql + Sync)> =
                        params.iter().map(|value| value as &(dyn postgres::types::ToSql + Sync)).collect();
                    client.execute(sql.as_str(), &values).unwrap_or_else(|error| panic!("{sql}: {error}"));
                }
            }
        }
    }

    /// The first column of the first row, as text.
    pub fn query_text(&self, sql: &str) -> String {
        match self.backend {
            Backend::Sqlite => {
                let db = rusqlite::Connection::open(self.path()).expect("open");
                db.query_row(sql, [], |row| row.get(0)).unwrap_or_else(|error| panic!("{sql}: {error}"))
            }
            Backend::Postgres => {
                let mut client = postgres_client();
                client.batch_execute(&format!("SET search_path TO {}", self.schema())).expect("search_path");
                client.query_one(sql, &[]).unwrap_or_else(|error| panic!("{sql}: {error}")).get(0)
            }
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(schema) = &self.schema {
            if let Ok(mut client) = postgres::Client::connect(&postgres_server(), postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// `?1` → `$1`.
fn dollar_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// Two `#[test]`s, `NAME::sqlite` and `NAME::postgres`, that run `NAME(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(super::util::stores::Backend::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name(super::util::stores::Backend::Postgres)
                }
            }
        )*
    };
}
