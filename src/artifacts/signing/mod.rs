//! Model signatures in the format of OpenSSF model signing (`model_signing` 1.x): a Sigstore
//! bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`) holding a DSSE envelope whose
//! in-toto statement lists the digest of every file of the model folder
//! (predicate `https://model_signing/signature/v1.0`), signed with an ECDSA key.
//!
//! [`sign`] writes what `model_signing sign key` writes, and [`verify`] checks what it
//! checks: the key, the DSSE signature over the pre-authentication encoding, the statement,
//! the subject digest over the listed resources, and then the folder itself, re-hashed with
//! the serialization the signature declares ([`manifest`]), naming every missing, extra and
//! modified file.

pub mod certificates;
pub mod keys;
pub mod manifest;

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use self::certificates::TrustAnchors;
use self::keys::{SigningKey, VerifyingKey};
use self::manifest::{Comparison, Item, Method, Serialization};
use crate::error::{Error, ErrorKind, Result};

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The predicate of model_signing 0.2, still accepted by its verifier.
pub const PREDICATE_TYPE_COMPAT: &str = "https://model_signing/Digests/v0.1";

/// model_signing's default signature file name, inside the model folder.
pub const DEFAULT_SIGNATURE: &str = "model.sig";

/// A signature file larger than this is not read (a manifest of a million files is ~150 MB).
const MAX_SIGNATURE_BYTES: u64 = 256 << 20;

/// How to serialize the folder when signing.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Shard size for the `shards` method; `None` signs whole files.
    pub shard_size: Option<u64>,
    /// Relative to the model folder.
    pub ignore_paths: Vec<String>,
    pub ignore_git_paths: bool,
    pub allow_symlinks: bool,
}

impl Default for SignOptions {
    fn default() -> SignOptions {
        SignOptions { shard_size: None, ignore_paths: Vec::new(), ignore_git_paths: true, allow_symlinks: false }
    }
}

/// The DSSE pre-authentication encoding of an in-toto payload.
pub fn pae(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {PAYLOAD_TYPE} {} ", PAYLOAD_TYPE.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// model_signing 0.2 signed a mis-encoded PAE (`DSSEV1 … b'…'`); its verifier still
/// accepts it, and so does this one.
fn pae_compat(payload: &[u8]) -> Vec<u8> {
    let mut repr = String::from("b'");
    for &byte in payload {
        match byte {
            b'\\' => repr.push_str("\\\\"),
            b'\'' => repr.push_str("\\'"),
            b'\n' => repr.push_str("\\n"),
            b'\r' => repr.push_str("\\r"),
            b'\t' => repr.push_str("\\t"),
            0x20..=0x7e => repr.push(byte as char),
            _ => repr.push_str(&format!("\\x{byte:02x}")),
        }
    }
    repr.push('\'');
    format!("DSSEV1 {} {PAYLOAD_TYPE} {} {repr}", PAYLOAD_TYPE.len(), payload.len()).into_bytes()
}

// ---------------------------------------------------------------- the statement

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "_type")]
    statement_type: &'a str,
    subject: [Subject<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: Predicate,
}

#[derive(Serialize)]
struct Subject<'a> {
    name: &'a str,
    digest: SubjectDigest,
}

#[derive(Serialize)]
struct SubjectDigest {
    sha256: String,
}

#[derive(Serialize)]
struct Predicate {
    serialization: Value,
    resources: Vec<Resource>,
}

#[derive(Serialize)]
struct Resource {
    algorithm: String,
    digest: String,
    name: String,
}

/// The in-toto statement for a manifest, laid out as model_signing's protobuf JSON (two
/// spaces, its key order), so that the payload is the bytes it would sign.
fn statement(model_name: &str, serialization: &Serialization, items: &[Item]) -> Result<Vec<u8>> {
    let algorithm = serialization.resource_algorithm();
    let statement = Statement {
        statement_type: STATEMENT_TYPE,
        subject: [Subject { name: model_name, digest: SubjectDigest { sha256: manifest::root_digest(items)? } }],
        predicate_type: PREDICATE_TYPE,
        predicate: Predicate {
            serialization: serialization.to_json(),
            resources: items
                .iter()
                .map(|item| Resource { algorithm: algorithm.clone(), digest: item.digest.clone(), name: item.name() })
                .collect(),
        },
    };
    serde_json::to_vec_pretty(&statement)
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot encode the statement: {error}")))
}

/// The name model_signing gives a model: the folder's last component.
fn model_name(root: &Path) -> String {
    let name = root.file_name().map(|name| name.to_string_lossy().into_owned());
    name.filter(|name| !name.is_empty() && name != "..")
        .or_else(|| root.canonicalize().ok()?.file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// The signature file's path relative to the model folder, when it lies inside it.
fn relative_inside(root: &Path, path: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let parent = parent.canonicalize().ok()?;
    let relative = parent.strip_prefix(&root).ok()?.join(path.file_name()?);
    Some(relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
}

// ---------------------------------------------------------------- signing

/// What was signed.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    pub signature: String,
    pub key_fingerprint: String,
    pub curve: &'static str,
    pub method: String,
    pub files: usize,
    pub items: usize,
    pub subject_digest: String,
}

/// What the bundle tells a verifier about the signer.
pub enum Material {
    /// Only the key's hint: the verifier must hold the public key.
    Key,
    /// The signing certificate and the chain above it (DER), for a verifier holding the CA.
    Certificates(Vec<Vec<u8>>),
}

/// Signs the folder `root` with `key`, writing the bundle to `signature_path`.
pub fn sign(
    root: &Path,
    key: &SigningKey,
    material: &Material,
    signature_path: &Path,
    options: &SignOptions,
) -> Result<Signed> {
    let mut ignore_paths = options.ignore_paths.clone();
    if let Some(own) = relative_inside(root, signature_path) {
        ignore_paths.push(own);
    }
    if options.ignore_git_paths {
        ignore_paths.extend(manifest::GIT_PATHS.iter().map(|path| path.to_string()));
    }
    let mut seen = std::collections::BTreeSet::new();
    ignore_paths.retain(|path| seen.insert(path.clone()));
    let serialization = Serialization {
        method: match options.shard_size {
            Some(shard_size) => Method::Shards { shard_size },
            None => Method::Files,
        },
        hash_type: "sha256".into(),
        allow_symlinks: options.allow_symlinks,
        ignore_paths,
    };
    let items = manifest::compute(root, &serialization)?;
    let payload = statement(&model_name(root), &serialization, &items)?;
    let public = key.verifying_key();
    let verification_material = match material {
        Material::Key => serde_json::json!({"publicKey": {"hint": public.hint()}, "tlogEntries": []}),
        Material::Certificates(chain) => serde_json::json!({
            "x509CertificateChain": {
                "certificates": chain.iter().map(|der| serde_json::json!({"rawBytes": BASE64.encode(der)})).collect::<Vec<_>>()
            },
            "tlogEntries": [],
        }),
    };
    let bundle = serde_json::json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": verification_material,
        "dsseEnvelope": {
            "payload": BASE64.encode(&payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": BASE64.encode(key.sign(&pae(&payload))), "keyid": ""}],
        },
    });
    let text = serde_json::to_string_pretty(&bundle).unwrap_or_default();
    std::fs::write(signature_path, text).map_err(|source| Error::write(signature_path, source))?;
    let files = items.iter().map(|item| &item.path).collect::<std::collections::BTreeSet<_>>().len();
    Ok(Signed {
        signature: signature_path.display().to_string(),
        key_fingerprint: public.hint(),
        curve: public.curve(),
        method: serialization.to_json()["method"].as_str().unwrap_or_default().to_string(),
        files,
        items: items.len(),
        subject_digest: manifest::root_digest(&items)?,
    })
}

// ---------------------------------------------------------------- verification

/// What the verifier is given to trust.
#[derive(Clone)]
pub enum Trust {
    /// The signer's public key.
    Key(VerifyingKey),
    /// CA certificates that the bundle's certificate chain must lead to.
    Certificates(TrustAnchors),
}

#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Hash only the files the signature lists (model_signing's `--ignore_unsigned_files`).
    pub ignore_unsigned_files: bool,
    /// Digests this run already computed (the scan's), reused instead of hashing again.
    pub known: manifest::Known,
}

/// The outcome of verifying a model folder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    pub signature: String,
    /// `key` (certificates and keyless bundles are recognised and refused with a reason).
    pub method: Option<String>,
    /// The signing key's fingerprint (`sha256:` of its PEM), or the certificate subject.
    pub signer: Option<String>,
    pub key_fingerprint: Option<String>,
    /// The signature is authentic (key, DSSE signature, statement, subject digest).
    pub authentic: bool,
    /// Authentic, and no signed file is missing or modified.
    pub verified: bool,
    /// The signed files and items, as listed in the signature.
    pub signed_files: Vec<String>,
    pub extra_files: Vec<String>,
    pub missing_files: Vec<String>,
    pub modified_files: Vec<String>,
    pub serialization: Option<Value>,
    /// Why verification failed.
    pub error: Option<String>,
}

/// Verifies the model folder `root` against the bundle at `signature_path`. A signature
/// that is not a valid bundle, or that does not verify, is a failed verification with the
/// reason; a signature file or folder that cannot be read is an error.
pub fn verify(root: &Path, signature_path: &Path, trust: &Trust, options: &VerifyOptions) -> Result<Verification> {
    let mut outcome = Verification { signature: signature_path.display().to_string(), ..Verification::default() };
    let bytes = read_bounded(signature_path)?;
    let authentic = match authenticate(&bytes, signature_path, trust, &mut outcome) {
        Ok(statement) => statement,
        Err(why) => {
            outcome.error = Some(why);
            return Ok(outcome);
        }
    };
    let (mut serialization, signed_items) = authentic;
    outcome.authentic = true;
    outcome.serialization = Some(serialization.to_json());
    let mut signed_files: Vec<String> = signed_items.iter().map(|item| item.path.clone()).collect();
    signed_files.dedup();
    outcome.signed_files = signed_files;

    // The git paths are ignored unless the signature says otherwise (model_signing's
    // verifier guesses its hashing config with them ignored), and so is the signature
    // file itself when it lies in the folder.
    for path in manifest::GIT_PATHS {
        if !serialization.ignore_paths.iter().any(|p| p == path) {
            serialization.ignore_paths.push(path.to_string());
        }
    }
    if let Some(own) = relative_inside(root, signature_path) {
        serialization.ignore_paths.push(own);
    }
    let actual = match manifest::compute_reusing(root, &serialization, &options.known) {
        Ok(items) => items,
        Err(error) if error.kind == ErrorKind::EvidenceInvalid => {
            outcome.error = Some(error.message);
            return Ok(outcome);
        }
        Err(error) => return Err(error),
    };
    let actual: Vec<Item> = if options.ignore_unsigned_files {
        actual
            .into_iter()
            .filter(|item| outcome.signed_files.binary_search_by(|p| cmp_path(p, &item.path)).is_ok())
            .collect()
    } else {
        actual
    };
    let Comparison { extra, missing, modified } = manifest::compare(&signed_items, &actual);
    outcome.verified = missing.is_empty() && modified.is_empty();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("missing: {}", missing.join(", ")));
    }
    if !modified.is_empty() {
        problems.push(format!("modified since signing: {}", modified.join(", ")));
    }
    if !extra.is_empty() {
        problems.push(format!("not covered by the signature: {}", extra.join(", ")));
    }
    if !problems.is_empty() {
        outcome.error = Some(problems.join("; "));
    }
    outcome.extra_files = extra;
    outcome.missing_files = missing;
    outcome.modified_files = modified;
    Ok(outcome)
}

fn cmp_path(a: &str, b: &str) -> std::cmp::Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Checks everything but the folder: the bundle, the key, the DSSE signature, the
/// statement and its subject digest. Returns the signed serialization and items.
fn authenticate(
    bytes: &[u8],
    signature_path: &Path,
    trust: &Trust,
    outcome: &mut Verification,
) -> std::result::Result<(Serialization, Vec<Item>), String> {
    // Strictly: a key written twice would let two verifiers read two different bundles.
    let bundle: Value = crate::strict::json_value(bytes)
        .map_err(|error| format!("the signature is not JSON as modelgate reads it ({error})"))?;
    let media_type = bundle.get("mediaType").and_then(Value::as_str).unwrap_or("(none)");
    if media_type != BUNDLE_MEDIA_TYPE {
        return Err(format!("the signature is a `{media_type}`, not a Sigstore bundle v0.3"));
    }
    let material = bundle.get("verificationMaterial").ok_or("the bundle has no verificationMaterial")?;
    let key = match trust {
        Trust::Key(key) => {
            outcome.method = Some("key".into());
            if material.get("x509CertificateChain").is_some() || material.get("certificate").is_some() {
                return Err("the bundle is signed with a certificate, but a public key was given to verify it".into());
            }
            let fingerprint = key.hint();
            outcome.key_fingerprint = Some(format!("sha256:{fingerprint}"));
            outcome.signer = Some(format!("{} key sha256:{}", key.curve(), &fingerprint[..16]));
            if let Some(hint) = material.pointer("/publicKey/hint").and_then(Value::as_str) {
                if hint != fingerprint {
                    return Err(format!(
                        "signed by another key (sha256:{hint}), not the given public key (sha256:{fingerprint})"
                    ));
                }
            }
            key.clone()
        }
        Trust::Certificates(anchors) => {
            outcome.method = Some("certificate".into());
            if material.get("certificate").is_some() {
                return Err("the bundle is a keyless Sigstore bundle (Fulcio certificate and Rekor entry), which is not verified offline yet".into());
            }
            let chain = material
                .pointer("/x509CertificateChain/certificates")
                .and_then(Value::as_array)
                .ok_or("the bundle carries no certificate chain (it is signed with a key)")?;
            let chain = chain
                .iter()
                .map(|entry| entry.get("rawBytes").and_then(Value::as_str).and_then(|text| BASE64.decode(text).ok()))
                .collect::<Option<Vec<_>>>()
                .ok_or("a certificate of the chain is missing or not base64")?;
            let signer = certificates::verify_chain(&chain, anchors)?;
            outcome.signer = Some(signer.subject);
            outcome.key_fingerprint = Some(format!("sha256:{}", signer.key.hint()));
            signer.key
        }
    };
    let envelope = bundle.get("dsseEnvelope").ok_or("the bundle holds no DSSE envelope")?;
    let payload_type = envelope.get("payloadType").and_then(Value::as_str).unwrap_or("(none)");
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .and_then(|text| BASE64.decode(text).ok())
        .ok_or("the DSSE payload is missing or not base64")?;
    let signatures =
        envelope.get("signatures").and_then(Value::as_array).ok_or("the DSSE envelope has no signatures")?;
    let [signature] = signatures.as_slice() else {
        return Err(format!("the DSSE envelope has {} signatures; model signing uses exactly one", signatures.len()));
    };
    let signature = signature
        .get("sig")
        .and_then(Value::as_str)
        .and_then(|text| BASE64.decode(text).ok())
        .ok_or("the DSSE signature is missing or not base64")?;
    if !key.verify(&pae(&payload), &signature) && !key.verify(&pae_compat(&payload), &signature) {
        return Err("the DSSE signature does not verify with the signer's key".into());
    }
    // Everything below is signed: a failure now means a signer wrote something odd.
    if payload_type != PAYLOAD_TYPE {
        return Err(format!("the payload is `{payload_type}`, not an in-toto statement"));
    }
    parse_statement(&payload, &signature_path.display().to_string())
}

fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    crate::input::read_at_most(path, MAX_SIGNATURE_BYTES)?.ok_or_else(|| {
        Error::new(
            ErrorKind::EvidenceInvalid,
            format!("{}: larger than {} MiB, not a signature", path.display(), MAX_SIGNATURE_BYTES >> 20),
        )
    })
}

/// Reads a signed in-toto statement (the DSSE payload) into its serialization and items,
/// checking its types and subject digest; the reason when it is not a model signature.
pub fn read_statement(payload: &[u8], at: &str) -> std::result::Result<(Serialization, Vec<Item>), String> {
    parse_statement(payload, at)
}

fn parse_statement(payload: &[u8], at: &str) -> std::result::Result<(Serialization, Vec<Item>), String> {
    let statement: Value = crate::strict::json_value(payload)
        .map_err(|error| format!("the signed statement is not JSON as modelgate reads it ({error})"))?;
    if statement.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(format!("the signed statement is not an in-toto {STATEMENT_TYPE}"));
    }
    let subjects = statement.get("subject").and_then(Value::as_array).ok_or("the statement has no subject")?;
    match statement.get("predicateType").and_then(Value::as_str) {
        Some(PREDICATE_TYPE) => {}
        Some(PREDICATE_TYPE_COMPAT) => return compat_items(subjects),
        other => return Err(format!("the predicate is `{}`, not {PREDICATE_TYPE}", other.unwrap_or("(none)"))),
    }
    let [subject] = subjects.as_slice() else {
        return Err(format!("the statement has {} subjects; model signing uses one", subjects.len()));
    };
    let expected = subject.pointer("/digest/sha256").and_then(Value::as_str).ok_or("the subject has no sha256")?;
    let predicate = statement.get("predicate").ok_or("the statement has no predicate")?;
    let serialization = Serialization::from_json(predicate.get("serialization").unwrap_or(&Value::Null), at)
        .map_err(|error| error.message)?;
    let resources = predicate.get("resources").and_then(Value::as_array).ok_or("the predicate lists no resources")?;
    let mut items = Vec::with_capacity(resources.len());
    for resource in resources {
        let name = resource.get("name").and_then(Value::as_str).ok_or("a resource has no name")?;
        let algorithm = resource.get("algorithm").and_then(Value::as_str).unwrap_or_default();
        if algorithm != serialization.resource_algorithm() {
            return Err(format!(
                "resource `{name}` is hashed with `{algorithm}`, not `{}`",
                serialization.resource_algorithm()
            ));
        }
        let digest = resource
            .get("digest")
            .and_then(Value::as_str)
            .filter(|digest| digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("resource `{name}` has no SHA-256 digest"))?;
        let (path, range) = Item::parse_name(name, serialization.method)
            .ok_or_else(|| format!("resource `{name}` is not a valid shard name"))?;
        items.push(Item { path, range, digest: digest.to_ascii_lowercase() });
    }
    // The subject digest is over the resources in the order they are listed.
    let root = manifest::root_digest(&items).map_err(|error| error.message)?;
    if root != expected {
        return Err(format!("the subject digest {expected} is not the digest of the listed resources ({root})"));
    }
    items.sort_by(manifest::compare_items);
    if items.windows(2).any(|pair| pair[0].path == pair[1].path && pair[0].range == pair[1].range) {
        return Err("the signature lists a resource twice".into());
    }
    Ok((serialization, items))
}

/// model_signing 0.2: the subjects are the files.
fn compat_items(subjects: &[Value]) -> std::result::Result<(Serialization, Vec<Item>), String> {
    let mut items = Vec::new();
    for subject in subjects {
        let name = subject.get("name").and_then(Value::as_str).ok_or("a subject has no name")?;
        let digest = subject.pointer("/digest/sha256").and_then(Value::as_str).ok_or("a subject has no sha256")?;
        items.push(Item { path: name.to_string(), range: None, digest: digest.to_ascii_lowercase() });
    }
    items.sort_by(manifest::compare_items);
    let serialization = Serialization {
        method: Method::Files,
        hash_type: "sha256".into(),
        allow_symlinks: false,
        ignore_paths: Vec::new(),
    };
    Ok((serialization, items))
}

/// The default signature path of a model folder.
pub fn default_signature(root: &Path) -> PathBuf {
    root.join(DEFAULT_SIGNATURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_dsse_encoding() {
        assert_eq!(pae(b"{}"), b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec());
        assert_eq!(pae_compat(b"{\n}"), b"DSSEV1 28 application/vnd.in-toto+json 3 b'{\\n}'".to_vec());
    }
}
