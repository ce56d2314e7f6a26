//! OSV vulnerability records (the format of osv.dev, GitHub's advisory database and
//! PyPA's), read from a folder of JSON records or the per-ecosystem `all.zip` that
//! osv-scanner's offline mode downloads, and matched against Python packages with
//! PEP 440 semantics.
//!
//! Matching follows the OSV schema: a version is affected when it is listed in
//! `affected[].versions`, or when an `ECOSYSTEM` range's events, sorted by version
//! (`introduced: "0"` first), leave it affected (`introduced` opens a range, `fixed`
//! closes it before the fixed version, `last_affected` after). Withdrawn records are
//! skipped.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::cvss;
use super::pep440::Version;
use crate::error::{Error, ErrorKind, Result};

/// One OSV record (the fields matching needs; others are ignored, as the schema allows
/// producers to add them).
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub id: String,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    /// Free text; PyPA's PYSEC records have no summary, only this.
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeverityEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Affected {
    #[serde(default)]
    pub package: Option<Package>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Package {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub introduced: Option<String>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub last_affected: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

/// A package name as PEP 503 compares them: lower case, runs of `-`, `_` and `.` as `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// How bad an advisory is: a CVSS v3 base score computed from its vector when it has
/// one, else the rating its database gives (GitHub: `database_specific.severity`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    /// `low`, `medium`, `high`, `critical`, or `unknown`.
    pub severity: String,
    pub score: Option<f64>,
    /// Where the rating comes from: `CVSS_V3`, `database_specific`, or `none`.
    pub source: String,
}

impl Record {
    /// One line to show: the summary, else the details (the first 200 characters, cut
    /// at a word).
    pub fn headline(&self) -> Option<String> {
        let text = self.summary.as_deref().filter(|s| !s.trim().is_empty()).or(self.details.as_deref())?;
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut line = String::new();
        for word in text.split(' ') {
            if line.chars().count() + word.chars().count() > 200 {
                line.push('…');
                break;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        (!line.is_empty()).then_some(line)
    }

    /// Is `version` of the PyPI package `name` affected? An event version that is not
    /// PEP 440 is an error: the record cannot be judged, and a gate must not guess.
    pub fn affects(&self, name: &str, version: &Version) -> Result<bool> {
        if self.withdrawn.is_some() {
            return Ok(false);
        }
        let wanted = normalize_name(name);
        for affected in &self.affected {
            let Some(package) = &affected.package else { continue };
            if !package.ecosystem.eq_ignore_ascii_case("pypi") || normalize_name(&package.name) != wanted {
                continue;
            }
            if affected.versions.iter().any(|listed| Version::parse(listed).is_some_and(|listed| listed == *version)) {
                return Ok(true);
            }
            for range in affected.ranges.iter().filter(|range| range.kind == "ECOSYSTEM") {
                if self.in_range(range, version)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    fn in_range(&self, range: &Range, version: &Version) -> Result<bool> {
        let parse = |text: &str| {
            Version::parse(text).ok_or_else(|| {
                Error::new(
                    ErrorKind::EvidenceInvalid,
                    format!("OSV record {}: `{text}` is not a PEP 440 version", self.id),
                )
                .hint("update the vulnerability database; a record that cannot be read is not skipped")
            })
        };
        // (version, order within equal versions, kind): introduced before fixed at the same version.
        let mut events: Vec<(Option<Version>, u8, &str)> = Vec::new();
        for event in &range.events {
            if let Some(text) = &event.introduced {
                events.push((if text == "0" { None } else { Some(parse(text)?) }, 0, "introduced"));
            }
            if let Some(text) = &event.fixed {
                events.push((Some(parse(text)?), 1, "fixed"));
            }
            if let Some(text) = &event.last_affected {
                events.push((Some(parse(text)?), 1, "last_affected"));
            }
        }
        events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut affected = false;
        for (at, _, kind) in &events {
            match (*kind, at) {
                ("introduced", None) => affected = true,
                ("introduced", Some(at)) if version >= at => affected = true,
                ("fixed", Some(at)) if version >= at => affected = false,
                ("last_affected", Some(at)) if version > at => affected = false,
                _ => {}
            }
        }
        Ok(affected)
    }

    /// The first version after `version` that fixes it, over the package's ranges.
    pub fn fixed_after(&self, name: &str, version: &Version) -> Option<String> {
        let wanted = normalize_name(name);
        self.affected
            .iter()
            .filter(|affected| affected.package.as_ref().is_some_and(|package| normalize_name(&package.name) == wanted))
            .flat_map(|affected| &affected.ranges)
            .flat_map(|range| &range.events)
            .filter_map(|event| event.fixed.as_deref())
            .filter_map(|text| Version::parse(text).filter(|fixed| fixed > version).map(|fixed| (fixed, text)))
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, text)| text.to_string())
    }

    /// The advisory's rating.
    pub fn rating(&self) -> Rating {
        let entries = self.severity.iter().chain(self.affected.iter().flat_map(|affected| &affected.severity));
        for entry in entries {
            if entry.kind == "CVSS_V3" {
                if let Some(score) = cvss::base_score_v3(&entry.score) {
                    return Rating {
                        severity: score.severity.to_string(),
                        score: Some(score.base),
                        source: "CVSS_V3".into(),
                    };
                }
            }
        }
        let named = self
            .database_specific
            .as_ref()
            .and_then(|specific| specific.get("severity"))
            .and_then(|severity| severity.as_str())
            .map(|severity| match severity.to_ascii_lowercase().as_str() {
                "moderate" | "medium" => "medium".to_string(),
                other => other.to_string(),
            });
        match named {
            Some(severity) if matches!(severity.as_str(), "low" | "medium" | "high" | "critical") => {
                Rating { severity, score: None, source: "database_specific".into() }
            }
            _ => Rating { severity: "unknown".into(), score: None, source: "none".into() },
        }
    }
}

/// The largest record read (the biggest advisories are a few hundred KiB).
const MAX_RECORD: u64 = 16 << 20;

/// Reads every record of an offline database: a folder of `*.json` records (searched
/// recursively) or an `all.zip` of them. Records are keyed by the PyPI package names they
/// name, normalised.
pub fn load(path: &Path) -> Result<BTreeMap<String, Vec<Record>>> {
    let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
    if path.is_dir() {
        for entry in super::digest::walk(path, &[])? {
            if entry.path.ends_with(".json") && matches!(entry.kind, super::digest::EntryKind::File { .. }) {
                let file = path.join(&entry.path);
                let bytes = crate::input::read(&file, MAX_RECORD, "an OSV record")?;
                texts.push((entry.path, bytes));
            }
        }
    } else {
        let mut file = crate::input::open(path)?;
        let len = file.metadata().map_err(|source| Error::read(path, source))?.len();
        let report = super::container::read_zip(&mut file, len);
        if let Some(problem) = report.findings.first() {
            return Err(Error::new(ErrorKind::EvidenceInvalid, format!("{}: {}", path.display(), problem.why))
                .hint("download the ecosystem's all.zip again (osv-scanner --offline --download-offline-databases)"));
        }
        for member in report.members.iter().filter(|member| member.name.ends_with(".json")) {
            let bytes = super::container::read_member(&mut file, member, MAX_RECORD).map_err(|why| {
                Error::new(ErrorKind::EvidenceInvalid, format!("{}: {why}", path.display()))
                    .hint("download the ecosystem's all.zip again")
            })?;
            texts.push((member.name.clone(), bytes));
        }
    }
    let mut records: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for (name, bytes) in texts {
        let shown = format!("{}: record {name}", path.display());
        let source = crate::strict::Source::new(Path::new(&shown), "an OSV record", ErrorKind::EvidenceInvalid);
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::new(ErrorKind::EvidenceInvalid, format!("{shown}: not UTF-8")).hint("OSV records are UTF-8 JSON")
        })?;
        let record: Record = crate::strict::read(text, crate::strict::Syntax::Json, &source).map_err(|error| {
            error.hint("the database must hold OSV JSON records (https://ossf.github.io/osv-schema/)")
        })?;
        let mut names: Vec<String> = record
            .affected
            .iter()
            .filter_map(|affected| affected.package.as_ref())
            .filter(|package| package.ecosystem.eq_ignore_ascii_case("pypi"))
            .map(|package| normalize_name(&package.name))
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            records.entry(name).or_default().push(record.clone());
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_prefers_the_summary_and_cuts_long_details_at_a_word() {
        let record = |summary: Option<&str>, details: Option<&str>| Record {
            id: "X".into(),
            withdrawn: None,
            aliases: Vec::new(),
            summary: summary.map(str::to_string),
            details: details.map(str::to_string),
            severity: Vec::new(),
            affected: Vec::new(),
            database_specific: None,
        };
        assert_eq!(record(Some("Short."), Some("Long text")).headline().as_deref(), Some("Short."));
        assert_eq!(record(Some("  "), Some("a\n b")).headline().as_deref(), Some("a b"));
        let long = "word ".repeat(100);
        let line = record(None, Some(&long)).headline().expect("headline");
        assert!(line.ends_with("word…") && line.chars().count() <= 201, "{line}");
        assert_eq!(record(None, None).headline(), None);
    }

    fn record(json: &str) -> Record {
        serde_json::from_str(json).expect("record")
    }

    const TORCH: &str = r#"{
        "id": "GHSA-test-torch", "aliases": ["CVE-0000-0001"], "summary": "load runs code",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Torch"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.6.0"}]},
                                 {"type": "ECOSYSTEM", "events": [{"introduced": "3.0.0rc1"}, {"last_affected": "3.0.1"}]}],
                      "versions": ["9.9.9"]}]
    }"#;

    fn affected(record: &Record, name: &str, version: &str) -> bool {
        record.affects(name, &Version::parse(version).expect("version")).expect("judged")
    }

    #[test]
    fn ranges_follow_pep440_order() {
        let torch = record(TORCH);
        assert!(affected(&torch, "torch", "2.5.1"));
        assert!(affected(&torch, "torch", "2.6.0rc1"), "a pre-release of the fix is still before it");
        assert!(!affected(&torch, "torch", "2.6.0"));
        assert!(!affected(&torch, "torch", "2.6"), "2.6 == 2.6.0");
        assert!(!affected(&torch, "torch", "2.6.0.post1"));
        assert!(!affected(&torch, "torch", "3.0.0b1"));
        assert!(affected(&torch, "torch", "3.0.0"));
        assert!(affected(&torch, "torch", "3.0.1"), "last_affected is included");
        assert!(!affected(&torch, "torch", "3.0.2"));
        assert!(affected(&torch, "torch", "9.9.9"), "listed versions");
        assert!(affected(&torch, "TORCH", "1.0"), "names compare as PEP 503 says");
        assert!(!affected(&torch, "torchvision", "1.0"));
    }

    #[test]
    fn withdrawn_records_and_other_ecosystems_do_not_match() {
        let withdrawn =
            record(&TORCH.replace(r#""id": "GHSA-test-torch","#, r#""id": "x", "withdrawn": "2025-01-01T00:00:00Z","#));
        assert!(!affected(&withdrawn, "torch", "1.0"));
        let npm = record(&TORCH.replace("PyPI", "npm"));
        assert!(!affected(&npm, "torch", "1.0"));
    }

    #[test]
    fn an_unreadable_event_version_is_an_error() {
        let bad = record(&TORCH.replace("2.6.0", "not-a-version"));
        let error = bad.affects("torch", &Version::parse("1.0").expect("v")).expect_err("unreadable");
        assert!(error.message.contains("GHSA-test-torch"), "{}", error.message);
    }

    #[test]
    fn rating_prefers_the_cvss_vector() {
        let torch = record(TORCH);
        assert_eq!(torch.rating(), Rating { severity: "critical".into(), score: Some(9.8), source: "CVSS_V3".into() });
        let github = record(
            r#"{"id": "g", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N"}], "database_specific": {"severity": "MODERATE"}}"#,
        );
        assert_eq!(github.rating().severity, "medium");
        assert_eq!(record(r#"{"id": "n"}"#).rating().severity, "unknown");
    }

    #[test]
    fn loads_a_folder_of_records_by_package_and_names_a_bad_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("PyPI")).expect("mkdir");
        std::fs::write(dir.path().join("PyPI/GHSA-test-torch.json"), TORCH).expect("write");
        std::fs::write(dir.path().join("README.md"), "not a record").expect("write");
        let records = load(dir.path()).expect("load");
        assert_eq!(records.keys().collect::<Vec<_>>(), ["torch"]);
        std::fs::write(dir.path().join("PyPI/bad.json"), r#"{"id": 7}"#).expect("write");
        let error = load(dir.path()).expect_err("bad record");
        assert!(error.message.contains("PyPI/bad.json") && error.message.contains("`id`"), "{}", error.message);
    }

    #[test]
    fn names_normalise_as_pep503() {
        assert_eq!(normalize_name("Foo.Bar__baz-"), "foo-bar-baz");
        assert_eq!(normalize_name("scikit_learn"), "scikit-learn");
    }
}
