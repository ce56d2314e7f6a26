//! `modelgate deps PATH... --osv DB`: the model's Python dependencies against an offline
//! OSV database; exit 1 on any known vulnerability or unpinned requirement.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;

use modelgate::artifacts::{audit, lockfiles, osv};
use modelgate::evidence::Dependencies;
use modelgate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct DepsArgs {
    /// Requirements files, lock files (uv.lock, poetry.lock, Pipfile.lock), conda
    /// environment files, or MLflow model folders; read together as one list.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The offline OSV database: a folder of OSV JSON records, or osv-scanner's PyPI all.zip.
    #[arg(long, value_name = "DB")]
    osv: PathBuf,
    #[command(flatten)]
    output: super::SectionOutput,
}

pub fn run(args: DepsArgs) -> ExitStatus {
    let result = lockfiles::read_all(&args.paths).and_then(|manifest| {
        let database = osv::load(&args.osv)?;
        let dependencies = audit::audit_manifest(&manifest, &database)?;
        args.output.write(&dependencies, render)?;
        Ok(dependencies.vulnerabilities.is_empty() && dependencies.unpinned.is_empty())
    });
    super::check_status(result)
}

fn render(dependencies: &Dependencies) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", dependencies.source);
    for vulnerability in &dependencies.vulnerabilities {
        let fixed =
            vulnerability.fixed_version.as_deref().map_or("no fix".to_string(), |fixed| format!("fixed in {fixed}"));
        let summary = vulnerability.summary.as_deref().map(|summary| format!(": {summary}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "VULNERABLE  {} {}  {} [{}] {fixed}{summary}",
            vulnerability.package,
            vulnerability.version,
            vulnerability.id,
            vulnerability.severity.as_str()
        );
    }
    for requirement in &dependencies.unpinned {
        let _ = writeln!(out, "UNPINNED    {requirement}: no single version, so it cannot be checked");
    }
    for package in &dependencies.not_audited {
        let _ = writeln!(out, "not audited {package}: not a PyPI package");
    }
    let _ = writeln!(
        out,
        "\n{} requirements, {} vulnerabilities, {} unpinned, {} not audited",
        dependencies.packages,
        dependencies.vulnerabilities.len(),
        dependencies.unpinned.len(),
        dependencies.not_audited.len()
    );
    out
}
