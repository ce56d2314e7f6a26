//! Collectors: one per evidence category, each filling its own section of the evidence
//! document. Collectors never decide; a section nobody collected stays `null`.
//!
//! The list is [`COLLECTORS`]; a new category adds its folder here and one line there.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::config::LoadedConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{self, Collector as CollectorInfo, Deployment, Evidence, Pipeline};
use crate::strict::{Source, Syntax};

pub mod artifacts;
pub mod data;
pub mod documentation;
pub mod evaluation;
pub mod sections;

/// What a collector gets to work with.
pub struct Context<'a> {
    pub config: &'a LoadedConfig,
    /// `--environment`, overriding the config's default.
    pub environment: Option<&'a str>,
}

pub trait Collector {
    /// Short name, shown in errors and timings.
    fn name(&self) -> &'static str;
    fn collect(&self, context: &Context, evidence: &mut Evidence) -> Result<()>;
}

/// Every collector, in the order they run.
/// Documentation runs last: it compares what the documents claim with what was measured.
pub static COLLECTORS: &[&(dyn Collector + Sync)] = &[
    &sections::SectionFiles,
    &evaluation::Predictions,
    &data::TrainingData,
    &artifacts::ModelFiles,
    &documentation::Documents,
];

/// Builds the evidence document for a model project.
pub fn collect(context: &Context) -> Result<Evidence> {
    let mut evidence = empty_evidence(context)?;
    for collector in COLLECTORS {
        collector.collect(context, &mut evidence)?;
    }
    Ok(evidence)
}

/// The evidence document before any collector ran: the model, the deployment, the time.
pub fn empty_evidence(context: &Context) -> Result<Evidence> {
    let config = &context.config.config;
    Ok(Evidence {
        schema_version: evidence::SCHEMA_VERSION.to_string(),
        collected_at: collection_time()?,
        collector: CollectorInfo { name: "modelgate".into(), version: env!("CARGO_PKG_VERSION").into() },
        model: config.model.clone(),
        deployment: deployment(context),
        evaluation: None,
        data: None,
        artifacts: None,
        documentation: None,
        extensions: Default::default(),
    })
}

/// When the evidence is collected: now, or `MODELGATE_NOW` (an RFC 3339 timestamp or a
/// date) to replay a collection or pin the clock in tests. Document ages and review dates
/// are judged as of this time, and it is recorded as `collected_at`.
pub fn collection_time() -> Result<String> {
    match std::env::var("MODELGATE_NOW") {
        Ok(value) if !value.trim().is_empty() => {
            let value = value.trim();
            if chrono::DateTime::parse_from_rfc3339(value).is_ok() {
                return Ok(value.to_string());
            }
            match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                Ok(date) => Ok(format!("{date}T00:00:00Z")),
                Err(_) => Err(Error::new(
                    ErrorKind::Config,
                    format!("MODELGATE_NOW=`{value}` is not a date or an RFC 3339 timestamp"),
                )
                .hint("set MODELGATE_NOW to a time such as 2026-12-01T00:00:00Z, or unset it to use the clock")),
            }
        }
        _ => Ok(crate::decision::now_rfc3339()),
    }
}

fn deployment(context: &Context) -> Option<Deployment> {
    let config = &context.config.config.deployment;
    let environment = context.environment.map(str::to_string).or_else(|| config.environment.clone())?;
    let requested_by = config.requested_by.clone().or_else(requester_from_env);
    Some(Deployment { environment, requested_by, pipeline: pipeline() })
}

/// Who runs this, as CI systems say it: `MODELGATE_REQUESTED_BY`, `GITHUB_ACTOR`,
/// `GITLAB_USER_LOGIN`, Jenkins' `BUILD_USER_ID`.
pub fn requester_from_env() -> Option<String> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    env("MODELGATE_REQUESTED_BY")
        .or_else(|| env("GITHUB_ACTOR"))
        .or_else(|| env("GITLAB_USER_LOGIN"))
        .or_else(|| env("BUILD_USER_ID"))
}

/// What CI system runs us, from the variables the common ones set.
fn pipeline() -> Option<Pipeline> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    if env("GITHUB_ACTIONS").is_some() {
        let url = match (env("GITHUB_SERVER_URL"), env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID")) {
            (Some(server), Some(repository), Some(run)) => Some(format!("{server}/{repository}/actions/runs/{run}")),
            _ => None,
        };
        return Some(Pipeline {
            provider: Some("github-actions".into()),
            run_id: env("GITHUB_RUN_ID"),
            url,
            commit: env("GITHUB_SHA"),
            git_ref: env("GITHUB_REF"),
        });
    }
    if env("GITLAB_CI").is_some() {
        return Some(Pipeline {
            provider: Some("gitlab-ci".into()),
            run_id: env("CI_PIPELINE_ID"),
            url: env("CI_PIPELINE_URL"),
            commit: env("CI_COMMIT_SHA"),
            git_ref: env("CI_COMMIT_REF_NAME"),
        });
    }
    if env("JENKINS_URL").is_some() {
        return Some(Pipeline {
            provider: Some("jenkins".into()),
            run_id: env("BUILD_ID"),
            url: env("BUILD_URL"),
            commit: env("GIT_COMMIT"),
            git_ref: env("GIT_BRANCH"),
        });
    }
    None
}

/// Reads a JSON or YAML file into `T`, naming the file and the field on failure.
pub fn read_section<T: DeserializeOwned>(path: &Path, section: &str) -> Result<T> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "an evidence section")?;
    let what = format!("the `{section}` evidence section");
    let hint = format!("the file holds the `{section}` object of the evidence document; see docs/evidence.md");
    let source = Source::new(path, &what, ErrorKind::EvidenceInvalid);
    let value = crate::strict::parse(&text, Syntax::of(path), &source).map_err(|error| error.hint(hint.clone()))?;
    let fields =
        Source::new(path, "evidence section does not match the schema", ErrorKind::EvidenceInvalid).within(section);
    crate::strict::deserialize(value, &text, &fields).map_err(|error| error.hint(hint))
}
