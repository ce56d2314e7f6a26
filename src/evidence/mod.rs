//! The evidence document: everything a policy may look at, in one JSON object.
//!
//! Collectors fill their own section; a section nobody collected is `null`, never
//! invented. The JSON Schema in `docs/evidence.schema.json` is generated from these
//! types (`modelgate schema`), so the types are the single source of truth and a
//! document that deserializes here is a document that validates there.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: &str = "1";

/// A metric name to its value; `null` when it could not be computed (see `reasons`).
pub type MetricMap = BTreeMap<String, Option<f64>>;

/// The metrics modelgate computes (binary, multiclass, regression), and the usual names of
/// others a team may hand in ([`OTHER_METRIC_NAMES`]). The schema lists them, so that a
/// policy reading `input.evaluation.metrics.acuracy` is refused at load as a typo; a
/// metric handed in under another name is still accepted.
pub const OTHER_METRIC_NAMES: &[&str] = &[
    "auc",
    "average_precision",
    "cohen_kappa",
    "d2_absolute_error",
    "ece",
    "explained_variance",
    "f1_micro",
    "hamming_loss",
    "jaccard",
    "mape",
    "matthews_corrcoef",
    "max_error",
    "median_absolute_error",
    "msle",
    "npv",
    "ppv",
    "precision_micro",
    "recall_micro",
    "rmsle",
    "smape",
    "specificity",
    "top_k_accuracy",
];

/// The metrics modelgate computes (see [`OTHER_METRIC_NAMES`]).
pub const METRIC_NAMES: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "brier",
    "f1",
    "f1_macro",
    "f1_weighted",
    "fnr",
    "fpr",
    "log_loss",
    "mae",
    "mean_error",
    "mse",
    "pr_auc",
    "precision",
    "precision_macro",
    "precision_weighted",
    "r2",
    "recall",
    "recall_macro",
    "recall_weighted",
    "rmse",
    "roc_auc",
    "selection_rate",
    "tnr",
    "tpr",
];

/// The schema of a [`MetricMap`]: any name to a number or null, with the usual names listed.
fn metric_map_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let value = serde_json::json!({"type": ["number", "null"], "format": "double"});
    let properties: serde_json::Map<String, serde_json::Value> =
        METRIC_NAMES.iter().chain(OTHER_METRIC_NAMES).map(|name| ((*name).to_string(), value.clone())).collect();
    schemars::json_schema!({"type": "object", "properties": properties, "additionalProperties": value})
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Always "1" for this version of the document.
    pub schema_version: String,
    /// When the evidence was gathered (RFC 3339).
    pub collected_at: String,
    pub collector: Collector,
    pub model: Model,
    #[serde(default)]
    pub deployment: Option<Deployment>,
    #[serde(default)]
    pub evaluation: Option<Evaluation>,
    #[serde(default)]
    pub data: Option<Data>,
    #[serde(default)]
    pub artifacts: Option<Artifacts>,
    #[serde(default)]
    pub documentation: Option<Documentation>,
    /// Free-form sections an organisation adds for its own policies.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Collector {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    Low,
    Medium,
    High,
    Critical,
}

impl RiskTier {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskTier::Low => "low",
            RiskTier::Medium => "medium",
            RiskTier::High => "high",
            RiskTier::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    BinaryClassification,
    MulticlassClassification,
    Regression,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub owner: Option<String>,
    pub risk_tier: RiskTier,
    pub task: Task,
    #[serde(default)]
    pub framework: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// `sha256:<hex>` over the model's weight files, when known.
    #[serde(default)]
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The environment the model is being promoted to (`staging`, `production`, …).
    pub environment: String,
    #[serde(default)]
    pub requested_by: Option<String>,
    #[serde(default)]
    pub pipeline: Option<Pipeline>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
}

// ---------------------------------------------------------------- evaluation

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    #[serde(default)]
    pub test_set: Option<TestSet>,
    /// Overall metrics: `accuracy`, `precision`, `recall`, `f1`, `roc_auc`, …
    #[serde(default)]
    #[schemars(schema_with = "metric_map_schema")]
    pub metrics: MetricMap,
    /// Why a metric is `null`, by metric name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<String, String>,
    /// Weighted confusion matrix: rows are true labels, columns predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion_matrix: Option<ConfusionMatrix>,
    /// Per-class metrics (`recall`, `precision`, `f1`, `support`) of a multiclass model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<BTreeMap<String, MetricMap>>,
    /// Per sensitive attribute (`sex`) or intersection (`race,sex`).
    #[serde(default)]
    pub fairness: Option<BTreeMap<String, FairnessAttribute>>,
    /// Bootstrap confidence intervals of the headline metrics, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<Intervals>,
    #[serde(default)]
    pub serving: Option<Serving>,
    /// The same measurements for the currently deployed model, when known.
    #[serde(default)]
    pub baseline: Option<Baseline>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSet {
    pub path: String,
    /// `sha256:<hex>` of the file.
    pub digest: String,
    /// Rows used for the metrics.
    pub rows: u64,
    /// `csv`, `csv+gzip` or `parquet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Rows left out because a cell they need was missing (only with `drop_missing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped_rows: Option<u64>,
    /// Rows read from the file, before any was left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<u64>,
    /// Per column read: values that are numbers but not finite (NaN, ±infinity), counted
    /// apart from missing cells. Columns without any are not listed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub non_finite: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfusionMatrix {
    /// Class labels, in the order of the rows and columns (negative first for a binary model).
    pub labels: Vec<String>,
    /// `matrix[true][predicted]`, summed sample weights (row counts when unweighted).
    pub matrix: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FairnessAttribute {
    /// The attribute columns this entry covers (one, or several for an intersection).
    pub attributes: Vec<String>,
    /// Per group value (`female`, or `black,female` for an intersection).
    pub groups: BTreeMap<String, GroupStats>,
    /// Largest minus smallest group selection rate.
    #[serde(default)]
    pub demographic_parity_difference: Option<f64>,
    /// Smallest over largest group selection rate.
    #[serde(default)]
    pub demographic_parity_ratio: Option<f64>,
    /// The larger of the TPR and FPR differences (fairlearn `agg="worst_case"`).
    #[serde(default)]
    pub equalized_odds_difference: Option<f64>,
    /// The mean of the TPR and FPR differences (fairlearn `agg="mean"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equalized_odds_difference_mean: Option<f64>,
    /// The smaller of the TPR and FPR ratios (fairlearn `agg="worst_case"`).
    #[serde(default)]
    pub equalized_odds_ratio: Option<f64>,
    /// The mean of the TPR and FPR ratios (fairlearn `agg="mean"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equalized_odds_ratio_mean: Option<f64>,
    /// Largest minus smallest group true-positive rate.
    #[serde(default)]
    pub equal_opportunity_difference: Option<f64>,
    /// Smallest over largest group true-positive rate.
    #[serde(default)]
    pub equal_opportunity_ratio: Option<f64>,
    /// Lowest group selection rate over the highest (the "80% rule").
    #[serde(default)]
    pub four_fifths_ratio: Option<f64>,
    /// Whether `four_fifths_ratio` is at least 0.8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub four_fifths_passed: Option<bool>,
    /// Other between-group aggregates (`accuracy_difference`, `mae_ratio`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: MetricMap,
    /// The aggregates against the overall value (fairlearn `method="to_overall"`), when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_overall: Option<MetricMap>,
    /// Groups left out of an aggregate because their rate is undefined, by aggregate.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub excluded: BTreeMap<String, Vec<String>>,
    /// Why an aggregate is `null`, by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupStats {
    /// Test rows in the group (0 for an empty intersection).
    pub count: u64,
    /// Summed sample weights, when the test set is weighted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Rows whose true label is the positive class (binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positives: Option<u64>,
    /// Rows whose true label is the negative class (binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negatives: Option<u64>,
    /// `selection_rate`, `tpr`, `fpr`, `fnr`, `tnr`, `accuracy`, …
    #[serde(default)]
    #[schemars(schema_with = "metric_map_schema")]
    pub metrics: MetricMap,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<String, String>,
}

/// Bootstrap confidence intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Intervals {
    /// `poisson-bootstrap`: every row gets a Poisson(1) weight per replicate.
    pub method: String,
    pub replicates: u32,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    pub seed: u64,
    /// Overall metric name to its interval.
    #[serde(default)]
    pub metrics: BTreeMap<String, Interval>,
    /// Attribute to aggregate name to its interval.
    #[serde(default)]
    pub fairness: BTreeMap<String, BTreeMap<String, Interval>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Serving {
    pub latency_ms: Latency,
    #[serde(default)]
    pub throughput_rps: Option<f64>,
    /// Share of requests that failed (transport error or non-2xx status), 0–1.
    #[serde(default)]
    pub error_rate: Option<f64>,
    /// Requests sent in the measurement.
    #[serde(default)]
    pub requests: Option<u64>,
    /// Length of the measurement in seconds.
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Requests in flight at once (virtual users).
    #[serde(default)]
    pub concurrency: Option<u64>,
    /// Where the figures come from (a load-test report path, `modelgate loadtest`).
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    #[serde(default)]
    pub p50: Option<f64>,
    #[serde(default)]
    pub p90: Option<f64>,
    #[serde(default)]
    pub p95: Option<f64>,
    #[serde(default)]
    pub p99: Option<f64>,
    #[serde(default)]
    pub mean: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The deployed version these figures belong to.
    #[serde(default)]
    pub model_version: Option<String>,
    /// The test set the figures were measured on; when computed from a baseline
    /// predictions file, the candidate's own (the rows were checked to be the same).
    #[serde(default)]
    pub test_set: Option<TestSet>,
    /// The deployed model's predictions file the figures were computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictions: Option<TestSet>,
    #[serde(default)]
    #[schemars(schema_with = "metric_map_schema")]
    pub metrics: MetricMap,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<String, String>,
    /// Candidate minus baseline, per metric measured on both.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "metric_map_schema")]
    pub deltas: MetricMap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness: Option<BTreeMap<String, FairnessAttribute>>,
    #[serde(default)]
    pub serving: Option<Serving>,
}

// ---------------------------------------------------------------- data

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Data {
    #[serde(default)]
    pub schema: Option<SchemaCheck>,
    #[serde(default)]
    pub prohibited: Option<ProhibitedScan>,
    #[serde(default)]
    pub lineage: Option<Lineage>,
    #[serde(default)]
    pub drift: Option<Drift>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaCheck {
    /// The schema file the data was checked against.
    #[serde(default)]
    pub schema_path: Option<String>,
    /// The table that was checked.
    pub table_path: String,
    pub rows: u64,
    pub violations: Vec<SchemaViolation>,
    /// Where the expected schema came from: `table-schema` (a Frictionless Table Schema)
    /// or `parquet` (a Parquet file's own footer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Per schema field: its type, the checks run and failed, and its nulls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<SchemaFieldReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaFieldReport {
    pub name: String,
    /// The Table Schema type (`integer`, `date`, …).
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Whether the table has the column.
    pub present: bool,
    /// The checks run on the column: `type`, each constraint, `null-rate`.
    #[serde(default)]
    pub checks: Vec<String>,
    /// The checks that failed on at least one row.
    #[serde(default)]
    pub failed: Vec<String>,
    /// Missing cells (the schema's missingValues; Parquet nulls).
    #[serde(default)]
    pub nulls: u64,
    /// Numbers that are not finite (`NaN`, `INF`, `-Infinity`; Parquet NaN and ±inf),
    /// counted apart from missing cells.
    #[serde(default)]
    pub non_finite: u64,
    /// `nulls / rows`; null when the table has no rows or lacks the column.
    #[serde(default)]
    pub null_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaViolation {
    /// Column name, or `*` for table-level checks (duplicate rows, primary key).
    pub field: String,
    /// `required`, `type`, `minimum`, `unique`, `missing-column`, `null-rate`, …
    pub check: String,
    pub failing_rows: u64,
    #[serde(default)]
    pub message: Option<String>,
    /// Up to five failing rows, with their cell text (`<redacted>` for sensitive columns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<FailingRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailingRow {
    /// Data row number, 1 for the first row after the header.
    pub row: u64,
    /// The cell as written (empty for a missing cell), or `<redacted>`.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProhibitedScan {
    pub table_path: String,
    /// Rows whose values were classified (all rows on a full scan).
    pub sampled_rows: u64,
    /// Never the matched values themselves.
    pub detections: Vec<Detection>,
    /// Rows in the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_rows: Option<u64>,
    /// Every row was classified, not a sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_scan: Option<bool>,
    /// Seed of the deterministic sample (absent on a full scan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Columns whose names and values were scanned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Columns whose values cannot hold the detected categories or cannot be read as text
    /// (boolean, nested, binary, decimal, timestamp): only their names were checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns_name_only: Vec<String>,
    /// The detectors that ran (built-in and configured).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detectors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Detection {
    pub column: String,
    /// `us_ssn`, `payment_card`, `iban`, `email`, `phone`, `ip_address`, `date_of_birth`, …
    pub category: String,
    /// Fraction of sampled non-null values that matched (0 when only the column name matched).
    pub match_fraction: f64,
    /// `name`, `values` or `both`.
    pub matched_on: String,
    /// Sampled non-null values that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<u64>,
    /// Sampled non-null values of the column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_null: Option<u64>,
    /// Most matches were found inside longer text (a free-text column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_text: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lineage {
    /// `dvc`, `openlineage` or `manifest`.
    pub source: String,
    /// The ordered step names that produced the training data.
    pub steps: Vec<String>,
    /// The training file is not the recorded output of the final step, or a step read an
    /// input other than the one its upstream step recorded writing.
    pub stale: bool,
    #[serde(default)]
    pub training_data: Option<String>,
    /// The lineage file read.
    #[serde(default)]
    pub path: Option<String>,
    /// The step that wrote the training file.
    #[serde(default)]
    pub final_step: Option<String>,
    /// `fresh` (digest matches), `stale` (differs) or `unknown` (no digest recorded).
    #[serde(default)]
    pub freshness: Option<String>,
    /// The digest the lineage recorded for the training file (`md5:…`, `sha256:…`).
    #[serde(default)]
    pub recorded_digest: Option<String>,
    /// The training file's digest, by the same algorithm.
    #[serde(default)]
    pub actual_digest: Option<String>,
    /// The steps behind the training file, upstream first.
    #[serde(default)]
    pub stages: Vec<LineageStep>,
    /// Why the lineage is stale, one sentence each.
    #[serde(default)]
    pub findings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineageStep {
    pub name: String,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub outputs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Drift {
    /// Reference (training) and current (serving) sample sizes.
    pub reference_rows: u64,
    pub current_rows: u64,
    pub features: BTreeMap<String, FeatureDrift>,
    /// Share of features flagged as drifted.
    pub drifted_share: f64,
    /// The reference (training) table.
    #[serde(default)]
    pub reference_path: Option<String>,
    /// The current (serving) table.
    #[serde(default)]
    pub current_path: Option<String>,
    /// The method asked for: `auto` (chosen per column, as Evidently does) or one method for all.
    #[serde(default)]
    pub method: Option<String>,
    /// Number of features flagged as drifted.
    #[serde(default)]
    pub drifted_count: Option<u64>,
    /// The dataset counts as drifted when `drifted_share >= drift_share` (Evidently's rule).
    #[serde(default)]
    pub drift_share: Option<f64>,
    #[serde(default)]
    pub dataset_drift: Option<bool>,
    /// Columns left out because drift is not measured on their type (dates, binary, nested).
    #[serde(default)]
    pub skipped_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeatureDrift {
    /// `ks`, `chisquare`, `z`, `wasserstein`, `jensenshannon`, `psi`, `kl`.
    pub method: String,
    /// The drift score, as Evidently's `drift_score`: the distance for distances, the
    /// p-value for tests.
    pub score: f64,
    #[serde(default)]
    pub p_value: Option<f64>,
    /// The threshold the collector used to set `drifted`.
    pub threshold: f64,
    pub drifted: bool,
    /// How `drifted` follows from the numbers: `p_value < threshold`, `p_value <= threshold`
    /// (KS, as Evidently) or `score >= threshold`.
    #[serde(default)]
    pub rule: Option<String>,
    /// Tests: the test statistic (KS D, chi-square, |z|); absent when infinite (a category
    /// seen only in current makes chi-square infinite).
    #[serde(default)]
    pub statistic: Option<f64>,
    /// `numerical` or `categorical`.
    #[serde(default)]
    pub column_type: Option<String>,
    /// Values compared after missing cells (and infinities) were left out.
    #[serde(default)]
    pub reference_values: Option<u64>,
    #[serde(default)]
    pub current_values: Option<u64>,
    /// Missing cells left out (empty, `NA`, null).
    #[serde(default)]
    pub reference_missing: Option<u64>,
    #[serde(default)]
    pub current_missing: Option<u64>,
    /// Values left out because they are not finite numbers (NaN, ±infinity).
    #[serde(default)]
    pub reference_non_finite: Option<u64>,
    #[serde(default)]
    pub current_non_finite: Option<u64>,
    /// Distinct values in reference and current together.
    #[serde(default)]
    pub unique_values: Option<u64>,
}

// ---------------------------------------------------------------- artifacts

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Artifacts {
    #[serde(default)]
    pub files: Vec<ArtifactFile>,
    #[serde(default)]
    pub signature: Option<Signature>,
    #[serde(default)]
    pub dependencies: Option<Dependencies>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactFile {
    pub path: String,
    pub size: u64,
    /// Hex digest.
    pub sha256: String,
    /// Detected from content: `pickle`, `pytorch-zip`, `safetensors`, `onnx`, `gguf`, …
    pub format: String,
    /// The format can run code when loaded (pickle and friends).
    pub executable_serialization: bool,
    pub safe: bool,
    #[serde(default)]
    pub findings: Vec<ArtifactFinding>,
    /// Whether a verified signature covers this file as it is: `null` when no signature
    /// was checked (`modelgate scan` alone), `false` when the model is unsigned, the file is
    /// outside the signed manifest, or differs from it.
    #[serde(default)]
    pub signed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactFinding {
    /// `global`, `opcode`, `container`, `format`, …
    pub kind: String,
    #[serde(default)]
    pub global: Option<String>,
    #[serde(default)]
    pub offset: Option<u64>,
    pub severity: Severity,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub present: bool,
    pub verified: bool,
    /// `sigstore`, `key`, `certificate`.
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub signer: Option<String>,
    /// `sha256:` of the signing key's PEM public key (model_signing's key hint).
    #[serde(default)]
    pub key_fingerprint: Option<String>,
    /// The signature file, as configured.
    #[serde(default)]
    pub path: Option<String>,
    /// Files present in the model folder but absent from the signed manifest.
    #[serde(default)]
    pub unsigned_files: Vec<String>,
    /// Files whose digest differs from the signed manifest.
    #[serde(default)]
    pub mismatched_files: Vec<String>,
    /// Files the signed manifest lists that are not in the model folder.
    #[serde(default)]
    pub missing_files: Vec<String>,
    /// Why verification failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependencies {
    /// Where the dependency list came from (`requirements.txt`, `poetry.lock`, …).
    pub source: String,
    pub packages: u64,
    pub vulnerabilities: Vec<Vulnerability>,
    /// Requirements that do not pin one version (`name specifier`): what is installed
    /// cannot be known, so it cannot be checked.
    #[serde(default)]
    pub unpinned: Vec<String>,
    /// Packages of another ecosystem than PyPI (conda's, `conda: name=version=build`):
    /// PyPI advisories do not name them, so they are listed, not matched.
    #[serde(default)]
    pub not_audited: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vulnerability {
    pub package: String,
    pub version: String,
    /// `GHSA-…`, `CVE-…`, `PYSEC-…`.
    pub id: String,
    pub severity: Severity,
    #[serde(default)]
    pub fixed_version: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

// ---------------------------------------------------------------- documentation

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Documentation {
    #[serde(default)]
    pub model_card: Option<Document>,
    #[serde(default)]
    pub datasheet: Option<Document>,
    #[serde(default)]
    pub risk_assessment: Option<Document>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub present: bool,
    #[serde(default)]
    pub path: Option<String>,
    /// `huggingface`, `model-card-toolkit`, `markdown`, `yaml`, `json`.
    #[serde(default)]
    pub format: Option<String>,
    /// Per known field or section of this kind of document: whether it is really filled in.
    #[serde(default)]
    pub fields: BTreeMap<String, DocumentField>,
    /// Every heading of a Markdown document, in order, with the field it was matched to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<DocumentSection>,
    /// The document's metadata as written: YAML front matter, or the top-level keys of a
    /// YAML/JSON document other than its long-text fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// Date (YYYY-MM-DD) of the last update.
    #[serde(default)]
    pub last_updated: Option<String>,
    /// Where `last_updated` comes from: `front_matter:KEY`, `KEY`, `body`, `git`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_source: Option<String>,
    /// Whole days from `last_updated` to the time of collection.
    #[serde(default)]
    pub age_days: Option<u64>,
    /// The model version the document names, if any.
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version_source: Option<String>,
    /// The model digest the document names (`sha256:…`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_digest: Option<String>,
    /// Risk assessments: the risk tier the assessment assigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_tier: Option<String>,
    /// Risk assessments: when the next review is due (RFC 3339 date).
    #[serde(default)]
    pub next_review_due: Option<String>,
    /// Risk assessments: the next review's day has passed at the time of collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_overdue: Option<bool>,
    /// Metric values the document claims, beside what the gate measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<MetricClaim>,
    /// Datasets the document names as training data, matched against the lineage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetReference>,
    /// Content that is there but unusable (a value of the wrong type, a date that does not
    /// parse), one sentence each naming the field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentField {
    pub populated: bool,
    /// Why a field counts as missing: `absent`, `empty`, `placeholder`, `template-prompt`,
    /// `heading-only`, `invalid`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Where the field was found: `section`, `front_matter`, `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The heading or key as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// 1-based line of the heading or key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// How a heading was matched: `exact`, `loose`, `numbering`, `synonym` (docs/documentation.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What is missing, for an `incomplete` field (`no owner for R2, R3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentSection {
    pub heading: String,
    pub level: u8,
    pub line: u64,
    /// The field this heading was matched to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub populated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricClaim {
    /// The gate's name for the metric (`accuracy`, `roc_auc`, …).
    pub metric: String,
    /// The value the document claims, as a fraction (a percentage is divided by 100).
    pub claimed: f64,
    /// What the gate measured on its test set; `null` when it was not compared.
    #[serde(default)]
    pub measured: Option<f64>,
    /// `|claimed - measured|`.
    #[serde(default)]
    pub difference: Option<f64>,
    /// Where in the document: `model-index[0].results[0].metrics[1]`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Why the claim was not compared (a slice, another split, a metric the gate did not measure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetReference {
    pub name: String,
    /// Where in the document the dataset is named.
    pub source: String,
    /// Whether the lineage names it (training file or a step's input or output); `null`
    /// without lineage evidence.
    #[serde(default)]
    pub in_lineage: Option<bool>,
}

// ---------------------------------------------------------------- shared

/// Severity of a finding or violation, lowest first so that `Ord` sorts by urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// The JSON Schema of the evidence document, as checked in at `docs/evidence.schema.json`.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Evidence);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

/// The largest evidence document modelgate reads.
pub const MAX_EVIDENCE_BYTES: u64 = 256 * 1024 * 1024;

/// Reads an evidence document from a file, or from standard input for `-`.
pub fn read(path: &std::path::Path) -> crate::error::Result<Evidence> {
    let (source, text) = if path.as_os_str() == "-" {
        ("-".to_string(), crate::input::read_stdin(MAX_EVIDENCE_BYTES, "an evidence document")?)
    } else {
        (path.display().to_string(), crate::input::read_text(path, MAX_EVIDENCE_BYTES, "an evidence document")?)
    };
    parse(&source, &text)
}

/// Parses and validates an evidence document, naming the offending field on failure. The
/// text is read strictly ([`crate::strict`]): a key written twice, even inside
/// `extensions`, is refused.
pub fn parse(source: &str, text: &str) -> crate::error::Result<Evidence> {
    use crate::error::{Error, ErrorKind};
    use crate::strict::{Source, Syntax};
    let path = std::path::Path::new(source);
    let value = crate::strict::parse(
        text,
        Syntax::Json,
        &Source::new(path, "the evidence document", ErrorKind::EvidenceInvalid),
    )?;
    // docs/evidence.md lists the fields, and that an organisation's own go under `extensions`.
    let fields = Source::new(path, "evidence does not match the schema", ErrorKind::EvidenceInvalid)
        .documented_in("docs/evidence.md");
    let evidence: Evidence = crate::strict::deserialize(value, text, &fields)?;
    if evidence.schema_version != SCHEMA_VERSION {
        return Err(Error::new(
            ErrorKind::EvidenceInvalid,
            format!(
                "{source}: evidence schema_version is `{}`, this modelgate reads `{SCHEMA_VERSION}`",
                evidence.schema_version
            ),
        )
        .hint("regenerate the evidence with `modelgate collect`, or upgrade modelgate"));
    }
    Ok(evidence)
}

/// `sha256:<hex>` over the canonical serialization (fixed field order, sorted maps).
pub fn digest(evidence: &Evidence) -> String {
    digest_of_json(&serde_json::to_string(evidence).unwrap_or_default())
}

/// The digest of an evidence document already serialized by `serde_json::to_string`.
pub fn digest_of_json(json: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("sha256:{}", hex::encode(Sha256::digest(json.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"schema_version": "1", "collected_at": "2026-01-01T00:00:00Z",
        "collector": {"name": "t", "version": "0"},
        "model": {"name": "m", "version": "1", "risk_tier": "low", "task": "regression"}}"#;

    #[test]
    fn minimal_document_parses_with_null_sections() {
        let evidence = parse("e.json", MINIMAL).expect("valid");
        assert!(evidence.evaluation.is_none());
        let value = serde_json::to_value(&evidence).expect("json");
        assert!(value["evaluation"].is_null());
    }

    #[test]
    fn wrong_type_names_the_field() {
        let text = MINIMAL.replace(r#""task": "regression""#, r#""task": "regression", "tags": "a""#);
        let error = parse("e.json", &text).expect_err("tags must be a list");
        assert!(error.message.contains("`model.tags`"), "{}", error.message);
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = MINIMAL.replace(r#""schema_version""#, r#""evaluaton": null, "schema_version""#);
        let error = parse("e.json", &text).expect_err("typo");
        assert!(error.message.contains("unknown field `evaluaton`"), "{}", error.message);
    }

    #[test]
    fn wrong_schema_version_is_rejected() {
        let text = MINIMAL.replace(r#""schema_version": "1""#, r#""schema_version": "2""#);
        assert!(parse("e.json", &text).is_err());
    }

    /// Every metric the fixtures hold (computed by modelgate) is one the schema lists.
    #[test]
    fn computed_metrics_are_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for folder in ["examples", "evidence"] {
            for entry in std::fs::read_dir(root.join(folder)).expect("fixtures") {
                let path = entry.expect("entry").path();
                let text = std::fs::read_to_string(&path).expect("fixture");
                let evidence = parse("fixture", &text).expect("evidence");
                for name in evidence.evaluation.iter().flat_map(|evaluation| evaluation.metrics.keys()) {
                    assert!(METRIC_NAMES.contains(&name.as_str()), "{}: {name}", path.display());
                }
            }
        }
    }

    #[test]
    fn digest_is_stable_under_key_order() {
        let a = parse("a", MINIMAL).expect("valid");
        let reordered = r#"{"model": {"task": "regression", "risk_tier": "low", "version": "1", "name": "m"},
            "collector": {"version": "0", "name": "t"}, "collected_at": "2026-01-01T00:00:00Z", "schema_version": "1"}"#;
        let b = parse("b", reordered).expect("valid");
        assert_eq!(digest(&a), digest(&b));
    }
}
