//! Argument parsing and command wiring. Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

mod audit;
mod data_lineage;
mod data_scan;
mod data_validate;
mod deploy;
mod deps;
mod docs;
mod drift;
mod fairness;
mod lifecycle;
mod loadtest;
mod scan;
mod server;
mod sign;

use modelgate::error::{Error, ErrorKind, Result};
use modelgate::evidence;
use modelgate::exit::ExitStatus;
use modelgate::policy;
use modelgate::report::{self, Format, RenderOptions, Report};
use modelgate::run::gate;

#[derive(Debug, Parser)]
#[command(name = "modelgate", version, about = "Policy-as-code deployment gate for machine-learning models")]
#[command(
    after_help = "Exit codes: 0 allowed, 1 denied, 2 error (bad input, config or policy: the gate fails closed)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect evidence for a model project, evaluate the policies, report the decision.
    Check(CheckArgs),
    /// Evaluate an evidence document against a policy repository.
    Eval(EvalArgs),
    /// Collect the evidence document only.
    Collect(CollectArgs),
    /// Create and test policy repositories.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print the JSON Schema of the evidence document.
    Schema,
    /// Compute performance and fairness metrics from a predictions file.
    Fairness(fairness::FairnessArgs),
    /// Measure serving latency and throughput of an HTTP inference endpoint.
    Loadtest(loadtest::LoadtestArgs),
    /// Check training data: schema, prohibited data categories, lineage.
    #[command(subcommand)]
    Data(DataCommand),
    /// Compare the distribution of each column between a reference and a current table.
    Drift(drift::DriftArgs),
    /// Identify model files by content and find what loading them would run (pickle, zip, safetensors, npy, GGUF).
    Scan(scan::ScanArgs),
    /// Check a model's Python dependencies (requirements, lock files, MLflow models) against an offline OSV database.
    Deps(deps::DepsArgs),
    /// Sign a model folder (OpenSSF model_signing format: Sigstore bundle, DSSE, in-toto).
    #[command(subcommand)]
    Sign(sign::SignCommand),
    /// Verify a model folder's signature and name every missing, extra or modified file.
    #[command(subcommand)]
    Verify(sign::VerifyCommand),
    /// Model cards, datasheets and risk assessments: check them, or scaffold them from the evidence.
    #[command(subcommand)]
    Docs(docs::DocsCommand),
    /// Record a deployment (only by an `allow` decision for that very artifact) or its end.
    #[command(subcommand)]
    Deploy(deploy::DeployCommand),
    /// Judge every deployed model again under the current policies; record it and alert owners.
    Reevaluate(lifecycle::ReevaluateArgs),
    /// Query, verify and export the audit store.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Run the governance service that owns the policies, makes the decisions and signs them;
    /// manage its tokens.
    Server(server::ServerArgs),
    /// Check a decision the server signed before deploying (offline).
    #[command(subcommand)]
    Attestation(server::AttestationCommand),
    /// Print the shell completion script for SHELL (generated from these definitions).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page modelgate(1), or write a page per command into a folder.
    Man {
        /// Write modelgate.1 and one page per command (modelgate-check.1, …) into DIR.
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Validate a table against a Frictionless Table Schema (or a Parquet file's schema).
    Validate(data_validate::ValidateArgs),
    /// Scan a table's column names and values for prohibited data categories (PII).
    Scan(data_scan::ScanArgs),
    /// Read the preprocessing lineage of a training file (dvc.lock, OpenLineage, manifest).
    Lineage(data_lineage::LineageArgs),
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE instead of standard output (the verdict still goes to the
    /// console, on standard error).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the report as FORMAT to PATH (repeatable, e.g. `--report sarif=modelgate.sarif
    /// --report html=modelgate.html`): one evaluation, one recorded decision, every report.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = report_target)]
    reports: Vec<ReportTarget>,
}

/// One `--report FORMAT=PATH`.
#[derive(Debug, Clone)]
struct ReportTarget {
    format: Format,
    path: PathBuf,
}

fn report_target(text: &str) -> std::result::Result<ReportTarget, String> {
    let (format, path) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not FORMAT=PATH (for example sarif=modelgate.sarif)"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|format| Some(format.to_possible_value()?.get_name().to_string()))
            .collect();
        format!("`{format}` is not a report format; use one of {}", names.join(", "))
    })?;
    if path.is_empty() {
        return Err(format!("`{text}` names no file after `=`"));
    }
    Ok(ReportTarget { format, path: PathBuf::from(path) })
}

impl OutputArgs {
    /// Two reports to one file would leave only the last: refused before anything is judged.
    fn check(&self) -> Result<()> {
        let mut seen: Vec<&Path> = self.output.as_deref().into_iter().collect();
        for target in &self.reports {
            if seen.contains(&target.path.as_path()) {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("two reports are written to {}", target.path.display()),
                )
                .hint("give every --report (and --output) its own file"));
            }
            seen.push(&target.path);
        }
        Ok(())
    }
}

/// `--format text|json` and `--output FILE` of the commands that print one evidence
/// section (fairness, data validate|scan|lineage, drift).
#[derive(Debug, Args)]
pub(crate) struct SectionOutput {
    /// Output format: a report to read, or the evidence section as JSON.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SectionFormat {
    Text,
    Json,
}

impl From<SectionFormat> for modelgate::run::Format {
    fn from(format: SectionFormat) -> Self {
        match format {
            SectionFormat::Text => modelgate::run::Format::Text,
            SectionFormat::Json => modelgate::run::Format::Json,
        }
    }
}

impl ProjectArgs {
    pub(crate) fn project(&self) -> modelgate::run::Project<'_> {
        modelgate::run::Project {
            dir: &self.dir,
            config: self.config.as_deref(),
            environment: self.environment.as_deref(),
        }
    }
}

impl SectionOutput {
    /// Writes `section` as JSON, or as the text renderer `text` writes it.
    fn write<T: serde::Serialize>(
        &self,
        section: &T,
        text: impl FnOnce(&T, &mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let bytes = match self.format {
            SectionFormat::Json => {
                let mut json = serde_json::to_string_pretty(section)
                    .map_err(|error| Error::new(ErrorKind::Io, format!("cannot serialize the output: {error}")))?;
                json.push('\n');
                json.into_bytes()
            }
            SectionFormat::Text => {
                let mut bytes = Vec::new();
                text(section, &mut bytes)
                    .map_err(|error| Error::new(ErrorKind::Io, format!("cannot render the output: {error}")))?;
                bytes
            }
        };
        write_output(self.output.as_deref(), &bytes)
    }
}

#[derive(Debug, Args)]
pub(crate) struct ProjectArgs {
    /// The model project folder holding modelgate.toml.
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Config file (default: DIR/modelgate.toml).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Target environment (overrides [deployment] environment).
    #[arg(long, short, env = "MODELGATE_ENVIRONMENT")]
    pub(crate) environment: Option<String>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// Policy repository (overrides [policies] path).
    #[arg(long, value_name = "DIR", env = "MODELGATE_POLICIES")]
    policies: Option<PathBuf>,
    /// Also write the collected evidence document to FILE.
    #[arg(long, value_name = "FILE")]
    evidence_out: Option<PathBuf>,
    /// Evaluation time limit in milliseconds (overrides [policies] timeout_ms).
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    record: RecordArgs,
    #[command(flatten)]
    server: server::ServerClientArgs,
    /// With --server: write the signed decision (in-toto / SLSA VSA in a DSSE envelope) to FILE.
    #[arg(long, value_name = "FILE", requires = "server")]
    attestation: Option<PathBuf>,
}

/// Where a decision is recorded, and whether.
#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// The audit store: an SQLite file, or postgres://USER@HOST/DATABASE (default:
    /// .modelgate/audit.db beside modelgate.toml, or in the current folder for `eval`).
    #[arg(long, value_name = "PATH|URL", env = "MODELGATE_STORE", hide_env_values = true)]
    store: Option<String>,
    /// Do not record the decision (MODELGATE_NO_RECORD=1 says the same; 0, false, no or off do not).
    #[arg(long, env = "MODELGATE_NO_RECORD", value_parser = clap::builder::FalseyValueParser::new())]
    no_record: bool,
    /// Keep the decision when it cannot be recorded (warning on stderr). Without it, a
    /// decision that cannot be recorded is an error (exit 2): an unrecorded decision must
    /// not let a deployment through.
    #[arg(long)]
    allow_unrecorded: bool,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// The evidence document (JSON); `-` reads standard input. With --batch: a JSON Lines
    /// file of evidence documents (`-`: standard input), or a folder of *.json documents.
    #[arg(long, short, value_name = "EVIDENCE.json")]
    input: PathBuf,
    /// Judge many documents in one run: one report per line (JSON Lines with --format
    /// json), then a summary; exit 1 when any is denied, 2 when any is an error.
    #[arg(long)]
    batch: bool,
    /// Evaluation workers for --batch (default: every core).
    #[arg(long, value_name = "N", requires = "batch")]
    threads: Option<std::num::NonZeroUsize>,
    /// Policy repository.
    #[arg(long, value_name = "DIR", env = "MODELGATE_POLICIES")]
    policies: PathBuf,
    /// Evaluation time limit in milliseconds.
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    record: RecordArgs,
}

#[derive(Debug, Args)]
struct CollectArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// Write the evidence document to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Write the built-in policy library to DIR, as a policy repository to version.
    Init {
        /// The folder to write the policy repository to (created when missing).
        dir: PathBuf,
        /// Write into a non-empty folder, overwriting the library's files.
        #[arg(long)]
        force: bool,
    },
    /// Run the policy unit tests (rules named test_*) of a policy repository.
    Test {
        /// The policy repository.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Report line coverage per policy file.
        #[arg(long)]
        coverage: bool,
        /// Output format: text to read, or JSON.
        #[arg(long, short, value_enum, default_value_t = TestFormat::Text)]
        format: TestFormat,
        /// Per-test time limit in milliseconds.
        #[arg(long, value_name = "MS")]
        timeout_ms: Option<u64>,
    },
    /// Judge every deployed model under proposed policies, without recording: which would
    /// stop complying, and why (a table for the policy pull request).
    Impact(lifecycle::ImpactArgs),
    /// Publish a policy repository to the server (its tests must pass there).
    Publish(server::PublishArgs),
    /// Make a published bundle the one in force for an environment (--dry-run: the impact only).
    Activate(server::ActivateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TestFormat {
    Text,
    Json,
}

pub fn run(cli: Cli) -> ExitStatus {
    finish(dispatch(cli))
}

fn dispatch(cli: Cli) -> ExitStatus {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Eval(args) => eval(args),
        Command::Collect(args) => collect_command(args),
        Command::Policy(PolicyCommand::Init { dir, force }) => init(&dir, force),
        Command::Policy(PolicyCommand::Test { dir, coverage, format, timeout_ms }) => {
            policy_test(&dir, coverage, format, timeout_ms)
        }
        Command::Schema => {
            say_json(&evidence::json_schema());
            ExitStatus::Success
        }
        Command::Fairness(args) => fairness::run(args),
        Command::Loadtest(args) => loadtest::run(args),
        Command::Data(DataCommand::Validate(args)) => data_validate::run(args),
        Command::Data(DataCommand::Scan(args)) => data_scan::run(args),
        Command::Data(DataCommand::Lineage(args)) => data_lineage::run(args),
        Command::Drift(args) => drift::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Deps(args) => deps::run(args),
        Command::Sign(command) => sign::sign(command),
        Command::Verify(command) => sign::verify(command),
        Command::Docs(command) => docs::run(command),
        Command::Deploy(command) => deploy::run(command),
        Command::Reevaluate(args) => lifecycle::reevaluate(args),
        Command::Policy(PolicyCommand::Impact(args)) => lifecycle::impact(args),
        Command::Audit(command) => audit::run(command),
        Command::Server(args) => server::run(args),
        Command::Attestation(command) => server::attestation(command),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "modelgate", &mut script);
            check_status(stdout(&script).map(|()| true))
        }
        Command::Man { output_dir } => check_status(man(output_dir.as_deref()).map(|()| true)),
        Command::Policy(PolicyCommand::Publish(args)) => server::publish(args),
        Command::Policy(PolicyCommand::Activate(args)) => server::activate(args),
    }
}

/// `modelgate man`: the page of the whole command to standard output, or every page into
/// `dir` (created when missing).
fn man(dir: Option<&Path>) -> Result<()> {
    let command = Cli::command();
    match dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|error| Error::new(ErrorKind::Io, format!("cannot render the man page: {error}")))?;
            stdout(&page)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|error| Error::write(dir, error))?;
            clap_mangen::generate_to(command, dir).map_err(|error| Error::write(dir, error))?;
            eprintln!("wrote the man pages to {}", dir.display());
            Ok(())
        }
    }
}

pub(crate) fn timeout(flag: Option<u64>, config: Option<u64>) -> Duration {
    gate::timeout(flag, config)
}

fn check(args: CheckArgs) -> ExitStatus {
    if let Err(error) = args.output.check() {
        print_error(&error);
        return ExitStatus::Error;
    }
    if let Some(url) = &args.server.server {
        if args.policies.is_some() {
            print_error(
                &Error::new(ErrorKind::Config, "--policies (or MODELGATE_POLICIES) and --server name two judges").hint(
                    "with --server the bundle the server has active for the environment decides: drop --policies",
                ),
            );
            return ExitStatus::Error;
        }
        return server::check(url, &args.project, args.attestation.as_deref(), &args.output);
    }
    let request = gate::CheckRequest {
        project: args.project.project(),
        policies: args.policies.as_deref(),
        timeout_ms: args.timeout_ms,
        evidence_out: args.evidence_out.as_deref(),
        recording: args.record.recording(),
    };
    conclude(gate::check(&request), &args.output)
}

fn eval(args: EvalArgs) -> ExitStatus {
    if let Err(error) = args.output.check() {
        print_error(&error);
        return ExitStatus::Error;
    }
    if args.batch {
        return eval_batch(&args);
    }
    let request = gate::EvalRequest {
        input: &args.input,
        policies: &args.policies,
        timeout: timeout(args.timeout_ms, None),
        recording: args.record.recording(),
    };
    conclude(gate::eval(&request), &args.output)
}

/// `eval --batch`: reports as they come, then the summary; each document's error named.
fn eval_batch(args: &EvalArgs) -> ExitStatus {
    if !args.output.reports.is_empty() {
        print_error(
            &Error::new(ErrorKind::Config, "--report writes one decision's report; --batch makes many").hint(
                "use --format json --output FILE for the batch's JSON Lines, or judge one document without --batch",
            ),
        );
        return ExitStatus::Error;
    }
    let format = match args.output.format {
        Format::Json => modelgate::run::Format::Json,
        Format::Text => modelgate::run::Format::Text,
        other => {
            print_error(
                &Error::new(
                    ErrorKind::Config,
                    format!("--batch writes text or JSON Lines, not {other:?}").to_lowercase(),
                )
                .hint("use --format json (one report per line) or --format text"),
            );
            return ExitStatus::Error;
        }
    };
    let request = modelgate::run::batch::BatchRequest {
        input: &args.input,
        policies: &args.policies,
        timeout: timeout(args.timeout_ms, None),
        recording: args.record.recording(),
        threads: args.threads,
        format,
    };
    match with_output(args.output.output.as_deref(), |out| modelgate::run::batch::eval_batch(&request, out)) {
        Ok(summary) => {
            if let Some(reason) = &summary.unrecorded {
                eprintln!("warning: the decisions were not recorded: {reason}");
            }
            const SHOWN: usize = 20;
            for error in summary.errors.iter().take(SHOWN) {
                eprintln!("error: {}: {}", error.source, error.message);
            }
            if summary.errors.len() > SHOWN {
                eprintln!("error: … and {} more documents in error (see the reports)", summary.errors.len() - SHOWN);
            }
            eprintln!(
                "modelgate: {} documents: {} allow, {} deny, {} error",
                summary.documents, summary.allow, summary.deny, summary.error
            );
            summary.status()
        }
        Err(error) => {
            print_error(&error);
            ExitStatus::Error
        }
    }
}

/// Warns about a decision kept unrecorded, then reports it.
fn conclude(judged: gate::Judged, output: &OutputArgs) -> ExitStatus {
    if let Some(error) = &judged.unrecorded {
        eprintln!("warning: the decision was not recorded: {}", error.message);
    }
    emit(&judged.report, output, RenderOptions { evidence: judged.evidence, ..RenderOptions::default() })
}

impl RecordArgs {
    fn recording(&self) -> gate::Recording<'_> {
        gate::Recording { store: self.store.as_deref(), skip: self.no_record, allow_unrecorded: self.allow_unrecorded }
    }
}

/// Renders the report where it was asked for, and every `--report`; the exit status
/// follows the decision (2 when a report could not be written).
fn emit(report: &Report, output: &OutputArgs, options: RenderOptions) -> ExitStatus {
    let to_terminal = output.output.is_none() && std::io::stdout().is_terminal();
    let mut options = RenderOptions {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
        github_step_summary: std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from),
        ..options
    };
    let mut buffer = Vec::new();
    if let Err(error) = report::render(report, output.format, &options, &mut buffer) {
        eprintln!("error: cannot render the report: {error}");
        return ExitStatus::Error;
    }
    if let Err(error) = write_output(output.output.as_deref(), &buffer) {
        print_error(&error);
        return ExitStatus::Error;
    }
    // The step summary is appended once, by the main output, not again by a --report.
    if output.format == Format::Github {
        options.github_step_summary = None;
    }
    options.color = false;
    let mut written = true;
    for target in &output.reports {
        let rendered = with_output(Some(&target.path), |out| {
            report::render(report, target.format, &options, out).map_err(|error| Error::write(&target.path, error))
        });
        if let Err(error) = rendered {
            print_error(&error);
            written = false;
        }
    }
    // A job log must show the verdict even when the report went to a file.
    if output.output.is_some() {
        eprintln!("{}", report::verdict_line(report));
    }
    if !written {
        return ExitStatus::Error;
    }
    // A machine-readable report on stdout is for a program; a person still needs the reason.
    if let (Some(error), true) = (&report.error, output.format != Format::Text || output.output.is_some()) {
        eprintln!("error: {}", error.message);
        if let Some(hint) = &error.hint {
            eprintln!("hint: {hint}");
        }
    }
    report.exit_status()
}

fn collect_command(args: CollectArgs) -> ExitStatus {
    let result = gate::collect(args.project.project());
    let written = result.and_then(|evidence| match &args.output {
        Some(path) => modelgate::run::write_json(path, &evidence),
        None => {
            say_json(&evidence);
            Ok(())
        }
    });
    check_status(written.map(|()| true))
}

fn init(dir: &Path, force: bool) -> ExitStatus {
    match policy::library::init(dir, force) {
        Ok(files) => {
            say(&format!("wrote the built-in policy library ({} files) to {}", files.len(), dir.display()));
            for file in files {
                say(&format!("  {file}"));
            }
            say(&format!(
                "next: put it under version control, adjust data.yaml, and run `modelgate policy test {}`",
                dir.display()
            ));
            ExitStatus::Success
        }
        Err(error) => {
            print_error(&error);
            ExitStatus::Error
        }
    }
}

fn policy_test(dir: &Path, coverage: bool, format: TestFormat, timeout_ms: Option<u64>) -> ExitStatus {
    let run = match policy::testing::run(dir, coverage, timeout(timeout_ms, None)) {
        Ok(run) => run,
        Err(error) => {
            print_error(&error);
            return ExitStatus::Error;
        }
    };
    match format {
        TestFormat::Json => say_json(&run),
        TestFormat::Text => {
            let mut out = Vec::new();
            let _ = run.write_text(&mut out);
            say(String::from_utf8_lossy(&out).trim_end());
        }
    }
    if run.passed == 0 && run.failed == 0 {
        eprintln!("error: no test ran under {}", dir.display());
        eprintln!("hint: write rules named test_* in *_test.rego files (todo_* rules are skipped)");
    }
    run.exit_status()
}

/// Writes `bytes` to `path`, or to standard output.
pub(crate) fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match path {
        Some(path) => std::fs::write(path, bytes).map_err(|error| Error::write(path, error)),
        None => stdout(bytes),
    }
}

/// Runs `write` with the command's output: `--output FILE` (written beside it and renamed
/// into place when the command succeeds, so a failed run leaves no half report), else
/// standard output.
pub(crate) fn with_output<T>(path: Option<&Path>, write: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    let Some(path) = path else {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, StdoutWriter);
        let result = write(&mut out);
        let flushed =
            out.flush().map_err(|error| Error::new(ErrorKind::Io, format!("cannot write to standard output: {error}")));
        return result.and_then(|value| flushed.map(|()| value));
    };
    with_output_file(path, |file| {
        let mut out = std::io::BufWriter::new(file);
        let value = write(&mut out)?;
        out.flush().map_err(|error| Error::write(path, error))?;
        Ok(value)
    })
}

/// Runs `write` with a file written beside `path` and renamed into place when it
/// succeeds (a zip needs to seek, so not through [`with_output`]'s buffered writer).
pub(crate) fn with_output_file<T>(path: &Path, write: impl FnOnce(&mut std::fs::File) -> Result<T>) -> Result<T> {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let mut file = std::fs::File::create(&partial).map_err(|error| Error::write(path, error))?;
    let result = write(&mut file).and_then(|value| {
        file.sync_all().map_err(|error| Error::write(path, error))?;
        std::fs::rename(&partial, path).map_err(|error| Error::write(path, error))?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

/// Standard output as [`stdout`] treats it: a reader that went away is not an error.
struct StdoutWriter;

impl Write for StdoutWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        stdout(bytes).map(|()| bytes.len()).map_err(|error| std::io::Error::other(error.message))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether something could not be written to standard output (a full disk under a
/// redirect): the command then ends with exit 2, whatever it decided.
static STDOUT_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes to standard output. A reader that went away (`modelgate schema | head -5`) ends
/// the output quietly, and the exit status stays what the command decided.
fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            STDOUT_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
            Err(Error::new(ErrorKind::Io, format!("cannot write to standard output: {error}")))
        }
        _ => Ok(()),
    }
}

/// Prints `text` (and a newline) to standard output; see [`stdout`].
pub(crate) fn say(text: &str) {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    if let Err(error) = stdout(line.as_bytes()) {
        print_error(&error);
    }
}

/// Prints `value` as pretty JSON to standard output; a value that cannot be serialized is
/// an error (exit 2), never an empty line.
pub(crate) fn say_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => say(&text),
        Err(error) => {
            STDOUT_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
            eprintln!("error: cannot serialize the output: {error}");
        }
    }
}

/// The exit status, unless writing the output failed.
pub(crate) fn finish(status: ExitStatus) -> ExitStatus {
    if STDOUT_FAILED.load(std::sync::atomic::Ordering::Relaxed) {
        ExitStatus::Error
    } else {
        status
    }
}

/// The exit status of a command that checks something: 0 when it passed, 1 when it found
/// a problem, 2 (with the message) when it could not check.
/// The status of a command that ran, or exit 2 with its error printed.
pub(crate) fn exit(result: Result<ExitStatus>) -> ExitStatus {
    result.unwrap_or_else(|error| {
        print_error(&error);
        ExitStatus::Error
    })
}

pub(crate) fn check_status(result: Result<bool>) -> ExitStatus {
    match result {
        Ok(true) => ExitStatus::Success,
        Ok(false) => ExitStatus::Failure,
        Err(error) => {
            print_error(&error);
            ExitStatus::Error
        }
    }
}

pub(crate) fn print_error(error: &Error) {
    eprintln!("error: {}", error.message);
    if let Some(hint) = &error.hint {
        eprintln!("hint: {hint}");
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument and subcommand says what it is for in `--help`.
    #[test]
    fn every_flag_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for argument in command.get_arguments() {
                let builtin = matches!(
                    argument.get_action(),
                    clap::ArgAction::Help
                        | clap::ArgAction::HelpShort
                        | clap::ArgAction::HelpLong
                        | clap::ArgAction::Version
                );
                if !builtin && argument.get_help().is_none() && argument.get_long_help().is_none() {
                    missing.push(format!("{path} {}", argument.get_id()));
                }
            }
            for sub in command.get_subcommands() {
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(format!("{path} {} (the command)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "modelgate", &mut missing);
        assert!(missing.is_empty(), "arguments without help:\n{}", missing.join("\n"));
    }
}
