//! Model documentation: model cards (Hugging Face, Model Card Toolkit JSON), datasheets
//! for datasets (Gebru et al., Hugging Face dataset cards, YAML/JSON) and risk
//! assessments (YAML/JSON, or Markdown with front matter), read into the `documentation`
//! section of the evidence: which fields are really filled in, how current each document
//! is, which model version it describes, and what it claims (docs/documentation.md).
//!
//! Documents are untrusted text: read with a size bound, never rendered or executed.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod consistency;
pub mod fields;
pub mod init;
pub mod markdown;
pub mod read;
pub mod text;
pub mod values;

/// The largest document read (a model card is a few kilobytes; 4 MiB is far beyond any).
pub const MAX_DOCUMENT_BYTES: u64 = 4 * 1024 * 1024;

/// The three documents of the `documentation` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ModelCard,
    Datasheet,
    RiskAssessment,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::ModelCard, Kind::Datasheet, Kind::RiskAssessment];

    /// The key in the evidence and in modelgate.toml.
    pub fn key(self) -> &'static str {
        match self {
            Kind::ModelCard => "model_card",
            Kind::Datasheet => "datasheet",
            Kind::RiskAssessment => "risk_assessment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::ModelCard => "model card",
            Kind::Datasheet => "datasheet",
            Kind::RiskAssessment => "risk assessment",
        }
    }

    /// Where `modelgate docs init` writes the document when it is neither named nor found.
    pub fn scaffold_path(self) -> &'static str {
        match self {
            Kind::ModelCard => "docs/model-card.md",
            Kind::Datasheet => "docs/datasheet.md",
            Kind::RiskAssessment => "docs/risk-assessment.yaml",
        }
    }

    /// Where the document is looked for when modelgate.toml does not name it, relative to
    /// the project (the model card also in the model folder, as Hugging Face keeps it).
    pub fn default_paths(self) -> &'static [&'static str] {
        match self {
            Kind::ModelCard => &[
                "MODEL_CARD.md",
                "model_card.md",
                "model-card.md",
                "docs/model-card.md",
                "docs/model_card.md",
                "model_card.json",
                "docs/model_card.json",
            ],
            Kind::Datasheet => &[
                "DATASHEET.md",
                "datasheet.md",
                "docs/datasheet.md",
                "datasheet.yaml",
                "docs/datasheet.yaml",
                "datasheet.json",
                "docs/datasheet.json",
            ],
            Kind::RiskAssessment => &[
                "risk-assessment.yaml",
                "risk_assessment.yaml",
                "docs/risk-assessment.yaml",
                "docs/risk_assessment.yaml",
                "risk-assessment.md",
                "docs/risk-assessment.md",
                "risk-assessment.json",
                "docs/risk-assessment.json",
            ],
        }
    }
}

/// `[documentation]` in modelgate.toml: where the documents are. A document not named is
/// looked for at its default paths; one named or found nowhere is `present: false`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentationConfig {
    #[serde(default)]
    pub model_card: Option<PathBuf>,
    #[serde(default)]
    pub datasheet: Option<PathBuf>,
    #[serde(default)]
    pub risk_assessment: Option<PathBuf>,
    /// Read the date of the last commit touching a document that carries no date of its
    /// own (default true; needs `git` on the PATH and a checkout).
    #[serde(default = "yes")]
    pub git_dates: bool,
}

fn yes() -> bool {
    true
}

/// No `[documentation]`: every document at its default paths, git dates on (as when the
/// section is there and empty).
impl Default for DocumentationConfig {
    fn default() -> Self {
        DocumentationConfig { model_card: None, datasheet: None, risk_assessment: None, git_dates: true }
    }
}

impl DocumentationConfig {
    pub fn path(&self, kind: Kind) -> Option<&Path> {
        match kind {
            Kind::ModelCard => self.model_card.as_deref(),
            Kind::Datasheet => self.datasheet.as_deref(),
            Kind::RiskAssessment => self.risk_assessment.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_section_git_dates_are_on_as_with_an_empty_one() {
        let empty: DocumentationConfig = toml::from_str("").expect("empty section");
        assert!(empty.git_dates);
        assert!(DocumentationConfig::default().git_dates);
    }
}
