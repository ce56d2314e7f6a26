//! `docs check` and `docs init`: the documentation section alone (the documents read, then
//! judged by the policies' documentation rules), and documents scaffolded from the
//! evidence the gate collects.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use crate::collect::documentation::{collect_documents, collection_day, locate};
use crate::collect::{self, Collector as _, Context};
use crate::config::LoadedConfig;
use crate::decision::{Decision, Finding};
use crate::docs::init::{self, Outcome};
use crate::docs::{DocumentationConfig, Kind};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Document, Documentation, Evidence};
use crate::policy::Gate;

pub use super::Project;

/// The documentation section with the findings the policies make of it.
#[derive(Debug, serde::Serialize)]
pub struct DocsReport {
    pub decision: Decision,
    pub model: String,
    pub version: String,
    pub environment: Option<String>,
    pub documentation: Documentation,
    pub violations: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

fn config_of(project: &LoadedConfig) -> DocumentationConfig {
    project.config.documentation.clone().unwrap_or_default()
}

/// The evidence the documents are compared with: metrics and the lineage (not the
/// whole data and artifacts checks, which `docs` does not need).
fn evidence_for_docs(context: &Context, full_data: bool) -> Result<Evidence> {
    crate::policy::data::check_project_environment(context.config, context.environment)?;
    let mut evidence = collect::empty_evidence(context)?;
    collect::evaluation::Predictions.collect(context, &mut evidence)?;
    if full_data {
        collect::data::TrainingData.collect(context, &mut evidence)?;
    } else if let Some(lineage) = collect::data::lineage_of(context)? {
        evidence.data =
            Some(crate::evidence::Data { schema: None, prohibited: None, lineage: Some(lineage), drift: None });
    }
    Ok(evidence)
}

/// `docs check`: the documents read and judged by the policies (`policies`, else the
/// project's `[policies] path`); the report passes when no documentation rule blocks.
pub fn check(project: Project, policies: Option<&Path>) -> Result<DocsReport> {
    {
        let config = project.load()?;
        let context = Context { config: &config, environment: project.environment };
        let mut evidence = evidence_for_docs(&context, false)?;
        let today = collection_day(&evidence.collected_at)?;
        let lineage = evidence.data.as_ref().and_then(|data| data.lineage.as_ref());
        let documentation =
            collect_documents(&config, &config_of(&config), today, evidence.evaluation.as_ref(), lineage)?;
        evidence.documentation = Some(documentation.clone());
        let policies = policies
            .map(Path::to_path_buf)
            .or_else(|| config.config.policies.path.as_ref().map(|path| config.resolve(path)))
            .ok_or_else(|| {
                Error::new(ErrorKind::Config, format!("{}: no policy repository configured", config.path.display()))
                    .hint("set [policies] path = \"…\" in modelgate.toml or pass --policies DIR")
            })?;
        let mut gate = Gate::load(&policies, super::gate::timeout(None, config.config.policies.timeout_ms))?;
        let report = gate.report(&evidence, Some(config.path.display().to_string()));
        if let Some(error) = report.error {
            return Err(Error::new(ErrorKind::PolicyEvaluation, error.message)
                .hint(error.hint.unwrap_or_else(|| "run `modelgate policy test` on the policy repository".into())));
        }
        let ours = |findings: Vec<Finding>| -> Vec<Finding> {
            findings.into_iter().filter(|finding| finding.category == "documentation").collect()
        };
        let violations = ours(report.violations);
        let warnings = ours(report.warnings);
        Ok(DocsReport {
            decision: if violations.is_empty() { Decision::Allow } else { Decision::Deny },
            model: evidence.model.name.clone(),
            version: evidence.model.version.clone(),
            environment: evidence.deployment.as_ref().map(|deployment| deployment.environment.clone()),
            documentation,
            violations,
            warnings,
        })
    }
}

/// The report as a person reads it.
pub fn write_text(report: &DocsReport, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(render(report).as_bytes())
}

fn render(report: &DocsReport) -> String {
    let mut out = String::new();
    let verdict = if report.violations.is_empty() { "PASS" } else { "FAIL" };
    let environment = report.environment.as_deref().map(|env| format!(" → {env}")).unwrap_or_default();
    let _ = writeln!(out, "modelgate docs: {verdict}  {} {}{environment}\n", report.model, report.version);
    let documentation = &report.documentation;
    for (kind, document) in
        Kind::ALL.iter().zip([&documentation.model_card, &documentation.datasheet, &documentation.risk_assessment])
    {
        render_document(&mut out, *kind, document.as_ref());
    }
    for (label, findings) in [("BLOCKING", &report.violations), ("WARNING", &report.warnings)] {
        for finding in findings {
            let _ = writeln!(out, "{label:8}  {}  {}", finding.code, finding.msg);
            if let Some(remediation) = &finding.remediation {
                let _ = writeln!(out, "          fix: {remediation}");
            }
        }
    }
    let _ = writeln!(out, "\n{} blocking, {} warnings", report.violations.len(), report.warnings.len());
    out
}

fn render_document(out: &mut String, kind: Kind, document: Option<&Document>) {
    let Some(document) = document.filter(|document| document.present) else {
        let looked =
            document.and_then(|document| document.path.clone()).unwrap_or_else(|| kind.default_paths().join(", "));
        let _ = writeln!(out, "{}: missing (looked for {looked})\n", kind.label());
        return;
    };
    let mut facts = vec![document.format.clone().unwrap_or_default()];
    if let Some(version) = &document.model_version {
        facts.push(format!("version {version}"));
    }
    match (&document.last_updated, document.age_days) {
        (Some(date), Some(age)) => facts.push(format!(
            "updated {date} ({age} days ago, from {})",
            document.last_updated_source.as_deref().unwrap_or("?")
        )),
        _ => facts.push("no date".into()),
    }
    if let Some(due) = &document.next_review_due {
        facts.push(format!("next review {due}"));
    }
    let _ = writeln!(out, "{}: {}  [{}]", kind.label(), document.path.as_deref().unwrap_or("?"), facts.join(", "));
    for (name, field) in &document.fields {
        let status = if field.populated { "ok" } else { field.reason.as_deref().unwrap_or("missing") };
        let place = match (&field.heading, field.line) {
            (Some(heading), Some(line)) => format!(
                "  ({heading:?}, line {line}{})",
                field.rule.as_deref().map(|rule| format!(", {rule}")).unwrap_or_default()
            ),
            (Some(heading), None) => format!("  ({heading})"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  {status:15} {name}{place}");
    }
    for claim in &document.claims {
        match (claim.measured, &claim.not_compared) {
            (Some(measured), _) => {
                let _ =
                    writeln!(out, "  claim           {} = {} (measured {measured:.4})", claim.metric, claim.claimed);
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "  claim           {} = {} (not compared: {why})", claim.metric, claim.claimed);
            }
            (None, None) => {}
        }
    }
    for problem in &document.problems {
        let _ = writeln!(out, "  problem         {problem}");
    }
    out.push('\n');
}

/// `docs init`: writes (or updates) the model card, datasheet and risk assessment from the
/// evidence, keeping what a person wrote; says what it did to `out`.
pub fn init(project: Project, out: &mut dyn Write) -> Result<()> {
    let mut say = |line: String| {
        writeln!(out, "{line}").map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the output: {error}")))
    };
    {
        let environment = project.environment;
        let project = project.load()?;
        let context = Context { config: &project, environment };
        let evidence = evidence_for_docs(&context, true)?;
        let today = collection_day(&evidence.collected_at)?.to_string();
        let config = config_of(&project);
        let mut unconfigured = Vec::new();
        for kind in Kind::ALL {
            // Neither named nor found: written at its scaffold path (one of the default
            // paths, so it is found from now on; the hint below makes that explicit).
            let (path, shown) = locate(&project, &config, kind).unwrap_or_else(|| {
                unconfigured.push(kind);
                (project.resolve(std::path::Path::new(kind.scaffold_path())), kind.scaffold_path().to_string())
            });
            let existing = match std::fs::symlink_metadata(&path) {
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                _ => Some(crate::input::read_text(&path, crate::input::MAX_TEXT_BYTES, "a document")?),
            };
            let (text, outcome) = init::render(kind, &evidence, &today, existing.as_deref());
            if matches!(outcome, Outcome::Created | Outcome::Updated) {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|error| Error::write(parent, error))?;
                }
                std::fs::write(&path, text).map_err(|error| Error::write(&path, error))?;
            }
            say(format!("{:16} {shown}: {}", kind.label(), outcome.as_str()))?;
        }
        if !unconfigured.is_empty() {
            say(format!("\nname them in {} (found at these default paths anyway):\n", project.path.display()))?;
            if project.config.documentation.is_none() {
                say("[documentation]".to_string())?;
            }
            for kind in &unconfigured {
                say(format!("{} = \"{}\"", kind.key(), kind.scaffold_path()))?;
            }
        }
        say(format!(
            "\nnext: replace every {} (each follows a `modelgate:fill` comment saying what to write), then run `modelgate docs check`",
            init::FILL
        ))?;
        Ok(())
    }
}
