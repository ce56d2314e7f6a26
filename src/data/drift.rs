//! Drift between training (reference) and serving (current) data: per column a statistical
//! test or a distance, chosen the way Evidently chooses it (or named), its threshold, and
//! whether the column drifted; then the share of drifted columns and the dataset verdict.
//!
//! Both tables are read once, column-projected, the reference and the current table on two
//! threads. Numbers are kept (missing cells and infinities left out, as Evidently does) and
//! sorted; categories are only counted. Every measure then works on the sorted numbers or on
//! the aligned counts, columns spread over two threads. See `docs/drift.md` for the rules.

mod kolmogorov;
mod sort;
mod stats;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::error::{resolve, Error, ErrorKind, Result};
use crate::evidence::{Drift, FeatureDrift};
use crate::table::{self, ColumnKind, ColumnRequest, Table, Want};

/// A drift measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Two-sample Kolmogorov–Smirnov test (numerical).
    Ks,
    /// Chi-square test of the current counts against the reference proportions (categorical).
    Chisquare,
    /// Two-proportion z-test (categorical, two values).
    Z,
    /// Wasserstein distance divided by the reference's standard deviation (numerical).
    Wasserstein,
    /// Jensen–Shannon distance.
    Jensenshannon,
    /// Population stability index (reference deciles for numbers).
    Psi,
    /// Kullback–Leibler divergence.
    Kl,
}

impl Method {
    pub const ALL: [Method; 7] =
        [Method::Ks, Method::Chisquare, Method::Z, Method::Wasserstein, Method::Jensenshannon, Method::Psi, Method::Kl];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::Chisquare => "chisquare",
            Method::Z => "z",
            Method::Wasserstein => "wasserstein",
            Method::Jensenshannon => "jensenshannon",
            Method::Psi => "psi",
            Method::Kl => "kl",
        }
    }

    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|method| method.as_str() == name)
    }

    /// Evidently's default threshold: a significance level for tests, a distance otherwise.
    pub fn default_threshold(self) -> f64 {
        match self {
            Method::Ks | Method::Chisquare | Method::Z => 0.05,
            Method::Wasserstein | Method::Jensenshannon | Method::Psi | Method::Kl => 0.1,
        }
    }

    /// Tests give a p-value; the others a distance.
    pub fn is_test(self) -> bool {
        matches!(self, Method::Ks | Method::Chisquare | Method::Z)
    }

    /// How `drifted` follows from the numbers (Evidently's comparisons).
    pub fn rule(self) -> &'static str {
        match self {
            Method::Ks => "p_value <= threshold",
            Method::Chisquare | Method::Z => "p_value < threshold",
            _ => "score >= threshold",
        }
    }

    fn drifted(self, score: f64, threshold: f64) -> bool {
        match self {
            Method::Ks => score <= threshold,
            Method::Chisquare | Method::Z => score < threshold,
            _ => score >= threshold,
        }
    }
}

/// `auto` or one method for every column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MethodChoice {
    #[default]
    Auto,
    #[serde(untagged)]
    Method(Method),
}

/// Every choice, for the command line.
const CHOICES: [MethodChoice; 8] = [
    MethodChoice::Auto,
    MethodChoice::Method(Method::Ks),
    MethodChoice::Method(Method::Chisquare),
    MethodChoice::Method(Method::Z),
    MethodChoice::Method(Method::Wasserstein),
    MethodChoice::Method(Method::Jensenshannon),
    MethodChoice::Method(Method::Psi),
    MethodChoice::Method(Method::Kl),
];

impl clap::ValueEnum for MethodChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &CHOICES
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl MethodChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            MethodChoice::Auto => "auto",
            MethodChoice::Method(method) => method.as_str(),
        }
    }
}

/// The `[data.drift]` table of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// The reference (training) table; defaults to the training data file.
    #[serde(default)]
    pub reference: Option<PathBuf>,
    /// The current (serving) table.
    pub current: PathBuf,
    /// Columns to compare (default: every column of the reference).
    #[serde(default)]
    pub columns: Vec<String>,
    /// `auto` (default) or one method for every column.
    #[serde(default)]
    pub method: MethodChoice,
    /// A method for some columns: `{ age = "ks" }`.
    #[serde(default)]
    pub methods: BTreeMap<String, Method>,
    /// Columns to treat as categorical / numerical whatever their values look like.
    #[serde(default)]
    pub categorical: Vec<String>,
    #[serde(default)]
    pub numerical: Vec<String>,
    /// Thresholds by method name: `{ ks = 0.01, wasserstein = 0.2 }`.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    /// The dataset drifts when at least this share of columns drifts (default 0.5).
    #[serde(default)]
    pub drift_share: Option<f64>,
}

/// What to compare, with absolute paths.
#[derive(Debug, Clone)]
pub struct DriftSpec {
    pub reference: PathBuf,
    pub current: PathBuf,
    /// The paths as the evidence shows them.
    pub reference_display: String,
    pub current_display: String,
    /// Empty: every column of the reference.
    pub columns: Vec<String>,
    pub method: MethodChoice,
    pub column_methods: BTreeMap<String, Method>,
    pub categorical: Vec<String>,
    pub numerical: Vec<String>,
    /// A threshold for every column (under `thresholds`).
    pub threshold: Option<f64>,
    pub thresholds: BTreeMap<Method, f64>,
    pub drift_share: f64,
}

/// Evidently's dataset drift share.
pub const DEFAULT_DRIFT_SHARE: f64 = 0.5;

/// Evidently's reference size up to which tests are used, above which distances.
const SMALL_REFERENCE: usize = 1000;

/// Numerical columns with at most this many distinct values get categorical methods (Evidently).
const FEW_VALUES: usize = 5;

impl DriftSpec {
    /// The spec for `config`, paths resolved from `base`; `training` is the reference when the
    /// config names none. Checks thresholds and method names before anything is read.
    pub fn from_config(config: &DriftConfig, base: &Path, training: Option<&Path>) -> Result<DriftSpec> {
        let reference = match (&config.reference, training) {
            (Some(path), _) => path.clone(),
            (None, Some(path)) => path.to_path_buf(),
            (None, None) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    "[data.drift] has no `reference` and there is no training file",
                )
                .hint("set `reference = \"train.parquet\"` under [data.drift]"));
            }
        };
        let mut thresholds = BTreeMap::new();
        for (name, &value) in &config.thresholds {
            thresholds.insert(parse_method(name, "[data.drift] thresholds")?, value);
        }
        let spec = DriftSpec {
            reference_display: reference.display().to_string(),
            current_display: config.current.display().to_string(),
            reference: resolve(base, &reference),
            current: resolve(base, &config.current),
            columns: config.columns.clone(),
            method: config.method,
            column_methods: config.methods.clone(),
            categorical: config.categorical.clone(),
            numerical: config.numerical.clone(),
            threshold: None,
            thresholds,
            drift_share: config.drift_share.unwrap_or(DEFAULT_DRIFT_SHARE),
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Sets the measure of single columns from `COL=METHOD` flags (`--column-method`).
    pub fn with_column_methods(mut self, flags: &[String]) -> Result<DriftSpec> {
        for flag in flags {
            let (column, name) = flag.split_once('=').ok_or_else(|| {
                Error::new(ErrorKind::Config, format!("--column-method {flag}: expected COL=METHOD"))
                    .hint("for example --column-method age=ks")
            })?;
            self.column_methods.insert(column.to_string(), parse_method(name, "--column-method")?);
        }
        Ok(self)
    }

    /// Sets thresholds from `VALUE` (every method) and `METHOD=VALUE` flags (`--threshold`).
    pub fn with_thresholds(mut self, flags: &[String]) -> Result<DriftSpec> {
        for flag in flags {
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (Some(name), value),
                None => (None, flag.as_str()),
            };
            let value: f64 = value.trim().parse().map_err(|_| {
                Error::new(ErrorKind::Config, format!("--threshold {flag}: `{value}` is not a number"))
                    .hint("for example --threshold 0.05 or --threshold wasserstein=0.2")
            })?;
            match name {
                Some(name) => {
                    self.thresholds.insert(parse_method(name, "--threshold")?, value);
                }
                None => self.threshold = Some(value),
            }
        }
        Ok(self)
    }

    /// A spec comparing `reference` with `current` with every default.
    pub fn new(reference: &Path, current: &Path) -> DriftSpec {
        DriftSpec {
            reference: reference.to_path_buf(),
            current: current.to_path_buf(),
            reference_display: reference.display().to_string(),
            current_display: current.display().to_string(),
            columns: Vec::new(),
            method: MethodChoice::Auto,
            column_methods: BTreeMap::new(),
            categorical: Vec::new(),
            numerical: Vec::new(),
            threshold: None,
            thresholds: BTreeMap::new(),
            drift_share: DEFAULT_DRIFT_SHARE,
        }
    }

    /// Thresholds positive and finite, the drift share in (0, 1], no column both categorical
    /// and numerical.
    pub fn validate(&self) -> Result<()> {
        let thresholds = self.thresholds.iter().map(|(method, value)| (method.as_str(), *value));
        for (name, value) in thresholds.chain(self.threshold.map(|value| ("all methods", value))) {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::new(ErrorKind::Config, format!("drift threshold for {name} is {value}"))
                    .hint("a threshold is a positive number: a significance level (0.05) or a distance (0.1)"));
            }
        }
        if !(self.drift_share > 0.0 && self.drift_share <= 1.0) {
            return Err(Error::new(ErrorKind::Config, format!("drift share {} is not in (0, 1]", self.drift_share))
                .hint("the dataset drifts when at least this share of columns drifts; Evidently uses 0.5"));
        }
        if let Some(column) = self.categorical.iter().find(|column| self.numerical.contains(column)) {
            return Err(Error::new(ErrorKind::Config, format!("column `{column}` is both categorical and numerical"))
                .hint("name the column in only one of the two lists"));
        }
        Ok(())
    }

    fn threshold_for(&self, method: Method) -> f64 {
        self.thresholds.get(&method).copied().or(self.threshold).unwrap_or(method.default_threshold())
    }
}

/// A drift method by name; `what` says where the name was given.
pub fn parse_method(name: &str, what: &str) -> Result<Method> {
    Method::parse(name).ok_or_else(|| {
        Error::new(ErrorKind::Config, format!("{what}: unknown drift method `{name}`"))
            .hint(format!("use one of {}", method_names()))
    })
}

fn method_names() -> String {
    Method::ALL.map(Method::as_str).join(", ")
}

/// Measures drift between the spec's reference and current tables.
pub fn measure(spec: &DriftSpec) -> Result<Drift> {
    spec.validate()?;
    let plan = plan(spec)?;
    let requests = |side: usize| -> Vec<ColumnRequest> {
        plan.columns
            .iter()
            .map(|column| ColumnRequest { name: column.name.clone(), want: column.want[side], role: "feature".into() })
            .collect()
    };
    let (reference_requests, current_requests) = (requests(0), requests(1));
    let (reference, current) = std::thread::scope(|scope| {
        let current = scope.spawn(|| read(&spec.current, &spec.current_display, &current_requests));
        let reference = read(&spec.reference, &spec.reference_display, &reference_requests);
        let current = current.join().unwrap_or_else(|_| Err(internal("reading the current table failed")));
        (reference, current)
    });
    let (reference, current) = (reference?, current?);
    for (table, display) in [(&reference, &spec.reference_display), (&current, &spec.current_display)] {
        if table.rows == 0 {
            return Err(Error::new(ErrorKind::DataInvalid, format!("{display}: the table has no rows"))
                .hint("drift needs data on both sides; check the export of this table"));
        }
    }
    let (reference_rows, current_rows) = (reference.rows, current.rows);
    let pairs = reference.columns.into_iter().zip(current.columns).map(|pair| Mutex::new(Some(pair))).collect();
    let results = measure_columns(spec, &plan.columns, pairs)?;
    let mut features = BTreeMap::new();
    for (name, feature) in results {
        features.insert(name, feature);
    }
    let drifted_count = features.values().filter(|feature| feature.drifted).count() as u64;
    let drifted_share = if features.is_empty() { 0.0 } else { drifted_count as f64 / features.len() as f64 };
    Ok(Drift {
        reference_rows,
        current_rows,
        features,
        drifted_share,
        reference_path: Some(spec.reference_display.clone()),
        current_path: Some(spec.current_display.clone()),
        method: Some(spec.method.as_str().into()),
        drifted_count: Some(drifted_count),
        drift_share: Some(spec.drift_share),
        dataset_drift: Some(drifted_count > 0 && drifted_share >= spec.drift_share),
        skipped_columns: plan.skipped,
    })
}

fn internal(message: &str) -> Error {
    Error::new(ErrorKind::DataInvalid, message.to_string()).hint("this is a bug in modelgate; please report it")
}

fn data_error(message: String) -> Error {
    Error::new(ErrorKind::DataInvalid, message)
}

// ---------------------------------------------------------------- planning

/// How a column was declared in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    /// Parquet integers.
    Integer,
    /// Parquet floats.
    Float,
    /// Parquet booleans and strings.
    Text,
    /// CSV: decided by the values.
    Untyped,
}

struct PlannedColumn {
    name: String,
    /// How to read the column from the reference and the current table.
    want: [Want; 2],
    reference: Declared,
    current: Declared,
}

struct Plan {
    columns: Vec<PlannedColumn>,
    skipped: Vec<String>,
}

fn declared(kind: ColumnKind) -> Option<Declared> {
    match kind {
        ColumnKind::Integer => Some(Declared::Integer),
        ColumnKind::Number => Some(Declared::Float),
        ColumnKind::Boolean | ColumnKind::String => Some(Declared::Text),
        ColumnKind::Text => Some(Declared::Untyped),
        ColumnKind::Decimal
        | ColumnKind::Date
        | ColumnKind::Time
        | ColumnKind::Timestamp
        | ColumnKind::Binary
        | ColumnKind::Nested => None,
    }
}

/// Which columns to read and how, from the two tables' declared columns.
fn plan(spec: &DriftSpec) -> Result<Plan> {
    let reference = table::describe(&spec.reference)?;
    let current = table::describe(&spec.current)?;
    let reference_kinds: FxHashMap<&str, ColumnKind> =
        reference.columns.iter().map(|column| (column.name.as_str(), column.kind)).collect();
    let current_kinds: FxHashMap<&str, ColumnKind> =
        current.columns.iter().map(|column| (column.name.as_str(), column.kind)).collect();
    let explicit = !spec.columns.is_empty();
    let named: Vec<&String> =
        spec.columns.iter().chain(&spec.categorical).chain(&spec.numerical).chain(spec.column_methods.keys()).collect();
    for name in named {
        let in_reference = reference_kinds.contains_key(name.as_str());
        let in_current = current_kinds.contains_key(name.as_str());
        let (message, which, listing) = match (in_reference, in_current) {
            (true, true) => continue,
            (false, false) => (
                format!(
                    "column `{name}` is in neither table ({} nor {})",
                    spec.reference_display, spec.current_display
                ),
                "the reference",
                &reference.columns,
            ),
            (false, true) => (
                format!("{}: no column `{name}` in the reference table", spec.reference_display),
                "the reference",
                &reference.columns,
            ),
            (true, false) => (
                format!("{}: no column `{name}` in the current table", spec.current_display),
                "the current table",
                &current.columns,
            ),
        };
        let names: Vec<&str> = listing.iter().map(|column| column.name.as_str()).collect();
        return Err(data_error(message).hint(format!("check the spelling; {which} has: {}", names.join(", "))));
    }
    let wanted: Vec<String> = if explicit {
        let mut seen = BTreeSet::new();
        spec.columns.iter().filter(|name| seen.insert(name.as_str())).cloned().collect()
    } else {
        reference.columns.iter().map(|column| column.name.clone()).collect()
    };
    let mut columns = Vec::new();
    let mut skipped = Vec::new();
    for name in wanted {
        let reference_kind = reference_kinds[name.as_str()];
        let Some(&current_kind) = current_kinds.get(name.as_str()) else {
            let names: Vec<&str> = current.columns.iter().map(|column| column.name.as_str()).collect();
            return Err(data_error(format!("{}: no column `{name}` (a column of the reference)", spec.current_display))
                .hint(format!(
                    "serving data must carry every feature compared; choose columns with --columns; the current table has: {}",
                    names.join(", ")
                )));
        };
        let (Some(reference_declared), Some(current_declared)) = (declared(reference_kind), declared(current_kind))
        else {
            if explicit {
                let kind = if declared(reference_kind).is_none() { reference_kind } else { current_kind };
                return Err(data_error(format!(
                    "column `{name}` holds {} values: drift is measured on numbers and categories only",
                    kind.name()
                ))
                .hint("leave the column out of --columns, or convert it to a number or a string"));
            }
            skipped.push(name);
            continue;
        };
        let numeric = |declared: Declared| matches!(declared, Declared::Integer | Declared::Float);
        let forced_categorical = spec.categorical.contains(&name);
        if !forced_categorical
            && reference_declared != Declared::Untyped
            && current_declared != Declared::Untyped
            && numeric(reference_declared) != numeric(current_declared)
        {
            return Err(mismatch(spec, &name, reference_kind.name(), current_kind.name()));
        }
        let want = |declared: Declared| {
            if !forced_categorical && numeric(declared) {
                Want::Number
            } else {
                Want::Category
            }
        };
        columns.push(PlannedColumn {
            name,
            want: [want(reference_declared), want(current_declared)],
            reference: reference_declared,
            current: current_declared,
        });
    }
    if columns.is_empty() {
        return Err(data_error(format!("{}: no column to compare", spec.reference_display))
            .hint("drift is measured on numeric and string columns; name them with --columns"));
    }
    Ok(Plan { columns, skipped })
}

fn mismatch(spec: &DriftSpec, name: &str, reference: &str, current: &str) -> Error {
    data_error(format!(
        "column `{name}` has different types: {reference} in the reference ({}), {current} in the current table ({})",
        spec.reference_display, spec.current_display
    ))
    .hint(format!("fix the export so both tables agree, or compare it as categories with --categorical {name}"))
}

// ---------------------------------------------------------------- reading

/// One column of one table, as read.
enum Collected {
    /// Numbers, missing cells and non-finite values left out.
    Numbers { values: Vec<f64>, gaps: Gaps },
    /// Counts per category text.
    Categories { counts: FxHashMap<String, u64>, gaps: Gaps },
}

/// What a column's values leave out: missing cells, and numbers that are not finite (NaN,
/// ±infinity), counted apart so that a column of infinities is not taken for one with gaps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Gaps {
    missing: u64,
    non_finite: u64,
}

struct TableData {
    rows: u64,
    columns: Vec<Collected>,
}

fn read(path: &Path, display: &str, requests: &[ColumnRequest]) -> Result<TableData> {
    let mut table = Table::open(path, requests).map_err(|error| relabel(error, path, display))?;
    let capacity = table.total_rows().unwrap_or(0).min(1 << 28) as usize;
    let mut numbers: Vec<Vec<f64>> = requests
        .iter()
        .map(|request| if request.want == Want::Number { Vec::with_capacity(capacity) } else { Vec::new() })
        .collect();
    let mut counts: Vec<Vec<u64>> = vec![Vec::new(); requests.len()];
    let mut batch = table.new_batch();
    while table.next_batch(&mut batch).map_err(|error| relabel(error, path, display))? {
        for (index, values) in batch.columns.iter().enumerate() {
            match requests[index].want {
                Want::Number => {
                    let out = &mut numbers[index];
                    out.extend(values.numbers().iter().copied().filter(|value| value.is_finite()));
                }
                // Drift asks for numbers and categories only.
                Want::Category | Want::Raw => {
                    let out = &mut counts[index];
                    for &code in values.codes() {
                        if code != table::MISSING {
                            let code = code as usize;
                            if code >= out.len() {
                                out.resize(code + 1, 0);
                            }
                            out[code] += 1;
                        }
                    }
                }
            }
        }
    }
    let rows = table.rows_read();
    let columns = requests
        .iter()
        .enumerate()
        .map(|(index, request)| {
            let gaps = Gaps { missing: table.missing[index], non_finite: table.non_finite[index] };
            match request.want {
                Want::Number => Collected::Numbers { values: std::mem::take(&mut numbers[index]), gaps },
                Want::Category | Want::Raw => {
                    let dictionary = table.dictionary(index);
                    let counts = counts[index]
                        .iter()
                        .enumerate()
                        .filter(|(_, &count)| count > 0)
                        .map(|(code, &count)| (dictionary.value(code as u32).to_string(), count))
                        .collect();
                    Collected::Categories { counts, gaps }
                }
            }
        })
        .collect();
    Ok(TableData { rows, columns })
}

/// The table reader names the file by its absolute path; show the path as the user gave it.
fn relabel(mut error: Error, path: &Path, display: &str) -> Error {
    let absolute = path.display().to_string();
    if absolute != display {
        error.message = error.message.replace(&absolute, display);
    }
    error
}

// ---------------------------------------------------------------- preparing

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    Numerical,
    Categorical,
}

impl ColumnType {
    fn as_str(self) -> &'static str {
        match self {
            ColumnType::Numerical => "numerical",
            ColumnType::Categorical => "categorical",
        }
    }
}

enum Values {
    /// Sorted numbers.
    Numbers { reference: Vec<f64>, current: Vec<f64>, integer: bool },
    /// Aligned counts over the union of categories, categories in sorted order.
    Counts { reference: Vec<u64>, current: Vec<u64> },
}

struct Prepared {
    name: String,
    column_type: ColumnType,
    values: Values,
    reference_gaps: Gaps,
    current_gaps: Gaps,
}

/// Numbers as numbers, texts as numbers when every one of them is one.
enum Side {
    Numbers(Vec<f64>, bool),
    Texts(FxHashMap<String, u64>),
}

fn side(collected: Collected, declared: Declared, forced_numerical: bool) -> (Side, Gaps) {
    match collected {
        Collected::Numbers { values, gaps } => (Side::Numbers(values, declared == Declared::Integer), gaps),
        Collected::Categories { counts, gaps } => {
            if declared == Declared::Untyped || forced_numerical {
                if let Some((values, integer, non_finite)) = texts_as_numbers(&counts) {
                    let gaps = Gaps { non_finite: gaps.non_finite + non_finite, ..gaps };
                    return (Side::Numbers(values, integer), gaps);
                }
            }
            (Side::Texts(counts), gaps)
        }
    }
}

/// The values of a text column when every distinct text is a number; `integer` when all are
/// integers (pandas reads such a CSV column as int64). Infinities are left out and counted,
/// as pandas reads `inf` into a float column and Evidently leaves it out.
fn texts_as_numbers(counts: &FxHashMap<String, u64>) -> Option<(Vec<f64>, bool, u64)> {
    let mut values = Vec::new();
    let mut integer = true;
    let mut non_finite = 0;
    for (text, &count) in counts {
        let text = text.trim();
        let value: f64 = text.parse().ok()?;
        if !value.is_finite() {
            non_finite += count;
            integer = false;
            continue;
        }
        integer &= text.parse::<i64>().is_ok();
        values.extend(std::iter::repeat_n(value, count as usize));
    }
    Some((values, integer, non_finite))
}

fn prepare(spec: &DriftSpec, column: &PlannedColumn, reference: Collected, current: Collected) -> Result<Prepared> {
    let name = &column.name;
    let forced_categorical = spec.categorical.contains(name);
    let forced_numerical = spec.numerical.contains(name);
    let (reference_side, reference_gaps) = side(reference, column.reference, forced_numerical);
    let (current_side, current_gaps) = side(current, column.current, forced_numerical);
    for (display, side, gaps, which) in [
        (&spec.reference_display, &reference_side, reference_gaps, "reference"),
        (&spec.current_display, &current_side, current_gaps, "current"),
    ] {
        let present = match side {
            Side::Numbers(values, _) => values.len() as u64,
            Side::Texts(counts) => counts.values().sum(),
        };
        if present == 0 {
            return Err(data_error(format!(
                "{display}: column `{name}` has no values in the {which} table ({} missing cells, {} not finite)",
                gaps.missing, gaps.non_finite
            ))
            .hint(format!(
                "an all-null column cannot be compared; leave `{name}` out with --columns or fix the export"
            )));
        }
    }
    match (reference_side, current_side) {
        (Side::Numbers(mut reference, reference_integer), Side::Numbers(mut current, current_integer)) => {
            sort::sort(&mut reference);
            sort::sort(&mut current);
            // Evidently's report types every numeric column as numerical (few distinct values
            // change the method, not the type). pandas holds an integer column with missing
            // cells as floats, which matters for the width of Sturges' bins.
            let integer = reference_integer
                && current_integer
                && reference_gaps == Gaps::default()
                && current_gaps == Gaps::default();
            let column_type = if forced_categorical { ColumnType::Categorical } else { ColumnType::Numerical };
            Ok(Prepared {
                name: name.clone(),
                column_type,
                values: Values::Numbers { reference, current, integer },
                reference_gaps,
                current_gaps,
            })
        }
        (Side::Texts(reference), Side::Texts(current)) => {
            if forced_numerical {
                return Err(data_error(format!("column `{name}` is not numeric, but --numerical names it"))
                    .hint(format!("compare `{name}` as categories: drop it from --numerical")));
            }
            let (reference, current) = align(&reference, &current);
            Ok(Prepared {
                name: name.clone(),
                column_type: ColumnType::Categorical,
                values: Values::Counts { reference, current },
                reference_gaps,
                current_gaps,
            })
        }
        (reference_side, current_side) => {
            if forced_categorical {
                let (reference, current) = align(&texts(reference_side), &texts(current_side));
                return Ok(Prepared {
                    name: name.clone(),
                    column_type: ColumnType::Categorical,
                    values: Values::Counts { reference, current },
                    reference_gaps,
                    current_gaps,
                });
            }
            let describe = |side: &Side| if matches!(side, Side::Numbers(..)) { "numeric" } else { "text" };
            Err(mismatch(spec, name, describe(&reference_side), describe(&current_side)))
        }
    }
}

/// Numbers as category texts (`1`, `2.5`), for a mixed column compared as categories.
fn texts(side: Side) -> FxHashMap<String, u64> {
    match side {
        Side::Texts(counts) => counts,
        Side::Numbers(values, _) => {
            let mut counts = FxHashMap::default();
            for value in values {
                *counts.entry(value.to_string()).or_insert(0) += 1;
            }
            counts
        }
    }
}

/// Counts of both sides over the sorted union of categories.
fn align(reference: &FxHashMap<String, u64>, current: &FxHashMap<String, u64>) -> (Vec<u64>, Vec<u64>) {
    let keys: BTreeSet<&String> = reference.keys().chain(current.keys()).collect();
    let reference = keys.iter().map(|key| reference.get(*key).copied().unwrap_or(0)).collect();
    let current = keys.iter().map(|key| current.get(*key).copied().unwrap_or(0)).collect();
    (reference, current)
}

fn distinct_sorted(values: &[f64]) -> usize {
    if values.is_empty() {
        return 0;
    }
    1 + values.windows(2).filter(|pair| pair[0] != pair[1]).count()
}

/// Distinct values of two sorted samples together, counted up to `limit`.
fn distinct_union(reference: &[f64], current: &[f64], limit: usize) -> usize {
    if limit == usize::MAX {
        let mut distinct = 0;
        stats::walk(reference, current, |_, _, _| distinct += 1);
        return distinct;
    }
    // A bounded count: the first `limit` distinct values of the union are among the first
    // `limit` distinct values of each sample.
    let head = |values: &[f64]| {
        let mut end = 0;
        let mut seen = 0;
        while end < values.len() && seen < limit {
            let value = values[end];
            while end < values.len() && values[end] == value {
                end += 1;
            }
            seen += 1;
        }
        end
    };
    let (reference_head, current_head) = (head(reference), head(current));
    let mut distinct = 0;
    stats::walk(&reference[..reference_head], &current[..current_head], |_, _, _| distinct += 1);
    distinct.min(limit)
}

/// Counts per distinct value of two sorted samples, over their sorted union.
fn counts_of_numbers(reference: &[f64], current: &[f64]) -> (Vec<u64>, Vec<u64>) {
    let (mut reference_counts, mut current_counts) = (Vec::new(), Vec::new());
    let (mut last_i, mut last_j) = (0, 0);
    stats::walk(reference, current, |_, i, j| {
        reference_counts.push((i - last_i) as u64);
        current_counts.push((j - last_j) as u64);
        (last_i, last_j) = (i, j);
    });
    (reference_counts, current_counts)
}

// ---------------------------------------------------------------- measuring

/// Prepares (sorts) and measures the columns on up to two threads; the first error in
/// column order wins, so the message does not depend on timing.
fn measure_columns(
    spec: &DriftSpec,
    columns: &[PlannedColumn],
    pairs: Vec<Mutex<Option<(Collected, Collected)>>>,
) -> Result<Vec<(String, FeatureDrift)>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<FeatureDrift>)>> = Mutex::new(Vec::with_capacity(columns.len()));
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2).min(columns.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(column) = columns.get(index) else { break };
                let pair = pairs[index].lock().ok().and_then(|mut pair| pair.take());
                let result = match pair {
                    Some((reference, current)) => {
                        prepare(spec, column, reference, current).and_then(|prepared| measure_column(spec, &prepared))
                    }
                    None => Err(internal("a drift column was measured twice")),
                };
                if let Ok(mut results) = results.lock() {
                    results.push((index, result));
                }
            });
        }
    });
    let mut results = results.into_inner().map_err(|_| internal("a drift worker failed"))?;
    if results.len() != columns.len() {
        return Err(internal("a drift worker failed"));
    }
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(index, result)| result.map(|feature| (columns[index].name.clone(), feature))).collect()
}

/// The method Evidently's `get_default_stattest` picks for a column.
fn auto_method(column_type: ColumnType, reference_values: usize, unique_values: usize) -> Method {
    match (reference_values <= SMALL_REFERENCE, column_type) {
        (true, ColumnType::Numerical) if unique_values > FEW_VALUES => Method::Ks,
        (true, _) if unique_values > 2 => Method::Chisquare,
        (true, _) => Method::Z,
        (false, ColumnType::Numerical) if unique_values > FEW_VALUES => Method::Wasserstein,
        (false, _) => Method::Jensenshannon,
    }
}

fn measure_column(spec: &DriftSpec, column: &Prepared) -> Result<FeatureDrift> {
    let name = &column.name;
    let (reference_values, current_values, unique_values) = match &column.values {
        Values::Numbers { reference, current, .. } => {
            // Enough to choose the method; the walk of the chosen measure counts them all.
            (reference.len(), current.len(), distinct_union(reference, current, FEW_VALUES + 1))
        }
        Values::Counts { reference, current } => {
            (reference.iter().sum::<u64>() as usize, current.iter().sum::<u64>() as usize, reference.len())
        }
    };
    let method = match (spec.column_methods.get(name), spec.method) {
        (Some(&method), _) | (None, MethodChoice::Method(method)) => method,
        (None, MethodChoice::Auto) => auto_method(column.column_type, reference_values, unique_values),
    };
    let explicit = spec.column_methods.contains_key(name) || spec.method != MethodChoice::Auto;
    let needs_numbers = matches!(method, Method::Ks | Method::Wasserstein);
    let needs_categories = matches!(method, Method::Chisquare | Method::Z);
    if needs_numbers && !matches!(column.values, Values::Numbers { .. })
        || explicit && needs_numbers && column.column_type != ColumnType::Numerical
        || explicit && needs_categories && column.column_type != ColumnType::Categorical
    {
        let (wanted, flag) =
            if needs_numbers { ("numerical", "--numerical") } else { ("categorical", "--categorical") };
        return Err(Error::new(
            ErrorKind::Config,
            format!("{} is for {wanted} columns; column `{name}` is {}", method.as_str(), column.column_type.as_str()),
        )
        .hint(format!(
            "use --method auto, jensenshannon, psi or kl for mixed columns, choose the method of this column with --column-method {name}=METHOD, or declare it with {flag} {name}"
        )));
    }
    let (score, p_value, statistic, distinct) = score(method, column);
    let unique_values = match &column.values {
        Values::Numbers { reference, current, .. } => {
            distinct.unwrap_or_else(|| distinct_union(reference, current, usize::MAX))
        }
        Values::Counts { .. } => unique_values,
    };
    let threshold = spec.threshold_for(method);
    if !score.is_finite() || p_value.is_some_and(|p| !p.is_finite()) {
        return Err(internal(&format!("{} on column `{name}` gave no finite value", method.as_str())));
    }
    Ok(FeatureDrift {
        method: method.as_str().into(),
        score,
        p_value,
        threshold,
        drifted: method.drifted(score, threshold),
        rule: Some(method.rule().into()),
        statistic: statistic.filter(|value| value.is_finite()),
        column_type: Some(column.column_type.as_str().into()),
        reference_values: Some(reference_values as u64),
        current_values: Some(current_values as u64),
        reference_missing: Some(column.reference_gaps.missing),
        current_missing: Some(column.current_gaps.missing),
        reference_non_finite: Some(column.reference_gaps.non_finite),
        current_non_finite: Some(column.current_gaps.non_finite),
        unique_values: Some(unique_values as u64),
    })
}

/// (score, p-value, statistic, distinct values when the measure counted them): for tests the
/// score is the p-value, as Evidently's drift score.
fn score(method: Method, column: &Prepared) -> (f64, Option<f64>, Option<f64>, Option<usize>) {
    let counts = || match &column.values {
        Values::Numbers { reference, current, .. } => counts_of_numbers(reference, current),
        Values::Counts { reference, current } => (reference.clone(), current.clone()),
    };
    let shares = |(reference, current): (Vec<u64>, Vec<u64>)| {
        let (n1, n2) = (reference.iter().sum::<u64>() as f64, current.iter().sum::<u64>() as f64);
        (
            reference.iter().map(|&count| count as f64 / n1).collect::<Vec<f64>>(),
            current.iter().map(|&count| count as f64 / n2).collect::<Vec<f64>>(),
        )
    };
    // Evidently's `get_binned_data`: Sturges' histogram for numerical columns with more than
    // 20 distinct reference values, shares per value otherwise.
    let binned = || match &column.values {
        Values::Numbers { reference, current, integer }
            if column.column_type == ColumnType::Numerical && distinct_sorted(reference) > 20 =>
        {
            stats::sturges_shares(reference, current, *integer)
        }
        _ => shares(counts()),
    };
    match method {
        Method::Ks => {
            let Values::Numbers { reference, current, .. } = &column.values else {
                return (f64::NAN, None, None, None);
            };
            let ((statistic, p), distinct) = stats::ks(reference, current);
            (p, Some(p), Some(statistic), Some(distinct))
        }
        Method::Wasserstein => {
            let Values::Numbers { reference, current, .. } = &column.values else {
                return (f64::NAN, None, None, None);
            };
            let (distance, distinct) = stats::wasserstein_normed(reference, current);
            (distance, None, None, Some(distinct))
        }
        Method::Chisquare => {
            let (reference, current) = counts();
            let (statistic, p) = stats::chisquare(&reference, &current);
            (p, Some(p), Some(statistic), None)
        }
        Method::Z => {
            let (reference, current) = counts();
            let (statistic, p) = stats::z_test(&reference, &current);
            (p, Some(p), Some(statistic), None)
        }
        Method::Jensenshannon => {
            let (reference, current) = binned();
            (stats::jensenshannon(&reference, &current), None, None, None)
        }
        Method::Kl => {
            let (mut reference, mut current) = binned();
            stats::fill_zeroes(&mut reference);
            stats::fill_zeroes(&mut current);
            (stats::kl(&reference, &current), None, None, None)
        }
        Method::Psi => {
            let (reference, current) = match &column.values {
                Values::Numbers { reference, current, .. } if column.column_type == ColumnType::Numerical => {
                    stats::decile_shares(reference, current)
                }
                _ => shares(counts()),
            };
            (stats::psi(&reference, &current), None, None, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_evidently() {
        use ColumnType::{Categorical, Numerical};
        assert_eq!(auto_method(Numerical, 1000, 6), Method::Ks);
        assert_eq!(auto_method(Numerical, 1000, 5), Method::Chisquare);
        assert_eq!(auto_method(Numerical, 1000, 2), Method::Z);
        assert_eq!(auto_method(Categorical, 500, 3), Method::Chisquare);
        assert_eq!(auto_method(Categorical, 500, 2), Method::Z);
        assert_eq!(auto_method(Numerical, 1001, 6), Method::Wasserstein);
        assert_eq!(auto_method(Numerical, 1001, 5), Method::Jensenshannon);
        assert_eq!(auto_method(Categorical, 5000, 40), Method::Jensenshannon);
    }

    #[test]
    fn config_reads_the_data_drift_table() {
        let config: DriftConfig = toml::from_str(
            "current = \"serving.parquet\"\nmethod = \"ks\"\ncolumns = [\"age\"]\nmethods = { city = \"psi\" }\n\
             thresholds = { ks = 0.01 }\ndrift_share = 0.3\n",
        )
        .expect("config");
        assert_eq!(config.method, MethodChoice::Method(Method::Ks));
        let spec = DriftSpec::from_config(&config, Path::new("/project"), Some(Path::new("data/train.parquet")))
            .expect("spec");
        assert_eq!(spec.reference, Path::new("/project/data/train.parquet"));
        assert_eq!(spec.current, Path::new("/project/serving.parquet"));
        assert_eq!(spec.column_methods["city"], Method::Psi);
        assert_eq!(spec.threshold_for(Method::Ks), 0.01);
        assert_eq!(spec.threshold_for(Method::Wasserstein), 0.1);
        let auto: DriftConfig = toml::from_str("current = \"c.csv\"\nmethod = \"auto\"").expect("auto");
        assert_eq!(auto.method, MethodChoice::Auto);
        assert!(toml::from_str::<DriftConfig>("current = \"c.csv\"\nmethod = \"t-test\"").is_err());
        assert!(toml::from_str::<DriftConfig>("current = \"c.csv\"\nbins = 10").is_err());
        let unknown: DriftConfig = toml::from_str("current = \"c.csv\"\nthresholds = { t = 1.0 }").expect("parses");
        let error = DriftSpec::from_config(&unknown, Path::new("/"), Some(Path::new("t.csv"))).expect_err("unknown");
        assert!(error.message.contains("unknown drift method `t`"), "{}", error.message);
        let error = DriftSpec::from_config(&auto, Path::new("/"), None).expect_err("no reference");
        assert!(error.message.contains("no `reference`"), "{}", error.message);
    }

    #[test]
    fn rules_match_evidently() {
        assert!(Method::Ks.drifted(0.05, 0.05));
        assert!(!Method::Chisquare.drifted(0.05, 0.05));
        assert!(Method::Wasserstein.drifted(0.1, 0.1));
        assert!(!Method::Psi.drifted(0.099, 0.1));
    }
}
