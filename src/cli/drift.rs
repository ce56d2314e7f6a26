//! `modelgate drift`: drift between a reference (training) and a current (serving) table,
//! per column, shown as a table (text) or printed as the evidence section (json). Exit 1
//! when the dataset drifts, 0 otherwise, 2 on any error.

use std::path::PathBuf;

use clap::Args;

use modelgate::data::drift::{self, DriftSpec, MethodChoice};
use modelgate::error::Result;
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

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
    let written = measured.and_then(|drift| args.output.write(&drift, sections::drift::write).map(|()| drift));
    super::check_status(written.map(|drift| drift.dataset_drift != Some(true)))
}

fn spec(args: &DriftArgs) -> Result<DriftSpec> {
    let mut spec = DriftSpec::new(&args.reference, &args.current)
        .with_column_methods(&args.column_method)?
        .with_thresholds(&args.threshold)?;
    spec.columns = args.columns.clone();
    spec.method = args.method;
    spec.categorical = args.categorical.clone();
    spec.numerical = args.numerical.clone();
    spec.drift_share = args.drift_share;
    Ok(spec)
}
