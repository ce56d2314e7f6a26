//! The model's Python dependencies checked against an offline OSV database: every pinned
//! requirement matched with PEP 440 semantics, every unpinned one reported as such.

use std::collections::BTreeMap;

use super::lockfiles::Manifest;
use super::osv::{self, Record};
use super::pep440::Version;
use super::requirements::Requirement;
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Dependencies, Severity, Vulnerability};

/// Audits `requirements` (read from `source`) against `database` (records by
/// normalised package name). A constraint (`-c`) pins a requirement that does not pin
/// itself. An advisory without a rating counts as high: a gate does not assume the best.
pub fn audit(
    source: &str,
    requirements: &[Requirement],
    database: &BTreeMap<String, Vec<Record>>,
) -> Result<Dependencies> {
    let constraints: BTreeMap<String, &Requirement> = requirements
        .iter()
        .filter(|requirement| requirement.constraint && requirement.version.is_some())
        .map(|requirement| (osv::normalize_name(&requirement.name), requirement))
        .collect();
    let mut packages = 0;
    let mut vulnerabilities = Vec::new();
    let mut unpinned = Vec::new();
    for requirement in requirements.iter().filter(|requirement| !requirement.constraint) {
        packages += 1;
        let name = osv::normalize_name(&requirement.name);
        let pinned = requirement.version.as_ref().or_else(|| constraints.get(&name).and_then(|c| c.version.as_ref()));
        let Some(text) = pinned else {
            let spec = if requirement.specifier.is_empty() { "(any version)" } else { &requirement.specifier };
            unpinned.push(format!("{} {spec}", requirement.name));
            continue;
        };
        let version = Version::parse(text).ok_or_else(|| {
            Error::new(
                ErrorKind::EvidenceInvalid,
                format!(
                    "{}:{}: `{}=={text}` is not a PEP 440 version",
                    requirement.file, requirement.line, requirement.name
                ),
            )
            .hint("pin a released version of the package")
        })?;
        for record in database.get(&name).into_iter().flatten() {
            if record.affects(&name, &version)? {
                let rating = record.rating();
                vulnerabilities.push(Vulnerability {
                    package: requirement.name.clone(),
                    version: text.clone(),
                    id: record.id.clone(),
                    severity: match rating.severity.as_str() {
                        "low" => Severity::Low,
                        "medium" => Severity::Medium,
                        "critical" => Severity::Critical,
                        _ => Severity::High,
                    },
                    fixed_version: record.fixed_after(&name, &version),
                    summary: record.headline(),
                });
            }
        }
    }
    Ok(Dependencies { source: source.to_string(), packages, vulnerabilities, unpinned, not_audited: Vec::new() })
}

/// Audits what a [`Manifest`] says will be installed; its packages of other ecosystems
/// are carried over as not audited.
pub fn audit_manifest(manifest: &Manifest, database: &BTreeMap<String, Vec<Record>>) -> Result<Dependencies> {
    let mut dependencies = audit(&manifest.source, &manifest.requirements, database)?;
    dependencies.not_audited = manifest.not_audited.clone();
    Ok(dependencies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_requirements_are_matched_and_unpinned_ones_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("c.txt"), "requests==2.31.0\n").expect("write");
        std::fs::write(
            dir.path().join("requirements.txt"),
            "-c c.txt\ntorch==2.5.1\nTorch_Vision==0.20.0\nrequests\nnumpy>=1.26\n",
        )
        .expect("write");
        let requirements =
            super::super::requirements::read(&dir.path().join("requirements.txt"), dir.path()).expect("read");
        let record: Record = serde_json::from_str(
            r#"{"id": "GHSA-t", "summary": "s", "database_specific": {"severity": "CRITICAL"},
                "affected": [{"package": {"ecosystem": "PyPI", "name": "torch"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.6.0"}, {"introduced": "2.7.0"}, {"fixed": "2.7.1"}]}]}]}"#,
        )
        .expect("record");
        let database = BTreeMap::from([("torch".to_string(), vec![record])]);
        let dependencies = audit("requirements.txt", &requirements, &database).expect("audit");
        assert_eq!(dependencies.packages, 4);
        assert_eq!(dependencies.vulnerabilities.len(), 1);
        let found = &dependencies.vulnerabilities[0];
        assert_eq!((found.package.as_str(), found.version.as_str(), found.id.as_str()), ("torch", "2.5.1", "GHSA-t"));
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(found.fixed_version.as_deref(), Some("2.6.0"));
        assert_eq!(dependencies.unpinned, ["numpy >=1.26"], "requests is pinned by its constraint");
    }
}
