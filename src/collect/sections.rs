//! Evidence sections computed elsewhere (a team that computes its metrics in its own
//! pipeline) and handed in as files named in `[evidence]` of modelgate.toml.

use super::{read_section, Collector, Context};
use crate::error::Result;
use crate::evidence::Evidence;

pub struct SectionFiles;

impl Collector for SectionFiles {
    fn name(&self) -> &'static str {
        "section-files"
    }

    fn collect(&self, context: &Context, evidence: &mut Evidence) -> Result<()> {
        let files = &context.config.config.evidence;
        // Sections are copied into the evidence and the record: they must come from the project.
        let base = context.config.root();
        let resolve = |path: &std::path::PathBuf| -> Result<std::path::PathBuf> {
            let resolved = context.config.resolve(path);
            crate::input::inside(&resolved, base, "an [evidence] file")?;
            Ok(resolved)
        };
        if let Some(path) = &files.evaluation {
            evidence.evaluation = Some(read_section(&resolve(path)?, "evaluation")?);
        }
        if let Some(path) = &files.data {
            evidence.data = Some(read_section(&resolve(path)?, "data")?);
        }
        if let Some(path) = &files.artifacts {
            evidence.artifacts = Some(read_section(&resolve(path)?, "artifacts")?);
        }
        if let Some(path) = &files.documentation {
            evidence.documentation = Some(read_section(&resolve(path)?, "documentation")?);
        }
        for (name, path) in &files.extensions {
            let value: serde_json::Value = read_section(&resolve(path)?, &format!("extensions.{name}"))?;
            evidence.extensions.insert(name.clone(), value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::collect;
    use crate::config::LoadedConfig;

    #[test]
    fn merges_sections_and_names_bad_fields() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("modelgate.toml"),
            "[model]\nname='m'\nversion='1'\nrisk_tier='low'\ntask='regression'\n[evidence]\nevaluation='eval.json'\n",
        )
        .expect("write");
        std::fs::write(dir.path().join("eval.json"), r#"{"metrics": {"r2": 0.91}}"#).expect("write");
        let config = LoadedConfig::load(dir.path()).expect("config");
        let evidence = collect(&Context { config: &config, environment: Some("staging") }).expect("collect");
        let evaluation = evidence.evaluation.expect("evaluation merged");
        assert_eq!(evaluation.metrics.get("r2"), Some(&Some(0.91)));
        assert_eq!(evidence.deployment.map(|d| d.environment), Some("staging".to_string()));

        std::fs::write(dir.path().join("eval.json"), r#"{"metrics": {"r2": "high"}}"#).expect("write");
        let error = collect(&Context { config: &config, environment: None }).expect_err("bad type");
        assert!(error.message.contains("eval.json"), "{}", error.message);
        assert!(error.message.contains("`evaluation.metrics.r2`"), "{}", error.message);
    }
}
