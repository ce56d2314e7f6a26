//! The native evaluation collector: metrics computed from the predictions file named in
//! modelgate.toml `[evaluation]`, and serving figures from its load-test report.

use std::io::IsTerminal;

use super::{Collector, Context};
use crate::error::Result;
use crate::evaluation::{self, BaselineSpec, Columns, Spec};
use crate::evidence::Evidence;

pub struct Predictions;

impl Collector for Predictions {
    fn name(&self) -> &'static str {
        "evaluation"
    }

    fn collect(&self, context: &Context, evidence: &mut Evidence) -> Result<()> {
        let Some(config) = &context.config.config.evaluation else { return Ok(()) };
        let spec = Spec {
            predictions: context.config.resolve(&config.predictions),
            display_path: config.predictions.display().to_string(),
            task: evidence.model.task,
            columns: Columns {
                label: config.label.clone(),
                prediction: config.prediction.clone(),
                score: config.score.clone(),
                weight: config.weight.clone(),
            },
            sensitive: config.sensitive.clone(),
            positive_label: config.positive_label.clone(),
            scores: config.scores,
            drop_missing: config.drop_missing,
            to_overall: config.to_overall,
            bootstrap: config.bootstrap.clone(),
            baseline: config.baseline.as_ref().map(|baseline| BaselineSpec {
                predictions: context.config.resolve(&baseline.predictions),
                model_version: baseline.version.clone(),
            }),
            progress: std::io::stderr().is_terminal(),
        };
        let mut section = evaluation::evaluate(&spec)?;
        if let Some(serving) = &config.serving {
            let path = context.config.resolve(&serving.report);
            let mut figures = crate::serving::read_report(&path)?;
            figures.source = Some(serving.report.display().to_string());
            section.serving = Some(figures);
        }
        evidence.evaluation = Some(section);
        Ok(())
    }
}
