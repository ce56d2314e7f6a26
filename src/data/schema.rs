//! Schema validation of training data: a table (CSV, gzip CSV, Parquet) checked against a
//! Frictionless Table Schema (v1) or against a Parquet file's own schema.
//!
//! Checked: column presence, extra columns (allowed or not), each cell's type, every
//! constraint (`required`, `unique`, `minimum`, `maximum`, `exclusiveMinimum`,
//! `exclusiveMaximum`, `minLength`, `maxLength`, `pattern`, `enum`), the primary key,
//! duplicate rows and the share of missing cells per column. The table is read once, in
//! batches, and the key sets that `unique`, the primary key and duplicate rows need hold
//! 128-bit hashes, so memory grows with the distinct keys, not with the rows (see
//! `validator`).
//!
//! The result is the `data.schema` evidence section; this module never decides whether a
//! violation blocks a deployment (the `modelgate.data` policies do).

mod descriptor;
mod types;
mod validator;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};
use crate::evidence::SchemaCheck;

pub use descriptor::{load as load_schema, Schema, SchemaSource};

/// What to do with table columns the schema does not declare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtraColumns {
    /// Ignore them.
    Allow,
    /// Report each as an `extra-column` violation (as frictionless does).
    #[default]
    Deny,
}

/// `[data.schema]` in modelgate.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfig {
    /// The Table Schema (JSON or YAML), or a Parquet file whose schema is the expected one.
    pub path: PathBuf,
    /// The table to check; the training file when absent.
    #[serde(default)]
    pub table: Option<PathBuf>,
    #[serde(default)]
    pub extra_columns: ExtraColumns,
    /// The largest share of missing cells allowed in any column (0 to 1).
    #[serde(default)]
    pub max_null_rate: Option<f64>,
    /// Per-column ceilings that replace `max_null_rate`.
    #[serde(default)]
    pub null_rates: BTreeMap<String, f64>,
    /// Report rows that repeat an earlier row (default true).
    #[serde(default = "yes")]
    pub duplicate_rows: bool,
    /// Columns whose values never appear in the evidence (added to the data section's list).
    #[serde(default)]
    pub sensitive: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Everything [`validate`] needs; paths absolute (or relative to the working directory).
#[derive(Debug, Clone)]
pub struct ValidateSpec {
    pub schema: PathBuf,
    pub table: PathBuf,
    /// How the paths are written in the evidence (relative to the project, usually).
    pub schema_display: String,
    pub table_display: String,
    pub extra_columns: ExtraColumns,
    pub max_null_rate: Option<f64>,
    pub null_rates: BTreeMap<String, f64>,
    pub duplicate_rows: bool,
    /// Columns whose cell values are replaced by `<redacted>` in examples.
    pub sensitive: Vec<String>,
    /// Example failing rows kept per violation (the evidence keeps 5).
    pub max_examples: usize,
}

/// Example failing rows kept per violation by default.
pub const EXAMPLES: usize = 5;

impl ValidateSpec {
    /// Defaults for checking `table` against `schema`.
    pub fn new(schema: &Path, table: &Path) -> ValidateSpec {
        ValidateSpec {
            schema: schema.to_path_buf(),
            table: table.to_path_buf(),
            schema_display: schema.display().to_string(),
            table_display: table.display().to_string(),
            extra_columns: ExtraColumns::Deny,
            max_null_rate: None,
            null_rates: BTreeMap::new(),
            duplicate_rows: true,
            sensitive: Vec::new(),
            max_examples: EXAMPLES,
        }
    }

    /// Sets per-column null-rate ceilings from `COLUMN=RATE` flags (`--null-rate`).
    pub fn with_null_rates(mut self, flags: &[String]) -> crate::error::Result<ValidateSpec> {
        for flag in flags {
            let parsed =
                flag.rsplit_once('=').and_then(|(column, rate)| Some((column.to_string(), rate.parse().ok()?)));
            let (column, rate) = parsed.ok_or_else(|| {
                crate::error::Error::new(
                    crate::error::ErrorKind::Config,
                    format!("--null-rate {flag:?}: expected COLUMN=RATE"),
                )
                .hint("write the column and its ceiling, e.g. --null-rate income=0.1")
            })?;
            self.null_rates.insert(column, rate);
        }
        Ok(self)
    }

    /// The spec for a `[data.schema]` table: relative paths resolved from `base` (the
    /// project folder), the table defaulting to `training`, `sensitive` added to the
    /// config's own list.
    pub fn from_config(config: &SchemaConfig, base: &Path, training: &Path, sensitive: &[String]) -> ValidateSpec {
        let schema = crate::error::resolve(base, &config.path);
        let table = config.table.as_deref().map_or_else(|| training.to_path_buf(), |t| crate::error::resolve(base, t));
        let display = |path: &Path| path.strip_prefix(base).unwrap_or(path).display().to_string();
        let mut all_sensitive = config.sensitive.clone();
        all_sensitive.extend(sensitive.iter().filter(|c| !config.sensitive.contains(c)).cloned());
        ValidateSpec {
            schema_display: display(&schema),
            table_display: display(&table),
            schema,
            table,
            extra_columns: config.extra_columns,
            max_null_rate: config.max_null_rate,
            null_rates: config.null_rates.clone(),
            duplicate_rows: config.duplicate_rows,
            sensitive: all_sensitive,
            max_examples: EXAMPLES,
        }
    }

    fn check(&self) -> Result<()> {
        let ceilings = self.max_null_rate.iter().map(|rate| ("max_null_rate".to_string(), *rate));
        let overrides = self.null_rates.iter().map(|(column, rate)| (format!("null_rates.{column}"), *rate));
        for (name, rate) in ceilings.chain(overrides) {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::new(ErrorKind::Config, format!("{name} = {rate}: a null rate is between 0 and 1"))
                    .hint("write the largest allowed share of missing cells, e.g. 0.05 for 5%"));
            }
        }
        Ok(())
    }
}

/// Checks the table against the schema; violations are evidence, unreadable or invalid
/// inputs are errors.
pub fn validate(spec: &ValidateSpec) -> Result<SchemaCheck> {
    spec.check()?;
    let schema = descriptor::load(&spec.schema)?;
    validator::run(spec, &schema)
}
