//! `modelgate data scan`: the prohibited-data scan of one table, as a per-column report
//! (text) or the evidence section (json). Exit 1 when a detection's share of matching
//! values exceeds `--max-fraction`.

use std::path::PathBuf;

use clap::Args;

use modelgate::data::prohibited::{self, DetectorsFile, ScanSpec, DEFAULT_SAMPLE_ROWS};
use modelgate::error::Result;
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The table to scan: CSV, gzip CSV or Parquet.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Columns to scan, comma-separated or repeated (default: all).
    #[arg(long, value_name = "COL", value_delimiter = ',')]
    columns: Vec<String>,
    /// Rows to sample (deterministically, by seed).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLE_ROWS)]
    sample: u64,
    /// Classify every row instead of a sample.
    #[arg(long)]
    full: bool,
    /// Seed of the sample.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// Extra detectors (TOML, YAML or JSON): `[[detectors]]` with `name`, `pattern`,
    /// `validator`, `category`, `column_names`; `builtin_detectors = false` drops the built-ins.
    #[arg(long, value_name = "FILE")]
    detectors: Option<PathBuf>,
    /// Exit 1 when a detection's share of matching values exceeds this.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.01)]
    max_fraction: f64,
    #[command(flatten)]
    output: super::SectionOutput,
}

pub fn run(args: ScanArgs) -> ExitStatus {
    super::check_status(scan(&args).map(|found| !found))
}

/// Scans, writes the report, and says whether a detection exceeds the limit.
fn scan(args: &ScanArgs) -> Result<bool> {
    if !(0.0..=1.0).contains(&args.max_fraction) {
        return Err(modelgate::error::Error::new(
            modelgate::error::ErrorKind::Config,
            format!("--max-fraction {} is not a share between 0 and 1", args.max_fraction),
        )
        .hint("pass a fraction such as 0.01 (1% of the sampled values)"));
    }
    let file = match &args.detectors {
        Some(path) => Some(DetectorsFile::load(path)?),
        None => None,
    };
    let spec = ScanSpec {
        table: std::path::absolute(&args.file).unwrap_or_else(|_| args.file.clone()),
        display_path: args.file.display().to_string(),
        columns: args.columns.clone(),
        sample_rows: args.sample,
        full_scan: args.full,
        seed: args.seed,
        builtin_detectors: file.as_ref().is_none_or(|file| file.builtin_detectors),
        detectors: file.map(|file| file.detectors).unwrap_or_default(),
        detectors_source: args
            .detectors
            .as_ref()
            .map_or_else(|| "--detectors".to_string(), |p| p.display().to_string()),
        today: None,
    };
    let evidence = prohibited::scan(&spec)?;
    args.output.write(&evidence, |evidence, out| sections::prohibited::write(evidence, args.max_fraction, out))?;
    Ok(evidence.detections.iter().any(|detection| detection.match_fraction > args.max_fraction))
}
