//! `modelgate data validate` (being written).

use clap::Args;

use modelgate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs) -> ExitStatus {
    eprintln!("error: `modelgate data validate` is not implemented yet");
    ExitStatus::Error
}
