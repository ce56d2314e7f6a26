//! A governance team's own 30-rule policy set (bench/opa/team/), judged by `eval --batch`
//! on 60 generated documents, against OPA's answers on the same documents, checked in by
//! `bench/opa/team_bench.py --reference` (OPA v1.20.2): every document's deny and warn
//! sets must be the same, value for value.

mod util;

use std::collections::BTreeMap;

use util::{modelgate, root};

/// Numbers compared by value (OPA keeps `200`, regorus may write `200.0`); objects by key.
fn canonical(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Number(number) => format!("{:?}", number.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        serde_json::Value::Object(fields) => {
            let sorted: BTreeMap<&String, String> = fields.iter().map(|(key, value)| (key, canonical(value))).collect();
            format!(
                "{{{}}}",
                sorted.iter().map(|(key, value)| format!("{key:?}:{value}")).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// (package, rule, the value the rule produced), sorted.
fn multiset(items: impl Iterator<Item = (String, String, serde_json::Value)>) -> Vec<String> {
    let mut items: Vec<String> =
        items.map(|(package, rule, raw)| format!("{package} {rule} {}", canonical(&raw))).collect();
    items.sort();
    items
}

#[test]
fn thirty_rules_on_sixty_documents_agree_with_opa() {
    let generated = std::process::Command::new("python3")
        .arg(root().join("bench/opa/team_docs.py"))
        .arg("60")
        .output()
        .expect("python3 runs bench/opa/team_docs.py (CI installs python3)");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let dir = tempfile::tempdir().expect("tempdir");
    let docs = dir.path().join("docs.jsonl");
    std::fs::write(&docs, &generated.stdout).expect("write");
    let run = modelgate(&[
        "eval",
        "--batch",
        "--input",
        &docs.display().to_string(),
        "--policies",
        "bench/opa/team",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "some documents are denied, none is an error\n{}", run.stderr);
    let mut reports: Vec<serde_json::Value> =
        run.stdout.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    let summary = reports.pop().expect("summary");
    assert!(summary["summary"]["allow"].as_u64() > Some(0), "{summary}");
    let reference = std::fs::read_to_string(root().join("bench/opa/team/reference.jsonl")).expect("reference");
    let reference: Vec<serde_json::Value> =
        reference.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
    assert_eq!(reports.len(), reference.len());
    let mut fired = BTreeMap::new();
    for (report, opa) in reports.iter().zip(&reference) {
        let ours = multiset(["violations", "warnings", "exceptions"].iter().flat_map(|list| {
            report[*list].as_array().into_iter().flatten().map(|finding| {
                (
                    finding["policy"]["package"].as_str().unwrap_or_default().to_string(),
                    finding["policy"]["rule"].as_str().unwrap_or_default().to_string(),
                    finding["raw"].clone(),
                )
            })
        }));
        let theirs = multiset(opa["sets"].as_object().expect("sets").iter().flat_map(|(package, rules)| {
            rules.as_object().expect("rules").iter().flat_map(move |(rule, values)| {
                values.as_array().expect("a set").iter().map(move |raw| (package.clone(), rule.clone(), raw.clone()))
            })
        }));
        assert_eq!(ours, theirs, "document {} differs from OPA's answer", opa["line"]);
        for item in &ours {
            let code = item.split("\"code\":\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("?");
            *fired.entry(code.to_string()).or_insert(0) += 1;
        }
    }
    assert!(fired.len() >= 20, "the documents exercise most rules: {fired:?}");
}
