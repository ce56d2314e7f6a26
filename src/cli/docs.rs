//! `modelgate docs check [DIR]` and `modelgate docs init [DIR]`: the documentation section
//! alone (the documents read, then judged by the policies' documentation rules), and
//! documents scaffolded from the evidence the gate collects.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use modelgate::collect::documentation::{collect_documents, collection_day, locate};
use modelgate::collect::{self, Collector as _, Context};
use modelgate::config::LoadedConfig;
use modelgate::docs::init::{self, Outcome};
use modelgate::docs::{DocumentationConfig, Kind};
use modelgate::error::{Error, ErrorKind, Result};
use modelgate::evidence::{Document, Documentation, Evidence};
use modelgate::exit::ExitStatus;
use modelgate::policy::Gate;
use modelgate::report::{Decision, Finding};

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// Read the model card, datasheet and risk assessment and judge them by the policies'
    /// documentation rules; exit 1 on a blocking finding.
    Check(CheckArgs),
    /// Write a model card, datasheet and risk assessment pre-filled from the evidence;
    /// re-running updates the measured parts and keeps what a person wrote.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    project: super::ProjectArgs,
    /// Policy repository (overrides [policies] path).
    #[arg(long, value_name = "DIR", env = "MODELGATE_POLICIES")]
    policies: Option<PathBuf>,
    #[command(flatten)]
    output: super::SectionOutput,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    project: super::ProjectArgs,
}

pub fn run(command: DocsCommand) -> ExitStatus {
    match command {
        DocsCommand::Check(args) => check(args),
        DocsCommand::Init(args) => init_command(args),
    }
}

/// The documentation section with the findings the policies make of it.
#[derive(Debug, serde::Serialize)]
struct DocsReport {
    decision: Decision,
    model: String,
    version: String,
    environment: Option<String>,
    documentation: Documentation,
    violations: Vec<Finding>,
    warnings: Vec<Finding>,
}

fn config_of(project: &LoadedConfig) -> DocumentationConfig {
    project.config.documentation.clone().unwrap_or_default()
}

/// The evidence the documents are compared with: metrics and the lineage (not the
/// whole data and artifacts checks, which `docs` does not need).
fn evidence_for_docs(context: &Context, full_data: bool) -> Result<Evidence> {
    modelgate::policy::data::check_project_environment(context.config, context.environment)?;
    let mut evidence = collect::empty_evidence(context)?;
    collect::evaluation::Predictions.collect(context, &mut evidence)?;
    if full_data {
        collect::data::TrainingData.collect(context, &mut evidence)?;
    } else if let Some(lineage) = collect::data::lineage_of(context)? {
        evidence.data =
            Some(modelgate::evidence::Data { schema: None, prohibited: None, lineage: Some(lineage), drift: None });
    }
    Ok(evidence)
}

fn check(args: CheckArgs) -> ExitStatus {
    let result = (|| -> Result<DocsReport> {
        let project = super::load_config(&args.project)?;
        let context = Context { config: &project, environment: args.project.environment.as_deref() };
        let mut evidence = evidence_for_docs(&context, false)?;
        let today = collection_day(&evidence.collected_at)?;
        let lineage = evidence.data.as_ref().and_then(|data| data.lineage.as_ref());
        let documentation =
            collect_documents(&project, &config_of(&project), today, evidence.evaluation.as_ref(), lineage)?;
        evidence.documentation = Some(documentation.clone());
        let policies = args
            .policies
            .clone()
            .or_else(|| project.config.policies.path.as_ref().map(|path| project.resolve(path)))
            .ok_or_else(|| {
                Error::new(ErrorKind::Config, format!("{}: no policy repository configured", project.path.display()))
                    .hint("set [policies] path = \"…\" in modelgate.toml or pass --policies DIR")
            })?;
        let mut gate = Gate::load(&policies, super::timeout(None, project.config.policies.timeout_ms))?;
        let report = gate.report(&evidence, Some(project.path.display().to_string()));
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
    })();
    let report = match result {
        Ok(report) => report,
        Err(error) => return super::check_status(Err(error)),
    };
    let passed = report.violations.is_empty();
    super::check_status(args.output.write(&report, render).map(|()| passed))
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

fn init_command(args: InitArgs) -> ExitStatus {
    let result = (|| -> Result<()> {
        let project = super::load_config(&args.project)?;
        let context = Context { config: &project, environment: args.project.environment.as_deref() };
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
                _ => Some(modelgate::input::read_text(&path, modelgate::input::MAX_TEXT_BYTES, "a document")?),
            };
            let (text, outcome) = init::render(kind, &evidence, &today, existing.as_deref());
            if matches!(outcome, Outcome::Created | Outcome::Updated) {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|error| Error::write(parent, error))?;
                }
                std::fs::write(&path, text).map_err(|error| Error::write(&path, error))?;
            }
            super::say(&format!("{:16} {shown}: {}", kind.label(), outcome.as_str()));
        }
        if !unconfigured.is_empty() {
            super::say(&format!("\nname them in {} (found at these default paths anyway):\n", project.path.display()));
            if project.config.documentation.is_none() {
                super::say("[documentation]");
            }
            for kind in &unconfigured {
                super::say(&format!("{} = \"{}\"", kind.key(), kind.scaffold_path()));
            }
        }
        super::say(&format!(
            "\nnext: replace every {} (each follows a `modelgate:fill` comment saying what to write), then run `modelgate docs check`",
            init::FILL
        ));
        Ok(())
    })();
    super::check_status(result.map(|()| true))
}
