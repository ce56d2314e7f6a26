//! `modelgate drift`: drift between a reference (training) and a current (serving) table,
//! per column, shown as a table (text) or printed as the evidence section (json). Exit 1
//! when the dataset drifts, 0 otherwise, 2 on any error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use modelgate::data::drift::{self, DriftSpec, Method, MethodChoice};
use modelgate::error::{Error, ErrorKind, Result};
use modelgate::evidence::Drift;
use modelgate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The reference (training) table: CSV, gzip CSV or Parquet.
    #[arg(long, value_name = "FILE")]
    reference: PathBuf,
    /// The current (serving) table: CSV, gzip CSV or Parquet.
    #[arg(long, value_name = "FILE")]
    current: PathBuf,
    /// Columns to compare, joined by commas (default: every column of the reference).
    #[arg(long, value_name = "COL,...", value_delimiter = ',')]
    columns: Vec<String>,
    /// The measure: `auto` picks one per column as Evidently does.
    #[arg(long, value_enum, default_value_t = MethodChoice::Auto)]
    method: MethodChoice,
    /// The measure for one column, overriding --method (repeat for more).
    #[arg(long, value_name = "COL=METHOD")]
    column_method: Vec<String>,
    /// Columns compared as categories whatever their values.
    #[arg(long, value_name = "COL,...", value_delimiter = ',')]
    categorical: Vec<String>,
    /// Columns compared as numbers though stored as text (every value must be a number).
    #[arg(long, value_name = "COL,...", value_delimiter = ',')]
    numerical: Vec<String>,
    /// A threshold for every method (VALUE) or for one (METHOD=VALUE); repeat for more.
    #[arg(long, value_name = "[METHOD=]VALUE")]
    threshold: Vec<String>,
    /// The dataset drifts when at least this share of columns drifts.
    #[arg(long, value_name = "SHARE", default_value_t = drift::DEFAULT_DRIFT_SHARE)]
    drift_share: f64,
    #[command(flatten)]
    output: super::SectionOutput,
}

pub fn run(args: DriftArgs) -> ExitStatus {
    let measured = spec(&args).and_then(|spec| drift::measure(&spec));
    match measured.and_then(|drift| args.output.write(&drift, render).map(|()| drift)) {
        Ok(drift) if drift.dataset_drift == Some(true) => ExitStatus::Failure,
        Ok(_) => ExitStatus::Success,
        Err(error) => {
            super::print_error(&error);
            ExitStatus::Error
        }
    }
}

fn spec(args: &DriftArgs) -> Result<DriftSpec> {
    let mut spec = DriftSpec::new(&args.reference, &args.current);
    spec.columns = args.columns.clone();
    spec.method = args.method;
    let mut column_methods = BTreeMap::new();
    for entry in &args.column_method {
        let (column, name) = entry.split_once('=').ok_or_else(|| {
            Error::new(ErrorKind::Config, format!("--column-method {entry}: expected COL=METHOD"))
                .hint("for example --column-method age=ks")
        })?;
        column_methods.insert(column.to_string(), method(name)?);
    }
    spec.column_methods = column_methods;
    spec.categorical = args.categorical.clone();
    spec.numerical = args.numerical.clone();
    for entry in &args.threshold {
        let (name, value) = match entry.split_once('=') {
            Some((name, value)) => (Some(name), value),
            None => (None, entry.as_str()),
        };
        let value: f64 = value.trim().parse().map_err(|_| {
            Error::new(ErrorKind::Config, format!("--threshold {entry}: `{value}` is not a number"))
                .hint("for example --threshold 0.05 or --threshold wasserstein=0.2")
        })?;
        match name {
            Some(name) => {
                spec.thresholds.insert(method(name)?, value);
            }
            None => spec.threshold = Some(value),
        }
    }
    spec.drift_share = args.drift_share;
    Ok(spec)
}

fn method(name: &str) -> Result<Method> {
    Method::parse(name).ok_or_else(|| {
        Error::new(ErrorKind::Config, format!("unknown drift method `{name}`"))
            .hint(format!("use one of {}", Method::ALL.map(Method::as_str).join(", ")))
    })
}

/// The drift report as a table a person reads in a terminal or a CI log.
pub fn render(drift: &Drift) -> String {
    let mut out = String::new();
    let reference = drift.reference_path.as_deref().unwrap_or("reference");
    let current = drift.current_path.as_deref().unwrap_or("current");
    let _ = writeln!(out, "Reference {reference} ({} rows)", drift.reference_rows);
    let _ = writeln!(out, "Current   {current} ({} rows)", drift.current_rows);
    let _ = writeln!(out, "Method    {}\n", drift.method.as_deref().unwrap_or("auto"));
    let width = drift.features.keys().map(|name| name.chars().count()).max().unwrap_or(0).max(6);
    let _ = writeln!(
        out,
        "  {:width$}  {:11}  {:13}  {:>12}  {:>12}  {:>9}  {:>9}  {:>10}  drifted",
        "column", "type", "method", "score", "p-value", "threshold", "missing", "not finite"
    );
    for (name, feature) in &drift.features {
        let missing = feature.reference_missing.unwrap_or(0) + feature.current_missing.unwrap_or(0);
        let non_finite = feature.reference_non_finite.unwrap_or(0) + feature.current_non_finite.unwrap_or(0);
        let _ = writeln!(
            out,
            "  {name:width$}  {:11}  {:13}  {:>12}  {:>12}  {:>9}  {:>9}  {:>10}  {}",
            feature.column_type.as_deref().unwrap_or("-"),
            feature.method,
            number(Some(feature.score)),
            number(feature.p_value),
            number(Some(feature.threshold)),
            missing,
            non_finite,
            if feature.drifted { "DRIFTED" } else { "no" }
        );
    }
    if !drift.skipped_columns.is_empty() {
        let _ = writeln!(out, "\n  not compared (dates, binary or nested): {}", drift.skipped_columns.join(", "));
    }
    let drifted = drift.drifted_count.unwrap_or(0);
    let share = drift.drift_share.unwrap_or(drift::DEFAULT_DRIFT_SHARE);
    let verdict = if drift.dataset_drift == Some(true) { "DATASET DRIFT" } else { "no dataset drift" };
    let _ = writeln!(
        out,
        "\n{drifted} of {} columns drifted ({:.1}%; the dataset drifts at {:.1}%): {verdict}",
        drift.features.len(),
        drift.drifted_share * 100.0,
        share * 100.0
    );
    out
}

/// Four significant decimals, scientific for small values, `-` for none.
fn number(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v != 0.0 && v.abs() < 1e-4 => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}
