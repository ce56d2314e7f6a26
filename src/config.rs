//! `modelgate.toml`: what the model is, where its policies and its evidence live.
//!
//! The file is validated before anything runs: an unknown key, a wrong type or a
//! missing required field is a configuration error naming the key.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};
use crate::evaluation::{BootstrapSpec, ScoreKind};
use crate::evidence::Model;

pub const CONFIG_FILE: &str = "modelgate.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The `model` section of the evidence document, as it is.
    pub model: Model,
    #[serde(default)]
    pub deployment: DeploymentConfig,
    #[serde(default)]
    pub policies: PoliciesConfig,
    #[serde(default)]
    pub evidence: EvidenceConfig,
    /// Metrics computed from the model's predictions on its test set.
    #[serde(default)]
    pub evaluation: Option<EvaluationConfig>,
    /// Checks of the training data (docs/data.md).
    #[serde(default)]
    pub data: Option<crate::data::DataConfig>,
    /// The model's files, signature and dependencies (docs/artifacts.md).
    #[serde(default)]
    pub artifacts: Option<crate::artifacts::ArtifactsConfig>,
    /// The model card, datasheet and risk assessment (docs/documentation.md).
    #[serde(default)]
    pub documentation: Option<crate::docs::DocumentationConfig>,
}

/// `[evaluation]`: the predictions file and how to read it (docs/evaluation.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Predictions on the held-out test set: CSV, gzip CSV or Parquet.
    pub predictions: PathBuf,
    /// Column of true labels.
    pub label: String,
    /// Column of predicted labels.
    pub prediction: String,
    #[serde(default)]
    pub score: Option<String>,
    #[serde(default)]
    pub weight: Option<String>,
    /// Sensitive attributes: `"sex"`, or `"race,sex"` for an intersection.
    #[serde(default)]
    pub sensitive: Vec<String>,
    #[serde(default, deserialize_with = "label_value")]
    pub positive_label: Option<String>,
    #[serde(default)]
    pub scores: ScoreKind,
    #[serde(default)]
    pub drop_missing: bool,
    #[serde(default)]
    pub to_overall: bool,
    #[serde(default)]
    pub bootstrap: Option<BootstrapSpec>,
    #[serde(default)]
    pub baseline: Option<BaselineConfig>,
    #[serde(default)]
    pub serving: Option<ServingConfig>,
}

/// `[evaluation.baseline]`: the deployed model's predictions on the same test set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    pub predictions: PathBuf,
    /// The deployed version the predictions come from.
    #[serde(default)]
    pub version: Option<String>,
}

/// `[evaluation.serving]`: where the latency and throughput figures come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServingConfig {
    /// A load-test report: modelgate's own shape or k6's JSON summary.
    pub report: PathBuf,
}

/// A label written as a TOML string, integer, float or boolean, kept as text.
fn label_value<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Label {
        Text(String),
        Integer(i64),
        Float(f64),
        Boolean(bool),
    }
    Ok(Some(match Label::deserialize(deserializer)? {
        Label::Text(text) => text,
        Label::Integer(number) => number.to_string(),
        Label::Float(number) => number.to_string(),
        Label::Boolean(value) => value.to_string(),
    }))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentConfig {
    /// The default target environment; `--environment` overrides it.
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub requested_by: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoliciesConfig {
    /// The policy repository, relative to the config file; `--policies` overrides it.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Evaluation time limit in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// Evidence sections computed elsewhere, merged into the document as they are.
/// Each file holds one section object (for `evaluation`, the object that goes under
/// `"evaluation"`), in JSON or YAML.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    #[serde(default)]
    pub evaluation: Option<PathBuf>,
    #[serde(default)]
    pub data: Option<PathBuf>,
    #[serde(default)]
    pub artifacts: Option<PathBuf>,
    #[serde(default)]
    pub documentation: Option<PathBuf>,
    /// Organisation-specific sections: name to file, placed under `extensions`.
    #[serde(default)]
    pub extensions: std::collections::BTreeMap<String, PathBuf>,
}

/// A loaded config and the folder its relative paths are resolved from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: PathBuf,
    pub base_dir: PathBuf,
}

impl LoadedConfig {
    /// Loads `path`, or `DIR/modelgate.toml` when `path` is a folder.
    pub fn load(path: &Path) -> Result<LoadedConfig> {
        let file = if path.is_dir() { path.join(CONFIG_FILE) } else { path.to_path_buf() };
        let text = crate::input::read_text(&file, crate::input::MAX_TEXT_BYTES, "modelgate.toml").map_err(|error| {
            let error = Error { kind: ErrorKind::Config, ..error };
            if file.exists() {
                error
            } else {
                error.hint("run modelgate in a model project folder that has a modelgate.toml, or pass --config FILE (see docs/configuration.md)")
            }
        })?;
        let config = parse(&file, &text)?;
        let evidence = &config.evidence;
        for (native, handed_in, section, what) in [
            (
                config.evaluation.is_some(),
                evidence.evaluation.is_some(),
                "evaluation",
                "computes the metrics from predictions",
            ),
            (config.data.is_some(), evidence.data.is_some(), "data", "checks the training data"),
            (
                config.artifacts.is_some(),
                evidence.artifacts.is_some(),
                "artifacts",
                "scans and verifies the model files",
            ),
            (
                config.documentation.is_some(),
                evidence.documentation.is_some(),
                "documentation",
                "reads the model card, datasheet and risk assessment",
            ),
        ] {
            if native && handed_in {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("{}: both [{section}] and [evidence] {section} are set", file.display()),
                )
                .hint(format!(
                    "keep one: [{section}] {what}, [evidence] {section} hands in a section computed elsewhere"
                )));
            }
        }
        let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(LoadedConfig { config, path: file, base_dir })
    }

    pub fn resolve(&self, path: &Path) -> PathBuf {
        crate::error::resolve(&self.base_dir, path)
    }

    /// The project folder (the config's folder; `.` for a config in the current folder):
    /// files whose content is copied into the evidence must be inside it.
    pub fn root(&self) -> &Path {
        if self.base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &self.base_dir
        }
    }
}

/// Parses the text of a config file, naming the offending key on failure.
pub fn parse(file: &Path, text: &str) -> Result<Config> {
    parse_toml(file, text, "docs/configuration.md")
}

/// Parses a TOML file into `T` (whose structs refuse unknown keys), naming the offending key
/// and the document (`docs`) that lists the keys on failure.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &Path, text: &str, docs: &str) -> Result<T> {
    let deserializer = toml::Deserializer::parse(text).map_err(|error| toml_error(file, text, &error))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let key = error.path().to_string();
        let inner = error.into_inner();
        let message = inner.message().to_string();
        let location = inner.span().map(|span| format!(":{}", line_of(text, span.start))).unwrap_or_default();
        let hint = if message.contains("unknown field") {
            format!("remove or rename the key; the accepted keys are listed in {docs}")
        } else if message.contains("missing field") {
            format!("add the key; {docs} shows a complete example")
        } else {
            format!("fix the value's type; {docs} lists each key with its type")
        };
        Error::new(ErrorKind::Config, format!("{}{location}: invalid config at `{key}`: {message}", file.display()))
            .hint(hint)
    })
}

fn toml_error(file: &Path, text: &str, error: &toml::de::Error) -> Error {
    let location = error.span().map(|span| format!(":{}", line_of(text, span.start))).unwrap_or_default();
    Error::new(ErrorKind::Config, format!("{}{location}: not valid TOML: {}", file.display(), error.message()))
        .hint("check the TOML syntax at that line")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[model]
name = "m"
version = "1"
risk_tier = "low"
task = "regression"
"#;

    #[test]
    fn minimal_config_parses() {
        let config = parse(Path::new("modelgate.toml"), MINIMAL).expect("valid config");
        assert_eq!(config.model.name, "m");
        assert!(config.policies.path.is_none());
    }

    /// The complete example in docs/configuration.md is a valid config.
    #[test]
    fn documented_example_parses() {
        let doc = include_str!("../docs/configuration.md");
        let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
        let end = start + doc[start..].find("```").expect("block end");
        let config = parse(Path::new("docs/configuration.md"), &doc[start..end]).expect("documented config");
        let data = config.data.expect("[data]");
        assert!(data.schema.is_some() && data.prohibited.is_some() && data.lineage.is_some() && data.drift.is_some());
        assert_eq!(data.prohibited.map(|p| p.detectors.len()), Some(1));
        let artifacts = config.artifacts.expect("[artifacts]");
        assert!(artifacts.signature.is_some() && artifacts.dependencies.is_some());
    }

    #[test]
    fn unknown_key_is_named() {
        let text = format!("{MINIMAL}colour = \"red\"\n");
        let error = parse(Path::new("modelgate.toml"), &text).expect_err("unknown key");
        assert!(error.message.contains("unknown field `colour`"), "{}", error.message);
        assert!(error.message.contains("`model.colour`"), "{}", error.message);
        assert!(error.message.starts_with("modelgate.toml:7:"), "{}", error.message);
        assert!(error.hint.is_some());
    }

    #[test]
    fn wrong_enum_value_is_named() {
        let text = MINIMAL.replace("\"low\"", "\"extreme\"");
        let error = parse(Path::new("modelgate.toml"), &text).expect_err("bad tier");
        assert!(error.message.contains("model.risk_tier"), "{}", error.message);
        assert_eq!(error.kind, ErrorKind::Config);
    }
}
