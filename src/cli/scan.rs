//! `modelgate scan PATH...`: what each model file is and whether loading it can run code.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use modelgate::artifacts::pickle::GlobalsPolicy;
use modelgate::artifacts::scan::{self, ScanOptions};
use modelgate::evidence::Artifacts;
use modelgate::exit::ExitStatus;

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
        args.output.write(&artifacts, render)?;
        Ok(artifacts.files.iter().all(|file| file.safe))
    });
    super::check_status(result)
}

fn render(artifacts: &Artifacts) -> String {
    let mut out = String::new();
    for file in &artifacts.files {
        let verdict = if file.safe { "safe" } else { "UNSAFE" };
        let code = if file.executable_serialization { ", can run code when loaded" } else { "" };
        let _ = writeln!(out, "{verdict:6}  {} ({}, {} bytes{code})", file.path, file.format, file.size);
        for finding in &file.findings {
            let at = finding.offset.map(|offset| format!(" at byte {offset}")).unwrap_or_default();
            let global = finding.global.as_deref().map(|global| format!(" {global}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "          [{}] {}{global}{at}: {}",
                finding.severity.as_str(),
                finding.kind,
                finding.why
            );
        }
    }
    let unsafe_files = artifacts.files.iter().filter(|file| !file.safe).count();
    let _ = writeln!(out, "\n{} files, {unsafe_files} unsafe", artifacts.files.len());
    out
}
