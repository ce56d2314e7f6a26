//! `modelgate drift` (being written).

use clap::Args;

use modelgate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct DriftArgs {}

pub fn run(_args: DriftArgs) -> ExitStatus {
    eprintln!("error: `modelgate drift` is not implemented yet");
    ExitStatus::Error
}
