//! `modelgate data lineage`: the preprocessing steps behind a training file, from a
//! dvc.lock, OpenLineage run events or a lineage manifest.

use std::path::PathBuf;

use clap::Args;

use modelgate::data::lineage::{self, LineageSpec, SourceFormat};
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

#[derive(Debug, Args)]
pub struct LineageArgs {
    /// The lineage: dvc.lock, an OpenLineage event file (JSON or JSON Lines) or a manifest.
    #[arg(value_name = "LINEAGE")]
    lineage: PathBuf,
    /// The training file the lineage must explain.
    #[arg(long, value_name = "FILE")]
    training: PathBuf,
    /// The lineage format (default: recognised from the content).
    #[arg(long = "source", value_enum, value_name = "FORMAT")]
    source: Option<SourceFormat>,
    /// Steps that must appear; exit 1 when one is missing or the lineage is stale.
    #[arg(long, value_delimiter = ',', value_name = "STEP,...")]
    require: Vec<String>,
    #[command(flatten)]
    output: super::SectionOutput,
}

pub fn run(args: LineageArgs) -> ExitStatus {
    let spec = LineageSpec {
        path: args.lineage.clone(),
        format: args.source,
        training: args.training.clone(),
        training_display: args.training.display().to_string(),
    };
    let result = lineage::trace(&spec).and_then(|lineage| {
        let missing: Vec<&str> =
            args.require.iter().filter(|step| !lineage.steps.contains(step)).map(String::as_str).collect();
        args.output.write(&lineage, |lineage, out| sections::lineage::write(lineage, &missing, out))?;
        Ok(missing.is_empty() && !lineage.stale)
    });
    super::check_status(result)
}
