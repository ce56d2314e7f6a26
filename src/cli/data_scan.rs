//! `modelgate data scan` (being written).

use clap::Args;

use modelgate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct ScanArgs {}

pub fn run(_args: ScanArgs) -> ExitStatus {
    eprintln!("error: `modelgate data scan` is not implemented yet");
    ExitStatus::Error
}
