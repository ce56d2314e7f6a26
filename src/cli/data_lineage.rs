//! `modelgate data lineage` (being written).

use clap::Args;

use modelgate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct LineageArgs {}

pub fn run(_args: LineageArgs) -> ExitStatus {
    eprintln!("error: `modelgate data lineage` is not implemented yet");
    ExitStatus::Error
}
