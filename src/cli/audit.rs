//! `modelgate audit log|show|at|verify|export`: the auditor's questions.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use modelgate::audit::export::ExportFormat;
use modelgate::audit::EntryKind;
use modelgate::exit::ExitStatus;
use modelgate::run::audit::{self, FilterRequest};

use super::SectionFormat;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Create an audit store. The default store beside modelgate.toml is created by the
    /// first decision; a store named with --store or MODELGATE_STORE must be created here
    /// first, so that a path that is wrong (a volume that failed to mount) is an error, not
    /// a fresh, empty history.
    Init(InitArgs),
    /// List recorded entries, newest first.
    Log(LogArgs),
    /// One entry in full: the explanation, the evidence and the policy files as they were.
    Show(ShowArgs),
    /// What was deployed in an environment at a moment: by which decision, under which
    /// policies, with which exceptions.
    At(AtArgs),
    /// Recompute the hash chain and every content digest; name the first entry that does not match.
    Verify(VerifyArgs),
    /// Write entries as JSON Lines, CSV or OPA decision-log events.
    Export(ExportArgs),
    /// Copy a store into a new, empty one (SQLite to PostgreSQL, or back), entries exactly
    /// as stored: the chain, its head and every published anchor carry over.
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The store to copy: a path (or sqlite://PATH), or postgres://USER@HOST/DATABASE.
    #[arg(long, value_name = "PATH|URL")]
    from: String,
    /// The new store, created when it does not exist; one holding entries is refused.
    #[arg(long, value_name = "PATH|URL")]
    to: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
}

#[derive(Debug, Args)]
pub struct StoreArg {
    /// The audit store: an SQLite file, or postgres://USER@HOST/DATABASE (default:
    /// .modelgate/audit.db in the current folder).
    #[arg(long, value_name = "PATH|URL", env = "MODELGATE_STORE", hide_env_values = true)]
    store: Option<String>,
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only entries of this model.
    #[arg(long)]
    model: Option<String>,
    /// The model version.
    #[arg(long = "model-version", value_name = "VERSION")]
    version: Option<String>,
    /// Only entries of this environment (one that the store's entries or policies name).
    #[arg(long, short)]
    environment: Option<String>,
    /// allow, deny or error.
    #[arg(long, value_parser = ["allow", "deny", "error"])]
    decision: Option<String>,
    /// decision, reevaluation, deploy, retire, alert (repeatable; default: all).
    #[arg(long, value_parser = ["decision", "reevaluation", "deploy", "retire", "alert"])]
    kind: Vec<String>,
    /// From this time (RFC 3339, or a date: midnight UTC).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Up to this time (a date includes the whole day).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
}

impl FilterArgs {
    fn request(&self) -> FilterRequest<'_> {
        FilterRequest {
            kinds: self.kind.iter().filter_map(|kind| EntryKind::parse(kind)).collect(),
            model: self.model.as_deref(),
            version: self.version.as_deref(),
            environment: self.environment.as_deref(),
            decision: self.decision.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
        }
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Output format: text to read, or JSON.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// At most this many entries (0: all).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    store: StoreArg,
    /// Output format: text to read, or JSON.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The entry's id (a report's decision_id).
    id: String,
    /// Leave out the evidence document and the policy files' text.
    #[arg(long)]
    brief: bool,
    /// Evaluate the stored evidence again under the stored policies and say whether the
    /// decision is reproduced.
    #[arg(long)]
    replay: bool,
    #[command(flatten)]
    store: StoreArg,
    /// Output format: text to read, or JSON.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
}

#[derive(Debug, Args)]
pub struct AtArgs {
    /// Only this environment (one that the store's entries or policies name).
    #[arg(long, short)]
    environment: Option<String>,
    /// The moment (RFC 3339, or a date: midnight UTC); default: now.
    #[arg(long, value_name = "TIME")]
    time: Option<String>,
    /// Only this model.
    #[arg(long)]
    model: Option<String>,
    #[command(flatten)]
    store: StoreArg,
    /// Output format: text to read, or JSON.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A head published earlier (`SEQ:sha256:…`, as verify and each report print it):
    /// it must still be in the chain. Repeatable.
    #[arg(long, value_name = "SEQ:HASH")]
    anchor: Vec<String>,
    #[command(flatten)]
    store: StoreArg,
    /// Output format: text to read, or JSON.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// jsonl (the chained entries), csv (a row per entry) or opa (OPA decision-log events).
    #[arg(long, short, value_enum)]
    format: ExportFormat,
    #[command(flatten)]
    filter: FilterArgs,
    /// OPA events without `input` (the evidence document).
    #[arg(long)]
    no_input: bool,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

pub fn run(command: AuditCommand) -> ExitStatus {
    let result = super::with_output(None, |out| match &command {
        AuditCommand::Init(args) => audit::init(args.store.get(), args.format.into(), out),
        AuditCommand::Log(args) => {
            audit::log(args.store.get(), &args.filter.request(), args.limit, args.format.into(), out)
        }
        AuditCommand::Show(args) => {
            audit::show(args.store.get(), &args.id, args.brief, args.replay, args.format.into(), out)
        }
        AuditCommand::At(args) => audit::at(
            args.store.get(),
            args.environment.as_deref(),
            args.time.as_deref(),
            args.model.as_deref(),
            args.format.into(),
            out,
        ),
        AuditCommand::Verify(args) => audit::verify(args.store.get(), &args.anchor, args.format.into(), out),
        AuditCommand::Copy(args) => audit::copy(&args.from, &args.to, args.format.into(), out),
        AuditCommand::Export(args) => super::with_output(args.output.as_deref(), |out| {
            let written = audit::export(args.store.get(), &args.filter.request(), args.format, !args.no_input, out)?;
            eprintln!("exported {written} entries");
            Ok(ExitStatus::Success)
        }),
    });
    super::exit(result)
}

impl StoreArg {
    fn get(&self) -> Option<&str> {
        self.store.as_deref()
    }
}
