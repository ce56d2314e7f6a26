//! `modelgate fairness`: the evaluation section computed from a predictions file, shown as
//! per-group tables (text) or printed as the evidence section (json).

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use modelgate::error::Result;
use modelgate::evaluation::{self, BaselineSpec, BootstrapSpec, Columns, ScoreKind, Spec};
use modelgate::evidence::{Evaluation, Task};
use modelgate::exit::ExitStatus;
use modelgate::report::sections;

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
    let result = evaluate(&args).and_then(|evaluation| args.output.write(&evaluation, sections::fairness::write));
    super::check_status(result.map(|()| true))
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
