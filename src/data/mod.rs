//! Evidence about the training data: its schema ([`schema`]), prohibited data categories
//! ([`prohibited`]), the preprocessing steps that produced it ([`lineage`]) and drift
//! between training and serving data ([`drift`]).

pub mod drift;
pub mod lineage;
pub mod prohibited;
pub mod schema;

use std::path::PathBuf;

use serde::Deserialize;

/// `[data]` in modelgate.toml: the training file and the checks to run on it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The training table (CSV, gzip CSV or Parquet), relative to the config file.
    pub training: PathBuf,
    /// Columns whose values are never shown (in examples of failing rows).
    #[serde(default)]
    pub sensitive_columns: Vec<String>,
    #[serde(default)]
    pub schema: Option<schema::SchemaConfig>,
    #[serde(default)]
    pub prohibited: Option<prohibited::ProhibitedConfig>,
    #[serde(default)]
    pub lineage: Option<lineage::LineageConfig>,
    #[serde(default)]
    pub drift: Option<drift::DriftConfig>,
}
