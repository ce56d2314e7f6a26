//! What the documents say against what the gate measured: metric values a model card
//! claims against the metrics computed from the test set, and the datasets it names
//! against the training data in the lineage. The tolerance is policy data; this only
//! puts the numbers side by side.

use crate::evidence::{Document, Evaluation, Lineage};

/// The gate's name for a metric as cards write it (`AUC`, `roc-auc`, `F1 score`, `acc`).
pub fn metric_name(kind: &str) -> String {
    let key: String = kind
        .trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .split('_')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let name = match key.as_str() {
        "acc" | "accuracy_score" => "accuracy",
        "auc" | "roc" | "auroc" | "roc_auc_score" | "rocauc" | "auc_roc" => "roc_auc",
        "f1_score" | "f_1" | "f1score" | "f_measure" | "fscore" | "f_score" => "f1",
        "precision_score" | "ppv" => "precision",
        "recall_score" | "sensitivity" | "tpr" | "true_positive_rate" => "recall",
        "specificity" | "true_negative_rate" => "tnr",
        "auprc" | "average_precision" | "ap" | "pr_auc_score" | "aupr" => "pr_auc",
        "balanced_accuracy_score" | "bacc" => "balanced_accuracy",
        "logloss" | "cross_entropy" | "log_loss_score" => "log_loss",
        "brier_score" | "brier_score_loss" => "brier",
        "r_squared" | "r2_score" | "coefficient_of_determination" => "r2",
        "macro_f1" | "f1_macro_avg" => "f1_macro",
        "weighted_f1" | "f1_weighted_avg" => "f1_weighted",
        "macro_precision" => "precision_macro",
        "macro_recall" => "recall_macro",
        "weighted_precision" => "precision_weighted",
        "weighted_recall" => "recall_weighted",
        "mean_absolute_error" => "mae",
        "mean_squared_error" => "mse",
        "root_mean_squared_error" => "rmse",
        other => other,
    };
    name.to_string()
}

/// Metrics that are fractions: a card that writes 93.2 for accuracy means 0.932.
const FRACTIONS: &[&str] = &[
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "tpr",
    "tnr",
    "fpr",
    "fnr",
    "selection_rate",
];

/// A claimed value as a fraction: a percentage (over 1, at most 100) of a fractional
/// metric is divided by 100.
pub fn as_fraction(metric: &str, value: f64) -> f64 {
    if FRACTIONS.contains(&metric) && value > 1.0 && value <= 100.0 {
        value / 100.0
    } else {
        value
    }
}

/// Split names that mean the held-out test set the gate measures on. A claim on another
/// split (validation, an out-of-time sample) is shown but not compared.
const TEST_SPLITS: &[&str] = &["test", "testing", "holdout", "hold-out", "held-out", "heldout", "eval", "evaluation"];

/// Puts each claim beside the measured value, and each named dataset beside the lineage.
pub fn compare(document: &mut Document, evaluation: Option<&Evaluation>, lineage: Option<&Lineage>) {
    for claim in &mut document.claims {
        if claim.not_compared.is_some() {
            continue;
        }
        if let Some(split) =
            claim.split.as_deref().filter(|split| !TEST_SPLITS.contains(&split.trim().to_ascii_lowercase().as_str()))
        {
            claim.not_compared =
                Some(format!("claimed on the `{split}` split; the gate measures the held-out test set"));
            continue;
        }
        let Some(evaluation) = evaluation else {
            claim.not_compared = Some("no evaluation evidence to compare with".into());
            continue;
        };
        match evaluation.metrics.get(&claim.metric) {
            Some(Some(measured)) => {
                claim.measured = Some(*measured);
                claim.difference = Some(round((claim.claimed - measured).abs()));
            }
            Some(None) => claim.not_compared = Some(format!("the gate could not compute {}", claim.metric)),
            None => claim.not_compared = Some(format!("the gate does not measure {}", claim.metric)),
        }
    }
    let Some(lineage) = lineage else { return };
    let mut known: Vec<&str> = lineage.training_data.iter().map(String::as_str).collect();
    for stage in &lineage.stages {
        known.extend(stage.inputs.iter().chain(&stage.outputs).map(String::as_str));
    }
    for dataset in &mut document.datasets {
        dataset.in_lineage = Some(known.iter().any(|path| same_dataset(&dataset.name, path)));
    }
}

/// Two names of one dataset: equal, or one's trailing path components are the other
/// (`s3://bucket/data/train.parquet` and `data/train.parquet`).
fn same_dataset(name: &str, path: &str) -> bool {
    let parts = |text: &str| -> Vec<String> {
        let text = text.split_once("://").map_or(text, |(_, rest)| rest);
        text.split('/').filter(|part| !part.is_empty() && *part != ".").map(str::to_string).collect()
    };
    let (a, b) = (parts(name), parts(path));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a.ends_with(&b) || b.ends_with(&a)
}

/// Differences without float noise (0.050000000000000044 → 0.05), to 12 places.
fn round(value: f64) -> f64 {
    (value * 1e12).round() / 1e12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_and_percentages() {
        assert_eq!(metric_name("AUC"), "roc_auc");
        assert_eq!(metric_name("roc-auc"), "roc_auc");
        assert_eq!(metric_name("F1 Score"), "f1");
        assert_eq!(metric_name("accuracy"), "accuracy");
        assert_eq!(metric_name("Average Precision"), "pr_auc");
        assert_eq!(metric_name("macro-F1"), "f1_macro");
        assert_eq!(metric_name("f1_weighted"), "f1_weighted");
        assert_eq!(as_fraction("accuracy", 93.2), 0.932);
        assert_eq!(as_fraction("accuracy", 0.932), 0.932);
        assert_eq!(as_fraction("mae", 93.2), 93.2);
        assert!(same_dataset("s3://bank/data/train.parquet", "data/train.parquet"));
        assert!(same_dataset("data/train.parquet", "/work/project/data/train.parquet"));
        assert!(!same_dataset("internal/loans", "data/train.parquet"));
    }
}
