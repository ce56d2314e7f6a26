//! Signed decisions: what `modelgate server` hands a pipeline with every decision, and what a
//! deploy step checks, offline, before it lets a model through.
//!
//! An attestation is an in-toto Statement v1 whose predicate is a SLSA Verification Summary
//! (`https://slsa.dev/verification_summary/v1`), in a DSSE envelope signed with the server's
//! ECDSA key (the DSSE and key code of model signing). Its subject is the model artifact:
//! the digest model_signing computes for the folder (SHA-256 over the SHA-256 of every file,
//! in path order), with the serialization of the folder's own signature when it is signed,
//! so that a signed model's attestation names exactly the digest its signature names.
//! The decision itself (id, environment, evidence digest, place in the audit chain) rides in
//! a URI-named extension field of the predicate, as the VSA specification allows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::artifacts::signing::keys::{SigningKey, VerifyingKey};
use crate::artifacts::signing::manifest::{self, Method, Serialization};
use crate::artifacts::signing::{self, PAYLOAD_TYPE, STATEMENT_TYPE};
use crate::decision::{Decision, Report};
use crate::error::{Error, ErrorKind, Result};

/// The predicate of a SLSA Verification Summary Attestation, v1.
pub const VSA_PREDICATE: &str = "https://slsa.dev/verification_summary/v1";
/// The predicate field carrying modelgate's decision.
pub const DECISION_EXTENSION: &str = "https://modelgate.dev/attestation/decision/v1";
/// The `verifiedLevels` entry of a model the policies let through.
pub const PASSED_LEVEL: &str = "MODELGATE_POLICY_COMPLIANT";
/// An attestation file larger than this is not read.
const MAX_ATTESTATION_BYTES: u64 = 4 << 20;
/// How far in the future a `timeVerified` may be (clocks disagree a little).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// The model artifact a decision is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// The model folder's name (model_signing's subject name).
    pub name: String,
    /// `sha256:<hex>`.
    pub digest: String,
}

/// What the server attests about one recorded decision.
pub struct Claim<'a> {
    /// `verifier.id`: the server's URI.
    pub verifier: &'a str,
    pub report: &'a Report,
    pub subject: &'a Subject,
    /// The decision's entry in the audit chain: seq and hash.
    pub audit: (u64, &'a str),
    /// Who asked (the token's name).
    pub requester: &'a str,
}

/// The in-toto statement for a decision.
pub fn statement(claim: &Claim) -> Result<Value> {
    let report = claim.report;
    let policy = report.policy.as_ref().ok_or_else(|| {
        Error::new(ErrorKind::Server, "a decision without a policy bundle cannot be attested")
            .hint("this is a bug in modelgate: please report it")
    })?;
    let model = report.model.as_ref().ok_or_else(|| {
        Error::new(ErrorKind::Server, "a decision without a model cannot be attested")
            .hint("this is a bug in modelgate: please report it")
    })?;
    let environment = report.environment.as_deref().unwrap_or_default();
    let passed = report.decision == Decision::Allow;
    let mut policy_digest = json!({"sha256": hex_of(&policy.digest)});
    if let Some(revision) = &policy.revision {
        policy_digest["gitCommit"] = json!(revision);
    }
    let mut input = json!([]);
    if let Some(evidence) = &report.evidence_digest {
        input = json!([{"uri": "urn:modelgate:evidence", "digest": {"sha256": hex_of(evidence)}}]);
    }
    let violations: Vec<&str> = report.violations.iter().map(|finding| finding.code.as_str()).collect();
    Ok(json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": claim.subject.name, "digest": {"sha256": hex_of(&claim.subject.digest)}}],
        "predicateType": VSA_PREDICATE,
        "predicate": {
            "verifier": {"id": claim.verifier, "version": {"modelgate": env!("CARGO_PKG_VERSION")}},
            "timeVerified": report.timestamp,
            "resourceUri": format!("urn:modelgate:model:{}:{}", model.name, model.version),
            "policy": {"uri": format!("urn:modelgate:bundle:{}", policy.digest), "digest": policy_digest},
            "inputAttestations": input,
            "verificationResult": if passed { "PASSED" } else { "FAILED" },
            "verifiedLevels": if passed { json!([PASSED_LEVEL]) } else { json!(["FAILED"]) },
            DECISION_EXTENSION: {
                "decision": report.decision.as_str(),
                "decision_id": report.decision_id,
                "environment": environment,
                "model": {"name": model.name, "version": model.version},
                "evidence_digest": report.evidence_digest,
                "bundle_digest": policy.digest,
                "violations": violations,
                "requester": claim.requester,
                "audit": {"seq": claim.audit.0, "hash": claim.audit.1},
            },
        },
    }))
}

/// The statement in a DSSE envelope signed with `key`.
pub fn sign(statement: &Value, key: &SigningKey) -> Value {
    // A JSON value always serialises.
    let payload = serde_json::to_vec(statement).unwrap_or_default();
    json!({
        "payloadType": PAYLOAD_TYPE,
        "payload": BASE64.encode(&payload),
        "signatures": [{"keyid": key.verifying_key().hint(), "sig": BASE64.encode(key.sign(&signing::pae(&payload)))}],
    })
}

/// What an attestation says, as the HTML report lists it: read, not verified
/// (`modelgate attestation verify` does that).
pub fn describe(envelope: &Value) -> (String, Vec<(String, String)>) {
    let mut facts = Vec::new();
    let statement: Option<Value> = envelope
        .get("payload")
        .and_then(Value::as_str)
        .and_then(|payload| BASE64.decode(payload).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or("-").to_string();
    if let Some(statement) = &statement {
        let subject = statement.pointer("/subject/0");
        facts.push((
            "subject".to_string(),
            format!(
                "{} sha256:{}",
                text(subject.and_then(|subject| subject.get("name"))),
                text(subject.and_then(|subject| subject.pointer("/digest/sha256")))
            ),
        ));
        facts.push(("predicate".to_string(), text(statement.get("predicateType"))));
        facts.push(("result".to_string(), text(statement.pointer("/predicate/verificationResult"))));
        facts.push(("verified at".to_string(), text(statement.pointer("/predicate/timeVerified"))));
        facts.push(("verifier".to_string(), text(statement.pointer("/predicate/verifier/id"))));
        facts.push(("policy".to_string(), text(statement.pointer("/predicate/policy/uri"))));
    }
    let key = envelope.pointer("/signatures/0/keyid");
    facts.push(("signed by key".to_string(), text(key)));
    facts.push(("envelope".to_string(), text(envelope.get("payloadType"))));
    ("Attestation".to_string(), facts)
}

fn hex_of(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// What a deploy step requires of an attestation.
pub struct Expectation<'a> {
    pub key: &'a VerifyingKey,
    /// `sha256:<hex>` of the artifact about to be deployed.
    pub subject: &'a str,
    pub environment: &'a str,
    /// The model's name: an attestation of another model's decision does not vouch for
    /// this one, even for the same bytes.
    pub model: &'a str,
    /// The attestation must be younger than this.
    pub max_age: Option<Duration>,
    pub now: DateTime<Utc>,
}

/// What the attestation says, and whether it lets the artifact through.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verdict {
    /// Signed by the key, PASSED, for exactly this artifact and environment, young enough.
    pub verified: bool,
    /// Every reason it does not verify (empty when it does).
    pub reasons: Vec<String>,
    pub decision: Option<String>,
    pub decision_id: Option<String>,
    pub model: Option<String>,
    pub environment: Option<String>,
    pub subject: Option<String>,
    pub time_verified: Option<String>,
    pub verifier: Option<String>,
    pub policy_digest: Option<String>,
    pub policy_revision: Option<String>,
    pub audit_seq: Option<u64>,
    pub key_fingerprint: String,
}

/// Reads the attestation at `path` (an error only when it cannot be read) and judges it.
pub fn verify_file(path: &Path, expectation: &Expectation) -> Result<Verdict> {
    let bytes = crate::input::read_at_most(path, MAX_ATTESTATION_BYTES)?.ok_or_else(|| {
        Error::new(ErrorKind::Config, format!("{}: larger than 4 MiB, not an attestation", path.display()))
            .hint("pass the attestation `modelgate check --server … --attestation FILE` wrote")
    })?;
    Ok(verify(&bytes, expectation))
}

/// Judges an attestation: every check runs, and each failure is a reason.
pub fn verify(bytes: &[u8], expectation: &Expectation) -> Verdict {
    let mut verdict = Verdict { key_fingerprint: format!("sha256:{}", expectation.key.hint()), ..Verdict::default() };
    match authentic_statement(bytes, expectation.key) {
        Ok(statement) => judge(&statement, expectation, &mut verdict),
        Err(reason) => verdict.reasons.push(reason),
    }
    verdict.verified = verdict.reasons.is_empty();
    verdict
}

/// The statement of a DSSE envelope that `key` signed, or why there is none.
pub fn authentic_statement(bytes: &[u8], key: &VerifyingKey) -> std::result::Result<Value, String> {
    let envelope = crate::strict::json_value(bytes)
        .map_err(|error| format!("the attestation is not JSON as modelgate reads it ({error})"))?;
    // A Sigstore bundle carries the envelope inside; a bare envelope is the envelope.
    let envelope = envelope.get("dsseEnvelope").unwrap_or(&envelope);
    let payload_type = envelope.get("payloadType").and_then(Value::as_str).unwrap_or("(none)");
    if payload_type != PAYLOAD_TYPE {
        return Err(format!("the envelope's payload is `{payload_type}`, not {PAYLOAD_TYPE}"));
    }
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .and_then(|text| BASE64.decode(text).ok())
        .ok_or("the envelope has no base64 payload")?;
    let signatures = envelope.get("signatures").and_then(Value::as_array).ok_or("the envelope has no signatures")?;
    let message = signing::pae(&payload);
    let signed = signatures.iter().any(|signature| {
        signature
            .get("sig")
            .and_then(Value::as_str)
            .and_then(|text| BASE64.decode(text).ok())
            .is_some_and(|sig| key.verify(&message, &sig))
    });
    if !signed {
        return Err(format!(
            "not signed by the given key (sha256:{}): {} signature(s), none verifies",
            key.hint(),
            signatures.len()
        ));
    }
    crate::strict::json_value(&payload).map_err(|error| format!("the signed statement is not JSON ({error})"))
}

fn judge(statement: &Value, expectation: &Expectation, verdict: &mut Verdict) {
    let reasons = &mut verdict.reasons;
    if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        reasons.push(format!("the statement is not an in-toto {STATEMENT_TYPE}"));
    }
    let predicate_type = statement.get("predicateType").and_then(Value::as_str).unwrap_or("(none)");
    if predicate_type != VSA_PREDICATE {
        reasons.push(format!("the predicate is `{predicate_type}`, not {VSA_PREDICATE}"));
        return;
    }
    let predicate = statement.get("predicate").cloned().unwrap_or(Value::Null);
    let extension = predicate.get(DECISION_EXTENSION).cloned().unwrap_or(Value::Null);
    let text = |value: &Value, pointer: &str| value.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    verdict.decision = text(&extension, "/decision");
    verdict.decision_id = text(&extension, "/decision_id");
    verdict.environment = text(&extension, "/environment");
    verdict.model = match (text(&extension, "/model/name"), text(&extension, "/model/version")) {
        (Some(name), Some(version)) => Some(format!("{name} {version}")),
        _ => None,
    };
    verdict.time_verified = text(&predicate, "/timeVerified");
    verdict.verifier = text(&predicate, "/verifier/id");
    verdict.policy_digest = text(&extension, "/bundle_digest");
    verdict.policy_revision = text(&predicate, "/policy/digest/gitCommit");
    verdict.audit_seq = extension.pointer("/audit/seq").and_then(Value::as_u64);

    // The artifact: one subject, exactly this digest.
    let subjects = statement.get("subject").and_then(Value::as_array).cloned().unwrap_or_default();
    let wanted = hex_of(expectation.subject);
    let named: Vec<String> = subjects.iter().filter_map(|subject| text(subject, "/digest/sha256")).collect();
    verdict.subject = named.first().map(|digest| format!("sha256:{digest}"));
    if subjects.len() != 1 || named.len() != 1 {
        reasons.push(format!("the statement has {} subjects; a decision attests one artifact", subjects.len()));
    } else if !named[0].eq_ignore_ascii_case(wanted) {
        reasons.push(format!("it attests artifact sha256:{}, not this artifact (sha256:{wanted})", named[0]));
    }
    // The outcome: both the VSA result and the decision must say so.
    let result = text(&predicate, "/verificationResult").unwrap_or_else(|| "(none)".into());
    if result != "PASSED" {
        reasons.push(format!("the verification result is {result}, not PASSED"));
    }
    match verdict.decision.as_deref() {
        Some("allow") => {}
        other => reasons.push(format!("the decision is `{}`, not allow", other.unwrap_or("(none)"))),
    }
    match text(&extension, "/model/name") {
        Some(name) if name == expectation.model => {}
        other => reasons.push(format!(
            "it is a decision about model `{}`, not `{}`",
            other.as_deref().unwrap_or("(none)"),
            expectation.model
        )),
    }
    match verdict.environment.as_deref() {
        Some(environment) if environment == expectation.environment => {}
        other => reasons.push(format!(
            "it is for environment `{}`, not `{}`",
            other.unwrap_or("(none)"),
            expectation.environment
        )),
    }
    // The time: parsed, not in the future, young enough.
    match verdict.time_verified.as_deref().map(DateTime::parse_from_rfc3339) {
        Some(Ok(time)) => {
            let time = time.with_timezone(&Utc);
            if time > expectation.now + CLOCK_SKEW {
                reasons.push(format!("it was made at {time}, in the future"));
            }
            if let Some(max_age) = expectation.max_age {
                let age = expectation.now.signed_duration_since(time);
                let limit = chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
                if age > limit {
                    reasons.push(format!(
                        "it was made at {} and is older than --max-age {}",
                        time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        show_duration(max_age)
                    ));
                }
            }
        }
        _ => reasons.push("it has no RFC 3339 timeVerified".into()),
    }
}

/// `30m`, `24h`, `7d`, `90s`: how `--max-age` is written.
pub fn parse_duration(text: &str, flag: &str) -> Result<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(number) if seconds > 0 && number > 0 => Ok(Duration::from_secs(number.saturating_mul(seconds))),
        _ => Err(Error::new(ErrorKind::Config, format!("{flag} `{text}` is not a duration"))
            .hint("write a whole number and a unit: 90s, 30m, 24h or 7d")),
    }
}

fn show_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The subject of the model at `path`: a folder or a single file, hashed as model_signing
/// hashes it. `signature` is the folder's model_signing signature (default: `model.sig`
/// inside the folder, when present): its serialization (files or shards, ignored paths) is
/// followed, unverified — the digest is recomputed from the files, so a signature that
/// lies about them changes nothing but the digest, which then matches no attestation.
pub fn artifact_subject(path: &Path, signature: Option<&Path>) -> Result<Subject> {
    let metadata = std::fs::symlink_metadata(path).map_err(|source| Error::read(path, source))?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !name.is_empty() && name != "..")
        .or_else(|| path.canonicalize().ok()?.file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_default();
    if metadata.is_file() {
        let mut buffer = vec![0u8; 1 << 20];
        let (_, digest) = crate::artifacts::digest::sha256_file(path, &mut buffer)?;
        let raw = hex::decode(hex_of(&digest)).unwrap_or_default();
        return Ok(Subject { name, digest: crate::audit::sha256(&raw) });
    }
    if !metadata.is_dir() {
        return Err(Error::new(ErrorKind::Config, format!("{}: not a model folder or file", path.display()))
            .hint("pass the model folder (or file) that is about to be deployed, or its sha256:… digest"));
    }
    let default_signature = signing::default_signature(path);
    let signature: Option<PathBuf> = match signature {
        Some(signature) => Some(signature.to_path_buf()),
        None => default_signature.is_file().then_some(default_signature),
    };
    // Only the git files and the signature itself are left out, whatever the signature
    // says: its own `ignore_paths` are not verified here, and honouring them would let
    // whoever edits the folder add a file and list it as ignored.
    let mut ignore_paths: Vec<String> = manifest::GIT_PATHS.iter().map(|path| path.to_string()).collect();
    let serialization = match &signature {
        Some(signature) => {
            let declared = signed_serialization(signature)?;
            if let Some(inside) = relative_inside(path, signature) {
                ignore_paths.push(inside);
            }
            Serialization { ignore_paths, ..declared }
        }
        None => {
            Serialization { method: Method::Files, hash_type: "sha256".into(), allow_symlinks: false, ignore_paths }
        }
    };
    let items = manifest::compute(path, &serialization)?;
    Ok(Subject { name, digest: format!("sha256:{}", manifest::root_digest(&items)?) })
}

/// `file`'s path relative to the folder `root`, `/`-separated, when it lies inside it.
fn relative_inside(root: &Path, file: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let file = file.canonicalize().ok()?;
    let relative = file.strip_prefix(&root).ok()?;
    Some(relative.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
}

/// The serialization a model_signing signature declares (read, not verified).
fn signed_serialization(signature: &Path) -> Result<Serialization> {
    let refused = |why: String| {
        Error::new(ErrorKind::EvidenceInvalid, format!("{}: {why}", signature.display()))
            .hint("the model's signature must be a model_signing bundle; pass the digest itself with --model sha256:…")
    };
    let bytes = crate::input::read_at_most(signature, MAX_ATTESTATION_BYTES << 6)?
        .ok_or_else(|| refused("too large to be a signature".into()))?;
    let bundle = crate::strict::json_value(&bytes).map_err(|error| refused(format!("not JSON ({error})")))?;
    let payload = bundle
        .pointer("/dsseEnvelope/payload")
        .and_then(Value::as_str)
        .and_then(|text| BASE64.decode(text).ok())
        .ok_or_else(|| refused("no DSSE payload".into()))?;
    let (serialization, _) = signing::read_statement(&payload, &signature.display().to_string()).map_err(refused)?;
    Ok(serialization)
}

/// `--model`: a `sha256:<hex>` digest as given, or the subject of a folder or file.
pub fn subject_of_argument(model: &str, signature: Option<&Path>) -> Result<Subject> {
    if let Some(hex) = model.strip_prefix("sha256:") {
        if hex.len() == 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Ok(Subject { name: String::new(), digest: format!("sha256:{}", hex.to_ascii_lowercase()) });
        }
        return Err(Error::new(ErrorKind::Config, format!("--model `{model}` is not a sha256 digest"))
            .hint("write sha256: and 64 hex digits, or pass the model folder"));
    }
    artifact_subject(Path::new(model), signature)
}

impl Verdict {
    /// The verdict as a person reads it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let what = match (&self.model, &self.environment) {
            (Some(model), Some(environment)) => format!("{model} for {environment}"),
            (Some(model), None) => model.clone(),
            _ => "the attestation".into(),
        };
        if self.verified {
            out.push_str(&format!("VERIFIED: {what}\n"));
        } else {
            out.push_str(&format!("NOT VERIFIED: {what}\n"));
            for reason in &self.reasons {
                out.push_str(&format!("  - {reason}\n"));
            }
        }
        let mut line = |label: &str, value: &Option<String>| {
            if let Some(value) = value {
                out.push_str(&format!("  {label:<10} {value}\n"));
            }
        };
        line(
            "decision",
            &self.decision.as_ref().map(|decision| match &self.decision_id {
                Some(id) => format!("{decision} ({id})"),
                None => decision.clone(),
            }),
        );
        line("artifact", &self.subject);
        line("made at", &self.time_verified);
        line("by", &self.verifier);
        line(
            "policies",
            &self.policy_digest.as_ref().map(|digest| match &self.policy_revision {
                Some(revision) => format!("{digest} @ {revision}"),
                None => digest.clone(),
            }),
        );
        line("audit seq", &self.audit_seq.map(|seq| seq.to_string()));
        line("key", &Some(self.key_fingerprint.clone()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("24h", "--max-age").expect("h"), Duration::from_secs(86_400));
        assert_eq!(parse_duration("90s", "--max-age").expect("s"), Duration::from_secs(90));
        assert_eq!(parse_duration("7d", "--max-age").expect("d"), Duration::from_secs(7 * 86_400));
        for bad in ["", "24", "h", "0h", "1.5h", "-1h", "24 hours"] {
            let error = parse_duration(bad, "--max-age").expect_err(bad);
            assert!(error.message.contains("--max-age"), "{}", error.message);
        }
        assert_eq!(show_duration(Duration::from_secs(86_400)), "1d");
        assert_eq!(show_duration(Duration::from_secs(5400)), "90m");
    }

    #[test]
    fn digests_given_on_the_command_line_are_checked() {
        let hex = "ab".repeat(32);
        let subject = subject_of_argument(&format!("sha256:{}", hex.to_uppercase()), None).expect("digest");
        assert_eq!(subject.digest, format!("sha256:{hex}"));
        assert!(subject_of_argument("sha256:abc", None).is_err());
    }
}
