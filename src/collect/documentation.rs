//! The native documentation collector: the model card, datasheet and risk assessment named
//! in modelgate.toml `[documentation]` (or found at their default paths), read for what
//! is really filled in, how current each is, and what it claims against the measured
//! evidence. Runs after the evaluation and data collectors, whose results it compares.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{Collector, Context};
use crate::config::LoadedConfig;
use crate::docs::read::{self, ReadOptions};
use crate::docs::{consistency, DocumentationConfig, Kind};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Document, Documentation, Evaluation, Evidence, Lineage};

pub struct Documents;

impl Collector for Documents {
    fn name(&self) -> &'static str {
        "documentation"
    }

    fn collect(&self, context: &Context, evidence: &mut Evidence) -> Result<()> {
        let Some(config) = &context.config.config.documentation else { return Ok(()) };
        let today = collection_day(&evidence.collected_at)?;
        let lineage = evidence.data.as_ref().and_then(|data| data.lineage.as_ref());
        let section = collect_documents(context.config, config, today, evidence.evaluation.as_ref(), lineage)?;
        evidence.documentation = Some(section);
        Ok(())
    }
}

/// The day of collection, from the evidence's `collected_at`.
pub fn collection_day(collected_at: &str) -> Result<NaiveDate> {
    crate::docs::values::parse_date(collected_at).ok_or_else(|| {
        Error::new(ErrorKind::Config, format!("collection time `{collected_at}` is not an RFC 3339 timestamp"))
            .hint("unset MODELGATE_NOW or set it to a timestamp such as 2026-12-01T00:00:00Z")
    })
}

/// Reads the three documents of a project.
pub fn collect_documents(
    project: &LoadedConfig,
    config: &DocumentationConfig,
    today: NaiveDate,
    evaluation: Option<&Evaluation>,
    lineage: Option<&Lineage>,
) -> Result<Documentation> {
    let options = ReadOptions { today, git_dates: config.git_dates };
    let mut documents = [None, None, None];
    for (slot, kind) in documents.iter_mut().zip(Kind::ALL) {
        let mut document = match locate(project, config, kind) {
            Some((path, shown)) if path.is_file() => {
                // What a document holds goes into the evidence: it must be the project's.
                crate::input::inside(&path, project.root(), "a document")?;
                read::read(kind, &path, &shown, &options)?
            }
            Some((path, _)) if path.exists() => {
                return Err(Error::new(
                    ErrorKind::DocumentInvalid,
                    format!("{}: the {} is not a file", path.display(), kind.label()),
                )
                .hint(format!("point [documentation] {} at the document file itself", kind.key())))
            }
            Some((_, shown)) => Document { present: false, path: Some(shown), ..Document::default() },
            None => Document { present: false, ..Document::default() },
        };
        consistency::compare(&mut document, evaluation, lineage);
        *slot = Some(document);
    }
    let [model_card, datasheet, risk_assessment] = documents;
    Ok(Documentation { model_card, datasheet, risk_assessment })
}

/// The configured path (resolved, and as written), or the first default path that exists;
/// `None` when nothing was named and nothing was found.
pub fn locate(project: &LoadedConfig, config: &DocumentationConfig, kind: Kind) -> Option<(PathBuf, String)> {
    if let Some(path) = config.path(kind) {
        return Some((project.resolve(path), path.display().to_string()));
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if kind == Kind::ModelCard {
        if let Some(artifacts) = &project.config.artifacts {
            candidates.push(artifacts.model.join("README.md"));
        }
    }
    candidates.extend(kind.default_paths().iter().map(PathBuf::from));
    candidates
        .into_iter()
        .find(|path| project.resolve(path).is_file())
        .map(|path| (project.resolve(&path), path.display().to_string()))
}
