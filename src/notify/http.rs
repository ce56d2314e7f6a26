//! The HTTP side of the webhook and Slack notifiers: checking a URL, naming it without its
//! secrets, POSTing a JSON body with ureq, and judging the answer.

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use ureq::http::Uri;

use super::Attempt;

/// How much of an error answer is kept in the delivery's error.
const ERROR_BODY_CHARS: usize = 200;
/// How much of any answer is read at all.
const READ_LIMIT: u64 = 64 * 1024;

/// Why a URL cannot be used, for the config reader to put in its message.
pub fn check_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url.parse().map_err(|error| format!("not a valid URL ({error})"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("not an http:// or https:// URL".to_string());
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("the URL names no host".to_string());
    }
    Ok(uri)
}

/// `scheme://host[:port]/path`: the URL without user info, query or fragment.
pub fn without_secrets(url: &str) -> String {
    match url.parse::<Uri>() {
        Ok(uri) => format!("{}{}", origin(&uri), uri.path()),
        Err(_) => "(invalid URL)".to_string(),
    }
}

/// `scheme://host[:port]`.
pub fn origin(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or_default();
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// A client whose every request ends within `timeout`. Redirects are not followed: a
/// receiver that answers with one did not take the alert. A proxy from the environment is
/// used, except for loopback addresses, which no proxy can reach.
pub fn agent(url: &str, timeout: Duration) -> ureq::Agent {
    agent_trusting(url, timeout, None)
}

/// [`agent`] that trusts only `roots` (an internal CA) for TLS, when given; else the
/// Mozilla roots.
pub fn agent_trusting(
    url: &str,
    timeout: Duration,
    roots: Option<std::sync::Arc<Vec<ureq::tls::Certificate<'static>>>>,
) -> ureq::Agent {
    let loopback = url.parse::<Uri>().ok().and_then(|uri| uri.host().map(is_loopback)).unwrap_or(false);
    let builder = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(format!("modelgate/{}", env!("CARGO_PKG_VERSION")));
    let builder = if loopback { builder.proxy(None) } else { builder };
    let builder = match roots {
        Some(roots) => builder
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::Specific(roots)).build()),
        None => builder,
    };
    builder.build().into()
}

pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// POSTs `body` as JSON with the extra `headers`, and judges the answer.
pub fn post_json(agent: &ureq::Agent, url: &str, headers: &[(String, String)], body: &[u8]) -> Attempt {
    let mut request = agent.post(url).header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    match request.send(body) {
        Ok(mut response) => {
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let mut answer = Vec::new();
            // The answer matters only as a clue in an error; a failure to read it changes nothing.
            let _ = response.body_mut().as_reader().take(READ_LIMIT).read_to_end(&mut answer);
            judge(status.as_u16(), status.canonical_reason(), &answer, retry_after)
        }
        Err(error) => transport_failure(&error),
    }
}

/// 2xx is accepted; 408, 429 and 5xx may pass; anything else (other 4xx, a redirect) will not.
fn judge(status: u16, reason: Option<&str>, answer: &[u8], retry_after: Option<Duration>) -> Attempt {
    let http_status = Some(status);
    if (200..300).contains(&status) {
        return Attempt::Accepted { http_status };
    }
    let mut error = format!("HTTP {status}");
    if let Some(reason) = reason {
        error = format!("{error} {reason}");
    }
    let answer: String = String::from_utf8_lossy(answer).trim().chars().take(ERROR_BODY_CHARS).collect();
    if !answer.is_empty() {
        error = format!("{error}: {answer}");
    }
    if (300..400).contains(&status) {
        error = format!("{error} (redirects are not followed: configure the final URL)");
    }
    if status == 408 || status == 429 || status >= 500 {
        Attempt::Transient { error, http_status, retry_after }
    } else {
        Attempt::Permanent { error, http_status }
    }
}

/// No answer at all: worth retrying unless the URL, the proxy or TLS is wrong, which a retry
/// does not fix.
fn transport_failure(error: &ureq::Error) -> Attempt {
    let permanent = matches!(
        error,
        ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl | ureq::Error::Tls(_) | ureq::Error::Rustls(_)
    );
    let error = describe(error);
    if permanent {
        Attempt::Permanent { error, http_status: None }
    } else {
        Attempt::Transient { error, http_status: None, retry_after: None }
    }
}

pub(crate) fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::Io(error) if error.kind() == std::io::ErrorKind::TimedOut => "timed out".to_string(),
        ureq::Error::Io(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        ureq::Error::Io(error) => format!("connection error: {error}"),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::HostNotFound => "host not found".to_string(),
        // Its text would repeat the URL, query and all.
        ureq::Error::BadUri(_) => "the URL cannot be used".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://hooks.example/modelgate").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert_eq!(check_url("ftp://hooks.example/x").expect_err("scheme"), "not an http:// or https:// URL");
        assert!(check_url("hooks.example/x").is_err());
        assert!(check_url("https:// bad").is_err());
    }

    #[test]
    fn targets_lose_user_info_query_and_fragment() {
        assert_eq!(
            without_secrets("https://user:pass@hooks.example:8443/a/b?token=x#frag"),
            "https://hooks.example:8443/a/b"
        );
        assert_eq!(without_secrets("http://[::1]:9/"), "http://[::1]:9/");
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "LOCALHOST"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["hooks.example", "10.0.0.1", "[::2]"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn answers_are_judged() {
        assert_eq!(judge(204, None, b"", None), Attempt::Accepted { http_status: Some(204) });
        let busy = judge(429, Some("Too Many Requests"), b"slow down", Some(Duration::from_secs(2)));
        assert_eq!(
            busy,
            Attempt::Transient {
                error: "HTTP 429 Too Many Requests: slow down".to_string(),
                http_status: Some(429),
                retry_after: Some(Duration::from_secs(2)),
            }
        );
        assert!(matches!(judge(503, None, b"", None), Attempt::Transient { .. }));
        assert!(matches!(judge(408, None, b"", None), Attempt::Transient { .. }));
        assert!(matches!(judge(404, None, b"", None), Attempt::Permanent { .. }));
        let Attempt::Permanent { error, .. } = judge(302, Some("Found"), b"", None) else {
            panic!("a redirect is final")
        };
        assert!(error.contains("redirects are not followed"), "{error}");
        let long = "x".repeat(1000);
        let Attempt::Permanent { error, .. } = judge(400, None, long.as_bytes(), None) else { panic!("400 is final") };
        assert_eq!(error.len(), "HTTP 400: ".len() + ERROR_BODY_CHARS);
    }
}
