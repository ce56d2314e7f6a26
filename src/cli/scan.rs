//! `modelgate scan PATH...`: what each model file is and whether loading it can run code.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use modelgate::artifacts::pickle::GlobalsPolicy;
use modelgate::artifacts::scan::{self, ScanOptions};
use modelgate::evidence::Artifacts;
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Model files or folders (every file under a folder; links are listed, not followed).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Which globals a pickle may name: `allow`, only those needed to load tensors (the
    /// gate's default), or `deny`, anything but a deny list.
    #[arg(long, value_enum, default_value_t = Globals::Allow)]
    globals: Globals,
    #[command(flatten)]
    output: super::SectionOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Globals {
    Allow,
    Deny,
}

pub fn run(args: ScanArgs) -> ExitStatus {
    let policy = match args.globals {
        Globals::Allow => GlobalsPolicy::Allow,
        Globals::Deny => GlobalsPolicy::Deny,
    };
    let options = ScanOptions { policy, ..ScanOptions::default() };
    let result = scan::scan_paths(&args.paths, options).and_then(|files| {
        let artifacts = Artifacts { files, signature: None, dependencies: None };
        args.output.write(&artifacts, sections::artifacts::write)?;
        Ok(artifacts.files.iter().all(|file| file.safe))
    });
    super::check_status(result)
}
