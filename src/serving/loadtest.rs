//! The built-in load generator behind `modelgate loadtest`.
//!
//! `concurrency` threads, each with its own HTTP agent (one keep-alive connection), POST the
//! request bodies round-robin to one endpoint. The first request is sent alone: when it cannot
//! connect the run stops with an error instead of reporting a wall of failures. Warm-up requests
//! are sent by all threads, then every thread waits for the others and the measured phase starts
//! at once for all of them, so its clock covers only measured requests.
//!
//! Memory: one `f64` per successful measured request (8 MB per million requests) plus the
//! request bodies; responses are read and discarded.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Latency, Serving};

use super::requests::Protocol;
use super::stats::{round3, summarize};

/// At most this many threads; more would measure the load generator, not the model.
pub const MAX_CONCURRENCY: usize = 1024;

/// When the measured phase ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// Send requests until this much time has passed since the measured phase started.
    Duration(Duration),
    /// Send exactly this many measured requests.
    Requests(u64),
}

/// What to send, where, and how hard.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The endpoint as given: the full URL for `json`, the server's base URL for `v2`.
    pub url: String,
    pub protocol: Protocol,
    /// The model name in the v2 path; required for `v2`, refused for `json`.
    pub model: Option<String>,
    pub stop: Stop,
    /// Requests in flight at once (threads).
    pub concurrency: usize,
    /// Requests sent before the measured phase and not counted.
    pub warmup: u64,
    /// Time limit of one request, from connecting to the last byte of the response.
    pub timeout: Duration,
    /// Headers sent with every request (`Authorization` for an endpoint behind a token).
    pub headers: Vec<(String, String)>,
}

/// The result of a completed run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The evidence, exactly as it goes into `evaluation.serving`.
    pub serving: Serving,
    /// The URL the requests were sent to.
    pub target: String,
    /// Failed measured requests by cause (`HTTP 500`, `timeout`, …).
    pub errors: BTreeMap<String, u64>,
}

impl Plan {
    /// Checks the plan before anything is sent, and returns the URL to send to.
    pub fn target(&self) -> Result<String> {
        self.validate()?;
        let base = self.url.trim_end_matches('/');
        let target = match (self.protocol, &self.model) {
            (Protocol::Json, _) => self.url.clone(),
            (Protocol::V2, Some(model)) => format!("{base}/v2/models/{}/infer", encode_path_segment(model)),
            (Protocol::V2, None) => {
                return Err(invalid("--protocol v2 needs the model name")
                    .hint("pass --model NAME; requests go to {url}/v2/models/{NAME}/infer"))
            }
        };
        check_url(&target)?;
        Ok(target)
    }

    fn validate(&self) -> Result<()> {
        if self.protocol == Protocol::Json && self.model.is_some() {
            return Err(invalid("--model is only used with --protocol v2")
                .hint("with --protocol json the URL is the full endpoint; drop --model or add --protocol v2"));
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return Err(invalid(format!(
                "--concurrency must be between 1 and {MAX_CONCURRENCY}, not {}",
                self.concurrency
            ))
            .hint("concurrency is the number of requests in flight at once"));
        }
        if self.timeout.is_zero() {
            return Err(invalid("--timeout-ms must be at least 1").hint("it is the time limit of one request"));
        }
        match self.stop {
            Stop::Requests(0) => Err(invalid("--requests must be at least 1").hint("or run for --duration SECS")),
            Stop::Duration(duration) if duration.is_zero() => {
                Err(invalid("--duration must be more than 0 seconds").hint("or send a number of --requests N"))
            }
            _ => Ok(()),
        }
    }
}

/// `--header 'Name: value'`, with `${VAR}` in the value read from the environment (a
/// variable that is not set is an error, never an empty value).
pub fn parse_header(text: &str) -> Result<(String, String)> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(invalid(format!("--header `{text}` is not `Name: value`"))
            .hint("write e.g. --header 'Authorization: Bearer ${TOKEN}'"));
    };
    let name = name.trim();
    let mut expanded = String::new();
    let mut rest = value.trim();
    while let Some(start) = rest.find("${") {
        expanded.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            return Err(invalid(format!("--header `{name}`: an unclosed ${{ in its value")).hint("write ${VAR}"));
        };
        let variable = &rest[start + 2..start + end];
        let found = std::env::var(variable).map_err(|_| {
            invalid(format!("--header `{name}` reads ${{{variable}}}, which is not set"))
                .hint(format!("export {variable} first"))
        })?;
        expanded.push_str(&found);
        rest = &rest[start + end + 1..];
    }
    expanded.push_str(rest);
    if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err()
        || ureq::http::HeaderValue::from_str(&expanded).is_err()
    {
        return Err(invalid(format!("--header `{name}` is not a valid HTTP header")).hint("write `Name: value`"));
    }
    Ok((name.to_string(), expanded))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Serving, message)
}

fn check_url(target: &str) -> Result<()> {
    let uri: ureq::http::Uri = target.parse().map_err(|error| {
        invalid(format!("`{target}` is not a valid URL: {error}"))
            .hint("give the URL in full, like http://host:8080/predict")
    })?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none() {
        return Err(invalid(format!("`{target}` is not an http:// or https:// URL"))
            .hint("give the URL in full, like http://host:8080/predict"));
    }
    Ok(())
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a model name is one path segment.
fn encode_path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Runs the load test: `bodies` are sent round-robin; `on_request` is called after each measured
/// request (for a progress bar).
pub fn run(plan: &Plan, bodies: &[Vec<u8>], on_request: &(dyn Fn() + Sync)) -> Result<Outcome> {
    let target = plan.target()?;
    if bodies.is_empty() {
        return Err(
            invalid("no request bodies to send").hint("put one JSON request body per line in the requests file")
        );
    }
    let shared = Shared::new(plan, &target, bodies);
    let mut first = Tally::default();
    preflight(&shared, &mut first, on_request)?;
    let tallies = run_workers(&shared, on_request)?;
    let finished = Instant::now();
    let started = shared.started.get().copied().unwrap_or(finished);
    let mut total = first;
    for tally in tallies {
        total.merge(tally);
    }
    outcome(plan, target, total, finished.duration_since(started))
}

/// What the threads share: the request counter, the start of the measured phase, the gate between
/// warm-up and measurement.
struct Shared<'a> {
    plan: &'a Plan,
    target: &'a str,
    bodies: &'a [Vec<u8>],
    /// The global index of the next request: `0..warmup` warm up, the rest are measured.
    next: AtomicU64,
    started: OnceLock<Instant>,
    gate: Gate,
    aborted: AtomicBool,
}

impl<'a> Shared<'a> {
    fn new(plan: &'a Plan, target: &'a str, bodies: &'a [Vec<u8>]) -> Shared<'a> {
        Shared {
            plan,
            target,
            bodies,
            next: AtomicU64::new(0),
            started: OnceLock::new(),
            gate: Gate::default(),
            aborted: AtomicBool::new(false),
        }
    }

    fn body(&self, index: u64) -> &[u8] {
        // Round-robin over the file; `bodies` is not empty (checked in `run`).
        let slot = (index % self.bodies.len() as u64) as usize;
        self.bodies.get(slot).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether the measured request with global index `index` should be sent.
    fn measures(&self, index: u64) -> bool {
        match self.plan.stop {
            Stop::Requests(count) => index.saturating_sub(self.plan.warmup) < count,
            Stop::Duration(duration) => self.started.get().is_some_and(|started| started.elapsed() < duration),
        }
    }
}

/// Sends the first request alone; a failure to connect ends the run before it starts.
fn preflight(shared: &Shared, tally: &mut Tally, on_request: &(dyn Fn() + Sync)) -> Result<()> {
    let agent = agent(shared.plan.timeout);
    let index = shared.next.fetch_add(1, Ordering::SeqCst);
    let measured = index >= shared.plan.warmup;
    if measured {
        shared.started.get_or_init(Instant::now);
    }
    let sent = Instant::now();
    match send(&agent, shared.target, &shared.plan.headers, shared.body(index)) {
        Err(Failure::Transport(error)) if is_unreachable(&error) => Err(unreachable(shared.target, &error)),
        result => {
            if measured {
                tally.record(sent.elapsed(), result);
                on_request();
            }
            Ok(())
        }
    }
}

fn unreachable(target: &str, error: &ureq::Error) -> Error {
    Error::new(ErrorKind::Serving, format!("cannot reach {target}: {error}")).hint(
        "start the model server first and check the URL (and --model with --protocol v2); \
         nothing was measured",
    )
}

/// Errors that mean the endpoint cannot be reached at all, rather than a request that failed.
fn is_unreachable(error: &ureq::Error) -> bool {
    use ureq::Timeout;
    match error {
        ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::BadUri(_)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::InvalidProxyUrl => true,
        ureq::Error::Timeout(timeout) => matches!(timeout, Timeout::Resolve | Timeout::Connect),
        ureq::Error::Io(error) => matches!(
            error.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::NotFound
                | io::ErrorKind::HostUnreachable
                | io::ErrorKind::NetworkUnreachable
        ),
        _ => false,
    }
}

fn run_workers(shared: &Shared, on_request: &(dyn Fn() + Sync)) -> Result<Vec<Tally>> {
    std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(shared.plan.concurrency);
        for number in 0..shared.plan.concurrency {
            let spawned = std::thread::Builder::new()
                .name(format!("loadtest-{number}"))
                .spawn_scoped(scope, move || worker(shared, on_request));
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(error) => {
                    // Release the threads already waiting at the gate, and stop them.
                    shared.aborted.store(true, Ordering::SeqCst);
                    shared.gate.expect(handles.len());
                    return Err(
                        invalid(format!("cannot start load-test thread {number}: {error}")).hint("lower --concurrency")
                    );
                }
            }
        }
        shared.gate.expect(handles.len());
        handles
            .into_iter()
            .map(|handle| {
                handle.join().map_err(|_| invalid("a load-test thread stopped unexpectedly").hint("run it again"))
            })
            .collect()
    })
}

/// One thread: its share of the warm-up, then measured requests until the plan says stop.
fn worker(shared: &Shared, on_request: &(dyn Fn() + Sync)) -> Tally {
    let agent = agent(shared.plan.timeout);
    let mut index = shared.next.fetch_add(1, Ordering::SeqCst);
    while index < shared.plan.warmup {
        let _ = send(&agent, shared.target, &shared.plan.headers, shared.body(index));
        index = shared.next.fetch_add(1, Ordering::SeqCst);
    }
    shared.gate.arrive();
    let mut tally = Tally::default();
    if shared.aborted.load(Ordering::SeqCst) {
        return tally;
    }
    shared.started.get_or_init(Instant::now);
    while shared.measures(index) {
        let sent = Instant::now();
        let result = send(&agent, shared.target, &shared.plan.headers, shared.body(index));
        tally.record(sent.elapsed(), result);
        on_request();
        index = shared.next.fetch_add(1, Ordering::SeqCst);
    }
    tally
}

/// Holds threads until all have arrived, once the number of threads is known.
#[derive(Default)]
struct Gate {
    /// (arrived, expected)
    state: Mutex<(usize, Option<usize>)>,
    changed: Condvar,
}

impl Gate {
    fn arrive(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 += 1;
        self.changed.notify_all();
        while state.1.is_none_or(|expected| state.0 < expected) {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn expect(&self, threads: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 = Some(threads);
        self.changed.notify_all();
    }
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        // A redirect is an answer the client did not ask for; it counts as a failed request.
        .max_redirects(0)
        .user_agent(format!("modelgate/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Why one request failed.
enum Failure {
    Status(u16),
    Transport(ureq::Error),
    Read(io::Error),
}

impl Failure {
    /// A short cause, to count failures by.
    fn cause(&self) -> String {
        match self {
            Failure::Status(status) => format!("HTTP {status}"),
            Failure::Transport(ureq::Error::Timeout(_)) => "timeout".to_string(),
            Failure::Transport(ureq::Error::Io(error)) | Failure::Read(error)
                if error.kind() == io::ErrorKind::TimedOut =>
            {
                "timeout".to_string()
            }
            Failure::Transport(ureq::Error::Io(error)) | Failure::Read(error) => error.kind().to_string(),
            Failure::Transport(error) => error.to_string(),
        }
    }
}

/// POSTs one body and reads the whole response; anything but a 2xx status is a failure.
fn send(
    agent: &ureq::Agent,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::result::Result<(), Failure> {
    let mut request = agent.post(target).header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let mut response = request.send(body).map_err(Failure::Transport)?;
    io::copy(&mut response.body_mut().as_reader(), &mut io::sink()).map_err(Failure::Read)?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure::Status(status.as_u16()))
    }
}

/// One thread's measurements.
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn record(&mut self, elapsed: Duration, result: std::result::Result<(), Failure>) {
        match result {
            Ok(()) => self.latencies_ms.push(elapsed.as_secs_f64() * 1000.0),
            Err(failure) => *self.errors.entry(failure.cause()).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_ms.extend(other.latencies_ms);
        for (cause, count) in other.errors {
            *self.errors.entry(cause).or_default() += count;
        }
    }
}

fn outcome(plan: &Plan, target: String, mut tally: Tally, elapsed: Duration) -> Result<Outcome> {
    let successes = tally.latencies_ms.len() as u64;
    let failures: u64 = tally.errors.values().sum();
    let requests = successes + failures;
    if requests == 0 {
        return Err(invalid("no request was measured").hint("raise --duration, or send a number of --requests N"));
    }
    let seconds = elapsed.as_secs_f64();
    let latency = summarize(&mut tally.latencies_ms);
    let serving = Serving {
        latency_ms: Latency {
            p50: latency.p50.map(round3),
            p90: latency.p90.map(round3),
            p95: latency.p95.map(round3),
            p99: latency.p99.map(round3),
            mean: latency.mean.map(round3),
            max: latency.max.map(round3),
        },
        throughput_rps: Some(if seconds > 0.0 { round3(successes as f64 / seconds) } else { 0.0 }),
        error_rate: Some(failures as f64 / requests as f64),
        requests: Some(requests),
        duration_s: Some(round3(seconds)),
        concurrency: Some(plan.concurrency as u64),
        source: Some(format!("modelgate loadtest {target}")),
    };
    Ok(Outcome { serving, target, errors: tally.errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(protocol: Protocol, model: Option<&str>) -> Plan {
        Plan {
            headers: Vec::new(),
            url: "http://127.0.0.1:8080/".to_string(),
            protocol,
            model: model.map(str::to_string),
            stop: Stop::Requests(10),
            concurrency: 2,
            warmup: 0,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn headers_read_variables_from_the_environment_and_refuse_missing_ones() {
        let path = std::env::var("PATH").expect("PATH is set");
        let header = parse_header("X-Path: a ${PATH} b").expect("header");
        assert_eq!(header, ("X-Path".to_string(), format!("a {path} b")));
        let missing = parse_header("Authorization: Bearer ${MODELGATE_SURELY_UNSET_9}").expect_err("unset");
        assert!(missing.message.contains("MODELGATE_SURELY_UNSET_9"), "{}", missing.message);
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("Bad Name: x").is_err());
        assert!(parse_header("X: ${UNCLOSED").is_err());
    }

    #[test]
    fn v2_target_is_the_infer_path_of_the_model() {
        let target = plan(Protocol::V2, Some("iris v1")).target().ok();
        assert_eq!(target.as_deref(), Some("http://127.0.0.1:8080/v2/models/iris%20v1/infer"));
    }

    #[test]
    fn json_target_is_the_url_as_given() {
        assert_eq!(plan(Protocol::Json, None).target().ok().as_deref(), Some("http://127.0.0.1:8080/"));
    }

    #[test]
    fn inconsistent_plans_are_refused_before_anything_is_sent() {
        assert!(plan(Protocol::V2, None).target().is_err());
        assert!(plan(Protocol::Json, Some("iris")).target().is_err());
        let mut bad = plan(Protocol::Json, None);
        bad.concurrency = 0;
        assert!(bad.target().is_err());
        let mut bad = plan(Protocol::Json, None);
        bad.stop = Stop::Duration(Duration::ZERO);
        assert!(bad.target().is_err());
        let mut bad = plan(Protocol::Json, None);
        bad.url = "ftp://example.com/".to_string();
        assert!(bad.target().is_err());
        bad.url = "localhost:8080".to_string();
        assert!(bad.target().is_err());
    }

    #[test]
    fn outcome_counts_failures_and_successes() {
        let mut tally = Tally::default();
        for latency in [1.0, 2.0, 3.0] {
            tally.record(Duration::from_secs_f64(latency / 1000.0), Ok(()));
        }
        tally.record(Duration::from_millis(1), Err(Failure::Status(500)));
        let outcome = outcome(&plan(Protocol::Json, None), "http://x/".to_string(), tally, Duration::from_secs(2));
        let outcome = outcome.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(outcome.serving.requests, Some(4));
        assert_eq!(outcome.serving.error_rate, Some(0.25));
        assert_eq!(outcome.serving.throughput_rps, Some(1.5));
        assert_eq!(outcome.serving.latency_ms.p50, Some(2.0));
        assert_eq!(outcome.errors.get("HTTP 500"), Some(&1));
    }

    #[test]
    fn all_failed_has_no_latency_but_an_error_rate() {
        let mut tally = Tally::default();
        tally.record(Duration::from_millis(1), Err(Failure::Status(503)));
        let outcome = outcome(&plan(Protocol::Json, None), "http://x/".to_string(), tally, Duration::from_secs(1));
        let serving = outcome.map(|outcome| outcome.serving).ok();
        assert_eq!(serving.as_ref().and_then(|serving| serving.latency_ms.p50), None);
        assert_eq!(serving.as_ref().and_then(|serving| serving.error_rate), Some(1.0));
    }

    #[test]
    fn nothing_measured_is_an_error() {
        let outcome = outcome(&plan(Protocol::Json, None), "http://x/".to_string(), Tally::default(), Duration::ZERO);
        assert!(outcome.is_err());
    }
}
