//! `modelgate data validate`: a table checked against a Frictionless Table Schema (or a
//! Parquet file's schema), shown as a report (text) or printed as the `data.schema`
//! evidence section (json). Exit 1 when the table violates the schema.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use modelgate::data::schema::{self, ExtraColumns, ValidateSpec};
use modelgate::error::Result;
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The table to check: CSV, gzip CSV or Parquet.
    #[arg(value_name = "FILE")]
    table: PathBuf,
    /// The expected schema: a Table Schema (JSON, or YAML by extension) or a Parquet file.
    #[arg(long, value_name = "SCHEMA")]
    schema: PathBuf,
    /// Columns the schema does not declare: allowed, or reported as violations.
    #[arg(long, value_enum, default_value_t = ExtraArg::Deny)]
    extra_columns: ExtraArg,
    /// The largest share of missing cells allowed in a column (0 to 1).
    #[arg(long, value_name = "RATE")]
    max_null_rate: Option<f64>,
    /// A ceiling for one column, replacing --max-null-rate there. Repeat for more.
    #[arg(long, value_name = "COL=RATE")]
    null_rate: Vec<String>,
    /// Do not report rows that repeat an earlier row.
    #[arg(long)]
    allow_duplicate_rows: bool,
    /// Columns whose values are shown as <redacted> in the examples (comma-separated).
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    sensitive: Vec<String>,
    #[command(flatten)]
    output: super::SectionOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExtraArg {
    Allow,
    Deny,
}

pub fn run(args: ValidateArgs) -> ExitStatus {
    let result = spec(&args).and_then(|spec| schema::validate(&spec)).and_then(|check| {
        args.output.write(&check, sections::schema::write)?;
        Ok(check)
    });
    super::check_status(result.map(|check| check.violations.is_empty()))
}

fn spec(args: &ValidateArgs) -> Result<ValidateSpec> {
    let mut spec = ValidateSpec::new(&args.schema, &args.table).with_null_rates(&args.null_rate)?;
    spec.extra_columns = match args.extra_columns {
        ExtraArg::Allow => ExtraColumns::Allow,
        ExtraArg::Deny => ExtraColumns::Deny,
    };
    spec.max_null_rate = args.max_null_rate;
    spec.duplicate_rows = !args.allow_duplicate_rows;
    spec.sensitive = args.sensitive.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
    Ok(spec)
}
