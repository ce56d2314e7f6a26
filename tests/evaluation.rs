//! The evaluation collector against fairlearn 0.15 and scikit-learn, on the fixtures that
//! `tests/fixtures/evaluation/generate.py` made by running them (values to 1e-9).
//!
//! Every value fairlearn or scikit-learn reported is compared. Where modelgate
//! deliberately differs (docs/evaluation.md, "Where we differ from fairlearn"), the
//! difference must be exactly one of the documented kinds, and the whole list of
//! differences is pinned in `tests/fixtures/evaluation/deviations.json`: a new or a
//! vanished difference fails the test.

mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use modelgate::evaluation::{self, BaselineSpec, Columns, ScoreKind, Spec};
use modelgate::evidence::Task;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(util::fixture("evaluation/cases"))
        .expect("cases folder")
        .map(|entry| entry.expect("entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 13, "fixture cases missing");
    cases
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

/// The spec the fixture describes.
fn spec(dir: &Path, expected: &Value) -> Spec {
    let input = &expected["input"];
    let file = dir.join(input["file"].as_str().expect("file"));
    Spec {
        display_path: file.display().to_string(),
        predictions: file,
        task: match expected["task"].as_str() {
            Some("binary_classification") => Task::BinaryClassification,
            Some("multiclass_classification") => Task::MulticlassClassification,
            Some("regression") => Task::Regression,
            other => panic!("task {other:?}"),
        },
        columns: Columns {
            label: text(&input["label"]).expect("label"),
            prediction: text(&input["prediction"]).expect("prediction"),
            score: text(&input["score"]),
            weight: text(&input["weight"]),
        },
        sensitive: input["sensitive"].as_array().expect("sensitive").iter().filter_map(text).collect(),
        positive_label: text(&input["pos_label"]),
        scores: ScoreKind::Probability,
        drop_missing: false,
        to_overall: true,
        bootstrap: None,
        baseline: text(&input["baseline"])
            .map(|name| BaselineSpec { predictions: dir.join(name), model_version: Some("1.0".into()) }),
        progress: false,
    }
}

/// Expected values by path, from fairlearn's and scikit-learn's output (None: NaN).
fn expected_values(expected: &Value) -> BTreeMap<String, Option<f64>> {
    let mut values = BTreeMap::new();
    for (name, value) in expected["metrics"].as_object().expect("metrics") {
        values.insert(format!("metrics/{name}"), value.as_f64());
    }
    for (name, value) in expected["baseline_metrics"].as_object().into_iter().flatten() {
        values.insert(format!("baseline/{name}"), value.as_f64());
    }
    let matrix = &expected["confusion_matrix"];
    if let Some(tn) = matrix.get("tn") {
        for (cell, value) in [("tn", tn), ("fp", &matrix["fp"]), ("fn", &matrix["fn"]), ("tp", &matrix["tp"])] {
            values.insert(format!("confusion/{cell}"), value.as_f64());
        }
    } else if let Some(rows) = matrix["matrix"].as_array() {
        for (t, row) in rows.iter().enumerate() {
            for (p, cell) in row.as_array().expect("row").iter().enumerate() {
                values.insert(format!("confusion/{t}/{p}"), cell.as_f64());
            }
        }
    }
    for (key, entry) in expected["fairness"].as_object().expect("fairness") {
        for (field, value) in entry.as_object().expect("entry") {
            match field.as_str() {
                "groups" => {
                    for (group, stats) in value.as_object().expect("groups") {
                        for (name, value) in stats.as_object().expect("stats") {
                            values.insert(format!("fairness/{key}/groups/{group}/{name}"), value.as_f64());
                        }
                    }
                }
                "to_overall" => {
                    for (name, value) in value.as_object().expect("to_overall") {
                        values.insert(format!("fairness/{key}/to_overall/{name}"), value.as_f64());
                    }
                }
                _ => {
                    values.insert(format!("fairness/{key}/{field}"), value.as_f64());
                }
            }
        }
    }
    values
}

/// Our value at an expected path, and the reason we give when it is null.
fn actual_value(actual: &Value, path: &str) -> (Option<f64>, Option<String>) {
    let parts: Vec<&str> = path.split('/').collect();
    let reason_of = |container: &Value, name: &str| text(&container["reasons"][name]);
    match parts.as_slice() {
        ["metrics", name] => {
            if let Some((metric, class)) = name.split_once('.') {
                (actual["classes"][class][metric].as_f64(), None)
            } else {
                (actual["metrics"][name].as_f64(), reason_of(actual, name))
            }
        }
        ["baseline", name] => (actual["baseline"]["metrics"][name].as_f64(), reason_of(&actual["baseline"], name)),
        ["confusion", cell] => {
            let (t, p) = match *cell {
                "tn" => (0, 0),
                "fp" => (0, 1),
                "fn" => (1, 0),
                _ => (1, 1),
            };
            (actual["confusion_matrix"]["matrix"][t][p].as_f64(), None)
        }
        ["confusion", t, p] => {
            let (t, p): (usize, usize) = (t.parse().expect("t"), p.parse().expect("p"));
            (actual["confusion_matrix"]["matrix"][t][p].as_f64(), None)
        }
        ["fairness", key, "groups", group, name] => {
            let stats = &actual["fairness"][key]["groups"][group];
            let value = match *name {
                "count" | "weight" | "positives" | "negatives" => stats[name].as_f64(),
                _ => stats["metrics"][name].as_f64(),
            };
            (value, reason_of(stats, name))
        }
        ["fairness", key, "to_overall", name] => {
            let entry = &actual["fairness"][key];
            (entry["to_overall"][name].as_f64(), reason_of(entry, &format!("to_overall.{name}")))
        }
        ["fairness", key, name] => {
            let entry = &actual["fairness"][key];
            let value = entry.get(*name).and_then(Value::as_f64).or_else(|| entry["metrics"][name].as_f64());
            (value, reason_of(entry, name))
        }
        _ => panic!("unexpected path {path}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOLERANCE * (1.0 + b.abs())
}

#[test]
fn values_match_fairlearn_and_scikit_learn() {
    let mut deviations: BTreeMap<String, Value> = BTreeMap::new();
    let mut compared = 0;
    let mut recomputed: BTreeSet<String> = BTreeSet::new();
    for dir in cases() {
        let case = dir.file_name().expect("name").to_string_lossy().to_string();
        let expected = read_json(&dir.join("expected.json"));
        let evaluation = evaluation::evaluate(&spec(&dir, &expected)).unwrap_or_else(|e| panic!("{case}: {e}"));
        let actual = serde_json::to_value(&evaluation).expect("serializes");
        assert_eq!(actual["test_set"]["rows"].as_u64(), expected["rows"].as_u64(), "{case}: rows");
        for (path, want) in expected_values(&expected) {
            let (got, reason) = actual_value(&actual, &path);
            compared += 1;
            let agrees = match (want, got) {
                (Some(want), Some(got)) => close(got, want),
                (None, None) => true,
                _ => false,
            };
            if let (false, Some(got)) = (agrees, got) {
                // A group left out of the aggregate: the value must be fairlearn's formula
                // over fairlearn's own group values, without the excluded groups.
                if let Some(value) = without_excluded(&expected, &actual, &path) {
                    assert!(close(got, value), "{case}: {path}: {got} but {value} without the excluded groups");
                    recomputed.insert(format!("{case}: {path}"));
                }
            }
            if !agrees {
                deviations.insert(
                    format!("{case}: {path}"),
                    serde_json::json!({"fairlearn": want, "modelgate": got, "reason": reason}),
                );
            }
        }
    }
    assert!(compared > 1000, "only {compared} values compared");
    assert!(recomputed.len() >= 10, "only {} aggregates with excluded groups were recomputed", recomputed.len());
    check_deviations(&deviations, &recomputed);
}

/// fairlearn's aggregate at `path` recomputed from fairlearn's group values, leaving out the
/// groups whose rate is undefined; `None` when our evidence excludes no group from it.
fn without_excluded(expected: &Value, actual: &Value, path: &str) -> Option<f64> {
    let parts: Vec<&str> = path.split('/').collect();
    let (key, overall, name) = match parts.as_slice() {
        ["fairness", key, "to_overall", name] => (*key, true, *name),
        ["fairness", key, name] => (*key, false, *name),
        _ => return None,
    };
    let entry = &actual["fairness"][key];
    // Only aggregates we say have excluded groups; which groups, from fairlearn's own counts:
    // TPR is undefined without positives, FPR without negatives.
    entry["excluded"][name].as_array().filter(|groups| !groups.is_empty())?;
    let components: &[&str] = if name.starts_with("demographic_parity") {
        &["selection_rate"]
    } else if name.starts_with("equal_opportunity") {
        &["tpr"]
    } else {
        &["tpr", "fpr"]
    };
    let is_ratio = name.contains("_ratio");
    let statistics: Vec<f64> = components
        .iter()
        .map(|metric| {
            let groups: Vec<f64> = expected["fairness"][key]["groups"]
                .as_object()
                .expect("groups")
                .iter()
                .filter(|(_, stats)| {
                    let undefined = match *metric {
                        "tpr" => stats["positives"].as_f64() == Some(0.0),
                        "fpr" => stats["negatives"].as_f64() == Some(0.0),
                        _ => false,
                    };
                    !undefined && !stats["count"].is_null()
                })
                .filter_map(|(_, stats)| stats[metric].as_f64())
                .collect();
            let o = expected["metrics"][metric].as_f64().expect("overall");
            let (lo, hi) = groups.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            match (overall, is_ratio) {
                (false, false) => hi - lo,
                (false, true) => lo / hi,
                (true, false) => groups.iter().map(|g| (g - o).abs()).fold(f64::NEG_INFINITY, f64::max),
                (true, true) => groups
                    .iter()
                    .map(|g| g / o)
                    .map(|x| if x > 1.0 { 1.0 / x } else { x })
                    .fold(f64::INFINITY, f64::min),
            }
        })
        .collect();
    Some(if name.ends_with("_mean") {
        statistics.iter().sum::<f64>() / statistics.len() as f64
    } else if is_ratio {
        statistics.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        statistics.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    })
}

/// Every difference from fairlearn must be a documented kind, with the reason stated,
/// and the list must be exactly the pinned one.
fn check_deviations(deviations: &BTreeMap<String, Value>, recomputed: &BTreeSet<String>) {
    for (path, deviation) in deviations {
        let reason = deviation["reason"].as_str().unwrap_or("");
        let fairlearn = deviation["fairlearn"].as_f64();
        let ours = deviation["modelgate"].as_f64();
        let empty_intersection = ours == Some(0.0) && fairlearn.is_none() && path.ends_with("/count");
        let zero_division = ours.is_none() && fairlearn == Some(0.0) && reason.contains("0/0");
        // A number where fairlearn has another: only an aggregate recomputed without its excluded groups.
        let excluded_group = ours.is_some() && fairlearn.is_some() && recomputed.contains(path);
        let explicit_null = ours.is_none() && !reason.is_empty();
        assert!(
            empty_intersection || zero_division || excluded_group || explicit_null,
            "{path}: undocumented difference {deviation}"
        );
    }
    let pinned_path = util::fixture("evaluation/deviations.json");
    let rendered = serde_json::to_string_pretty(deviations).expect("json") + "\n";
    if std::env::var_os("UPDATE_DEVIATIONS").is_some() {
        std::fs::write(&pinned_path, &rendered).expect("write deviations");
    }
    let pinned = std::fs::read_to_string(&pinned_path).unwrap_or_default();
    let pinned: BTreeMap<String, Value> = serde_json::from_str(&pinned).unwrap_or_default();
    let keys = |map: &BTreeMap<String, Value>| map.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(
        keys(deviations),
        keys(&pinned),
        "the differences from fairlearn changed; review them and re-pin with UPDATE_DEVIATIONS=1"
    );
    for (path, deviation) in deviations {
        let pinned = &pinned[path];
        for side in ["fairlearn", "modelgate"] {
            match (deviation[side].as_f64(), pinned[side].as_f64()) {
                (Some(a), Some(b)) => assert!(close(a, b), "{path}: {side} {a} vs pinned {b}"),
                (a, b) => assert_eq!(a, b, "{path}: {side}"),
            }
        }
    }
}
