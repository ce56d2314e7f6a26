//! Slack incoming webhooks: a message with a plain `text` fallback (notifications, old
//! clients) and Block Kit sections in mrkdwn: the model, the policies, each violation with
//! its fix. Slack answers `ok` with 200.

use std::time::Duration;

use serde_json::{json, Value};

use super::{http, Alert, AlertKind, Attempt, Channel, Secret};

/// Violations shown one section each; the rest are counted (Slack takes 50 blocks at most).
const MAX_VIOLATIONS: usize = 20;
/// Slack refuses a section text over 3000 characters.
const MAX_SECTION_CHARS: usize = 2900;

#[derive(Debug, Clone)]
pub struct Slack {
    /// The incoming-webhook URL; its path is the credential.
    pub url: Secret,
}

/// The message for `alert`.
pub fn message(alert: &Alert) -> Value {
    let (icon, what) = match alert.kind {
        AlertKind::NonCompliant => (":rotating_light:", "no longer complies with the policies now in force"),
        AlertKind::Error => (":warning:", "could not be re-evaluated against the policies now in force"),
    };
    let lead = format!(
        "{icon} *{}* {} in *{}* {what}.",
        escape(&alert.model),
        escape(&alert.version),
        escape(&alert.environment)
    );
    let fields = [
        field("Model", &escape(&alert.model)),
        field("Version", &escape(&alert.version)),
        field("Environment", &escape(&alert.environment)),
        field("Owner", &escape(alert.owner.as_deref().unwrap_or("(none)"))),
        field("Policies", &bundle(&alert.bundle)),
        field("Deployed under", &bundle(&alert.previous_bundle)),
    ];
    let mut blocks = vec![section(&lead), json!({"type": "section", "fields": fields})];
    if let Some(error) = &alert.error {
        blocks.push(section(&format!("*Error*\n{}", escape(error))));
    }
    for violation in alert.violations.iter().take(MAX_VIOLATIONS) {
        let mut text =
            format!("*`{}`* ({})\n{}", escape(&violation.code), escape(&violation.severity), escape(&violation.msg));
        if let Some(fix) = &violation.remediation {
            text.push_str(&format!("\n*Fix:* {}", escape(fix)));
        }
        blocks.push(section(&text));
    }
    if alert.violations.len() > MAX_VIOLATIONS {
        blocks.push(section(&format!("…and {} more violations.", alert.violations.len() - MAX_VIOLATIONS)));
    }
    let mut context = Vec::new();
    if !alert.changed_files.is_empty() {
        let files: Vec<String> = alert.changed_files.iter().map(|file| format!("`{}`", escape(file))).collect();
        context.push(format!("Changed policy files: {}", files.join(", ")));
    }
    context.push(format!(
        "Decision `{}` · deployment `{}` · alert `{}`",
        escape(&alert.decision_id),
        escape(&alert.deployment_id),
        escape(&alert.id)
    ));
    blocks.push(json!({"type": "context", "elements": [mrkdwn(&context.join("\n"))]}));
    json!({"text": alert.title(), "blocks": blocks})
}

fn bundle(bundle: &super::BundleRef) -> String {
    match &bundle.revision {
        Some(revision) => format!("`{}` (`{}`)", escape(revision), escape(&bundle.digest)),
        None => format!("`{}`", escape(&bundle.digest)),
    }
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": mrkdwn(text)})
}

fn field(name: &str, value: &str) -> Value {
    mrkdwn(&format!("*{name}*\n{value}"))
}

fn mrkdwn(text: &str) -> Value {
    let text = if text.chars().count() > MAX_SECTION_CHARS {
        format!("{}…", text.chars().take(MAX_SECTION_CHARS).collect::<String>())
    } else {
        text.to_string()
    };
    json!({"type": "mrkdwn", "text": text})
}

/// Slack reads `&`, `<` and `>` as markup (links, mentions); text from policies is shown as written.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub struct Prepared {
    agent: ureq::Agent,
    body: Vec<u8>,
}

impl Channel for Slack {
    type Prepared = Prepared;

    /// The host only: the path of an incoming-webhook URL is its secret.
    fn target(&self, _alert: &Alert) -> String {
        match self.url.expose().parse() {
            Ok(uri) => format!("{}/…", http::origin(&uri)),
            Err(_) => "(invalid URL)".to_string(),
        }
    }

    fn prepare(&self, alert: &Alert, timeout: Duration) -> Result<Prepared, String> {
        let body = serde_json::to_vec(&message(alert)).map_err(|error| format!("cannot build the message: {error}"))?;
        Ok(Prepared { agent: http::agent(self.url.expose(), timeout), body })
    }

    fn attempt(&self, prepared: &Prepared) -> Attempt {
        http::post_json(&prepared.agent, self.url.expose(), &[], &prepared.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::alert;
    use crate::notify::AlertViolation;

    #[test]
    fn the_message_names_model_policies_violations_and_fixes() {
        let message = message(&alert());
        assert_eq!(
            message["text"],
            "[modelgate] credit-scoring 2.4.0 in production no longer complies (policies a1b2c3d)"
        );
        let texts: Vec<String> = message["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .flat_map(|block| {
                let own = block["text"]["text"].as_str().map(str::to_string);
                let fields =
                    block["fields"].as_array().into_iter().flatten().filter_map(|field| field["text"].as_str());
                own.into_iter().chain(fields.map(str::to_string)).collect::<Vec<_>>()
            })
            .collect();
        let all = texts.join("\n");
        for expected in [
            "*Model*\ncredit-scoring",
            "*Version*\n2.4.0",
            "*Environment*\nproduction",
            "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
            "sha256:5e8f2c9a0b1d4e7f",
            "*`fairness/demographic-parity`* (high)\ndemographic parity difference 0.14 exceeds 0.10 for sex",
            "*Fix:* rebalance the training data",
        ] {
            assert!(all.contains(expected), "{expected:?} missing from\n{all}");
        }
        for block in message["blocks"].as_array().expect("blocks") {
            assert!(["section", "context"].contains(&block["type"].as_str().expect("a type")));
        }
    }

    #[test]
    fn markup_is_escaped_and_long_lists_are_cut() {
        let mut alert = alert();
        alert.violations = (0..30)
            .map(|index| AlertViolation {
                code: format!("security/rule-{index}"),
                msg: "<!channel> & more".to_string(),
                severity: "high".to_string(),
                remediation: None,
            })
            .collect();
        let message = message(&alert);
        let blocks = message["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= 50);
        let text = serde_json::to_string(&message).expect("serializes");
        assert!(!text.contains("<!channel>"), "a mention would ping the whole channel");
        assert!(text.contains("&lt;!channel&gt; &amp; more"));
        assert!(text.contains("…and 10 more violations."));
    }

    #[test]
    fn the_target_hides_the_webhook_path() {
        let slack = Slack { url: Secret::new("https://hooks.slack.com/services/T0/B0/XYZ") };
        assert_eq!(slack.target(&alert()), "https://hooks.slack.com/…");
    }
}
