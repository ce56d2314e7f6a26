//! `modelgate data lineage`: the preprocessing steps behind a training file, from a
//! dvc.lock, OpenLineage run events or a lineage manifest.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use modelgate::data::lineage::{self, LineageSpec, SourceFormat};
use modelgate::evidence::Lineage;
use modelgate::exit::ExitStatus;

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
        args.output.write(&lineage, |lineage| render(lineage, &missing))?;
        Ok(missing.is_empty() && !lineage.stale)
    });
    super::check_status(result)
}

fn render(lineage: &Lineage, missing: &[&str]) -> String {
    let mut out = String::new();
    let training = lineage.training_data.as_deref().unwrap_or("the training file");
    let source = lineage.path.as_deref().unwrap_or(&lineage.source);
    let _ = writeln!(out, "Lineage of {training} ({} {source})", lineage.source);
    for (number, step) in lineage.stages.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", number + 1, step.name);
        if let Some(command) = &step.command {
            let _ = writeln!(out, "       $ {command}");
        }
        if !step.inputs.is_empty() {
            let _ = writeln!(out, "       reads  {}", step.inputs.join(", "));
        }
        if !step.outputs.is_empty() {
            let _ = writeln!(out, "       writes {}", step.outputs.join(", "));
        }
    }
    let freshness = lineage.freshness.as_deref().unwrap_or("unknown");
    let digest = match (&lineage.recorded_digest, &lineage.actual_digest) {
        (Some(recorded), Some(actual)) if recorded == actual => format!(" ({actual})"),
        (Some(recorded), Some(actual)) => format!(" (recorded {recorded}, file {actual})"),
        (Some(recorded), None) => format!(" (recorded {recorded}; the file's digest cannot be compared)"),
        _ => " (the lineage records no digest for it)".to_string(),
    };
    let _ = writeln!(out, "\nTraining file: {freshness}{digest}");
    for finding in &lineage.findings {
        let _ = writeln!(out, "  stale: {finding}");
    }
    for step in missing {
        let _ = writeln!(out, "  missing required step: {step}");
    }
    out
}
