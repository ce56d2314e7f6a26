//! Serving performance: `modelgate loadtest` against a real HTTP server in the test, and the
//! load-test report reader on modelgate's and k6's report shapes.

mod util;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use modelgate::evidence::Serving;
use modelgate::serving::{read_report, stats};
use util::{fixture, Run};

/// A small HTTP/1.1 server with keep-alive, on 127.0.0.1:0, that records what it was sent.
mod server {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// How the server answers; requests are numbered from 1 in arrival order.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Behaviour {
        /// Answer 500 to every n-th request.
        pub fail_every: Option<u64>,
        /// Wait this long before answering every n-th request.
        pub delay: Option<(Duration, u64)>,
    }

    #[derive(Debug, Clone)]
    pub struct Seen {
        pub path: String,
        pub content_type: Option<String>,
        pub body: String,
    }

    pub struct Server {
        pub address: SocketAddr,
        seen: Arc<Mutex<Vec<Seen>>>,
        connections: Arc<AtomicU64>,
    }

    impl Server {
        pub fn start(behaviour: Behaviour) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
            let address = listener.local_addr().expect("a local address");
            let seen = Arc::new(Mutex::new(Vec::new()));
            let connections = Arc::new(AtomicU64::new(0));
            let counter = Arc::new(AtomicU64::new(0));
            let (seen_by_server, connections_by_server) = (seen.clone(), connections.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    connections_by_server.fetch_add(1, Ordering::SeqCst);
                    let (seen, counter) = (seen_by_server.clone(), counter.clone());
                    std::thread::spawn(move || serve(stream, behaviour, &seen, &counter));
                }
            });
            Server { address, seen, connections }
        }

        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.address)
        }

        pub fn seen(&self) -> Vec<Seen> {
            self.seen.lock().expect("the request log").clone()
        }

        pub fn connections(&self) -> u64 {
            self.connections.load(Ordering::SeqCst)
        }
    }

    /// Answers requests on one connection until the client closes it.
    fn serve(stream: TcpStream, behaviour: Behaviour, seen: &Mutex<Vec<Seen>>, counter: &AtomicU64) {
        let _ = stream.set_nodelay(true);
        let mut writer = stream.try_clone().expect("a second handle on the stream");
        let mut reader = BufReader::new(stream);
        while let Some(request) = read_request(&mut reader) {
            let number = counter.fetch_add(1, Ordering::SeqCst) + 1;
            seen.lock().expect("the request log").push(request.clone());
            if let Some((delay, every)) = behaviour.delay {
                if number % every == 0 {
                    std::thread::sleep(delay);
                }
            }
            let failing = behaviour.fail_every.is_some_and(|every| number % every == 0);
            let (status, body) = answer(&request.path, failing);
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
        }
    }

    fn answer(path: &str, failing: bool) -> (&'static str, String) {
        if failing {
            return ("500 Internal Server Error", r#"{"error": "injected failure"}"#.to_string());
        }
        if path == "/predict" {
            return ("200 OK", r#"{"predictions": [1]}"#.to_string());
        }
        let model = path.strip_prefix("/v2/models/").and_then(|rest| rest.strip_suffix("/infer"));
        match model {
            Some(model) => (
                "200 OK",
                format!(
                    r#"{{"model_name": "{model}", "outputs": [{{"name": "output-0", "shape": [1], "datatype": "INT64", "data": [1]}}]}}"#
                ),
            ),
            None => ("404 Not Found", r#"{"error": "no such route"}"#.to_string()),
        }
    }

    fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let path = line.split_whitespace().nth(1)?.to_string();
        let (mut length, mut content_type) = (0usize, None);
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "content-type" => content_type = Some(value.trim().to_string()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some(Seen { path, content_type, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

use server::{Behaviour, Server};

/// Runs `modelgate loadtest ARGS` (the runner clears proxy settings).
fn loadtest(args: &[&str]) -> Run {
    let mut all = vec!["loadtest"];
    all.extend_from_slice(args);
    util::modelgate(&all)
}

/// Writes a requests file into a fresh temporary folder.
fn requests_file(lines: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("requests.jsonl");
    std::fs::write(&path, lines).expect("write the requests file");
    (dir, path)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

fn number(value: &Value, pointer: &str) -> f64 {
    value.pointer(pointer).and_then(Value::as_f64).unwrap_or_else(|| panic!("no number at {pointer} in {value}"))
}

// ---------------------------------------------------------------- loadtest

#[test]
fn json_protocol_posts_each_line_as_it_is_round_robin() {
    let server = Server::start(Behaviour::default());
    let (_dir, file) = requests_file("{\"x\": [1, 2]}\n\n{\"x\": [3, 4]}\n[5, 6]\n");
    let url = server.url("/predict");
    let run = loadtest(&[&url, "--requests-file", path_str(&file), "--requests", "7", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let report = run.json();
    assert_eq!(report["requests"], 7);
    assert_eq!(report["error_rate"], 0.0);
    assert_eq!(report["concurrency"], 1);
    assert_eq!(report["source"], format!("modelgate loadtest {url}"));
    for field in ["p50", "p90", "p95", "p99", "mean", "max"] {
        assert!(report["latency_ms"][field].as_f64().is_some_and(|value| value > 0.0), "{field}: {report}");
    }
    assert!(number(&report, "/throughput_rps") > 0.0);
    assert!(number(&report, "/duration_s") > 0.0);

    let seen = server.seen();
    let bodies: Vec<&str> = seen.iter().map(|request| request.body.as_str()).collect();
    let lines = ["{\"x\": [1, 2]}", "{\"x\": [3, 4]}", "[5, 6]"];
    assert_eq!(bodies, [lines[0], lines[1], lines[2], lines[0], lines[1], lines[2], lines[0]]);
    assert!(seen.iter().all(|request| request.path == "/predict"));
    assert!(seen.iter().all(|request| request.content_type.as_deref() == Some("application/json")));
}

#[test]
fn the_json_output_is_the_evidence_shape_and_reads_back_as_a_report() {
    let server = Server::start(Behaviour::default());
    let (dir, file) = requests_file("[1]\n");
    let output = dir.path().join("serving.json");
    let run = loadtest(&[
        &server.url("/predict"),
        "--requests-file",
        path_str(&file),
        "--requests",
        "5",
        "--format",
        "json",
        "--output",
        path_str(&output),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let written: Serving = serde_json::from_str(&std::fs::read_to_string(&output).expect("the output file"))
        .expect("the output is exactly the `Serving` evidence shape");
    let read = read_report(&output).expect("the output is a load-test report modelgate reads");
    assert_eq!(read.source.as_deref(), Some(path_str(&output)));
    assert_eq!(Serving { source: written.source.clone(), ..read }, written);
}

#[test]
fn warmup_requests_are_sent_but_not_counted_and_connections_are_kept_alive() {
    let server = Server::start(Behaviour::default());
    let (_dir, file) = requests_file("[1, 2]\n");
    let run = loadtest(&[
        &server.url("/predict"),
        "--requests-file",
        path_str(&file),
        "--requests",
        "30",
        "--warmup",
        "6",
        "--concurrency",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["requests"], 30);
    assert_eq!(run.json()["concurrency"], 3);
    assert_eq!(server.seen().len(), 36);
    // One connection for the first request, then one per thread, reused for every request.
    assert!(server.connections() <= 4, "{} connections for 3 threads", server.connections());
}

#[test]
fn v2_protocol_wraps_feature_values_and_posts_to_the_infer_path() {
    let server = Server::start(Behaviour::default());
    let request = r#"{"id": "42", "inputs": [{"name": "x", "shape": [1, 2], "datatype": "INT64", "data": [7, 8]}]}"#;
    let lines = format!("[5.1, 3.5, 1.4, 0.2]\n{request}\n[[1, 2], [3, 4]]\n{{\"age\": 42, \"city\": \"Oslo\"}}\n");
    let (_dir, file) = requests_file(&lines);
    let base = server.url("/");
    let run = loadtest(&[
        &base,
        "--requests-file",
        path_str(&file),
        "--protocol",
        "v2",
        "--model",
        "iris",
        "--requests",
        "4",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["error_rate"], 0.0);
    assert_eq!(run.json()["source"], format!("modelgate loadtest {}v2/models/iris/infer", base));

    let seen = server.seen();
    assert!(seen.iter().all(|request| request.path == "/v2/models/iris/infer"), "{seen:?}");
    let bodies: Vec<Value> =
        seen.iter().map(|request| serde_json::from_str(&request.body).expect("a JSON body")).collect();
    assert_eq!(
        bodies[0],
        json!({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]})
    );
    assert_eq!(seen[1].body, request, "a v2 request is sent byte for byte");
    assert_eq!(
        bodies[2],
        json!({"inputs": [{"name": "input-0", "shape": [2, 2], "datatype": "FP32", "data": [1, 2, 3, 4]}]})
    );
    assert_eq!(
        bodies[3],
        json!({"inputs": [
            {"name": "age", "shape": [1], "datatype": "FP32", "data": [42]},
            {"name": "city", "shape": [1], "datatype": "BYTES", "data": ["Oslo"]},
        ]})
    );
}

#[test]
fn a_server_failing_every_4th_request_gives_an_error_rate_of_a_quarter() {
    let server = Server::start(Behaviour { fail_every: Some(4), ..Behaviour::default() });
    let (_dir, file) = requests_file("[1]\n[2]\n");
    let args = ["--requests", "100", "--warmup", "8", "--concurrency", "4"];
    let url = server.url("/predict");
    let run = loadtest(&[&[url.as_str(), "--requests-file", path_str(&file), "--format", "json"], &args[..]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["requests"], 100);
    assert_eq!(report["error_rate"], 0.25);
    assert!(report["latency_ms"]["p50"].is_f64(), "latency is measured over the successful requests");

    let server = Server::start(Behaviour { fail_every: Some(4), ..Behaviour::default() });
    let url = server.url("/predict");
    let run = loadtest(&[&[url.as_str(), "--requests-file", path_str(&file)], &args[..]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("errors       25 (25.00%): HTTP 500 ×25"), "{}", run.stdout);
    assert!(run.stdout.contains("requests     100 in "), "{}", run.stdout);
    // The text's shape, with the measured times filtered out.
    let filters = vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"), (r" +\d+\.\d{3}", " [N]")];
    insta::with_settings!({filters => filters, prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("text_loadtest", run.stdout);
    });
}

#[test]
fn latencies_reflect_an_injected_delay() {
    let delay = Duration::from_millis(60);
    let server = Server::start(Behaviour { delay: Some((delay, 1)), ..Behaviour::default() });
    let (_dir, file) = requests_file("[1]\n");
    let url = server.url("/predict");
    let run = loadtest(&[&url, "--requests-file", path_str(&file), "--requests", "12", "-c", "3", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    for field in ["p50", "p90", "p95", "p99", "mean", "max"] {
        assert!(number(&report, &format!("/latency_ms/{field}")) >= 60.0, "{field}: {report}");
    }
    // 12 requests of at least 60 ms over 3 threads take at least 4 × 60 ms.
    assert!(number(&report, "/duration_s") >= 0.24, "{report}");
}

#[test]
fn a_delay_on_some_responses_shows_in_the_tail() {
    let server = Server::start(Behaviour { delay: Some((Duration::from_millis(80), 5)), ..Behaviour::default() });
    let (_dir, file) = requests_file("[1]\n");
    let url = server.url("/predict");
    let run = loadtest(&[&url, "--requests-file", path_str(&file), "--requests", "20", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    // Requests 5, 10, 15 and 20 are slow: the top 20% of 20 values; p90 lies between two of them.
    for field in ["p90", "p95", "p99", "max"] {
        assert!(number(&report, &format!("/latency_ms/{field}")) >= 80.0, "{field}: {report}");
    }
}

#[test]
fn timeouts_are_failed_requests() {
    let server = Server::start(Behaviour { delay: Some((Duration::from_millis(500), 1)), ..Behaviour::default() });
    let (_dir, file) = requests_file("[1]\n");
    let url = server.url("/predict");
    let run = loadtest(&[&url, "--requests-file", path_str(&file), "--requests", "2", "--timeout-ms", "100"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("errors       2 (100.00%): timeout ×2"), "{}", run.stdout);
    assert!(run.stderr.contains("warning: every measured request failed"), "{}", run.stderr);
}

#[test]
fn a_duration_run_lasts_at_least_the_duration() {
    let server = Server::start(Behaviour::default());
    let (_dir, file) = requests_file("[1]\n");
    let url = server.url("/predict");
    let run = loadtest(&[&url, "--requests-file", path_str(&file), "--duration", "0.3", "-c", "2", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert!(number(&report, "/duration_s") >= 0.3, "{report}");
    assert_eq!(report["requests"].as_u64(), Some(server.seen().len() as u64));
}

#[test]
fn an_unreachable_endpoint_is_an_error_with_a_hint() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).map(|a| a.port());
    let url = format!("http://127.0.0.1:{}/predict", port.expect("a free port"));
    let (_dir, file) = requests_file("[1]\n");
    let run = loadtest(&[&url, "--requests-file", path_str(&file), "--requests", "10", "--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty(), "no report for a run that never started: {}", run.stdout);
    assert!(run.stderr.contains(&format!("error: cannot reach {url}")), "{}", run.stderr);
    assert!(run.stderr.contains("hint: start the model server first"), "{}", run.stderr);
}

#[test]
fn a_bad_json_line_is_an_error_naming_the_line() {
    let server = Server::start(Behaviour::default());
    let (_dir, file) = requests_file("[1]\n\n{\"x\": oops}\n");
    let run = loadtest(&[&server.url("/predict"), "--requests-file", path_str(&file), "--requests", "3"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&format!("error: {}:3: not valid JSON", path_str(&file))), "{}", run.stderr);
    assert!(run.stderr.contains("hint: the requests file has one JSON request body per line"), "{}", run.stderr);
    assert!(server.seen().is_empty(), "nothing is sent before the file is read");
}

#[test]
fn v2_without_a_model_name_is_an_error() {
    let (_dir, file) = requests_file("[1]\n");
    let run =
        loadtest(&["http://127.0.0.1:9", "--requests-file", path_str(&file), "--protocol", "v2", "--requests", "1"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("error: --protocol v2 needs the model name"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: pass --model NAME"), "{}", run.stderr);
}

#[test]
fn duration_or_requests_is_required() {
    let (_dir, file) = requests_file("[1]\n");
    let run = loadtest(&["http://127.0.0.1:9", "--requests-file", path_str(&file)]);
    assert_eq!(run.code, 2);
    let run =
        loadtest(&["http://127.0.0.1:9", "--requests-file", path_str(&file), "--requests", "1", "--duration", "1"]);
    assert_eq!(run.code, 2);
}

// ---------------------------------------------------------------- percentiles

#[test]
fn percentiles_match_numpy() {
    let text = std::fs::read_to_string(fixture("serving/percentiles.json")).expect("the numpy reference values");
    let reference: Value = serde_json::from_str(&text).expect("JSON");
    let cases = reference["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for case in cases {
        let mut values: Vec<f64> = serde_json::from_value(case["values"].clone()).expect("values");
        values.sort_by(f64::total_cmp);
        for (q, expected) in case["percentiles"].as_object().expect("percentiles") {
            let q: f64 = q.parse().expect("a percentile");
            let expected = expected.as_f64().expect("a number");
            let actual = stats::percentile(&values, q).expect("a value");
            assert!(
                (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
                "p{q} of {} values: {actual} != numpy's {expected}",
                values.len()
            );
        }
    }
}

// ---------------------------------------------------------------- report files

fn report(name: &str) -> Serving {
    read_report(&fixture(&format!("serving/{name}"))).unwrap_or_else(|error| panic!("{name}: {error:?}"))
}

fn report_error(name: &str) -> modelgate::error::Error {
    match read_report(&fixture(&format!("serving/{name}"))) {
        Ok(serving) => panic!("{name} was read: {serving:?}"),
        Err(error) => error,
    }
}

fn assert_close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what} is missing"));
    assert!((actual - expected).abs() <= 1e-9 * expected.abs().max(1.0), "{what}: {actual} != {expected}");
}

#[test]
fn reads_modelgates_own_report_shape() {
    let serving = report("modelgate-serving.json");
    assert_eq!(serving.latency_ms.p95, Some(24.118));
    assert_eq!(serving.latency_ms.p99, Some(41.906));
    assert_eq!(serving.throughput_rps, Some(285.512));
    assert_eq!(serving.error_rate, Some(0.004));
    assert_eq!(serving.requests, Some(8600));
    assert_eq!(serving.concurrency, Some(4));
    assert_eq!(serving.source.as_deref(), Some(path_str(&fixture("serving/modelgate-serving.json"))));
}

/// k6 --summary-export: flat metric values, default trend stats (no p(99)).
#[test]
fn reads_a_k6_summary_export() {
    let serving = report("k6-summary-export.json");
    let latency = &serving.latency_ms;
    // From http_req_duration{expected_response:true}, not from http_req_duration.
    assert_eq!(latency.p50, Some(40.8875));
    assert_eq!(latency.p90, Some(86.90425));
    assert_eq!(latency.p95, Some(118.27665));
    assert_eq!(latency.p99, None, "k6 did not export p(99); it is not invented");
    assert_eq!(latency.mean, Some(47.3551));
    assert_eq!(latency.max, Some(398.1204));
    assert_eq!(serving.requests, Some(600));
    assert_eq!(serving.error_rate, Some(0.02));
    assert_eq!(serving.concurrency, Some(10));
    assert_close(serving.throughput_rps, 600.0 / 30.0215 * 0.98, "throughput_rps");
    assert_close(serving.duration_s, 30.0215, "duration_s");
    assert_eq!(serving.source.as_deref(), Some(path_str(&fixture("serving/k6-summary-export.json"))));
}

/// k6 handleSummary() data: metrics.<name>.values, here with p(99) in summaryTrendStats.
#[test]
fn reads_k6_handle_summary_data() {
    let serving = report("k6-handle-summary.json");
    let latency = &serving.latency_ms;
    assert_eq!(latency.p50, Some(40.8875));
    assert_eq!(latency.p95, Some(118.27665));
    assert_eq!(latency.p99, Some(310.5));
    assert_eq!(latency.mean, Some(47.3551));
    assert_eq!(serving.requests, Some(600));
    assert_eq!(serving.error_rate, Some(0.02));
    assert_eq!(serving.concurrency, Some(10));
    assert_close(serving.throughput_rps, 600.0 / 30.0215 * 0.98, "throughput_rps");
    assert_close(serving.duration_s, 30.0215, "duration_s");
}

/// k6 --new-machine-readable-summary: results.metrics as a list, no submetrics, no p99.
#[test]
fn reads_a_k6_machine_readable_summary() {
    let serving = report("k6-machine-readable.json");
    let latency = &serving.latency_ms;
    assert_eq!(latency.p50, Some(41.37));
    assert_eq!(latency.p90, Some(88.41));
    assert_eq!(latency.p95, Some(120.66));
    assert_eq!(latency.p99, None);
    assert_eq!(latency.mean, Some(48.21));
    assert_eq!(latency.max, Some(412.9));
    assert_eq!(serving.requests, Some(600));
    assert_eq!(serving.error_rate, Some(0.02));
    assert_eq!(serving.concurrency, Some(10));
    assert_close(serving.throughput_rps, 600.0 / 30.0215 * 0.98, "throughput_rps");
    assert_close(serving.duration_s, 30.0215, "duration_s");
}

#[test]
fn a_wrong_field_type_is_named() {
    let error = report_error("wrong-type.json");
    assert_eq!(error.kind, modelgate::error::ErrorKind::Serving);
    assert!(error.message.contains("wrong-type.json"), "{}", error.message);
    assert!(error.message.contains("`latency_ms.p95`"), "{}", error.message);
    assert!(error.hint.is_some());

    let error = report_error("k6-wrong-type.json");
    assert!(error.message.contains("k6-wrong-type.json"), "{}", error.message);
    assert!(error.message.contains("`metrics.http_req_duration{expected_response:true}.p(95)`"), "{}", error.message);
    assert!(error.hint.is_some());
}

#[test]
fn an_unknown_shape_lists_the_accepted_shapes() {
    let error = report_error("unknown-shape.json");
    assert_eq!(error.kind, modelgate::error::ErrorKind::Serving);
    assert!(error.message.contains("unknown-shape.json: not a load-test report"), "{}", error.message);
    let hint = error.hint.unwrap_or_default();
    for shape in ["modelgate loadtest --format json", "--summary-export", "handleSummary", "machine-readable"] {
        assert!(hint.contains(shape), "{shape} missing from: {hint}");
    }
}
