//! Alert delivery to model owners: when a deployed model no longer complies with the policies
//! now in force, the caller builds an [`Alert`] and hands it to each configured notifier.
//!
//! The notifiers come from `notifications.yaml` ([`NotifyConfig`], read strictly and checked
//! before anything is sent). Each kind (webhook, Slack, e-mail) implements [`Channel`]: what it
//! names as its target, what it builds once per alert, and one attempt to hand it over. The
//! retry loop ([`retry`]) is shared, and every delivery ends in a [`Delivery`] record that says
//! `delivered` only when the receiver accepted the alert. What to do about a failure (record
//! it, retry on the next run) and which alerts not to repeat is the caller's.
//!
//! docs/notifications.md is the user's guide.

mod config;
pub mod email;
pub(crate) mod http;
pub mod retry;
pub mod slack;
pub mod webhook;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use config::DEFAULT_FILE;
pub use email::{Email, Recipient, Smtp, SmtpCredentials, SmtpTls};
pub use retry::Retry;
pub use slack::Slack;
pub use webhook::Webhook;

/// The notifiers of a policy repository, in the order they are written.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub notifiers: Vec<Notifier>,
}

/// One configured receiver of alerts.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// Unique within the file; recorded in each [`Delivery`].
    pub name: String,
    pub kind: NotifierKind,
    pub retry: Retry,
}

/// The kinds of notifier with their settings: the one visible list of them.
#[derive(Debug, Clone)]
pub enum NotifierKind {
    Webhook(Webhook),
    Slack(Slack),
    Email(Email),
}

impl NotifierKind {
    /// The `type:` of the notifier in the file, and the `kind` of its deliveries.
    pub fn as_str(&self) -> &'static str {
        match self {
            NotifierKind::Webhook(_) => "webhook",
            NotifierKind::Slack(_) => "slack",
            NotifierKind::Email(_) => "email",
        }
    }
}

/// A value read from the environment that must not be printed: Debug shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("***")
    }
}

/// One model that no longer complies (or could not be re-evaluated), as sent to its owners.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Alert {
    /// Unique per alert (a UUID v7); sent as the delivery id, so receivers can drop repeats.
    pub id: String,
    pub kind: AlertKind,
    /// When the alert was raised, RFC 3339.
    pub time: String,
    pub model: String,
    pub version: String,
    pub environment: String,
    /// Who answers for the model, e.g. `risk-ml@bank.example`.
    pub owner: Option<String>,
    /// The re-evaluation decision.
    pub decision_id: String,
    /// The deployment that was re-checked.
    pub deployment_id: String,
    /// The decision the model was deployed on.
    pub original_decision_id: String,
    /// The policies now in force.
    pub bundle: BundleRef,
    /// The policies the model was deployed under.
    pub previous_bundle: BundleRef,
    pub violations: Vec<AlertViolation>,
    /// Policy files that differ between the two bundles, e.g. `M fairness.rego`, `A new.rego`.
    pub changed_files: Vec<String>,
    /// Why the re-evaluation failed, for `kind: error`.
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The policies now in force deny the deployed model.
    NonCompliant,
    /// The re-evaluation itself failed; the model's compliance is unknown.
    Error,
}

/// A policy bundle: its digest, and its revision (a git commit or tag) when known.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BundleRef {
    pub digest: String,
    pub revision: Option<String>,
}

impl BundleRef {
    /// A short name for subjects and headlines: the revision (a commit hash cut to 7
    /// characters), else the first 12 hex digits of the digest.
    pub fn short(&self) -> String {
        match self.revision.as_deref().map(str::trim).filter(|revision| !revision.is_empty()) {
            Some(revision) if revision.len() > 7 && revision.bytes().all(|byte| byte.is_ascii_hexdigit()) => {
                revision[..7].to_string()
            }
            Some(revision) => revision.to_string(),
            None => {
                let hex = self.digest.rsplit(':').next().unwrap_or(&self.digest);
                hex.chars().take(12).collect()
            }
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AlertViolation {
    /// The stable violation code, e.g. `fairness/demographic-parity`.
    pub code: String,
    pub msg: String,
    pub severity: String,
    /// How to fix it, when the policy says.
    pub remediation: Option<String>,
}

impl Alert {
    /// A fresh alert id: a UUID v7, so ids sort by time.
    pub fn new_id() -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// The current time as an alert's `time`.
    pub fn now() -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// `credit-scoring 2.4.0 in production no longer complies`: the one line every notifier leads with.
    pub fn headline(&self) -> String {
        let what = match self.kind {
            AlertKind::NonCompliant => "no longer complies",
            AlertKind::Error => "could not be re-evaluated",
        };
        format!("{} {} in {} {what}", self.model, self.version, self.environment)
    }

    /// The headline with the policies named, as an e-mail subject or a chat fallback text.
    pub fn title(&self) -> String {
        format!("[modelgate] {} (policies {})", self.headline(), self.bundle.short())
    }
}

/// What became of one alert at one notifier; the caller records it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Delivery {
    pub notifier: String,
    /// `webhook`, `slack` or `email`.
    pub kind: String,
    /// Where it went, without secrets: the URL without query or user info (for Slack, the
    /// host only: the path is the credential), or the e-mail recipients.
    pub target: String,
    pub status: DeliveryStatus,
    /// Attempts made; 0 when there was nothing to send (an e-mail without recipients).
    pub attempts: u32,
    /// The last attempt's error; `None` once delivered.
    pub error: Option<String>,
    /// The last HTTP status received, for webhook and Slack.
    pub http_status: Option<u16>,
}

impl Delivery {
    /// A delivery before its first attempt: failed until the receiver accepts it.
    pub fn not_yet(notifier: &Notifier, target: String) -> Delivery {
        Delivery {
            notifier: notifier.name.clone(),
            kind: notifier.kind.as_str().to_string(),
            target,
            status: DeliveryStatus::Failed,
            attempts: 0,
            error: None,
            http_status: None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// The receiver accepted the alert (a 2xx answer; the SMTP server took the message).
    Delivered,
    /// Every attempt failed, or one failed in a way a retry cannot fix.
    Failed,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// The receiver took the alert.
    Accepted { http_status: Option<u16> },
    /// A failure that may pass: a connection error, a timeout, HTTP 5xx, 408 or 429, an SMTP 4xx.
    /// `retry_after` is the receiver's own wait, when it gave one.
    Transient { error: String, http_status: Option<u16>, retry_after: Option<Duration> },
    /// A failure a retry cannot fix: another HTTP 4xx, a redirect, an SMTP 5xx, a TLS failure.
    Permanent { error: String, http_status: Option<u16> },
}

/// One kind of notifier: it names its target, builds what it sends once per alert, and makes
/// one attempt at a time; retries are [`retry::run`]'s.
pub trait Channel {
    /// What is built once and sent at each attempt.
    type Prepared;

    /// Where alerts go, without secrets, for [`Delivery::target`].
    fn target(&self, alert: &Alert) -> String;

    /// Builds the message (and client) for `alert`. An error means there is nothing that could
    /// be sent, and no attempt is made.
    fn prepare(&self, alert: &Alert, timeout: Duration) -> Result<Self::Prepared, String>;

    /// One attempt; it must end within about the timeout given to `prepare`.
    fn attempt(&self, prepared: &Self::Prepared) -> Attempt;
}

/// Delivers one alert through one notifier, retrying as its [`Retry`] says. Never panics, and
/// says `delivered` only when the receiver accepted the alert.
pub fn deliver(notifier: &Notifier, alert: &Alert) -> Delivery {
    match &notifier.kind {
        NotifierKind::Webhook(webhook) => deliver_through(notifier, webhook, alert),
        NotifierKind::Slack(slack) => deliver_through(notifier, slack, alert),
        NotifierKind::Email(email) => deliver_through(notifier, email, alert),
    }
}

fn deliver_through<C: Channel>(notifier: &Notifier, channel: &C, alert: &Alert) -> Delivery {
    let mut delivery = Delivery::not_yet(notifier, channel.target(alert));
    let prepared = match channel.prepare(alert, notifier.retry.timeout) {
        Ok(prepared) => prepared,
        Err(error) => {
            delivery.error = Some(error);
            return delivery;
        }
    };
    let (attempts, last) = retry::run(&notifier.retry, || channel.attempt(&prepared), std::thread::sleep);
    delivery.attempts = attempts;
    match last {
        Attempt::Accepted { http_status } => {
            delivery.status = DeliveryStatus::Delivered;
            delivery.http_status = http_status;
        }
        Attempt::Transient { error, http_status, .. } | Attempt::Permanent { error, http_status } => {
            delivery.error = Some(error);
            delivery.http_status = http_status;
        }
    }
    delivery
}

/// Delivers one alert through every notifier, at the same time (one slow receiver does not
/// hold up the others); the deliveries come back in the order of the notifiers.
pub fn deliver_all(config: &NotifyConfig, alert: &Alert) -> Vec<Delivery> {
    std::thread::scope(|scope| {
        let spawned: Vec<_> = config
            .notifiers
            .iter()
            .enumerate()
            .map(|(index, notifier)| {
                let thread = std::thread::Builder::new()
                    .name(format!("notify-{index}"))
                    .spawn_scoped(scope, move || deliver(notifier, alert));
                (notifier, thread)
            })
            .collect();
        spawned
            .into_iter()
            .map(|(notifier, thread)| match thread {
                Ok(handle) => handle.join().unwrap_or_else(|_| Delivery {
                    error: Some("the delivery stopped unexpectedly (a bug in modelgate)".to_string()),
                    ..Delivery::not_yet(notifier, String::new())
                }),
                // No thread to be had: this one is delivered here, after the others.
                Err(_) => deliver(notifier, alert),
            })
            .collect()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An alert with every field filled in, shared by the notifiers' tests.
    pub fn alert() -> Alert {
        Alert {
            id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_string(),
            kind: AlertKind::NonCompliant,
            time: "2026-12-01T09:30:00Z".to_string(),
            model: "credit-scoring".to_string(),
            version: "2.4.0".to_string(),
            environment: "production".to_string(),
            owner: Some("risk-ml@bank.example".to_string()),
            decision_id: "dec-2".to_string(),
            deployment_id: "dep-1".to_string(),
            original_decision_id: "dec-1".to_string(),
            bundle: BundleRef {
                digest: "sha256:5e8f2c9a0b1d4e7f".to_string(),
                revision: Some("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678".to_string()),
            },
            previous_bundle: BundleRef { digest: "sha256:0f9e8d7c6b5a4321".to_string(), revision: None },
            violations: vec![AlertViolation {
                code: "fairness/demographic-parity".to_string(),
                msg: "demographic parity difference 0.14 exceeds 0.10 for sex".to_string(),
                severity: "high".to_string(),
                remediation: Some("rebalance the training data or apply a fairness constraint".to_string()),
            }],
            changed_files: vec!["M fairness.rego".to_string()],
            error: None,
        }
    }

    #[test]
    fn short_bundle_names() {
        let bundle = |revision: Option<&str>| BundleRef {
            digest: "sha256:5e8f2c9a0b1d4e7f".to_string(),
            revision: revision.map(str::to_string),
        };
        assert_eq!(bundle(Some("a1b2c3d4e5f6")).short(), "a1b2c3d");
        assert_eq!(bundle(Some("policies-v3")).short(), "policies-v3");
        assert_eq!(bundle(Some(" ")).short(), "5e8f2c9a0b1d");
        assert_eq!(bundle(None).short(), "5e8f2c9a0b1d");
    }

    #[test]
    fn titles_name_model_environment_and_policies() {
        let mut alert = alert();
        assert_eq!(
            alert.title(),
            "[modelgate] credit-scoring 2.4.0 in production no longer complies (policies a1b2c3d)"
        );
        alert.kind = AlertKind::Error;
        assert_eq!(alert.headline(), "credit-scoring 2.4.0 in production could not be re-evaluated");
    }

    #[test]
    fn alerts_and_deliveries_serialize_in_snake_case() {
        let value = serde_json::to_value(alert()).expect("serializes");
        assert_eq!(value["kind"], "non_compliant");
        assert_eq!(value["bundle"]["revision"], "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
        let back: Alert = serde_json::from_value(value).expect("reads back");
        assert_eq!(back, alert());
        assert_eq!(serde_json::to_value(DeliveryStatus::Delivered).expect("serializes"), "delivered");
        assert!(Alert::new_id() != Alert::new_id());
        assert!(chrono::DateTime::parse_from_rfc3339(&Alert::now()).is_ok());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let slack = Slack { url: Secret::new("https://hooks.slack.com/services/T0/B0/XYZ") };
        assert!(!format!("{slack:?}").contains("XYZ"));
    }
}
