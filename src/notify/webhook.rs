//! The generic webhook: the alert as JSON, POSTed with a delivery id, a timestamp and, when a
//! secret is configured, an HMAC-SHA256 signature over `<timestamp>.<body>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::{http, Alert, Attempt, Channel, Secret};

/// The `type` of every payload.
pub const PAYLOAD_TYPE: &str = "modelgate.alert";
/// The `version` of the payload shape; a change that breaks receivers bumps it.
pub const PAYLOAD_VERSION: &str = "1";

pub const DELIVERY_HEADER: &str = "X-Modelgate-Delivery";
pub const TIMESTAMP_HEADER: &str = "X-Modelgate-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Modelgate-Signature-256";

#[derive(Debug, Clone)]
pub struct Webhook {
    /// http:// or https://; a secret itself when it carries a token.
    pub url: Secret,
    /// The HMAC key, when alerts are signed.
    pub secret: Option<Secret>,
    /// Extra headers, sent as written.
    pub headers: Vec<(String, String)>,
}

/// What a webhook receiver gets.
#[derive(Serialize)]
pub struct Payload<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: &'static str,
    pub alert: &'a Alert,
}

/// The body, serialized once so that the signature covers exactly the bytes sent.
pub fn body(alert: &Alert) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&Payload { kind: PAYLOAD_TYPE, version: PAYLOAD_VERSION, alert })
}

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub struct Prepared {
    agent: ureq::Agent,
    body: Vec<u8>,
    delivery_id: String,
}

impl Channel for Webhook {
    type Prepared = Prepared;

    fn target(&self, _alert: &Alert) -> String {
        http::without_secrets(self.url.expose())
    }

    fn prepare(&self, alert: &Alert, timeout: Duration) -> Result<Prepared, String> {
        let body = body(alert).map_err(|error| format!("cannot build the payload: {error}"))?;
        Ok(Prepared { agent: http::agent(self.url.expose(), timeout), body, delivery_id: alert.id.clone() })
    }

    fn attempt(&self, prepared: &Prepared) -> Attempt {
        // A fresh timestamp at each attempt, so a receiver can refuse old (replayed) requests.
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs().to_string();
        let mut headers = self.headers.clone();
        headers.push((DELIVERY_HEADER.to_string(), prepared.delivery_id.clone()));
        if let Some(secret) = &self.secret {
            headers.push((
                SIGNATURE_HEADER.to_string(),
                signature(secret.expose().as_bytes(), &timestamp, &prepared.body),
            ));
        }
        headers.push((TIMESTAMP_HEADER.to_string(), timestamp));
        http::post_json(&prepared.agent, self.url.expose(), &headers, &prepared.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::tests::alert;

    #[test]
    fn the_body_is_the_documented_envelope() {
        let value: serde_json::Value = serde_json::from_slice(&body(&alert()).expect("serializes")).expect("JSON");
        assert_eq!(value["type"], "modelgate.alert");
        assert_eq!(value["version"], "1");
        assert_eq!(value["alert"]["model"], "credit-scoring");
        assert_eq!(value["alert"]["violations"][0]["code"], "fairness/demographic-parity");
    }

    #[test]
    fn signature_matches_python_hmac() {
        // python3 -c 'import hmac, hashlib; print(hmac.new(b"Jefe",
        //   b"1767225600.{\"type\":\"modelgate.alert\"}", hashlib.sha256).hexdigest())'
        assert_eq!(
            signature(b"Jefe", "1767225600", br#"{"type":"modelgate.alert"}"#),
            "sha256=492b11ece5cac92df9ae9e74453cf86b605f36e1fa096eb5016e08e166190497"
        );
    }

    #[test]
    fn the_target_hides_query_and_user_info() {
        let webhook = Webhook {
            url: Secret::new("https://bot:pw@hooks.example/modelgate?token=abc"),
            secret: None,
            headers: Vec::new(),
        };
        assert_eq!(webhook.target(&alert()), "https://hooks.example/modelgate");
    }
}
