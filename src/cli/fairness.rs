//! `modelgate fairness`: the evaluation section computed from a predictions file, shown as
//! per-group tables (text) or printed as the evidence section (json).

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use modelgate::error::Result;
use modelgate::evaluation::{self, BaselineSpec, BootstrapSpec, Columns, ScoreKind, Spec};
use modelgate::evidence::{Evaluation, FairnessAttribute, MetricMap, Task};
use modelgate::exit::ExitStatus;

#[derive(Debug, Args)]
pub struct FairnessArgs {
    /// The model's predictions on the held-out test set: CSV, gzip CSV or Parquet.
    #[arg(long, value_name = "FILE")]
    predictions: PathBuf,
    /// Column of true labels (true values for regression).
    #[arg(long, value_name = "COL")]
    label: String,
    /// Column of predicted labels (predicted values for regression).
    #[arg(long, value_name = "COL")]
    prediction: String,
    /// Column of scores: probability of the positive class (binary only).
    #[arg(long, value_name = "COL")]
    score: Option<String>,
    /// Column of sample weights.
    #[arg(long, value_name = "COL")]
    weight: Option<String>,
    /// A sensitive attribute, or several joined by commas for their intersection
    /// (`race,sex`). Repeat for more.
    #[arg(long, value_name = "COL[,COL]")]
    sensitive: Vec<String>,
    /// The positive class (default: 1 or true when the labels are {0,1}, {-1,1} or {false,true}).
    #[arg(long, value_name = "VALUE")]
    pos_label: Option<String>,
    /// The task the predictions are for.
    #[arg(long, value_enum, default_value_t = TaskArg::BinaryClassification)]
    task: TaskArg,
    /// What the score column holds.
    #[arg(long, value_enum, default_value_t = ScoreKind::Probability)]
    scores: ScoreKind,
    /// The deployed model's predictions on the same test set (same rows, same order).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Leave out rows with a missing cell instead of failing.
    #[arg(long)]
    drop_missing: bool,
    /// Also compare each group with the overall value (fairlearn's method="to_overall").
    #[arg(long)]
    to_overall: bool,
    /// Bootstrap confidence intervals with this many replicates (binary only).
    #[arg(long, value_name = "N")]
    bootstrap: Option<u32>,
    /// Confidence level of the bootstrap intervals.
    #[arg(long, value_name = "LEVEL", default_value_t = 0.95, requires = "bootstrap")]
    level: f64,
    /// Seed of the bootstrap.
    #[arg(long, value_name = "SEED", default_value_t = 0, requires = "bootstrap")]
    seed: u64,
    #[command(flatten)]
    output: super::SectionOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TaskArg {
    BinaryClassification,
    MulticlassClassification,
    Regression,
}

pub fn run(args: FairnessArgs) -> ExitStatus {
    match evaluate(&args).and_then(|evaluation| args.output.write(&evaluation, render)) {
        Ok(()) => ExitStatus::Success,
        Err(error) => {
            super::print_error(&error);
            ExitStatus::Error
        }
    }
}

fn evaluate(args: &FairnessArgs) -> Result<Evaluation> {
    let spec = Spec {
        predictions: args.predictions.clone(),
        display_path: args.predictions.display().to_string(),
        task: match args.task {
            TaskArg::BinaryClassification => Task::BinaryClassification,
            TaskArg::MulticlassClassification => Task::MulticlassClassification,
            TaskArg::Regression => Task::Regression,
        },
        columns: Columns {
            label: args.label.clone(),
            prediction: args.prediction.clone(),
            score: args.score.clone(),
            weight: args.weight.clone(),
        },
        sensitive: args.sensitive.clone(),
        positive_label: args.pos_label.clone(),
        scores: args.scores,
        drop_missing: args.drop_missing,
        to_overall: args.to_overall,
        bootstrap: args.bootstrap.map(|replicates| BootstrapSpec { replicates, level: args.level, seed: args.seed }),
        baseline: args.baseline.clone().map(|predictions| BaselineSpec { predictions, model_version: None }),
        progress: std::io::stderr().is_terminal(),
    };
    evaluation::evaluate(&spec)
}

/// The evaluation as tables a person reads in a terminal or a CI log.
pub fn render(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    if let Some(test_set) = &evaluation.test_set {
        let format = test_set.format.as_deref().unwrap_or("table");
        let dropped =
            test_set.dropped_rows.map(|n| format!(", {n} rows with missing cells left out")).unwrap_or_default();
        let _ = writeln!(out, "Test set {} ({} rows, {format}{dropped})", test_set.path, test_set.rows);
        let _ = writeln!(out, "  {}", test_set.digest);
    }
    let _ = writeln!(out, "\nOverall");
    metric_lines(&mut out, &evaluation.metrics, &evaluation.reasons, "  ");
    if let Some(matrix) = &evaluation.confusion_matrix {
        let _ = writeln!(out, "\nConfusion matrix (rows: true label, columns: predicted)");
        let width = matrix.labels.iter().map(String::len).max().unwrap_or(0).max(8);
        let _ = write!(out, "  {:width$}", "");
        for label in &matrix.labels {
            let _ = write!(out, " {label:>width$}");
        }
        out.push('\n');
        for (label, row) in matrix.labels.iter().zip(&matrix.matrix) {
            let _ = write!(out, "  {label:width$}");
            for cell in row {
                let _ = write!(out, " {:>width$}", number(Some(*cell)));
            }
            out.push('\n');
        }
    }
    if let Some(classes) = &evaluation.classes {
        let _ = writeln!(out, "\nPer class");
        let rows: Vec<(String, &MetricMap)> = classes.iter().map(|(name, metrics)| (name.clone(), metrics)).collect();
        table(&mut out, "class", &rows, &["precision", "recall", "f1", "support"]);
    }
    for (key, entry) in evaluation.fairness.iter().flatten() {
        fairness_section(&mut out, key, entry);
    }
    if let Some(intervals) = &evaluation.intervals {
        let _ = writeln!(
            out,
            "\nBootstrap {:.0}% intervals ({} replicates, seed {})",
            intervals.level * 100.0,
            intervals.replicates,
            intervals.seed
        );
        for (name, interval) in &intervals.metrics {
            let _ = writeln!(out, "  {name:32} [{}, {}]", number(interval.lower), number(interval.upper));
        }
        for (key, aggregates) in &intervals.fairness {
            for (name, interval) in aggregates {
                let label = format!("{key}: {name}");
                let _ = writeln!(out, "  {label:32} [{}, {}]", number(interval.lower), number(interval.upper));
            }
        }
    }
    if let Some(baseline) = &evaluation.baseline {
        let _ = writeln!(out, "\nAgainst the baseline (candidate − baseline)");
        for (name, delta) in &baseline.deltas {
            let reference = baseline.metrics.get(name).copied().flatten();
            let candidate = evaluation.metrics.get(name).copied().flatten();
            let _ = writeln!(
                out,
                "  {name:20} {:>10} → {:>10}   {:>+10}",
                number(reference),
                number(candidate),
                delta.map(|d| format!("{d:+.4}")).unwrap_or_else(|| "-".into())
            );
        }
    }
    out
}

fn fairness_section(out: &mut String, key: &str, entry: &FairnessAttribute) {
    let _ = writeln!(out, "\nFairness by {key} ({} groups)", entry.groups.len());
    let columns: &[&str] = if entry.groups.values().any(|g| g.metrics.contains_key("selection_rate")) {
        &["selection_rate", "tpr", "fpr", "accuracy"]
    } else if entry.groups.values().any(|g| g.metrics.contains_key("mae")) {
        &["mae", "rmse", "mean_error"]
    } else {
        &["accuracy", "f1_macro"]
    };
    let rows: Vec<(String, MetricMap)> = entry
        .groups
        .iter()
        .map(|(name, stats)| {
            let mut metrics = stats.metrics.clone();
            metrics.insert("count".into(), Some(stats.count as f64));
            if let Some(positives) = stats.positives {
                metrics.insert("positives".into(), Some(positives as f64));
            }
            (name.clone(), metrics)
        })
        .collect();
    let mut shown = vec!["count"];
    if rows.iter().any(|(_, m)| m.contains_key("positives")) {
        shown.push("positives");
    }
    shown.extend_from_slice(columns);
    let borrowed: Vec<(String, &MetricMap)> = rows.iter().map(|(name, metrics)| (name.clone(), metrics)).collect();
    table(out, "group", &borrowed, &shown);
    let aggregates = [
        ("demographic parity difference", entry.demographic_parity_difference, "demographic_parity_difference"),
        ("demographic parity ratio", entry.demographic_parity_ratio, "demographic_parity_ratio"),
        ("equalized odds difference", entry.equalized_odds_difference, "equalized_odds_difference"),
        ("equalized odds ratio", entry.equalized_odds_ratio, "equalized_odds_ratio"),
        ("equal opportunity difference", entry.equal_opportunity_difference, "equal_opportunity_difference"),
        ("equal opportunity ratio", entry.equal_opportunity_ratio, "equal_opportunity_ratio"),
    ];
    let binary = entry.groups.values().any(|g| g.positives.is_some());
    if binary {
        for (label, value, field) in aggregates {
            aggregate_line(out, label, value, entry, field);
        }
        if let (Some(ratio), Some(passed)) = (entry.four_fifths_ratio, entry.four_fifths_passed) {
            let verdict = if passed { "passes" } else { "FAILS" };
            let _ = writeln!(out, "  {:32} {} ({verdict} the 0.8 threshold)", "four-fifths rule", number(Some(ratio)));
        }
    }
    for (name, value) in &entry.metrics {
        aggregate_line(out, &name.replace('_', " "), *value, entry, name);
    }
    for (name, groups) in &entry.excluded {
        let _ = writeln!(out, "  note: {name} leaves out {} (undefined rate)", groups.join(", "));
    }
}

fn aggregate_line(out: &mut String, label: &str, value: Option<f64>, entry: &FairnessAttribute, field: &str) {
    let reason = entry.reasons.get(field).map(|r| format!("  ({r})")).unwrap_or_default();
    let _ = writeln!(out, "  {label:32} {}{reason}", number(value));
}

fn table(out: &mut String, first: &str, rows: &[(String, &MetricMap)], columns: &[&str]) {
    let name_width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0).max(first.len());
    let _ = write!(out, "  {first:name_width$}");
    for column in columns {
        let _ = write!(out, " {column:>14}");
    }
    out.push('\n');
    for (name, metrics) in rows {
        let _ = write!(out, "  {name:name_width$}");
        for column in columns {
            let _ = write!(out, " {:>14}", number(metrics.get(*column).copied().flatten()));
        }
        out.push('\n');
    }
}

fn metric_lines(
    out: &mut String,
    metrics: &MetricMap,
    reasons: &std::collections::BTreeMap<String, String>,
    indent: &str,
) {
    for (name, value) in metrics {
        let reason = reasons.get(name).map(|r| format!("  ({r})")).unwrap_or_default();
        let _ = writeln!(out, "{indent}{name:20} {}{reason}", number(*value));
    }
}

/// Integers as integers, other numbers to four decimals, `-` for undefined.
fn number(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => format!("{v:.4}"),
    }
}
