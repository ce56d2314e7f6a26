//! `modelgate audit log|show|at|verify|export`: the auditor's questions.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use modelgate::audit::export::ExportFormat;
use modelgate::audit::EntryKind;
use modelgate::exit::ExitStatus;
use modelgate::run::audit::{self, FilterRequest};
use modelgate::run::Format;

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
    /// Write a recorded decision as an evidence package (zip): report, evidence, policy
    /// files, chain position and checkpoint, attestation, control-by-control summary;
    /// `audit package verify FILE.zip` re-checks one offline.
    Package(PackageArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct PackageArgs {
    #[command(subcommand)]
    command: Option<PackageCommand>,
    /// The decision's id (a report's decision_id).
    #[arg(required = true)]
    id: Option<String>,
    /// Limit the control summary to one framework of the bundle's controls.yaml
    /// (eu-ai-act, nist-ai-rmf, iso-42001 in the built-in library).
    #[arg(long)]
    framework: Option<String>,
    /// Where to write the package.
    #[arg(long, short, value_name = "FILE.zip", required = true)]
    output: Option<PathBuf>,
    /// The attestation the server signed for this decision (`check --server --attestation`).
    #[arg(long, value_name = "FILE", requires = "public_key")]
    attestation: Option<PathBuf>,
    /// The server's public key (`modelgate server key`): carried in the package and used to
    /// check the checkpoint, the entries' signatures and the attestation.
    #[arg(long = "public-key", value_name = "KEY.pub")]
    public_key: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Re-check an evidence package offline: every file against the recorded entry, the
    /// entry against the chain and the server's signed checkpoint, the attestation, and
    /// the reports derived again.
    Verify(PackageVerifyArgs),
}

#[derive(Debug, Args)]
pub struct PackageVerifyArgs {
    /// The package (.zip).
    package: PathBuf,
    /// The server's public key you trust: the package's own key must be this one, and its
    /// checkpoint (or its signature on the entry) vouches for the decision.
    #[arg(long = "public-key", value_name = "KEY.pub")]
    public_key: Option<PathBuf>,
    /// An anchor you kept (`SEQ:sha256:…`, the decision's audit seq and hash as its report
    /// gave them, or a head `audit verify` printed): it must be in the package's chain.
    /// Without --public-key or --anchor nothing you trust vouches for the package (exit 1).
    #[arg(long, value_name = "SEQ:HASH")]
    anchor: Option<String>,
    /// Output format: text to read, or JSON.
    #[arg(long, short, value_enum, default_value_t = SectionFormat::Text)]
    format: SectionFormat,
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
    #[command(flatten)]
    server: super::server::ServerClientArgs,
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
    /// decision, reevaluation, deploy, retire, alert, publish, activate, checkpoint (repeatable; default: all).
    #[arg(long, value_parser = ["decision", "reevaluation", "deploy", "retire", "alert", "publish", "activate", "checkpoint"])]
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
    /// Output format: text to read, JSON, or a self-contained HTML page (the report as it
    /// was made, with the evidence's charts, the chain position and the replay).
    #[arg(long, short, value_enum, default_value_t = ShowFormat::Text)]
    format: ShowFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
    Html,
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
    /// The server's public key (`modelgate server key`): check its signed checkpoints too.
    /// A store of the server without them, or with one that does not hold, fails.
    #[arg(long = "public-key", value_name = "KEY.pub")]
    public_key: Option<PathBuf>,
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
    if let AuditCommand::Package(args) = &command {
        return package(args);
    }
    if let Some(asked) = remote(&command) {
        return asked;
    }
    let result = super::with_output(None, |out| match &command {
        AuditCommand::Init(args) => audit::init(args.store.get(), args.format.into(), out),
        AuditCommand::Log(args) => {
            audit::log(args.store.get(), &args.filter.request(), args.limit, args.format.into(), out)
        }
        AuditCommand::Show(args) => match args.format {
            ShowFormat::Html => audit::show_html(args.store.get(), &args.id, args.replay, out),
            ShowFormat::Text => audit::show(args.store.get(), &args.id, args.brief, args.replay, Format::Text, out),
            ShowFormat::Json => audit::show(args.store.get(), &args.id, args.brief, args.replay, Format::Json, out),
        },
        AuditCommand::At(args) => audit::at(
            args.store.get(),
            args.environment.as_deref(),
            args.time.as_deref(),
            args.model.as_deref(),
            args.format.into(),
            out,
        ),
        AuditCommand::Verify(args) => {
            let key =
                args.public_key.as_deref().map(modelgate::artifacts::signing::keys::VerifyingKey::read).transpose()?;
            audit::verify(args.store.get(), &args.anchor, key.as_ref(), args.format.into(), out)
        }
        AuditCommand::Copy(args) => audit::copy(&args.from, &args.to, args.format.into(), out),
        AuditCommand::Package(_) => Ok(ExitStatus::Error),
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

/// `audit log|show|at|verify --server`: the question asked of the server, which answers
/// from its store with the same output.
fn remote(command: &AuditCommand) -> Option<ExitStatus> {
    let (store, question, format, mut query): (&StoreArg, &str, &str, Vec<(&str, String)>) = match command {
        AuditCommand::Log(args) => (&args.store, "log", name(args.format), {
            let mut query = args.filter.query();
            query.push(("limit", args.limit.to_string()));
            query
        }),
        AuditCommand::Show(args) => (
            &args.store,
            "show",
            match args.format {
                ShowFormat::Text => "text",
                ShowFormat::Json => "json",
                ShowFormat::Html => "html",
            },
            vec![("id", args.id.clone()), ("brief", args.brief.to_string()), ("replay", args.replay.to_string())],
        ),
        AuditCommand::At(args) => {
            let mut query = Vec::new();
            for (key, value) in [("environment", &args.environment), ("time", &args.time), ("model", &args.model)] {
                if let Some(value) = value {
                    query.push((key, value.clone()));
                }
            }
            (&args.store, "at", name(args.format), query)
        }
        AuditCommand::Verify(args) => {
            let anchors = (!args.anchor.is_empty()).then(|| ("anchors", args.anchor.join(",")));
            (&args.store, "verify", name(args.format), anchors.into_iter().collect())
        }
        AuditCommand::Init(args) => (&args.store, "init", name(args.format), Vec::new()),
        AuditCommand::Export(args) => {
            let mut query = args.filter.query();
            let export = match args.format {
                ExportFormat::Jsonl => "jsonl",
                ExportFormat::Csv => "csv",
                ExportFormat::Opa => "opa",
            };
            query.push(("export", export.to_string()));
            query.push(("no_input", args.no_input.to_string()));
            (&args.store, "export", "text", query)
        }
        AuditCommand::Copy(_) | AuditCommand::Package(_) => return None,
    };
    let url = store.server.server.as_deref()?;
    if question == "init" {
        super::print_error(
            &modelgate::error::Error::new(
                modelgate::error::ErrorKind::Config,
                format!("`audit {question}` is not asked of the server"),
            )
            .hint("run it against the server's store (--store), beside the server"),
        );
        return Some(ExitStatus::Error);
    }
    if let AuditCommand::Verify(VerifyArgs { public_key: Some(_), .. }) = command {
        super::print_error(
            &modelgate::error::Error::new(
                modelgate::error::ErrorKind::Config,
                "--public-key and --server: the server checks with its own key",
            )
            .hint("drop --public-key to ask the server, or drop --server to check the store yourself with the key"),
        );
        return Some(ExitStatus::Error);
    }
    if store.store.is_some() {
        super::print_error(
            &modelgate::error::Error::new(modelgate::error::ErrorKind::Config, "--store and --server name two stores")
                .hint("drop one: --server asks the server about its own store"),
        );
        return Some(ExitStatus::Error);
    }
    if question != "export" {
        query.push(("format", format.to_string()));
    }
    Some(super::exit(super::server::client(url).and_then(|client| {
        let answer = client.get_query(&format!("/v1/audit/{question}"), &query)?;
        if let AuditCommand::Export(args) = command {
            let text = answer["output"].as_str().unwrap_or_default();
            super::write_output(args.output.as_deref(), text.as_bytes())?;
            eprintln!("exported {} entries", answer["entries"]);
            return Ok(ExitStatus::Success);
        }
        match format {
            "json" => super::say_json(&answer["result"]),
            _ => super::say(answer["output"].as_str().unwrap_or_default().trim_end()),
        }
        Ok(ExitStatus::from_code(answer["status"].as_u64().unwrap_or(2)))
    })))
}

/// `audit package ID --output FILE.zip` and `audit package verify FILE.zip`.
fn package(args: &PackageArgs) -> ExitStatus {
    use modelgate::run::package;
    if let Some(PackageCommand::Verify(verify)) = &args.command {
        let anchor = match verify.anchor.as_deref() {
            Some(text) => match modelgate::audit::chain::Anchor::parse(text) {
                Some(anchor) => Some(anchor),
                None => {
                    super::print_error(
                        &modelgate::error::Error::new(
                            modelgate::error::ErrorKind::Config,
                            format!("--anchor `{text}` is not SEQ:sha256:HEX"),
                        )
                        .hint("pass the decision's audit seq and hash as its report gave them, e.g. 412:sha256:…"),
                    );
                    return ExitStatus::Error;
                }
            },
            None => None,
        };
        let result = verify
            .public_key
            .as_deref()
            .map(modelgate::artifacts::signing::keys::VerifyingKey::read)
            .transpose()
            .and_then(|key| package::verify_file(&verify.package, key.as_ref(), anchor.as_ref()));
        return super::exit(result.map(|verification| {
            match verify.format {
                SectionFormat::Json => super::say_json(&verification),
                SectionFormat::Text => super::say(verification.text().trim_end()),
            }
            verification.status()
        }));
    }
    if args.store.server.server.is_some() {
        super::print_error(
            &modelgate::error::Error::new(
                modelgate::error::ErrorKind::Config,
                "`audit package` is not asked of the server",
            )
            .hint("run it against the server's store (--store), beside the server, with --public-key"),
        );
        return ExitStatus::Error;
    }
    let (Some(id), Some(output)) = (args.id.as_deref(), args.output.as_deref()) else {
        return ExitStatus::Error;
    };
    let request = package::PackageRequest {
        id,
        framework: args.framework.as_deref(),
        attestation: args.attestation.as_deref(),
        public_key: args.public_key.as_deref(),
    };
    let result = audit::open_store(args.store.get())
        .and_then(|store| super::with_output_file(output, |file| package::package_in(store.as_ref(), &request, file)));
    super::exit(result.map(|manifest| {
        eprintln!(
            "wrote {} ({} files) for decision {} ({} {}, {})",
            output.display(),
            manifest.files.len() + 1,
            manifest.decision_id,
            manifest.model,
            manifest.version,
            manifest.decision.as_deref().unwrap_or("-")
        );
        ExitStatus::Success
    }))
}

/// The name the server's `format=` takes.
fn name(format: SectionFormat) -> &'static str {
    match format {
        SectionFormat::Text => "text",
        SectionFormat::Json => "json",
    }
}

impl FilterArgs {
    /// The filter as the server's query parameters.
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        for (key, value) in [
            ("model", &self.model),
            ("version", &self.version),
            ("environment", &self.environment),
            ("decision", &self.decision),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(value) = value {
                query.push((key, value.clone()));
            }
        }
        if !self.kind.is_empty() {
            query.push(("kinds", self.kind.join(",")));
        }
        query
    }
}
