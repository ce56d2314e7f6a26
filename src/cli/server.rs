//! `modelgate server` (serve; `token create|list|revoke`; `key`), the client side of the
//! server (`check --server`, `policy publish|activate`), and `attestation verify`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use modelgate::artifacts::signing::keys::VerifyingKey;
use modelgate::attestation::{self, Expectation};
use modelgate::audit::{self, Access};
use modelgate::error::{Error, ErrorKind, Result};
use modelgate::exit::ExitStatus;
use modelgate::server::auth::{self, NewToken, Role};
use modelgate::server::client::{self, Client};
use modelgate::server::{self as service, Overrides, ServerConfig};

use super::{exit, print_error, say, say_json, OutputArgs, ProjectArgs};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServerArgs {
    #[command(subcommand)]
    command: Option<ServerCommand>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum ServerCommand {
    /// Create, list and revoke the server's API tokens (run beside the server, on its store).
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the public key that verifies the server's attestations (PEM).
    Key {
        #[command(flatten)]
        server: ServeArgs,
    },
}

/// Where the server's settings are.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// server.toml (default: every setting's default; see docs/server.md).
    #[arg(long, value_name = "FILE", env = "MODELGATE_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// Listen on IP:PORT (default 127.0.0.1:8480; port 0 picks a free one).
    #[arg(long, value_name = "IP:PORT")]
    listen: Option<String>,
    /// The data folder: the default store and the generated signing key (default modelgate-server).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The audit store: an SQLite file, or postgres://USER@HOST/DATABASE (overrides `store`).
    #[arg(long, value_name = "PATH|URL", env = "MODELGATE_STORE", hide_env_values = true)]
    store: Option<String>,
}

impl ServeArgs {
    fn load(&self) -> Result<ServerConfig> {
        let overrides =
            Overrides { listen: self.listen.as_deref(), data: self.data.as_deref(), store: self.store.as_deref() };
        ServerConfig::load(self.config.as_deref(), &overrides)
    }
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it (once: the store keeps only its hash).
    Create {
        #[command(flatten)]
        server: ServeArgs,
        /// Who holds it (recorded as the requester of what it does): `ci/credit-scoring`, `jane.doe`.
        #[arg(long)]
        name: String,
        /// What it may do: pipeline (submit, deploy, retire within its scope), governance
        /// (publish, activate bundles), auditor (read everything), admin (tokens).
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Pipeline tokens: the model names or globs it may submit and deploy (comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "GLOB,…")]
        models: Vec<String>,
        /// Pipeline tokens: the environments it may submit and deploy to (comma-separated).
        #[arg(long, value_delimiter = ',', value_name = "ENV,…")]
        environments: Vec<String>,
        /// Expiry: a duration from now (90d, 12h) or a date or RFC 3339 time; none never expires.
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = Shown::Text)]
        format: Shown,
    },
    /// List the tokens (never their secrets).
    List {
        #[command(flatten)]
        server: ServeArgs,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t = Shown::Text)]
        format: Shown,
    },
    /// Revoke a token: every request with it is refused from now on.
    Revoke {
        #[command(flatten)]
        server: ServeArgs,
        /// The token's id (tok_…), as `token list` shows it.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Pipeline,
    Governance,
    Auditor,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shown {
    Text,
    Json,
}

pub fn run(args: ServerArgs) -> ExitStatus {
    match args.command {
        None => exit(serve(&args.serve)),
        Some(ServerCommand::Key { server }) => exit(key(&server)),
        Some(ServerCommand::Token(command)) => exit(token(command)),
    }
}

fn serve(args: &ServeArgs) -> Result<ExitStatus> {
    let config = args.load()?;
    let store = audit::Address::parse(&config.store)?.location();
    let tls = config.tls.is_some();
    service::serve(config, |address| {
        let scheme = if tls { "https" } else { "http" };
        say(&format!("modelgate server listening on {scheme}://{address} (store {store})"));
    })?;
    Ok(ExitStatus::Success)
}

fn key(args: &ServeArgs) -> Result<ExitStatus> {
    let key = service::signing_key(&args.load()?)?;
    say(key.verifying_key().to_pem().trim_end());
    Ok(ExitStatus::Success)
}

fn open_store(server: &ServeArgs) -> Result<Box<dyn audit::Store>> {
    let config = server.load()?;
    let access = if config.default_store { Access::Create } else { Access::ReadWrite };
    audit::open(&audit::Address::parse(&config.store)?, access)
}

fn token(command: TokenCommand) -> Result<ExitStatus> {
    match command {
        TokenCommand::Create { server, name, role, models, environments, expires, format } => {
            let role = match role {
                RoleArg::Pipeline => Role::Pipeline,
                RoleArg::Governance => Role::Governance,
                RoleArg::Auditor => Role::Auditor,
                RoleArg::Admin => Role::Admin,
            };
            let expires = expires.as_deref().map(auth::expiry).transpose()?;
            let mut store = open_store(&server)?;
            let new = NewToken { name: &name, role, models, environments, expires };
            let (token, secret) = auth::create(store.as_mut(), &new)?;
            match format {
                Shown::Json => {
                    say_json(&json!({"token": secret, "id": token.id, "name": token.name, "role": token.role,
                    "models": token.models, "environments": token.environments, "expires": token.expires}))
                }
                Shown::Text => {
                    eprintln!(
                        "created token {} for {} ({}); it is shown once: keep it in the CI secret store",
                        token.id, token.name, token.role
                    );
                    say(&secret);
                }
            }
            Ok(ExitStatus::Success)
        }
        TokenCommand::List { server, format } => {
            let tokens = open_store(&server)?.tokens()?;
            match format {
                Shown::Json => say_json(&tokens),
                Shown::Text => {
                    for token in &tokens {
                        let state = match (&token.revoked, &token.expires) {
                            (Some(time), _) => format!("revoked {time}"),
                            (None, Some(time)) => format!("expires {time}"),
                            (None, None) => "no expiry".into(),
                        };
                        let scope = if token.models.is_empty() {
                            String::new()
                        } else {
                            format!(" models {} environments {}", token.models.join(","), token.environments.join(","))
                        };
                        say(&format!("{} {:<10} {}{scope} ({state})", token.id, token.role, token.name));
                    }
                }
            }
            Ok(ExitStatus::Success)
        }
        TokenCommand::Revoke { server, id } => {
            if open_store(&server)?.revoke_token(&id, &audit::now())? {
                say(&format!("revoked {id}"));
                Ok(ExitStatus::Success)
            } else {
                Err(Error::new(ErrorKind::Config, format!("no token {id} to revoke (unknown, or revoked already)"))
                    .hint("`modelgate server token list` shows the tokens"))
            }
        }
    }
}

// ---------------------------------------------------------------- client mode

/// `--server` and the token, for the commands that can ask the server.
#[derive(Debug, Args)]
pub struct ServerClientArgs {
    /// The modelgate server (https://…): it judges with the bundle active for the
    /// environment, records and signs the decision. The token comes from MODELGATE_TOKEN.
    #[arg(long, value_name = "URL", env = "MODELGATE_SERVER")]
    pub server: Option<String>,
}

/// The client of `url`, with `MODELGATE_TOKEN` and, for a server whose certificate an
/// internal CA issued, `MODELGATE_SERVER_CA`.
pub fn client(url: &str) -> Result<Client> {
    let token = std::env::var(client::TOKEN_ENV).ok();
    let ca = std::env::var_os(client::CA_ENV).filter(|value| !value.is_empty()).map(PathBuf::from);
    Client::new(url, token.as_deref(), ca.as_deref())
}

/// `check --server`: collected here, judged, recorded and signed there.
pub fn check(url: &str, project: &ProjectArgs, attestation_out: Option<&Path>, output: &OutputArgs) -> ExitStatus {
    let answer = client(url).and_then(|client| client::check(&client, project.project()));
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            print_error(&error);
            return ExitStatus::Error;
        }
    };
    eprintln!(
        "note: judged by {url} under the policy bundle it has active for {}; [policies] in modelgate.toml is not used",
        answer.report.environment.as_deref().unwrap_or("the environment")
    );
    let options = modelgate::report::RenderOptions {
        evidence: answer.evidence.clone(),
        sections: answer.attestation.as_ref().map(modelgate::attestation::describe).into_iter().collect(),
        ..Default::default()
    };
    let status = super::emit(&answer.report, output, options);
    if let Some(path) = attestation_out {
        let written = match (&answer.attestation, &answer.attestation_missing) {
            (Some(envelope), _) => modelgate::run::write_json(path, envelope),
            (None, why) => Err(Error::new(
                ErrorKind::Server,
                format!("the server signed no attestation: {}", why.as_deref().unwrap_or("no reason given")),
            )
            .hint("an attestation names the model artifact: set [artifacts] model in modelgate.toml")),
        };
        if let Err(error) = written {
            print_error(&error);
            return ExitStatus::Error;
        }
    }
    status
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The policy repository (a clean checkout).
    #[arg(default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    server: ServerClientArgs,
}

#[derive(Debug, Args)]
pub struct ActivateArgs {
    /// The digest of a published bundle (sha256:…), as `policy publish` printed it.
    digest: String,
    /// The environment it takes effect in.
    #[arg(long, short)]
    environment: String,
    /// Show the impact on the models deployed there, and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// How the impact or re-evaluation report is written.
    #[arg(long, short, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    #[command(flatten)]
    server: ServerClientArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Text,
    Markdown,
    Json,
}

fn required(server: &ServerClientArgs) -> Result<Client> {
    let url = server.server.as_deref().ok_or_else(|| {
        Error::new(ErrorKind::Config, "no server named").hint("pass --server https://… or set MODELGATE_SERVER")
    })?;
    client(url)
}

pub fn publish(args: PublishArgs) -> ExitStatus {
    exit(required(&args.server).and_then(|client| client::publish(&client, &args.dir)).map(|answer| {
        let digest = answer["digest"].as_str().unwrap_or_default();
        if answer["published"].as_bool() == Some(true) {
            say(&format!(
                "published {digest} ({} tests passed; environments {})",
                answer["tests"]["passed"], answer["environments"]
            ));
        } else {
            say(&format!("{digest} was published before (entry {}); nothing changed", answer["entry"]["id"]));
        }
        say(&format!("next: modelgate policy activate {digest} --environment ENV --dry-run"));
        ExitStatus::Success
    }))
}

pub fn activate(args: ActivateArgs) -> ExitStatus {
    let format = match args.format {
        ReportFormat::Text => "text",
        ReportFormat::Markdown => "markdown",
        ReportFormat::Json => "json",
    };
    exit(required(&args.server).and_then(|client| {
        let answer = client::activate(&client, &args.digest, &args.environment, args.dry_run, format)?;
        say(answer["report"].as_str().unwrap_or_default().trim_end());
        if answer["activated"].as_bool() == Some(true) {
            eprintln!("activated {} for {} (previously {})", args.digest, args.environment, answer["previous"]);
        } else {
            eprintln!("dry run: nothing was activated or recorded");
        }
        let status = answer["status"].as_u64().unwrap_or(2);
        Ok(ExitStatus::from_code(status))
    }))
}

// ---------------------------------------------------------------- attestation verify

#[derive(Debug, Subcommand)]
pub enum AttestationCommand {
    /// Check, offline, that an attestation lets this artifact into this environment: signed
    /// by the server's key, PASSED, for exactly this artifact and environment, young enough.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The attestation (a DSSE envelope, as `check --server --attestation` writes it).
    file: PathBuf,
    /// The server's public key (PEM), as `modelgate server key` prints it.
    #[arg(long = "public-key", value_name = "KEY.pub")]
    public_key: PathBuf,
    /// The model about to be deployed: its folder (or file), or its sha256:… digest.
    #[arg(long, value_name = "DIR|sha256:…")]
    model: String,
    /// The model's name ([model] name): the decision must be about this model.
    #[arg(long, value_name = "NAME")]
    name: String,
    /// The model's model_signing signature, when not DIR/model.sig.
    #[arg(long, value_name = "FILE")]
    signature: Option<PathBuf>,
    /// The environment it is about to be deployed to.
    #[arg(long, short)]
    environment: String,
    /// Refuse an attestation older than this (90s, 30m, 24h, 7d).
    #[arg(long, value_name = "AGE", default_value = "24h")]
    max_age: String,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = Shown::Text)]
    format: Shown,
}

pub fn attestation(command: AttestationCommand) -> ExitStatus {
    let AttestationCommand::Verify(args) = command;
    exit(verify(&args))
}

fn verify(args: &VerifyArgs) -> Result<ExitStatus> {
    let key = VerifyingKey::read(&args.public_key)?;
    let subject = attestation::subject_of_argument(&args.model, args.signature.as_deref())?;
    let max_age = attestation::parse_duration(&args.max_age, "--max-age")?;
    let expectation = Expectation {
        key: &key,
        subject: &subject.digest,
        environment: &args.environment,
        model: &args.name,
        max_age: Some(max_age),
        now: chrono::Utc::now(),
    };
    let verdict = attestation::verify_file(&args.file, &expectation)?;
    match args.format {
        Shown::Json => say_json(&verdict),
        Shown::Text => say(verdict.text().trim_end()),
    }
    Ok(if verdict.verified { ExitStatus::Success } else { ExitStatus::Failure })
}

/// `deploy record|retire --server`: the server records, by its own decisions, with the
/// token's holder as requester. 0 recorded, 1 refused (with the reason), 2 error.
pub fn deploy(
    url: &str,
    path: &str,
    body: Result<serde_json::Value>,
    refused_flag: Option<&str>,
    format: modelgate::run::Format,
) -> ExitStatus {
    if let Some(flag) = refused_flag {
        print_error(
            &Error::new(ErrorKind::Config, format!("{flag} has no place with --server"))
                .hint("the server's store, its active bundle and your token decide: drop the flag"),
        );
        return ExitStatus::Error;
    }
    exit(body.and_then(|body| client(url)?.post(path, &body)).map(|answer| {
        let recorded = answer["status"] == "recorded";
        match format {
            modelgate::run::Format::Json => say_json(&answer),
            modelgate::run::Format::Text if recorded => {
                match serde_json::from_value::<audit::Entry>(answer["entry"].clone()) {
                    Ok(entry) => say(&modelgate::run::deploy::describe(&entry)),
                    Err(_) => say_json(&answer),
                }
            }
            modelgate::run::Format::Text => {}
        }
        if recorded {
            ExitStatus::Success
        } else {
            eprintln!("refused: {}", answer["reason"].as_str().unwrap_or("(no reason given)"));
            eprintln!("hint: {}", answer["hint"].as_str().unwrap_or("see the server's answer"));
            ExitStatus::Failure
        }
    }))
}
