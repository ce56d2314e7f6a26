//! The dashboard (`/ui`) of a real `modelgate server` on 127.0.0.1, seeded through its API
//! with a fleet made of the evidence fixtures, driven in Debian's chromium: every page loads,
//! the fleet filter works, a non-compliant model links to its violations, no console
//! errors, nothing requested from elsewhere, and a screenshot of each page is written to
//! target/screenshots/ for review. Without a token every page is 401; a session is an
//! HttpOnly, SameSite=Strict cookie that only auditor and governance tokens get.

#[path = "util/browser.rs"]
mod browser;
#[path = "util/html.rs"]
mod html;
mod util;

use serde_json::{json, Value};
use util::server::Server;
use util::stores::{Backend, TestStore};
use util::{command, run};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

/// A GET with an optional bearer token: the status, the headers and the body.
fn get(url: &str, token: Option<&str>) -> (u16, ureq::http::HeaderMap, String) {
    let mut request = agent().get(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call().expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.body_mut().read_to_string().expect("body"))
}

fn post_json(url: &str, token: &str, body: &Value) -> (u16, Value) {
    let mut response = agent()
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .content_type("application/json")
        .send(body.to_string())
        .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A server whose store holds a fleet: the built-in library active in every environment,
/// 24 models (the passing fixtures under other names, owners and environments) judged and
/// deployed, a blocked version of one of them denied, then a stricter production bundle
/// activated (re-evaluating the production fleet). Returns the server, an auditor
/// token, a pipeline token and the folder it runs in.
fn seeded(dir: &std::path::Path) -> (Server, String, String) {
    let store = TestStore::create(Backend::Sqlite, dir, "dashboard");
    let runner = dir.join("server");
    std::fs::create_dir_all(&runner).expect("server folder");
    let server = Server::start(&runner, &store, None);
    let governance = server.token(&["--name", "policy-repo-ci", "--role", "governance"]);
    let auditor = server.token(&["--name", "jane.auditor", "--role", "auditor"]);
    let pipeline = server.token(&[
        "--name",
        "ci/fleet",
        "--role",
        "pipeline",
        "--models",
        "*",
        "--environments",
        "development,staging,production",
    ]);
    let policy_ci = dir.join("policy-ci");
    std::fs::create_dir_all(&policy_ci).expect("policy folder");
    assert_eq!(run(command(&policy_ci).args(["policy", "init", "policies"])).code, 0);
    let publish = |token: &str| {
        let published = server.client(&policy_ci, token, &["policy", "publish", "policies"]);
        assert_eq!(published.code, 0, "publish: {}\n{}", published.stdout, published.stderr);
        let digest = published.stdout.split_whitespace().find(|word| word.starts_with("sha256:")).expect("a digest");
        digest.trim_end_matches(|c: char| !c.is_ascii_hexdigit()).to_string()
    };
    let library = publish(&governance);
    for environment in ["development", "staging", "production"] {
        let activated = server.client(&policy_ci, &governance, &["policy", "activate", &library, "-e", environment]);
        assert_eq!(activated.code, 0, "{}\n{}", activated.stdout, activated.stderr);
    }
    let owners = ["risk-ml@bank.example", "fraud-ml@bank.example", "pricing-ml@bank.example"];
    let fixture = |path: &str| -> modelgate::evidence::Evidence {
        modelgate::evidence::read(&util::root().join("tests/fixtures").join(path)).expect("evidence fixture")
    };
    let bases = [
        fixture("evidence/pass-production.json"),
        fixture("examples/credit-scoring.json"),
        fixture("evidence/pass-staging.json"),
        fixture("evidence/warn-only.json"),
    ];
    let submit = |document: &modelgate::evidence::Evidence| {
        let (status, answer) =
            post_json(&format!("{}/v1/decisions", server.url), &pipeline, &json!({"evidence": document}));
        assert_eq!(status, 200, "{answer}");
        answer["report"].clone()
    };
    for index in 0..24 {
        let mut document = bases[index % bases.len()].clone();
        document.model.name = format!("model-{index:02}");
        document.model.owner = Some(owners[index % owners.len()].to_string());
        if index % 6 == 5 {
            if let Some(deployment) = document.deployment.as_mut() {
                deployment.environment = "development".to_string();
            }
        }
        let report = submit(&document);
        assert_eq!(report["decision"], "allow", "{report}");
        let request = json!({
            "model": report["model"]["name"],
            "version": report["model"]["version"],
            "environment": report["environment"],
            "decision_id": report["decision_id"],
            "evidence_digest": report["evidence_digest"],
        });
        let (status, answer) = post_json(&format!("{}/v1/deployments", server.url), &pipeline, &request);
        assert_eq!(status, 200, "{answer}");
    }
    let mut blocked = fixture("examples/credit-scoring-blocked.json");
    blocked.model.name = "model-01".to_string();
    assert_eq!(submit(&blocked)["decision"], "deny");
    // A stricter production bundle: the accuracy floor raised, so part of the production
    // fleet stops complying when it is activated.
    let data = policy_ci.join("policies/data.yaml");
    let text = std::fs::read_to_string(&data).expect("data.yaml");
    let anchor = "      performance:\n        require_serving_evidence: true\n";
    let stricter = text.replacen(anchor, &format!("{anchor}        min_metrics: {{accuracy: 0.88}}\n"), 1);
    assert_ne!(text, stricter, "data.yaml has no production performance override");
    std::fs::write(&data, stricter).expect("data.yaml");
    let bundle = publish(&governance);
    let activated = server.client(&policy_ci, &governance, &["policy", "activate", &bundle, "-e", "production"]);
    // Exit 1: models stopped complying (the point of this activation).
    assert_eq!(activated.code, 1, "{}\n{}", activated.stdout, activated.stderr);
    assert!(activated.stdout.contains("NEWLY NON-COMPLIANT"), "{}", activated.stdout);
    (server, auditor, pipeline)
}

#[test]
fn the_dashboard_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, auditor, pipeline) = seeded(dir.path());
    let url = |path: &str| format!("{}{path}", server.url);

    // Without a token: 401 on every page, and the login form to sign in.
    for path in ["/ui", "/ui/fleet", "/ui/bundles", "/ui/audit", "/ui/models/model-1", "/ui/decisions/x"] {
        let (status, headers, body) = get(&url(path), None);
        assert_eq!(status, 401, "{path}");
        assert!(body.contains("name=\"token\""), "{path}: the login form");
        assert_eq!(headers.get("cache-control").and_then(|value| value.to_str().ok()), Some("no-store"));
    }
    let (status, _, _) = get(&url("/ui/fleet"), Some("mgt_not-a-real-token"));
    assert_eq!(status, 401);
    // A pipeline token opens no session and reads no page.
    let (status, _, _) = get(&url("/ui/fleet"), Some(&pipeline));
    assert_eq!(status, 403);
    let mut refused = agent().post(&url("/ui/login")).send_form([("token", pipeline.as_str())]).expect("answers");
    assert_eq!(refused.status().as_u16(), 403, "{}", refused.body_mut().read_to_string().unwrap_or_default());
    assert!(refused.headers().get("set-cookie").is_none());
    // An auditor token opens one: HttpOnly, SameSite=Strict, for /ui only.
    let opened = agent().post(&url("/ui/login")).send_form([("token", auditor.as_str())]).expect("answers");
    assert_eq!(opened.status().as_u16(), 303);
    let cookie =
        opened.headers().get("set-cookie").and_then(|value| value.to_str().ok()).expect("a cookie").to_string();
    for attribute in ["modelgate_session=", "HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    // Every page, fetched with the token, is valid HTML that loads nothing from elsewhere.
    let (_, headers, fleet) = get(&url("/ui/fleet"), Some(&auditor));
    let policy = headers.get("content-security-policy").and_then(|value| value.to_str().ok()).unwrap_or_default();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    html::assert_valid(&fleet, "/ui/fleet");

    let browser = browser::Browser::start();
    browser.goto(&url("/ui/login"));
    browser.fill("#token", &auditor);
    browser.navigate_by("#login");
    assert!(browser.url().ends_with("/ui/fleet"), "{}", browser.url());
    let rows = browser.count("#fleet tbody tr");
    assert!(rows >= 10, "{rows} rows");
    let non_compliant = browser.count("#fleet tbody tr.state-non-compliant");
    assert!(non_compliant >= 1 && non_compliant < rows, "{non_compliant} of {rows} non-compliant");
    browser.screenshot_top(&browser::screenshot_path("dashboard-fleet-top"));
    browser.screenshot(&browser::screenshot_path("dashboard-fleet"));
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "fleet");

    // The filter: non-compliant models in production.
    browser.select("#filter-state", "non-compliant");
    browser.select("#filter-environment", "production");
    browser.navigate_by("#apply");
    assert!(browser.url().contains("state=non-compliant"), "{}", browser.url());
    assert_eq!(browser.count("#fleet tbody tr"), browser.count("#fleet tbody tr.state-non-compliant"));
    assert!(browser.count("#fleet tbody tr") >= 1);
    let text = browser.text();
    assert!(text.contains("non-compliant since sha256:"), "{text}");
    browser.select("#filter-owner", "fraud-ml@bank.example");
    browser.navigate_by("#apply");
    assert!(browser.url().contains("owner=fraud-ml%40bank.example"), "{}", browser.url());
    for row in browser.texts("#fleet tbody tr td:nth-child(4)") {
        assert_eq!(row, "fraud-ml@bank.example");
    }

    // A non-compliant model links to its violations.
    browser.goto(&url("/ui/fleet?state=non-compliant"));
    browser.navigate_by("#fleet tbody tr.state-non-compliant td a");
    assert!(browser.url().contains("/ui/models/model-"), "{}", browser.url());
    assert!(browser.count("#latest article.finding") >= 1, "the latest violations");
    assert!(browser.count("#trend svg") >= 1, "the metric trend");
    browser.screenshot(&browser::screenshot_path("dashboard-model"));
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "model");
    let (_, _, model_page) = get(&browser.url(), Some(&auditor));
    html::assert_valid(&model_page, "the model page");
    // A model with two versions judged: the fairness trend across them.
    browser.goto(&url("/ui/models/model-01"));
    assert_eq!(browser.count("svg[aria-label='demographic parity difference across decisions']"), 1);
    assert_eq!(browser.count("#history tbody tr"), 3, "its decision, the denied version, its re-evaluation");
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "model-01");

    // Its latest judgement: the full report, evidence, bundle files, replay.
    browser.navigate_by("#latest h2 a");
    assert!(browser.url().contains("/ui/decisions/"), "{}", browser.url());
    for section in ["#violations", "#evidence", "#bundle", "#replay", "#audit-chain", "#policy-files", "#rules", "main"]
    {
        assert_eq!(browser.count(section), 1, "{section} on the decision page");
    }
    assert!(browser.text().contains("reproduced"), "the replay reproduces the re-evaluation");
    browser.screenshot(&browser::screenshot_path("dashboard-decision"));
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "decision");
    let (_, _, decision_page) = get(&browser.url(), Some(&auditor));
    html::assert_valid(&decision_page, "the decision page");

    // Bundles: in force, activations with the models each turned non-compliant, the diff.
    browser.goto(&url("/ui/bundles"));
    assert_eq!(browser.count("#activations tbody tr"), 4, "three activations of the library, one stricter");
    assert!(browser.text().contains("model-"), "the stricter activation names the models it turned");
    let digests = browser.option_values("#diff-from");
    assert_eq!(digests.len(), 2);
    browser.select("#diff-from", &digests[1]);
    browser.select("#diff-to", &digests[0]);
    browser.navigate_by("#diff");
    assert!(browser.text().contains("+         min_metrics: {accuracy: 0.88}"), "{}", browser.text());
    browser.screenshot(&browser::screenshot_path("dashboard-bundles"));
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "bundles");
    let (_, _, bundles_page) = get(&browser.url(), Some(&auditor));
    html::assert_valid(&bundles_page, "the bundles page");

    // Audit: what is deployed in production now, the chain's head and checkpoint; verified.
    browser.goto(&url("/ui/audit?environment=production"));
    assert!(browser.count("#deployed tbody tr") >= 1);
    assert!(browser.text().contains("latest signed checkpoint"));
    browser.navigate_by("#verify");
    assert!(browser.text().contains("verified"), "{}", browser.text());
    browser.screenshot(&browser::screenshot_path("dashboard-audit"));
    assert_eq!(browser.console_errors(), Vec::<String>::new(), "audit");
    let (_, _, audit_page) = get(&url("/ui/audit?environment=production"), Some(&auditor));
    html::assert_valid(&audit_page, "the audit page");

    // Nothing but the server was asked for anything.
    for request in browser.requests() {
        assert!(request.starts_with(&server.url) || request.starts_with("data:"), "requested {request}");
    }
    // Logging out ends the session.
    browser.navigate_by("nav form button");
    assert!(browser.url().ends_with("/ui/login"), "{}", browser.url());
    let (status, _, _) = get(&url("/ui/fleet"), None);
    assert_eq!(status, 401);
    drop(browser);
    assert_eq!(server.stop(), 0);
}
