//! E-mail over SMTP (lettre, blocking): a plain-text message listing the violations and their
//! fixes, to the model's owner and fixed addresses. TLS is STARTTLS (the default), implicit TLS
//! or none, with rustls; there is no silent fall back to clear text.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::{Alert, AlertKind, Attempt, Channel, Secret};

#[derive(Debug, Clone)]
pub struct Email {
    pub smtp: Smtp,
    /// The sender, `modelgate@bank.example` or `modelgate <modelgate@bank.example>`.
    pub from: String,
    pub to: Vec<Recipient>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// The alert's `owner`, when it is an e-mail address; skipped otherwise.
    Owner,
    /// A fixed address.
    Address(String),
}

#[derive(Debug, Clone)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub credentials: Option<SmtpCredentials>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection, upgraded with STARTTLS, which the server must offer.
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: for a relay on this machine or a trusted network.
    None,
}

impl SmtpTls {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }

    /// The usual port: 587 (submission), 465 (SMTPS), 25.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmtpCredentials {
    pub username: String,
    pub password: Secret,
}

/// The subject: `[modelgate] credit-scoring 2.4.0 in production no longer complies (policies a1b2c3d)`.
pub fn subject(alert: &Alert) -> String {
    alert.title()
}

/// The plain-text body.
pub fn text(alert: &Alert) -> String {
    let mut text = match alert.kind {
        AlertKind::NonCompliant => format!("{} with the policies now in force.\n\n", alert.headline()),
        AlertKind::Error => format!("{} against the policies now in force.\n\n", alert.headline()),
    };
    text.push_str(&format!("Model:          {} {}\n", alert.model, alert.version));
    text.push_str(&format!("Environment:    {}\n", alert.environment));
    text.push_str(&format!("Owner:          {}\n", alert.owner.as_deref().unwrap_or("(none)")));
    text.push_str(&format!("Policies:       {}\n", bundle(&alert.bundle)));
    text.push_str(&format!("Deployed under: {}\n", bundle(&alert.previous_bundle)));
    if let Some(error) = &alert.error {
        text.push_str(&format!("\nError: {error}\n"));
    }
    if !alert.violations.is_empty() {
        text.push_str(&format!("\nViolations ({}):\n", alert.violations.len()));
        for (index, violation) in alert.violations.iter().enumerate() {
            text.push_str(&format!(
                "\n{}. [{}] {}\n   {}\n",
                index + 1,
                violation.severity,
                violation.code,
                violation.msg
            ));
            if let Some(fix) = &violation.remediation {
                text.push_str(&format!("   Fix: {fix}\n"));
            }
        }
    }
    if !alert.changed_files.is_empty() {
        text.push_str("\nPolicy files changed since the deployment:\n");
        for file in &alert.changed_files {
            text.push_str(&format!("   {file}\n"));
        }
    }
    text.push_str(&format!(
        "\nDecision {} re-checked deployment {} (deployed on decision {}).\nAlert {} raised {}.\n",
        alert.decision_id, alert.deployment_id, alert.original_decision_id, alert.id, alert.time
    ));
    text
}

fn bundle(bundle: &super::BundleRef) -> String {
    match &bundle.revision {
        Some(revision) => format!("{revision} ({})", bundle.digest),
        None => bundle.digest.clone(),
    }
}

impl Email {
    /// The addresses the alert goes to: the owner (when asked for and an address) and the
    /// fixed ones, each once, in the order written.
    pub fn recipients(&self, alert: &Alert) -> Vec<Mailbox> {
        let mut recipients: Vec<Mailbox> = Vec::new();
        for recipient in &self.to {
            let text = match recipient {
                Recipient::Owner => alert.owner.as_deref().unwrap_or_default(),
                Recipient::Address(address) => address,
            };
            if let Ok(mailbox) = text.trim().parse::<Mailbox>() {
                if !recipients.iter().any(|known| known.email == mailbox.email) {
                    recipients.push(mailbox);
                }
            }
        }
        recipients
    }

    fn transport(&self, timeout: Duration) -> Result<SmtpTransport, String> {
        let smtp = &self.smtp;
        let tls = match smtp.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls | SmtpTls::Tls => {
                let parameters = TlsParameters::new(smtp.host.clone())
                    .map_err(|error| format!("cannot set up TLS for {}: {error}", smtp.host))?;
                if smtp.tls == SmtpTls::Tls {
                    Tls::Wrapper(parameters)
                } else {
                    Tls::Required(parameters)
                }
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(&smtp.host).port(smtp.port).tls(tls).timeout(Some(timeout));
        if let Some(credentials) = &smtp.credentials {
            builder = builder
                .credentials(Credentials::new(credentials.username.clone(), credentials.password.expose().to_string()));
        }
        Ok(builder.build())
    }
}

pub struct Prepared {
    transport: SmtpTransport,
    message: Message,
}

impl Channel for Email {
    type Prepared = Prepared;

    fn target(&self, alert: &Alert) -> String {
        let recipients = self.recipients(alert);
        if recipients.is_empty() {
            return "(no recipient)".to_string();
        }
        recipients.iter().map(|mailbox| mailbox.email.to_string()).collect::<Vec<_>>().join(", ")
    }

    fn prepare(&self, alert: &Alert, timeout: Duration) -> Result<Prepared, String> {
        let recipients = self.recipients(alert);
        if recipients.is_empty() {
            let owner = match &alert.owner {
                Some(owner) => format!("the model's owner `{owner}` is not an e-mail address"),
                None => "the model has no owner".to_string(),
            };
            return Err(format!("no recipient: {owner}, and no fixed address is configured"));
        }
        let from: Mailbox = self.from.parse().map_err(|error| format!("the sender `{}`: {error}", self.from))?;
        let mut builder = Message::builder()
            .from(from)
            .subject(subject(alert))
            // The alert id makes the message id: a mail system can drop a repeat.
            .message_id(Some(format!("<{}@modelgate>", alert.id)))
            .header(ContentType::TEXT_PLAIN);
        for recipient in recipients {
            builder = builder.to(recipient);
        }
        let message = builder.body(text(alert)).map_err(|error| format!("cannot build the message: {error}"))?;
        Ok(Prepared { transport: self.transport(timeout)?, message })
    }

    fn attempt(&self, prepared: &Prepared) -> Attempt {
        match prepared.transport.send(&prepared.message) {
            Ok(_) => Attempt::Accepted { http_status: None },
            Err(error) => {
                let description =
                    if error.is_timeout() { "SMTP: timed out".to_string() } else { format!("SMTP: {error}") };
                // 4xx replies and lost connections may pass; 5xx replies, TLS failures (a bad
                // certificate, no STARTTLS on offer) and the client's own errors will not.
                if error.is_permanent() || error.is_tls() || error.is_client() {
                    Attempt::Permanent { error: description, http_status: None }
                } else {
                    Attempt::Transient { error: description, http_status: None, retry_after: None }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::alert;

    fn email(to: Vec<Recipient>) -> Email {
        Email {
            smtp: Smtp { host: "smtp.bank.example".to_string(), port: 587, tls: SmtpTls::Starttls, credentials: None },
            from: "modelgate <modelgate@bank.example>".to_string(),
            to,
        }
    }

    #[test]
    fn recipients_are_the_owner_and_fixed_addresses_once_each() {
        let email = email(vec![
            Recipient::Owner,
            Recipient::Address("governance@bank.example".to_string()),
            Recipient::Address("risk-ml@bank.example".to_string()),
        ]);
        assert_eq!(email.target(&alert()), "risk-ml@bank.example, governance@bank.example");
        let mut alert = alert();
        alert.owner = Some("team risk-ml".to_string());
        assert_eq!(email.target(&alert), "governance@bank.example, risk-ml@bank.example");
    }

    #[test]
    fn no_recipient_means_nothing_to_send() {
        let mut alert = alert();
        alert.owner = Some("team risk-ml".to_string());
        let error = email(vec![Recipient::Owner]).prepare(&alert, Duration::from_secs(1)).err().expect("no recipient");
        assert!(error.contains("`team risk-ml` is not an e-mail address"), "{error}");
    }

    #[test]
    fn the_text_lists_violations_and_fixes() {
        let text = text(&alert());
        assert!(
            text.starts_with("credit-scoring 2.4.0 in production no longer complies with the policies now in force.")
        );
        assert!(
            text.contains("1. [high] fairness/demographic-parity\n   demographic parity difference 0.14"),
            "{text}"
        );
        assert!(text.contains("   Fix: rebalance the training data"), "{text}");
        assert!(text.contains("   M fairness.rego\n"), "{text}");
        assert_eq!(
            subject(&alert()),
            "[modelgate] credit-scoring 2.4.0 in production no longer complies (policies a1b2c3d)"
        );
    }

    #[test]
    fn tls_settings_build_a_transport() {
        for tls in [SmtpTls::Starttls, SmtpTls::Tls, SmtpTls::None] {
            let mut email = email(vec![Recipient::Owner]);
            email.smtp.tls = tls;
            assert!(email.transport(Duration::from_secs(1)).is_ok(), "{}", tls.as_str());
        }
    }
}
