//! The policy lifecycle end to end: the example project is checked and deployed, the
//! policies change, `policy impact` previews it, `reevaluate` records it and alerts the
//! owner through real receivers on loopback (a webhook, a Slack-compatible webhook and an
//! SMTP server), once per bundle; a failed delivery is recorded and tried again.

mod util;

use std::path::Path;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use util::receivers::{read_mail, Answer, HttpReceiver, SmtpBehaviour, SmtpReceiver};
use util::{root, Run};

const SECRET: &str = "s3cret-for-tests";

fn mg(store: &Path, args: &[&str]) -> Run {
    util::run(util::recording(store).env("MODELGATE_WEBHOOK_SECRET", SECRET).args(args))
}

fn json(run: &Run) -> Value {
    run.json()
}

/// The governance team's change: min_metrics.accuracy in data.yaml from `from` to `to`.
fn set_min_accuracy(policies: &Path, from: &str, to: &str) {
    let path = policies.join("data.yaml");
    let text = std::fs::read_to_string(&path).expect("data.yaml");
    let changed = text.replacen(&format!("      accuracy: {from}\n"), &format!("      accuracy: {to}\n"), 1);
    assert_ne!(text, changed, "data.yaml does not set min_metrics.accuracy to {from}");
    std::fs::write(&path, changed).expect("write data.yaml");
}

#[test]
fn check_deploy_policy_change_reevaluate_alerts_the_owner_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let policies = dir.path().join("governance-policies");
    util::copy_dir(&root().join("policies"), &policies);
    let policies_arg = policies.to_str().expect("utf-8");
    let evidence = dir.path().join("evidence.json");

    // The model is checked and deployed under the current policies.
    let check = mg(
        &store,
        &[
            "check",
            "examples/credit-scoring",
            "--policies",
            policies_arg,
            "--format",
            "json",
            "--evidence-out",
            evidence.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(check.code, 0, "{}", check.stderr);
    let decision = json(&check);
    let decision_id = decision["decision_id"].as_str().expect("id").to_string();
    let deployed = mg(
        &store,
        &[
            "deploy",
            "record",
            "--model",
            "credit-scoring",
            "--version",
            "2.4.0",
            "--environment",
            "production",
            "--policies",
            policies_arg,
            "--decision",
            &decision_id,
            "--evidence",
            evidence.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    );
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    let deployment_id = json(&deployed)["entry"]["id"].as_str().expect("id").to_string();

    // Unchanged policies: still compliant, nothing to alert.
    let unchanged = mg(&store, &["reevaluate", "--policies", policies_arg, "--format", "json"]);
    assert_eq!(unchanged.code, 0, "{}\n{}", unchanged.stdout, unchanged.stderr);
    assert_eq!(json(&unchanged)["models"][0]["status"], "still_compliant");

    // The governance team raises the accuracy floor above the model's 0.879, and wires
    // notifiers into the policy repository.
    let webhook = HttpReceiver::start(vec![Answer::status(204)]);
    let slack = HttpReceiver::start(vec![Answer::status(200).body("ok")]);
    let smtp = SmtpReceiver::start(SmtpBehaviour::default());
    std::fs::write(
        policies.join("notifications.yaml"),
        format!(
            "notifiers:\n\
             \x20 - name: governance-webhook\n    type: webhook\n    url: {}/modelgate\n    secret_env: MODELGATE_WEBHOOK_SECRET\n\
             \x20 - name: slack\n    type: slack\n    url: {}/services/T000/B000/XXXX\n\
             \x20 - name: owners-email\n    type: email\n    smtp: {{host: 127.0.0.1, port: {}, tls: none}}\n    from: modelgate@bank.example\n    to: [owner]\n",
            webhook.url, slack.url, smtp.port
        ),
    )
    .expect("notifications.yaml");
    set_min_accuracy(&policies, "0.80", "0.90");

    // The reviewer's preview on the pull request: nothing recorded, nothing sent.
    let impact = mg(&store, &["policy", "impact", "--policies", policies_arg]);
    assert_eq!(impact.code, 1, "{}\n{}", impact.stdout, impact.stderr);
    assert!(impact.stdout.contains("| credit-scoring | 2.4.0 | production | risk-ml@bank.example | allow | **deny** (newly non-compliant) | `performance/metric-below-minimum` accuracy is 0.8794, below the minimum of 0.9."), "{}", impact.stdout);
    assert!(impact.stdout.contains("Policy files changed: `M data.yaml`"), "{}", impact.stdout);
    assert!(webhook.received().is_empty() && slack.received().is_empty() && smtp.mails().is_empty());

    // On merge: re-evaluated, recorded, and the owner alerted through each notifier.
    let run = mg(&store, &["reevaluate", "--policies", policies_arg, "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = json(&run);
    assert_eq!(report["summary"]["newly_non_compliant"], 1, "{report}");
    let model = &report["models"][0];
    assert_eq!(model["status"], "newly_non_compliant");
    assert_eq!(model["deployment_id"], deployment_id.as_str());
    assert_eq!(model["original_decision_id"], decision_id.as_str());
    assert_eq!(model["changed_files"], serde_json::json!(["M data.yaml"]));
    assert_eq!(model["new_violations"][0]["code"], "performance/metric-below-minimum");
    assert_eq!(model["new_violations"][0]["details"]["threshold"], 0.9);
    let deliveries = report["alerts"][0]["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 3, "{report}");
    assert!(deliveries.iter().all(|delivery| delivery["status"] == "delivered"), "{report}");

    // What the receivers got.
    let requests = webhook.received();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    let timestamp = request.header("X-Modelgate-Timestamp").expect("timestamp");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(request.header("X-Modelgate-Signature-256"), Some(expected.as_str()));
    let body: Value = serde_json::from_slice(&request.body).expect("JSON body");
    assert_eq!(body["type"], "modelgate.alert");
    let alert = &body["alert"];
    assert_eq!(alert["model"], "credit-scoring");
    assert_eq!(alert["version"], "2.4.0");
    assert_eq!(alert["environment"], "production");
    assert_eq!(alert["owner"], "risk-ml@bank.example");
    assert_eq!(alert["deployment_id"], deployment_id.as_str());
    assert_eq!(alert["decision_id"], model["report"]["decision_id"]);
    assert_eq!(alert["violations"][0]["code"], "performance/metric-below-minimum");
    assert_eq!(alert["changed_files"], serde_json::json!(["M data.yaml"]));
    let slack_requests = slack.received();
    assert_eq!(slack_requests.len(), 1);
    let message: Value = serde_json::from_slice(&slack_requests[0].body).expect("Slack JSON");
    assert!(message["text"].as_str().unwrap_or("").contains("credit-scoring 2.4.0 in production"), "{message}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["risk-ml@bank.example".to_string()]);
    let (headers, text) = read_mail(&mails[0].data);
    assert!(headers.contains("credit-scoring 2.4.0 in production no longer complies"), "{headers}");
    assert!(text.contains("performance/metric-below-minimum"), "{text}");

    // The next run (a later merge under the same bundle) does not alert again.
    let again = mg(&store, &["reevaluate", "--policies", policies_arg]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stdout.contains("STILL NON-COMPLIANT  credit-scoring 2.4.0 in production"), "{}", again.stdout);
    assert!(again.stdout.contains("governance-webhook already alerted for these policies"), "{}", again.stdout);
    assert_eq!((webhook.received().len(), slack.received().len(), smtp.mails().len()), (1, 1, 1));

    // The record: two re-evaluations linked to the deployment, one alert, a chain that verifies.
    let log = json(&mg(&store, &["audit", "log", "--kind", "reevaluation", "--kind", "alert", "--format", "json"]));
    let kinds: Vec<&str> =
        log.as_array().expect("list").iter().filter_map(|row| row["entry"]["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["reevaluation", "alert", "reevaluation", "reevaluation"]);
    for row in log.as_array().expect("list") {
        assert_eq!(row["entry"]["details"]["deployment_id"], deployment_id.as_str());
    }
    let verify = mg(&store, &["audit", "verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);

    // The floor goes back down: newly compliant.
    set_min_accuracy(&policies, "0.90", "0.80");
    let back = mg(&store, &["reevaluate", "--policies", policies_arg, "--no-notify", "--format", "json"]);
    assert_eq!(back.code, 0, "{}", back.stdout);
    assert_eq!(json(&back)["models"][0]["status"], "newly_compliant");
    assert_eq!(json(&back)["models"][0]["resolved"], serde_json::json!(["performance/metric-below-minimum"]));
}

#[test]
fn a_failed_delivery_is_recorded_and_tried_again_by_the_next_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("audit.db");
    let policies = dir.path().join("policies");
    util::copy_dir(&root().join("tests/fixtures/policies/minimal"), &policies);
    let policies_arg = policies.to_str().expect("utf-8");
    let evidence = "tests/fixtures/evidence/pass-production.json";
    let report = json(&mg(&store, &["eval", "--input", evidence, "--policies", policies_arg, "--format", "json"]));
    assert_eq!(report["decision"], "allow");
    let deployed = mg(
        &store,
        &[
            "deploy",
            "record",
            "--model",
            "credit-scoring",
            "--version",
            "2.3.0",
            "--environment",
            "production",
            "--policies",
            policies_arg,
            "--evidence",
            evidence,
        ],
    );
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    // A receiver that fails, then one that works.
    let receiver = HttpReceiver::start(vec![Answer::status(503)]);
    let notifications = dir.path().join("notify.yaml");
    std::fs::write(
        &notifications,
        format!(
            "notifiers:\n  - name: hook\n    type: webhook\n    url: {}/hook\n    retry: {{attempts: 2, initial_backoff_ms: 10}}\n",
            receiver.url
        ),
    )
    .expect("write");
    // The policy change: a rule every model fails.
    std::fs::write(
        policies.join("strict.rego"),
        "package modelgate.strict\n\ndeny contains \"every model is blocked now\" if { true }\n",
    )
    .expect("write");
    let notify = notifications.to_str().expect("utf-8");
    let run = mg(&store, &["reevaluate", "--policies", policies_arg, "--notify", notify, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("1 alert deliveries failed"), "{}", run.stderr);
    let delivery = &json(&run)["alerts"][0]["deliveries"][0];
    assert_eq!(delivery["status"], "failed");
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["http_status"], 503);
    assert_eq!(receiver.received().len(), 2);
    // Recorded as failed, not lost.
    let alerts = json(&mg(&store, &["audit", "log", "--kind", "alert", "--format", "json"]));
    assert_eq!(alerts[0]["entry"]["details"]["deliveries"][0]["status"], "failed");
    // The receiver is back: the next run sends it.
    drop(receiver);
    let receiver = HttpReceiver::start(vec![Answer::status(200)]);
    std::fs::write(
        &notifications,
        format!("notifiers:\n  - name: hook\n    type: webhook\n    url: {}/hook\n", receiver.url),
    )
    .expect("write");
    let run = mg(&store, &["reevaluate", "--policies", policies_arg, "--notify", notify, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json(&run)["alerts"][0]["deliveries"][0]["status"], "delivered");
    assert_eq!(receiver.received().len(), 1);
    // And then never again for this bundle.
    let run = mg(&store, &["reevaluate", "--policies", policies_arg, "--notify", notify, "--format", "json"]);
    assert_eq!(json(&run)["alerts"][0]["already_alerted"], serde_json::json!(["hook"]));
    assert_eq!(receiver.received().len(), 1);
    // A notifications file that cannot work fails closed.
    std::fs::write(&notifications, "notifiers:\n  - name: hook\n    type: webhook\n    url: ftp://x\n").expect("write");
    let run = mg(&store, &["reevaluate", "--policies", policies_arg, "--notify", notify]);
    util::assert_fails_closed(&run, &["ftp://x"]);
}
