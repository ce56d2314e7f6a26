//! `modelgate loadtest`: measure latency and throughput of an HTTP inference endpoint.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use modelgate::error::{Error, ErrorKind, Result};
use modelgate::exit::ExitStatus;
use modelgate::report::sections;
use modelgate::serving::{self, Outcome, Plan, Protocol, Stop};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("length").required(true).args(["duration", "requests"])))]
#[command(after_help = "Exit codes: 0 the run completed (failed requests are in error_rate), 2 error.")]
pub struct LoadtestArgs {
    /// The endpoint: the full URL to POST to (json), or the server's base URL (v2).
    #[arg(value_name = "URL")]
    url: String,
    /// Request bodies, one JSON document per line (JSON Lines), sent round-robin.
    #[arg(long, value_name = "FILE")]
    requests_file: PathBuf,
    /// How each line is sent.
    #[arg(long, value_enum, default_value_t = Protocol::Json)]
    protocol: Protocol,
    /// The model name in the v2 path (required with --protocol v2).
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Measure for this many seconds.
    #[arg(long, value_name = "SECS")]
    duration: Option<f64>,
    /// Measure exactly this many requests.
    #[arg(long, value_name = "N")]
    requests: Option<u64>,
    /// Requests in flight at once (threads, each with its own keep-alive connection).
    #[arg(long, short, value_name = "C", default_value_t = 1)]
    concurrency: usize,
    /// Requests sent first and not counted.
    #[arg(long, value_name = "N", default_value_t = 0)]
    warmup: u64,
    /// A header sent with every request, `Name: value` (repeatable); `${VAR}` in the value is
    /// read from the environment, so a token stays out of the command line.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Time limit of one request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    timeout_ms: u64,
    /// Output format: a table, or the `evaluation.serving` JSON object.
    #[arg(long, short, value_enum, default_value_t = LoadtestFormat::Text)]
    format: LoadtestFormat,
    /// Write the result to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LoadtestFormat {
    Text,
    Json,
}

pub fn run(args: LoadtestArgs) -> ExitStatus {
    match measure(&args).and_then(|outcome| write(&args, &outcome).map(|()| outcome)) {
        Ok(outcome) => {
            warn_if_all_failed(&outcome);
            ExitStatus::Success
        }
        Err(error) => {
            super::print_error(&error);
            ExitStatus::Error
        }
    }
}

fn measure(args: &LoadtestArgs) -> Result<Outcome> {
    let plan = plan(args)?;
    plan.target()?;
    let bodies = serving::read_requests(&args.requests_file, args.protocol)?;
    let progress = progress_bar(&plan);
    let outcome = serving::loadtest::run(&plan, &bodies, &|| progress.inc(1));
    progress.finish_and_clear();
    outcome
}

fn plan(args: &LoadtestArgs) -> Result<Plan> {
    let stop = match (args.duration, args.requests) {
        (Some(seconds), _) => Stop::Duration(Duration::try_from_secs_f64(seconds).map_err(|_| {
            Error::new(ErrorKind::Serving, format!("--duration {seconds} is not a number of seconds"))
                .hint("give a positive number of seconds, like --duration 30")
        })?),
        (None, Some(count)) => Stop::Requests(count),
        (None, None) => {
            return Err(
                Error::new(ErrorKind::Serving, "say how long to measure").hint("pass --duration SECS or --requests N")
            )
        }
    };
    Ok(Plan {
        url: args.url.clone(),
        protocol: args.protocol,
        model: args.model.clone(),
        stop,
        concurrency: args.concurrency,
        warmup: args.warmup,
        timeout: Duration::from_millis(args.timeout_ms),
        headers: args.headers.iter().map(|header| serving::loadtest::parse_header(header)).collect::<Result<_>>()?,
    })
}

/// A progress bar on standard error when a person is watching; hidden otherwise.
fn progress_bar(plan: &Plan) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match plan.stop {
        Stop::Requests(count) => ProgressBar::new(count).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} requests  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        Stop::Duration(_) => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} requests  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn write(args: &LoadtestArgs, outcome: &Outcome) -> Result<()> {
    let text = match args.format {
        LoadtestFormat::Json => {
            let mut json = serde_json::to_string_pretty(&outcome.serving)
                .map_err(|error| Error::new(ErrorKind::Serving, format!("cannot serialize the result: {error}")))?;
            json.push('\n');
            json
        }
        LoadtestFormat::Text => {
            let mut bytes = Vec::new();
            sections::serving::write(outcome, &mut bytes)
                .map_err(|error| Error::new(ErrorKind::Io, format!("cannot render the result: {error}")))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|error| Error::write(path, error)),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|error| Error::new(ErrorKind::Io, format!("cannot write to standard output: {error}"))),
    }
}

/// A run where nothing succeeded is still a result (error_rate 1), but a person should know why.
fn warn_if_all_failed(outcome: &Outcome) {
    if outcome.serving.latency_ms.p50.is_none() {
        let causes: Vec<&str> = outcome.errors.keys().map(String::as_str).collect();
        eprintln!("warning: every measured request failed ({})", causes.join(", "));
        eprintln!("hint: check the URL, --protocol and --model, and the request bodies against the server's API");
    }
}
