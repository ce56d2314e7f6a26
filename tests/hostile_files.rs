//! The scanner's second wave (issue 18) on the fixtures of tests/fixtures/hostile,
//! written by its generate.py: benign files by the real libraries (scikit-learn, h5py,
//! safetensors), malicious ones by hand. For every fixture, under both globals policies:
//! the format, the verdict, each finding expected (kind, severity, reason, byte offset)
//! and no finding of a false alarm the issue fixed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use modelgate::artifacts::pickle::GlobalsPolicy;
use modelgate::artifacts::scan::{scan_paths, ScanOptions};
use modelgate::evidence::ArtifactFile;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    item: u32,
    label: String,
    format: String,
    safe_allow: bool,
    safe_deny: bool,
    findings: Vec<Finding>,
    absent: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Finding {
    kind: String,
    severity: String,
    why: String,
    offset: Option<u64>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile")
}

fn expected() -> BTreeMap<String, Expected> {
    let text = std::fs::read_to_string(root().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn scan(path: &Path, policy: GlobalsPolicy) -> ArtifactFile {
    let mut files = scan_paths(&[path.to_path_buf()], ScanOptions { policy, ..ScanOptions::default() }).expect("scan");
    assert_eq!(files.len(), 1);
    files.remove(0)
}

fn severity(file: &ArtifactFile, index: usize) -> String {
    serde_json::to_value(file.findings[index].severity).expect("severity").as_str().expect("string").to_string()
}

#[test]
fn every_item_has_malicious_or_benign_fixtures() {
    let expected = expected();
    for item in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] {
        assert!(expected.values().any(|e| e.item == item), "item {item} has no fixture");
    }
    let files = walk(&root().join("files"));
    assert_eq!(files.len(), expected.len(), "every file is in expected.json and the reverse");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn each_fixture_has_its_format_verdict_and_findings() {
    let mut failures = Vec::new();
    for (name, want) in expected() {
        let path = root().join("files").join(&name);
        for (policy, safe) in [(GlobalsPolicy::Allow, want.safe_allow), (GlobalsPolicy::Deny, want.safe_deny)] {
            let file = scan(&path, policy);
            let shown = format!("{name} ({policy:?}, item {}, {}): {:#?}", want.item, want.label, file.findings);
            if file.format != want.format {
                failures.push(format!("format {:?}, not {:?}: {shown}", file.format, want.format));
            }
            if file.safe != safe {
                failures.push(format!("safe is {}, not {safe}: {shown}", file.safe));
            }
            for finding in &want.findings {
                let found = (0..file.findings.len()).any(|i| {
                    let f = &file.findings[i];
                    f.kind == finding.kind
                        && severity(&file, i) == finding.severity
                        && (f.why.contains(&finding.why) || f.global.as_deref() == Some(finding.why.as_str()))
                        && finding.offset.is_none_or(|offset| f.offset == Some(offset))
                });
                if !found {
                    failures.push(format!("no {finding:?}: {shown}"));
                }
            }
            for absent in &want.absent {
                if file.findings.iter().any(|f| f.why.contains(absent.as_str())) {
                    failures.push(format!("a finding says {absent:?}: {shown}"));
                }
            }
            if want.label == "benign" {
                let alarms: Vec<_> = (0..file.findings.len())
                    .filter(|i| matches!(severity(&file, *i).as_str(), "high" | "critical"))
                    .filter(|i| file.findings[*i].kind != "global")
                    .collect();
                if !alarms.is_empty() {
                    failures.push(format!("a high finding on a benign file: {shown}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
