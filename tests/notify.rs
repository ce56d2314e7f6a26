//! Alert delivery against real receivers on 127.0.0.1: an HTTP server (tiny_http) for the
//! webhook and Slack notifiers, an SMTP server (mailin's protocol engine) for e-mail, and the
//! notifications file read from text and from fixtures.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use modelgate::error::ErrorKind;
use modelgate::notify::{
    deliver, deliver_all, Alert, AlertKind, AlertViolation, BundleRef, Delivery, DeliveryStatus, Notifier, NotifyConfig,
};
mod util;

use util::receivers::{read_mail, Answer, HttpReceiver, SmtpBehaviour, SmtpReceiver};

const SECRET: &str = "test-signing-secret";
/// Retries that keep the tests fast: 10 ms, 20 ms, … never more than 50 ms apart.
const FAST: &str = "{attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 50, timeout_ms: 5000}";

/// The environment the notifications files of these tests are read with.
fn env(name: &str) -> Option<String> {
    match name {
        "MODELGATE_WEBHOOK_SECRET" => Some(SECRET.to_string()),
        "SMTP_USER" => Some("modelgate".to_string()),
        "SMTP_PASSWORD" => Some("correct horse".to_string()),
        _ => None,
    }
}

fn config(yaml: &str) -> NotifyConfig {
    NotifyConfig::parse_with_env("notifications.yaml", yaml, env).expect("a valid notifications file")
}

/// The one notifier of a file holding only it.
fn notifier(yaml: &str) -> Notifier {
    config(&format!("notifiers:\n{yaml}")).notifiers.remove(0)
}

fn webhook(url: &str, retry: &str) -> Notifier {
    notifier(&format!(
        "  - name: governance-webhook\n    type: webhook\n    url: {url}\n    secret_env: MODELGATE_WEBHOOK_SECRET\n    \
         headers: {{X-Team: governance}}\n    retry: {retry}\n"
    ))
}

fn email(port: u16, smtp_extra: &str, to: &str) -> Notifier {
    notifier(&format!(
        "  - name: owners-email\n    type: email\n    smtp: {{host: 127.0.0.1, port: {port}, tls: none{smtp_extra}}}\n    \
         from: modelgate <modelgate@bank.example>\n    to: {to}\n    retry: {FAST}\n"
    ))
}

fn alert() -> Alert {
    Alert {
        id: Alert::new_id(),
        kind: AlertKind::NonCompliant,
        time: Alert::now(),
        model: "credit-scoring".to_string(),
        version: "2.4.0".to_string(),
        environment: "production".to_string(),
        owner: Some("risk-ml@bank.example".to_string()),
        decision_id: "0190a1b2-0000-7000-8000-000000000002".to_string(),
        deployment_id: "0190a1b2-0000-7000-8000-000000000001".to_string(),
        original_decision_id: "0190a1b2-0000-7000-8000-000000000000".to_string(),
        bundle: BundleRef {
            digest: "sha256:5e8f2c9a0b1d4e7f00112233445566778899aabbccddeeff0011223344556677".to_string(),
            revision: Some("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678".to_string()),
        },
        previous_bundle: BundleRef {
            digest: "sha256:0f9e8d7c6b5a43210f9e8d7c6b5a43210f9e8d7c6b5a43210f9e8d7c6b5a4321".to_string(),
            revision: Some("9f8e7d6c5b4a39281706f5e4d3c2b1a098765432".to_string()),
        },
        violations: vec![
            AlertViolation {
                code: "fairness/demographic-parity".to_string(),
                msg: "demographic parity difference 0.14 exceeds 0.10 for sex".to_string(),
                severity: "high".to_string(),
                remediation: Some("rebalance the training data or apply a fairness constraint".to_string()),
            },
            AlertViolation {
                code: "documentation/undated".to_string(),
                msg: "the model card has no date".to_string(),
                severity: "low".to_string(),
                remediation: None,
            },
        ],
        changed_files: vec!["M fairness.rego".to_string(), "A documentation.rego".to_string()],
        error: None,
    }
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    listener.local_addr().expect("a local address").port()
}

fn assert_failed(delivery: &Delivery, attempts: u32, error: &str) {
    assert_eq!(delivery.status, DeliveryStatus::Failed, "{delivery:?}");
    assert_eq!(delivery.attempts, attempts, "{delivery:?}");
    let recorded = delivery.error.as_deref().expect("the error is recorded");
    assert!(recorded.contains(error), "`{error}` not in the recorded error `{recorded}`");
}

// ---------------------------------------------------------------------------------------------
// Webhook

#[test]
fn webhook_delivers_a_signed_alert_of_the_documented_shape() {
    let receiver = HttpReceiver::start(vec![Answer::status(204)]);
    let alert = alert();
    let delivery = deliver(&webhook(&format!("{}/hooks/modelgate?token=abc", receiver.url), FAST), &alert);
    assert_eq!(
        delivery,
        Delivery {
            notifier: "governance-webhook".to_string(),
            kind: "webhook".to_string(),
            target: format!("{}/hooks/modelgate", receiver.url),
            status: DeliveryStatus::Delivered,
            attempts: 1,
            error: None,
            http_status: Some(204),
        }
    );

    let requests = receiver.received();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/modelgate?token=abc");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("user-agent"), Some(concat!("modelgate/", env!("CARGO_PKG_VERSION"))));
    assert_eq!(request.header("x-team"), Some("governance"));
    assert_eq!(request.header("x-modelgate-delivery"), Some(alert.id.as_str()));

    let timestamp = request.header("x-modelgate-timestamp").expect("a timestamp");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let sent: u64 = timestamp.parse().expect("unix seconds");
    assert!(now.abs_diff(sent) < 300, "timestamp {sent} is not now ({now})");

    // The receiver's check, as docs/notifications.md describes it.
    let signature = request.header("x-modelgate-signature-256").expect("a signature");
    let hex_digest = signature.strip_prefix("sha256=").expect("sha256= prefix");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&request.body);
    mac.verify_slice(&hex::decode(hex_digest).expect("hex")).expect("the signature verifies with the secret");
    let mut forged = Hmac::<Sha256>::new_from_slice(b"another secret").expect("any key length");
    forged.update(format!("{timestamp}.").as_bytes());
    forged.update(&request.body);
    assert!(forged.verify_slice(&hex::decode(hex_digest).expect("hex")).is_err(), "another key does not verify");

    let body: Value = serde_json::from_slice(&request.body).expect("the body is JSON");
    assert_eq!(body["type"], "modelgate.alert");
    assert_eq!(body["version"], "1");
    assert_eq!(body.as_object().map(|object| object.len()), Some(3), "type, version and alert only: {body}");
    assert_eq!(body["alert"]["kind"], "non_compliant");
    let received: Alert = serde_json::from_value(body["alert"].clone()).expect("the alert reads back");
    assert_eq!(received, alert);
}

/// The Python check in docs/notifications.md, run with Python's own hmac on a real delivery:
/// it accepts the request as sent and refuses it once the body is changed.
#[test]
fn the_documented_python_check_verifies_a_delivery() {
    let receiver = HttpReceiver::start(vec![Answer::status(200)]);
    assert_eq!(deliver(&webhook(&receiver.url, FAST), &alert()).status, DeliveryStatus::Delivered);
    let request = receiver.received().remove(0);

    let documented = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/notifications.md"))
        .expect("docs/notifications.md");
    let section = documented.split("### Verifying the signature").nth(1).expect("the section");
    let snippet = section.split("```python\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a snippet");
    let script = format!(
        "{snippet}\nimport base64, json, sys\ncase = json.load(sys.stdin)\n\
         print(verify(case['headers'], base64.b64decode(case['body'])))\n"
    );
    let verify = |body: &[u8]| -> String {
        use base64::Engine;
        let case = serde_json::json!({
            "headers": {
                "X-Modelgate-Timestamp": request.header("x-modelgate-timestamp"),
                "X-Modelgate-Signature-256": request.header("x-modelgate-signature-256"),
            },
            "body": base64::engine::general_purpose::STANDARD.encode(body),
        });
        let mut child = std::process::Command::new("python3")
            .args(["-c", &script])
            .env("MODELGATE_WEBHOOK_SECRET", SECRET)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(case.to_string().as_bytes()).expect("write the case");
        let output = child.wait_with_output().expect("python3 ends");
        assert!(output.status.success(), "the documented snippet runs");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(verify(&request.body), "True");
    let mut tampered = request.body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(verify(&tampered), "False");
}

#[test]
fn webhook_without_a_secret_is_not_signed() {
    let receiver = HttpReceiver::start(vec![Answer::status(200)]);
    let notifier =
        notifier(&format!("  - name: plain\n    type: webhook\n    url: {}/in\n    retry: {FAST}\n", receiver.url));
    assert_eq!(deliver(&notifier, &alert()).status, DeliveryStatus::Delivered);
    let requests = receiver.received();
    assert_eq!(requests[0].header("x-modelgate-signature-256"), None);
    assert!(requests[0].header("x-modelgate-timestamp").is_some());
}

#[test]
fn server_errors_are_retried_until_accepted() {
    let receiver = HttpReceiver::start(vec![Answer::status(500), Answer::status(503), Answer::status(200)]);
    let alert = alert();
    let delivery = deliver(&webhook(&receiver.url, FAST), &alert);
    assert_eq!((delivery.status, delivery.attempts, delivery.http_status), (DeliveryStatus::Delivered, 3, Some(200)));
    assert_eq!(delivery.error, None);
    let requests = receiver.received();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.header("x-modelgate-delivery"), Some(alert.id.as_str()), "one delivery id for all attempts");
    }
}

#[test]
fn a_receiver_that_keeps_failing_is_recorded_as_failed() {
    let receiver = HttpReceiver::start(vec![Answer::status(500).body("database is down")]);
    let retry = "{attempts: 4, initial_backoff_ms: 10, max_backoff_ms: 20}";
    let delivery = deliver(&webhook(&receiver.url, retry), &alert());
    assert_failed(&delivery, 4, "HTTP 500 Internal Server Error: database is down");
    assert_eq!(delivery.http_status, Some(500));
    assert_eq!(receiver.received().len(), 4);
}

#[test]
fn client_errors_are_not_retried() {
    let receiver = HttpReceiver::start(vec![Answer::status(400).body("bad payload"), Answer::status(200)]);
    let delivery = deliver(&webhook(&receiver.url, FAST), &alert());
    assert_failed(&delivery, 1, "HTTP 400 Bad Request: bad payload");
    assert_eq!(delivery.http_status, Some(400));
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn redirects_are_not_followed() {
    let receiver = HttpReceiver::start(vec![
        Answer::status(302).header("Location", "http://127.0.0.1:1/elsewhere"),
        Answer::status(200),
    ]);
    let delivery = deliver(&webhook(&receiver.url, FAST), &alert());
    assert_failed(&delivery, 1, "redirects are not followed");
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn rate_limits_and_timeouts_are_retried() {
    let receiver = HttpReceiver::start(vec![
        Answer::status(429).header("Retry-After", "0"),
        Answer::status(408),
        Answer::status(202),
    ]);
    let delivery = deliver(&webhook(&receiver.url, FAST), &alert());
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Delivered, 3));
}

#[test]
fn a_closed_port_is_a_connection_error() {
    let port = closed_port();
    let delivery = deliver(&webhook(&format!("http://127.0.0.1:{port}/hook"), FAST), &alert());
    assert_failed(&delivery, 3, "connection");
    assert_eq!(delivery.http_status, None);
    assert_eq!(delivery.target, format!("http://127.0.0.1:{port}/hook"));
}

#[test]
fn a_silent_receiver_times_out() {
    // Takes connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().expect("a local address").port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(2).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(held);
    });
    let retry = "{attempts: 2, initial_backoff_ms: 10, timeout_ms: 200}";
    let delivery = deliver(&webhook(&format!("http://127.0.0.1:{port}/"), retry), &alert());
    assert_failed(&delivery, 2, "timed out");
}

// ---------------------------------------------------------------------------------------------
// Slack

#[test]
fn slack_gets_a_block_kit_message() {
    let receiver = HttpReceiver::start(vec![Answer::status(200).body("ok")]);
    let notifier =
        notifier(&format!("  - name: slack\n    type: slack\n    url: {}/services/T0/B0/XYZ\n", receiver.url));
    let alert = alert();
    let delivery = deliver(&notifier, &alert);
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Delivered, 1));
    assert_eq!(delivery.target, format!("{}/…", receiver.url), "the webhook path is the secret");

    let requests = receiver.received();
    assert_eq!(requests[0].path, "/services/T0/B0/XYZ");
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    let message: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(message["text"], "[modelgate] credit-scoring 2.4.0 in production no longer complies (policies a1b2c3d)");
    let blocks = message["blocks"].as_array().expect("blocks");
    let mut texts = Vec::new();
    for block in blocks {
        let kind = block["type"].as_str().expect("a block type");
        assert!(kind == "section" || kind == "context", "{block}");
        let elements = block["fields"].as_array().or(block["elements"].as_array()).cloned().unwrap_or_default();
        for text in std::iter::once(&block["text"]).chain(elements.iter()).filter(|text| !text.is_null()) {
            assert_eq!(text["type"], "mrkdwn", "{block}");
            texts.push(text["text"].as_str().expect("text").to_string());
        }
    }
    let all = texts.join("\n");
    for expected in [
        "*Model*\ncredit-scoring",
        "*Version*\n2.4.0",
        "*Environment*\nproduction",
        "`a1b2c3d4e5f60718293a4b5c6d7e8f9012345678` (`sha256:5e8f2c9a",
        "*`fairness/demographic-parity`* (high)\ndemographic parity difference 0.14 exceeds 0.10 for sex\n*Fix:* rebalance",
        "*`documentation/undated`* (low)\nthe model card has no date",
        "`M fairness.rego`",
    ] {
        assert!(all.contains(expected), "{expected:?} not in the message:\n{all}");
    }
}

#[test]
fn a_slack_url_slack_refuses_is_a_failure() {
    let receiver = HttpReceiver::start(vec![Answer::status(404).body("no_service")]);
    let notifier = notifier(&format!("  - name: slack\n    type: slack\n    url: {}/services/x\n", receiver.url));
    assert_failed(&deliver(&notifier, &alert()), 1, "HTTP 404 Not Found: no_service");
}

// ---------------------------------------------------------------------------------------------
// E-mail

#[test]
fn email_reaches_the_owner_and_fixed_addresses() {
    let receiver = SmtpReceiver::start(SmtpBehaviour::default());
    let alert = alert();
    let notifier = email(receiver.port, "", "[owner, governance@bank.example, risk-ml@bank.example]");
    let delivery = deliver(&notifier, &alert);
    assert_eq!(
        delivery,
        Delivery {
            notifier: "owners-email".to_string(),
            kind: "email".to_string(),
            target: "risk-ml@bank.example, governance@bank.example".to_string(),
            status: DeliveryStatus::Delivered,
            attempts: 1,
            error: None,
            http_status: None,
        }
    );
    let mails = receiver.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "modelgate@bank.example");
    assert_eq!(mail.to, ["risk-ml@bank.example", "governance@bank.example"]);
    let (headers, body) = read_mail(&mail.data);
    for header in [
        "From: modelgate <modelgate@bank.example>",
        "To: risk-ml@bank.example, governance@bank.example",
        "Subject: [modelgate] credit-scoring 2.4.0 in production no longer complies (policies a1b2c3d)",
        &format!("Message-ID: <{}@modelgate>", alert.id),
        "Content-Type: text/plain; charset=utf-8",
    ] {
        assert!(headers.lines().any(|line| line == header), "no `{header}` in\n{headers}");
    }
    for text in [
        "credit-scoring 2.4.0 in production no longer complies with the policies now in force.",
        "Policies:       a1b2c3d4e5f60718293a4b5c6d7e8f9012345678 (sha256:5e8f2c9a",
        "1. [high] fairness/demographic-parity\n   demographic parity difference 0.14 exceeds 0.10 for sex\n   Fix: rebalance the training data or apply a fairness constraint",
        "2. [low] documentation/undated\n   the model card has no date\n",
        "   M fairness.rego\n   A documentation.rego\n",
    ] {
        assert!(body.contains(text), "{text:?} not in the body:\n{body}");
    }
}

#[test]
fn email_logs_in_with_the_credentials_from_the_environment() {
    let receiver =
        SmtpReceiver::start(SmtpBehaviour { login: Some(("modelgate", "correct horse")), ..SmtpBehaviour::default() });
    let notifier = email(receiver.port, ", username_env: SMTP_USER, password_env: SMTP_PASSWORD", "[owner]");
    let delivery = deliver(&notifier, &alert());
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Delivered, 1), "{delivery:?}");
    assert_eq!(receiver.mails().len(), 1);
}

#[test]
fn a_refused_login_is_not_retried() {
    let receiver =
        SmtpReceiver::start(SmtpBehaviour { login: Some(("modelgate", "another")), ..SmtpBehaviour::default() });
    let notifier = email(receiver.port, ", username_env: SMTP_USER, password_env: SMTP_PASSWORD", "[owner]");
    assert_failed(&deliver(&notifier, &alert()), 1, "535");
    assert!(receiver.mails().is_empty());
}

#[test]
fn a_rejected_recipient_fails_the_email() {
    let receiver =
        SmtpReceiver::start(SmtpBehaviour { reject: Some("risk-ml@bank.example"), ..SmtpBehaviour::default() });
    let delivery = deliver(&email(receiver.port, "", "[owner]"), &alert());
    assert_failed(&delivery, 1, "550");
    assert!(receiver.mails().is_empty());
}

#[test]
fn a_busy_mail_server_is_tried_again() {
    let receiver = SmtpReceiver::start(SmtpBehaviour { busy_first: 2, ..SmtpBehaviour::default() });
    let delivery = deliver(&email(receiver.port, "", "[owner]"), &alert());
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Delivered, 3), "{delivery:?}");
    assert_eq!(receiver.mails().len(), 1);
}

#[test]
fn starttls_is_never_skipped() {
    // The receiver offers no STARTTLS: the password must not go over the plain connection.
    let receiver = SmtpReceiver::start(SmtpBehaviour::default());
    let notifier = notifier(&format!(
        "  - name: owners-email\n    type: email\n    smtp: {{host: 127.0.0.1, port: {}, tls: starttls}}\n    \
         from: modelgate@bank.example\n    to: [owner]\n    retry: {FAST}\n",
        receiver.port
    ));
    let delivery = deliver(&notifier, &alert());
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Failed, 1), "{delivery:?}");
    assert!(receiver.mails().is_empty());
}

#[test]
fn an_email_without_recipients_is_not_sent() {
    let receiver = SmtpReceiver::start(SmtpBehaviour::default());
    let mut alert = alert();
    alert.owner = None;
    let delivery = deliver(&email(receiver.port, "", "[owner]"), &alert);
    assert_failed(&delivery, 0, "no recipient: the model has no owner");
    assert_eq!(delivery.target, "(no recipient)");
    assert!(receiver.mails().is_empty());
}

#[test]
fn an_unreachable_mail_server_fails_after_the_retries() {
    let delivery = deliver(&email(closed_port(), "", "[owner]"), &alert());
    assert_failed(&delivery, 3, "SMTP: Connection error");
}

// ---------------------------------------------------------------------------------------------
// Every notifier

#[test]
fn deliver_all_reports_each_notifier_in_order() {
    let http = HttpReceiver::start(vec![Answer::status(200)]);
    let smtp = SmtpReceiver::start(SmtpBehaviour::default());
    let config = config(&format!(
        "notifiers:\n  - {{name: hook, type: webhook, url: '{}/hook', retry: {FAST}}}\n  \
         - {{name: dead-slack, type: slack, url: 'http://127.0.0.1:{}/x', retry: {FAST}}}\n  \
         - {{name: mail, type: email, smtp: {{host: localhost, port: {}, tls: none}}, from: m@bank.example, to: [owner]}}\n",
        http.url,
        closed_port(),
        smtp.port
    ));
    let deliveries = deliver_all(&config, &alert());
    let summary: Vec<(&str, &str, DeliveryStatus)> = deliveries
        .iter()
        .map(|delivery| (delivery.notifier.as_str(), delivery.kind.as_str(), delivery.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("hook", "webhook", DeliveryStatus::Delivered),
            ("dead-slack", "slack", DeliveryStatus::Failed),
            ("mail", "email", DeliveryStatus::Delivered),
        ]
    );
    assert_eq!(http.received().len(), 1);
    assert_eq!(smtp.mails().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The notifications file

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/notify").join(name)
}

#[test]
fn the_documented_file_is_read() {
    let path = fixture("notifications.yaml");
    let text = std::fs::read_to_string(&path).expect("the fixture");
    let config = NotifyConfig::parse_with_env(&path.display().to_string(), &text, |name| match name {
        "SLACK_WEBHOOK_URL" => Some("https://hooks.slack.com/services/T0/B0/XYZ".to_string()),
        other => env(other),
    })
    .expect("the example in docs/notifications.md is valid");
    let kinds: Vec<(&str, &str)> =
        config.notifiers.iter().map(|notifier| (notifier.name.as_str(), notifier.kind.as_str())).collect();
    assert_eq!(kinds, [("governance-webhook", "webhook"), ("slack", "slack"), ("owners-email", "email")]);
    let documented = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/notifications.md"))
        .expect("docs/notifications.md");
    assert!(documented.contains(&text), "docs/notifications.md shows the fixture as it is");
}

#[test]
fn load_reads_a_file_and_names_a_missing_one() {
    let config = NotifyConfig::load(&fixture("no-secrets.yaml")).expect("a file that needs no environment");
    assert_eq!(config.notifiers.len(), 2);
    let missing = NotifyConfig::load(&fixture("absent.yaml")).expect_err("no such file");
    assert_eq!(missing.kind, ErrorKind::Notify);
    assert!(missing.message.contains("absent.yaml"), "{}", missing.message);
    assert!(missing.hint.is_some());
}

/// Each invalid file: an error of kind `notify` naming the file and the field, with a hint.
fn invalid(text: &str, expected: &[&str]) {
    let error = NotifyConfig::parse("policies/notifications.yaml", text).expect_err("an invalid file");
    assert_eq!(error.kind, ErrorKind::Notify);
    assert!(error.message.starts_with("policies/notifications.yaml:"), "{}", error.message);
    for part in expected {
        assert!(error.message.contains(part), "`{part}` not in `{}`", error.message);
    }
    assert!(error.hint.as_deref().is_some_and(|hint| !hint.is_empty()), "no hint for `{}`", error.message);
}

#[test]
fn unknown_keys_are_refused_by_name() {
    invalid(
        "notifiers:\n  - {name: s, type: slack, url: 'https://hooks.example/x', channel: '#ml'}\n",
        &["notifiers[0]", "unknown field `channel`"],
    );
    invalid("notifier:\n  - {name: s, type: slack, url: 'https://hooks.example/x'}\n", &["unknown field `notifier`"]);
    invalid(
        "notifiers:\n  - name: e\n    type: email\n    smtp: {host: smtp.example, starttls: true}\n    from: a@b.example\n    to: [owner]\n",
        &["notifiers[0].smtp", "unknown field `starttls`"],
    );
}

#[test]
fn a_missing_environment_variable_is_an_error_at_load_time() {
    let variable = "MODELGATE_TEST_NOTIFY_SECRET_THAT_IS_NEVER_SET";
    assert!(std::env::var_os(variable).is_none());
    invalid(
        &format!(
            "notifiers:\n  - {{name: w, type: webhook, url: 'https://hooks.example/x', secret_env: {variable}}}\n"
        ),
        &["notifiers[0].secret_env", variable, "is not set"],
    );
    invalid(
        &format!("notifiers:\n  - {{name: s, type: slack, url_env: {variable}}}\n"),
        &["notifiers[0].url_env", "is not set"],
    );
}

#[test]
fn bad_urls_are_refused() {
    invalid(
        "notifiers:\n  - {name: w, type: webhook, url: 'ftp://hooks.example/x'}\n",
        &["notifiers[0].url", "not an http:// or https:// URL"],
    );
    invalid("notifiers:\n  - {name: w, type: webhook, url: 'hooks.example/x'}\n", &["notifiers[0].url"]);
}

#[test]
fn duplicate_keys_are_refused_with_their_line() {
    invalid(
        "notifiers:\n  - name: s\n    type: slack\n    url: https://hooks.example/a\n    url: https://hooks.example/b\n",
        &["policies/notifications.yaml:5:", "duplicate key `url`"],
    );
}

#[test]
fn wrong_types_are_named() {
    invalid(
        "notifiers:\n  - {name: s, type: slack, url: 'https://hooks.example/x', retry: {attempts: many}}\n",
        &["notifiers[0].retry.attempts"],
    );
    invalid("notifiers: {name: s}\n", &["notifiers"]);
}
