//! `modelgate docs check [DIR]` and `modelgate docs init [DIR]`: the documentation section
//! alone (the documents read, then judged by the policies' documentation rules), and
//! documents scaffolded from the evidence the gate collects.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use modelgate::exit::ExitStatus;
use modelgate::run::docs;

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// Read the model card, datasheet and risk assessment and judge them by the policies'
    /// documentation rules; exit 1 on a blocking finding.
    Check(CheckArgs),
    /// Write a model card, datasheet and risk assessment pre-filled from the evidence;
    /// re-running updates the measured parts and keeps what a person wrote.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    project: super::ProjectArgs,
    /// Policy repository (overrides [policies] path).
    #[arg(long, value_name = "DIR", env = "MODELGATE_POLICIES")]
    policies: Option<PathBuf>,
    #[command(flatten)]
    output: super::SectionOutput,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    project: super::ProjectArgs,
}

pub fn run(command: DocsCommand) -> ExitStatus {
    match command {
        DocsCommand::Check(args) => {
            let result = docs::check(args.project.project(), args.policies.as_deref()).and_then(|report| {
                args.output.write(&report, docs::write_text)?;
                Ok(report.violations.is_empty())
            });
            super::check_status(result)
        }
        DocsCommand::Init(args) => {
            let result = super::with_output(None, |out| docs::init(args.project.project(), out));
            super::check_status(result.map(|()| true))
        }
    }
}
