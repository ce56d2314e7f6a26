//! `notifications.yaml`: read strictly (an unknown or repeated key is an error), then checked
//! whole before anything is sent. Secrets come from environment variables named in the file,
//! and one that is not set is an error now, not a silent failure at the first alert.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::Path;
use std::time::Duration;

use lettre::message::Mailbox;
use serde::Deserialize;

use super::email::{Email, Recipient, Smtp, SmtpCredentials, SmtpTls};
use super::{http, Notifier, NotifierKind, NotifyConfig, Retry, Secret, Slack, Webhook};
use crate::error::{Error, ErrorKind, Result};

/// The file's name at the root of a policy repository.
pub const DEFAULT_FILE: &str = "notifications.yaml";

/// Headers modelgate sets itself; a configured one would contradict it.
const RESERVED_HEADERS: &[&str] = &["content-type", "content-length", "host", "transfer-encoding", "user-agent"];
const MAX_ATTEMPTS: u32 = 20;
const MAX_TIMEOUT_MS: u64 = 600_000;

impl NotifyConfig {
    /// Reads and checks a notifications file.
    pub fn load(path: &Path) -> Result<NotifyConfig> {
        let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "a notifications file")
            .map_err(|error| Error { kind: ErrorKind::Notify, ..error })?;
        NotifyConfig::parse(&path.display().to_string(), &text)
    }

    /// Reads and checks the text of a notifications file; `source` names it in messages.
    /// Environment variables are read from the process environment.
    pub fn parse(source: &str, text: &str) -> Result<NotifyConfig> {
        NotifyConfig::parse_with_env(source, text, |name| std::env::var(name).ok())
    }

    /// [`NotifyConfig::parse`] with the environment looked up through `env`.
    pub fn parse_with_env(source: &str, text: &str, env: impl Fn(&str) -> Option<String>) -> Result<NotifyConfig> {
        let source_file = crate::strict::Source::new(Path::new(source), "the notifications file", ErrorKind::Notify)
            .documented_in("docs/notifications.md");
        let value = crate::strict::parse(text, crate::strict::Syntax::Yaml, &source_file)?;
        if value.is_null() {
            return Err(Error::new(ErrorKind::Notify, format!("{source}: the file is empty"))
                .hint("list the notifiers under `notifiers:` (docs/notifications.md shows a complete file)"));
        }
        let file: File = crate::strict::deserialize(value, text, &source_file)?;
        if file.notifiers.is_empty() {
            return Err(Error::new(ErrorKind::Notify, format!("{source}: notifiers: the list is empty"))
                .hint("add a notifier (docs/notifications.md); without one no alert reaches anyone"));
        }
        let mut notifiers: Vec<Notifier> = Vec::with_capacity(file.notifiers.len());
        for (index, raw) in file.notifiers.into_iter().enumerate() {
            let at = At { source, index };
            let notifier = raw.check(&at, &env)?;
            if let Some(first) = notifiers.iter().position(|known| known.name == notifier.name) {
                return Err(at
                    .error("name", format!("`{}` is already the name of notifiers[{first}]", notifier.name))
                    .hint("give each notifier its own name: deliveries are recorded by it"));
            }
            notifiers.push(notifier);
        }
        Ok(NotifyConfig { notifiers })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    notifiers: Vec<RawNotifier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotifier {
    name: String,
    #[serde(rename = "type")]
    kind: RawKind,
    url: Option<String>,
    url_env: Option<String>,
    secret_env: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    smtp: Option<RawSmtp>,
    from: Option<String>,
    to: Option<Vec<String>>,
    retry: Option<RawRetry>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawKind {
    Webhook,
    Slack,
    Email,
}

impl RawKind {
    fn as_str(self) -> &'static str {
        match self {
            RawKind::Webhook => "webhook",
            RawKind::Slack => "slack",
            RawKind::Email => "email",
        }
    }

    /// The keys a notifier of this kind takes besides `name`, `type` and `retry`.
    fn keys(self) -> &'static [&'static str] {
        match self {
            RawKind::Webhook => &["url", "url_env", "secret_env", "headers"],
            RawKind::Slack => &["url", "url_env"],
            RawKind::Email => &["smtp", "from", "to"],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    attempts: Option<u32>,
    initial_backoff_ms: Option<u64>,
    max_backoff_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: Option<u16>,
    tls: Option<RawTls>,
    username_env: Option<String>,
    password_env: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RawTls {
    Starttls,
    Tls,
    None,
}

/// Where in the file a notifier is, for messages.
struct At<'a> {
    source: &'a str,
    index: usize,
}

impl At<'_> {
    fn error(&self, field: &str, problem: impl Display) -> Error {
        Error::new(ErrorKind::Notify, format!("{}: notifiers[{}].{field}: {problem}", self.source, self.index))
    }

    /// The value of the environment variable `name`, which `field` names.
    fn env(&self, field: &str, name: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String> {
        let name = name.trim();
        if name.is_empty() {
            return Err(self
                .error(field, "names no environment variable")
                .hint(format!("write `{field}: VARIABLE_NAME`")));
        }
        match env(name) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(self.error(field, format!("environment variable `{name}` is not set")).hint(format!(
                "set {name} in the environment that runs modelgate (secrets never go in the file); \
                 the notifier cannot work without it"
            ))),
        }
    }
}

impl RawNotifier {
    fn check(self, at: &At, env: &impl Fn(&str) -> Option<String>) -> Result<Notifier> {
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(at.error("name", "is empty").hint("name the notifier: deliveries are recorded by it"));
        }
        let set = [
            ("url", self.url.is_some()),
            ("url_env", self.url_env.is_some()),
            ("secret_env", self.secret_env.is_some()),
            ("headers", self.headers.is_some()),
            ("smtp", self.smtp.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
        ];
        let allowed = self.kind.keys();
        if let Some((key, _)) = set.iter().find(|(key, set)| *set && !allowed.contains(key)) {
            return Err(at.error(key, format!("is not a setting of a {} notifier", self.kind.as_str())).hint(format!(
                "a {} notifier takes name, type, {} and retry (docs/notifications.md)",
                self.kind.as_str(),
                allowed.join(", ")
            )));
        }
        let retry = check_retry(at, self.retry)?;
        let kind = match self.kind {
            RawKind::Webhook => NotifierKind::Webhook(Webhook {
                url: url(at, self.url, self.url_env, env)?,
                secret: match &self.secret_env {
                    Some(name) => Some(Secret::new(at.env("secret_env", name, env)?)),
                    None => None,
                },
                headers: check_headers(at, self.headers.unwrap_or_default())?,
            }),
            RawKind::Slack => NotifierKind::Slack(Slack { url: url(at, self.url, self.url_env, env)? }),
            RawKind::Email => NotifierKind::Email(check_email(at, self.smtp, self.from, self.to, env)?),
        };
        Ok(Notifier { name, kind, retry })
    }
}

/// The URL, written in the file or read from the environment (where it is not shown in messages).
fn url(at: &At, url: Option<String>, url_env: Option<String>, env: &impl Fn(&str) -> Option<String>) -> Result<Secret> {
    let hint = "give the URL in full, like https://hooks.example/modelgate";
    match (url, url_env) {
        (Some(_), Some(_)) => Err(at
            .error("url", "both `url` and `url_env` are set")
            .hint("keep one: `url_env` reads the URL from the environment, for URLs that carry a token")),
        (None, None) => Err(at
            .error("url", "missing")
            .hint("add `url: https://…`, or `url_env: VARIABLE` to read it from the environment")),
        (Some(url), None) => match http::check_url(url.trim()) {
            Ok(_) => Ok(Secret::new(url.trim())),
            Err(problem) => Err(at.error("url", format!("`{url}`: {problem}")).hint(hint)),
        },
        (None, Some(name)) => {
            let value = at.env("url_env", &name, env)?;
            match http::check_url(value.trim()) {
                Ok(_) => Ok(Secret::new(value.trim())),
                Err(problem) => {
                    Err(at.error("url_env", format!("the value of `{}`: {problem}", name.trim())).hint(hint))
                }
            }
        }
    }
}

fn check_retry(at: &At, raw: Option<RawRetry>) -> Result<Retry> {
    let defaults = Retry::default();
    let Some(raw) = raw else { return Ok(defaults) };
    let attempts = raw.attempts.unwrap_or(defaults.attempts);
    if !(1..=MAX_ATTEMPTS).contains(&attempts) {
        return Err(at
            .error("retry.attempts", format!("{attempts} is not between 1 and {MAX_ATTEMPTS}"))
            .hint("attempts counts the first one: 1 means no retry"));
    }
    let timeout_ms = raw.timeout_ms.unwrap_or(defaults.timeout.as_millis() as u64);
    if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(at
            .error("retry.timeout_ms", format!("{timeout_ms} is not between 1 and {MAX_TIMEOUT_MS}"))
            .hint("it is the time limit of one attempt, in milliseconds"));
    }
    let initial_ms = raw.initial_backoff_ms.unwrap_or(defaults.initial_backoff.as_millis() as u64);
    let max_ms = raw.max_backoff_ms.unwrap_or(defaults.max_backoff.as_millis() as u64);
    if initial_ms > max_ms {
        return Err(at
            .error("retry.initial_backoff_ms", format!("{initial_ms} is more than max_backoff_ms ({max_ms})"))
            .hint("the first wait cannot be longer than the longest one; raise max_backoff_ms or lower initial_backoff_ms"));
    }
    Ok(Retry {
        attempts,
        initial_backoff: Duration::from_millis(initial_ms),
        max_backoff: Duration::from_millis(max_ms),
        timeout: Duration::from_millis(timeout_ms),
    })
}

fn check_headers(at: &At, headers: BTreeMap<String, String>) -> Result<Vec<(String, String)>> {
    headers
        .into_iter()
        .map(|(name, value)| {
            let field = format!("headers.{name}");
            let lower = name.to_ascii_lowercase();
            if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(at
                    .error(&field, "is not a valid header name")
                    .hint("header names are letters, digits and `-`"));
            }
            if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("x-modelgate-") {
                return Err(at
                    .error(&field, "is set by modelgate itself")
                    .hint("remove it: docs/notifications.md lists the headers every request carries"));
            }
            if ureq::http::HeaderValue::from_str(&value).is_err() {
                return Err(at.error(&field, "is not a valid header value").hint("use visible ASCII text on one line"));
            }
            Ok((name, value))
        })
        .collect()
}

fn check_email(
    at: &At,
    smtp: Option<RawSmtp>,
    from: Option<String>,
    to: Option<Vec<String>>,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Email> {
    let Some(smtp) = smtp else {
        return Err(at.error("smtp", "missing").hint("add `smtp: {host: smtp.example, port: 587, tls: starttls}`"));
    };
    let host = smtp.host.trim().to_string();
    if host.is_empty() || host.contains(|character: char| character.is_whitespace() || character == '/') {
        return Err(at
            .error("smtp.host", format!("`{}` is not a host name", smtp.host))
            .hint("give the server's name or address alone, like smtp.bank.example"));
    }
    let tls = match smtp.tls.unwrap_or(RawTls::Starttls) {
        RawTls::Starttls => SmtpTls::Starttls,
        RawTls::Tls => SmtpTls::Tls,
        RawTls::None => SmtpTls::None,
    };
    let port = smtp.port.unwrap_or(tls.default_port());
    if port == 0 {
        return Err(at.error("smtp.port", "0 is not a port").hint("usually 587 (starttls), 465 (tls) or 25"));
    }
    let credentials = match (smtp.username_env, smtp.password_env) {
        (None, None) => None,
        (Some(username), Some(password)) => Some(SmtpCredentials {
            username: at.env("smtp.username_env", &username, env)?,
            password: Secret::new(at.env("smtp.password_env", &password, env)?),
        }),
        (Some(_), None) | (None, Some(_)) => {
            return Err(at
                .error("smtp", "one of `username_env` and `password_env` is set without the other")
                .hint("set both to log in, or neither for a relay that takes mail without a login"));
        }
    };
    if credentials.is_some() && tls == SmtpTls::None && !http::is_loopback(&host) {
        return Err(at
            .error("smtp.tls", format!("`none` would send the SMTP password to {host} in clear text"))
            .hint("use `tls: starttls` or `tls: tls`, or a relay that needs no login"));
    }
    let Some(from) = from else {
        return Err(at.error("from", "missing").hint("add `from: modelgate@your.domain`"));
    };
    if let Err(error) = from.trim().parse::<Mailbox>() {
        return Err(at
            .error("from", format!("`{from}` is not an e-mail address ({error})"))
            .hint("write `name@domain`, or `Name <name@domain>`"));
    }
    let to = to.unwrap_or_default();
    if to.is_empty() {
        return Err(at
            .error("to", "lists no recipient")
            .hint("add `owner` (the model's owner, when it is an e-mail address) and/or fixed addresses"));
    }
    let to = to
        .iter()
        .enumerate()
        .map(|(position, recipient)| match recipient.trim() {
            "owner" => Ok(Recipient::Owner),
            address => match address.parse::<Mailbox>() {
                Ok(_) => Ok(Recipient::Address(address.to_string())),
                Err(error) => Err(at
                    .error(&format!("to[{position}]"), format!("`{recipient}` is not an e-mail address ({error})"))
                    .hint("write `owner` or an address like `governance@bank.example`")),
            },
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Email { smtp: Smtp { host, port, tls, credentials }, from: from.trim().to_string(), to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "MODELGATE_WEBHOOK_SECRET" => Some("s3cret".to_string()),
            "SLACK_WEBHOOK_URL" => Some("https://hooks.slack.com/services/T0/B0/XYZ".to_string()),
            "SMTP_USER" => Some("modelgate".to_string()),
            "SMTP_PASSWORD" => Some("hunter2".to_string()),
            "NOT_A_URL" => Some("hooks.slack.com/services/T0/B0/XYZ".to_string()),
            _ => None,
        }
    }

    fn parse(text: &str) -> Result<NotifyConfig> {
        NotifyConfig::parse_with_env("notifications.yaml", text, env)
    }

    fn error(text: &str) -> Error {
        parse(text).expect_err("an invalid file")
    }

    const FULL: &str = "\
notifiers:
  - name: governance-webhook
    type: webhook
    url: https://hooks.example/modelgate
    secret_env: MODELGATE_WEBHOOK_SECRET
    headers: {X-Team: governance}
    retry: {attempts: 3, initial_backoff_ms: 500, timeout_ms: 2000}
  - name: slack
    type: slack
    url_env: SLACK_WEBHOOK_URL
  - name: owners-email
    type: email
    smtp: {host: smtp.bank.example, port: 587, tls: starttls, username_env: SMTP_USER, password_env: SMTP_PASSWORD}
    from: modelgate@bank.example
    to: [owner, governance@bank.example]
";

    #[test]
    fn a_full_file_is_read_with_defaults_filled_in() {
        let config = parse(FULL).expect("valid");
        let names: Vec<&str> = config.notifiers.iter().map(|notifier| notifier.name.as_str()).collect();
        assert_eq!(names, ["governance-webhook", "slack", "owners-email"]);
        let NotifierKind::Webhook(webhook) = &config.notifiers[0].kind else { panic!("a webhook") };
        assert_eq!(webhook.secret.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(webhook.headers, [("X-Team".to_string(), "governance".to_string())]);
        assert_eq!(
            config.notifiers[0].retry,
            Retry {
                attempts: 3,
                initial_backoff: Duration::from_millis(500),
                max_backoff: Duration::from_secs(30),
                timeout: Duration::from_secs(2)
            }
        );
        let NotifierKind::Slack(slack) = &config.notifiers[1].kind else { panic!("slack") };
        assert_eq!(slack.url.expose(), "https://hooks.slack.com/services/T0/B0/XYZ");
        assert_eq!(config.notifiers[1].retry, Retry::default());
        let NotifierKind::Email(email) = &config.notifiers[2].kind else { panic!("email") };
        assert_eq!((email.smtp.port, email.smtp.tls), (587, SmtpTls::Starttls));
        assert_eq!(email.to, [Recipient::Owner, Recipient::Address("governance@bank.example".to_string())]);
        assert_eq!(email.smtp.credentials.as_ref().map(|credentials| credentials.password.expose()), Some("hunter2"));
        assert!(!format!("{config:?}").contains("hunter2"), "Debug output shows no secret");
    }

    #[test]
    fn syntax_errors_and_empty_files() {
        let syntax = error("notifiers: [\n");
        assert!(syntax.message.starts_with("notifications.yaml:"), "{}", syntax.message);
        assert_eq!(syntax.kind, ErrorKind::Notify);
        assert!(error("").message.contains("the file is empty"));
        assert!(error("notifiers: []\n").message.contains("notifiers: the list is empty"));
        let kind = error("notifiers:\n  - {name: x, type: pager, url: https://a.example}\n");
        assert!(kind.message.contains("unknown variant `pager`"), "{}", kind.message);
        assert!(kind.message.contains("notifiers[0].type"), "{}", kind.message);
    }

    #[test]
    fn keys_of_another_kind_are_refused() {
        let error = error("notifiers:\n  - {name: s, type: slack, url: https://a.example, secret_env: X}\n");
        assert_eq!(error.message, "notifications.yaml: notifiers[0].secret_env: is not a setting of a slack notifier");
        assert!(error.hint.expect("a hint").contains("url, url_env"));
    }

    #[test]
    fn urls_are_checked_without_showing_secret_ones() {
        let both =
            error("notifiers:\n  - {name: s, type: slack, url: https://a.example, url_env: SLACK_WEBHOOK_URL}\n");
        assert!(both.message.contains("both `url` and `url_env`"), "{}", both.message);
        let missing = error("notifiers:\n  - {name: s, type: slack}\n");
        assert_eq!(missing.message, "notifications.yaml: notifiers[0].url: missing");
        let from_env = error("notifiers:\n  - {name: s, type: slack, url_env: NOT_A_URL}\n");
        assert!(from_env.message.contains("the value of `NOT_A_URL`"), "{}", from_env.message);
        assert!(!from_env.message.contains("XYZ"), "the secret URL is not shown: {}", from_env.message);
    }

    #[test]
    fn retry_settings_are_bounded() {
        let zero = error("notifiers:\n  - {name: s, type: slack, url: https://a.example, retry: {attempts: 0}}\n");
        assert!(zero.message.contains("notifiers[0].retry.attempts: 0 is not between 1 and 20"), "{}", zero.message);
        let backoff = error(
            "notifiers:\n  - {name: s, type: slack, url: https://a.example, retry: {initial_backoff_ms: 60000}}\n",
        );
        assert!(backoff.message.contains("more than max_backoff_ms (30000)"), "{}", backoff.message);
        let unknown = error("notifiers:\n  - {name: s, type: slack, url: https://a.example, retry: {tries: 2}}\n");
        assert!(unknown.message.contains("unknown field `tries`"), "{}", unknown.message);
    }

    #[test]
    fn headers_modelgate_sets_are_refused() {
        let error = error(
            "notifiers:\n  - {name: w, type: webhook, url: https://a.example, headers: {X-Modelgate-Delivery: x}}\n",
        );
        assert!(
            error.message.contains("headers.X-Modelgate-Delivery: is set by modelgate itself"),
            "{}",
            error.message
        );
    }

    #[test]
    fn email_settings_are_checked() {
        let email = |smtp: &str, from: &str, to: &str| {
            error(&format!(
                "notifiers:\n  - name: e\n    type: email\n    smtp: {smtp}\n    from: {from}\n    to: {to}\n"
            ))
            .message
        };
        let good_smtp = "{host: smtp.bank.example}";
        assert!(email("{host: smtp.bank.example, port: 0}", "a@b.example", "[owner]")
            .contains("smtp.port: 0 is not a port"));
        assert!(email("{host: smtp.bank.example, port: 70000}", "a@b.example", "[owner]").contains("smtp.port"));
        assert!(email("{host: 'smtp://x'}", "a@b.example", "[owner]").contains("smtp.host"));
        assert!(email(good_smtp, "not-an-address", "[owner]").contains("notifiers[0].from: `not-an-address`"));
        assert!(email(good_smtp, "a@b.example", "[owner, nobody]").contains("notifiers[0].to[1]: `nobody`"));
        assert!(email(good_smtp, "a@b.example", "[]").contains("notifiers[0].to: lists no recipient"));
        let clear = email(
            "{host: smtp.bank.example, tls: none, username_env: SMTP_USER, password_env: SMTP_PASSWORD}",
            "a@b.example",
            "[owner]",
        );
        assert!(clear.contains("in clear text"), "{clear}");
        let half = email("{host: smtp.bank.example, username_env: SMTP_USER}", "a@b.example", "[owner]");
        assert!(half.contains("without the other"), "{half}");
    }

    #[test]
    fn names_are_unique() {
        let error = error(
            "notifiers:\n  - {name: a, type: slack, url: https://a.example}\n  - {name: a, type: slack, url: https://b.example}\n",
        );
        assert!(
            error.message.contains("notifiers[1].name: `a` is already the name of notifiers[0]"),
            "{}",
            error.message
        );
    }
}
