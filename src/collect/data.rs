//! The native data collector: the training file named in modelgate.toml `[data]`,
//! checked against its schema, scanned for prohibited data, traced through its lineage
//! and compared with serving data.

use super::{Collector, Context};
use crate::data::drift::{self, DriftSpec};
use crate::data::lineage::{self, LineageSpec};
use crate::data::prohibited;
use crate::data::schema::{self, ValidateSpec};
use crate::error::Result;
use crate::evidence::{Data, Evidence, Lineage};

pub struct TrainingData;

/// The lineage of the training file alone, when `[data.lineage]` is configured (for
/// `modelgate docs check`, which compares the datasets a card names with it).
pub fn lineage_of(context: &Context) -> Result<Option<Lineage>> {
    let Some(config) = &context.config.config.data else { return Ok(None) };
    let Some(lineage) = &config.lineage else { return Ok(None) };
    // The lineage's steps and commands go into the evidence: it must be the project's.
    let path = context.config.resolve(&lineage.path);
    crate::input::inside(&path, context.config.root(), "a lineage file")?;
    lineage::trace(&LineageSpec {
        path,
        format: lineage.format,
        training: context.config.resolve(&config.training),
        training_display: config.training.display().to_string(),
    })
    .map(Some)
}

impl Collector for TrainingData {
    fn name(&self) -> &'static str {
        "data"
    }

    fn collect(&self, context: &Context, evidence: &mut Evidence) -> Result<()> {
        let Some(config) = &context.config.config.data else { return Ok(()) };
        let training = context.config.resolve(&config.training);
        let base = &context.config.base_dir;
        let mut data = Data { schema: None, prohibited: None, lineage: None, drift: None };
        // The prohibited-data scan runs first: a column it flags is sensitive, so the
        // schema check keeps no example of its values (no e-mail address or phone number
        // reaches the evidence, the report or the audit store).
        if let Some(config_prohibited) = &config.prohibited {
            let mut spec = config_prohibited.spec(base, Some(&training))?;
            spec.display_path = config_prohibited.table.as_ref().unwrap_or(&config.training).display().to_string();
            data.prohibited = Some(prohibited::scan(&spec)?);
        }
        if let Some(config_schema) = &config.schema {
            let mut sensitive = config.sensitive_columns.clone();
            for detection in data.prohibited.iter().flat_map(|scan| &scan.detections) {
                if !sensitive.contains(&detection.column) {
                    sensitive.push(detection.column.clone());
                }
            }
            let spec = ValidateSpec::from_config(config_schema, base, &training, &sensitive);
            data.schema = Some(schema::validate(&spec)?);
        }
        data.lineage = lineage_of(context)?;
        if let Some(config_drift) = &config.drift {
            // The training file as written: resolved from `base`, shown as it is.
            let spec = DriftSpec::from_config(config_drift, base, Some(&config.training))?;
            data.drift = Some(drift::measure(&spec)?);
        }
        evidence.data = Some(data);
        Ok(())
    }
}
