//! `modelgate deps PATH... --osv DB`: the model's Python dependencies against an offline
//! OSV database; exit 1 on any known vulnerability or unpinned requirement.

use std::path::PathBuf;

use clap::Args;

use modelgate::artifacts::{audit, lockfiles, osv};
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

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
        args.output.write(&dependencies, sections::dependencies::write)?;
        Ok(dependencies.vulnerabilities.is_empty() && dependencies.unpinned.is_empty())
    });
    super::check_status(result)
}
