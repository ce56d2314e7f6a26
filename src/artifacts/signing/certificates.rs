//! Certificate-signed models (`model_signing sign certificate`): the bundle carries the
//! signing certificate and the intermediates, and the verifier is given the CA
//! certificates it trusts. The checks are model_signing's (OpenSSL's chain building at the
//! time the signing certificate became valid, then a key usage that allows signing):
//!
//! - every issuer's name matches the issued certificate's issuer and its key verifies the
//!   certificate's signature (ECDSA with SHA-256 or SHA-384 on P-256 or P-384);
//! - every issuer is a CA (basic constraints) and the chain ends at a given certificate;
//! - every certificate is valid at the signing certificate's `notBefore`;
//! - the signing certificate allows digital signatures (key usage) or code signing
//!   (extended key usage).

use std::time::Duration;

use sha2::{Digest, Sha256, Sha384};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::spki::ObjectIdentifier;
use x509_cert::Certificate;

use super::keys::VerifyingKey;

const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// Longest chain followed (leaf, intermediates, anchor).
const MAX_DEPTH: usize = 8;

/// The CA certificates a verifier trusts.
#[derive(Clone)]
pub struct TrustAnchors {
    certificates: Vec<Certificate>,
}

impl TrustAnchors {
    /// Reads PEM files of CA certificates, naming a file that holds none.
    pub fn read(paths: &[std::path::PathBuf]) -> crate::error::Result<TrustAnchors> {
        let mut certificates = Vec::new();
        for path in paths {
            let bytes = crate::input::read(path, crate::input::MAX_TEXT_BYTES, "a certificate file")?;
            let anchors = TrustAnchors::from_pem(&bytes).map_err(|why| {
                crate::error::Error::new(crate::error::ErrorKind::Config, format!("{}: {why}", path.display()))
                    .hint("pass the CA certificates to trust as PEM (-----BEGIN CERTIFICATE-----)")
            })?;
            certificates.extend(anchors.certificates);
        }
        if certificates.is_empty() {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::Config,
                "no CA certificate to trust was given",
            )
            .hint("pass --certificate-chain CA.pem"));
        }
        Ok(TrustAnchors { certificates })
    }

    /// From PEM text holding one or more certificates.
    pub fn from_pem(text: &[u8]) -> Result<TrustAnchors, String> {
        let certificates =
            Certificate::load_pem_chain(text).map_err(|error| format!("not PEM certificates ({error})"))?;
        if certificates.is_empty() {
            return Err("holds no certificate".into());
        }
        Ok(TrustAnchors { certificates })
    }
}

/// What a verified chain says about the signer.
pub struct Signer {
    pub key: VerifyingKey,
    /// The signing certificate's subject (RFC 4514).
    pub subject: String,
    /// SHA-256 of the signing certificate (DER), hex.
    pub fingerprint: String,
}

/// Verifies the chain `der` (signing certificate first) against `anchors`.
pub fn verify_chain(der: &[Vec<u8>], anchors: &TrustAnchors) -> Result<Signer, String> {
    let [leaf_der, rest @ ..] = der else { return Err("the bundle's certificate chain is empty".into()) };
    let leaf = Certificate::from_der(leaf_der)
        .map_err(|error| format!("the signing certificate is not DER X.509 ({error})"))?;
    let intermediates = rest
        .iter()
        .map(|bytes| Certificate::from_der(bytes))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("a chain certificate is not DER X.509 ({error})"))?;
    let at = leaf.tbs_certificate.validity.not_before.to_unix_duration();

    let mut current = leaf.clone();
    for _ in 0..MAX_DEPTH {
        valid_at(&current, at)?;
        if anchors.certificates.contains(&current) {
            return signer(leaf, leaf_der);
        }
        let issuer = anchors
            .certificates
            .iter()
            .chain(&intermediates)
            .find(|candidate| {
                candidate.tbs_certificate.subject == current.tbs_certificate.issuer && signed_by(&current, candidate)
            })
            .ok_or_else(|| {
                format!(
                    "no trusted issuer for `{}` (issuer `{}`): the chain does not lead to a given CA certificate",
                    current.tbs_certificate.subject, current.tbs_certificate.issuer
                )
            })?;
        if !is_ca(issuer) {
            return Err(format!("`{}` issued a certificate but is not a CA", issuer.tbs_certificate.subject));
        }
        if anchors.certificates.contains(issuer) {
            valid_at(issuer, at)?;
            return signer(leaf, leaf_der);
        }
        current = issuer.clone();
    }
    Err(format!("the certificate chain is longer than {MAX_DEPTH}"))
}

fn signer(leaf: Certificate, der: &[u8]) -> Result<Signer, String> {
    if !may_sign(&leaf) {
        return Err(format!(
            "the signing certificate `{}` allows neither digital signatures nor code signing",
            leaf.tbs_certificate.subject
        ));
    }
    let spki = leaf.tbs_certificate.subject_public_key_info.to_der().map_err(|error| error.to_string())?;
    let key = VerifyingKey::from_der(&spki).ok_or("the signing certificate's key is not ECDSA P-256 or P-384")?;
    Ok(Signer { key, subject: leaf.tbs_certificate.subject.to_string(), fingerprint: hex::encode(Sha256::digest(der)) })
}

fn valid_at(certificate: &Certificate, at: Duration) -> Result<(), String> {
    let validity = &certificate.tbs_certificate.validity;
    if validity.not_before.to_unix_duration() <= at && at <= validity.not_after.to_unix_duration() {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not valid when the signing certificate became valid ({} to {})",
            certificate.tbs_certificate.subject, validity.not_before, validity.not_after
        ))
    }
}

/// Whether `issuer`'s key verifies `certificate`'s signature.
fn signed_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = certificate.tbs_certificate.to_der() else { return false };
    let Ok(spki) = issuer.tbs_certificate.subject_public_key_info.to_der() else { return false };
    let Some(key) = VerifyingKey::from_der(&spki) else { return false };
    let prehash = match certificate.signature_algorithm.oid {
        ECDSA_SHA256 => Sha256::digest(&tbs).to_vec(),
        ECDSA_SHA384 => Sha384::digest(&tbs).to_vec(),
        _ => return false,
    };
    certificate.signature.as_bytes().is_some_and(|signature| key.verify_prehash(&prehash, signature))
}

fn extension(certificate: &Certificate, oid: ObjectIdentifier) -> Option<&[u8]> {
    let extensions = certificate.tbs_certificate.extensions.as_ref()?;
    extensions.iter().find(|extension| extension.extn_id == oid).map(|extension| extension.extn_value.as_bytes())
}

fn is_ca(certificate: &Certificate) -> bool {
    extension(certificate, BASIC_CONSTRAINTS)
        .and_then(|bytes| BasicConstraints::from_der(bytes).ok())
        .is_some_and(|constraints| constraints.ca)
}

fn may_sign(certificate: &Certificate) -> bool {
    let digital_signature = extension(certificate, KEY_USAGE)
        .and_then(|bytes| KeyUsage::from_der(bytes).ok())
        .is_some_and(|usage| usage.digital_signature());
    let code_signing = extension(certificate, EXTENDED_KEY_USAGE)
        .and_then(|bytes| ExtendedKeyUsage::from_der(bytes).ok())
        .is_some_and(|usage| usage.0.contains(&CODE_SIGNING));
    digital_signature || code_signing
}

/// The DER certificates of a PEM file.
pub fn read_pem_chain(path: &std::path::Path) -> crate::error::Result<Vec<Vec<u8>>> {
    use x509_cert::der::Encode;
    let bytes = crate::input::read(path, crate::input::MAX_TEXT_BYTES, "a certificate file")?;
    let invalid = |why: String| {
        crate::error::Error::new(crate::error::ErrorKind::Config, format!("{}: {why}", path.display()))
            .hint("pass PEM certificates (-----BEGIN CERTIFICATE-----)")
    };
    let certificates = x509_cert::Certificate::load_pem_chain(&bytes)
        .map_err(|error| invalid(format!("not PEM certificates ({error})")))?;
    if certificates.is_empty() {
        return Err(invalid("holds no certificate".into()));
    }
    certificates.iter().map(|certificate| certificate.to_der().map_err(|error| invalid(error.to_string()))).collect()
}

/// The public key a DER certificate is issued for.
pub fn certificate_key(der: &[u8]) -> Option<super::keys::VerifyingKey> {
    use x509_cert::der::{Decode, Encode};
    let certificate = x509_cert::Certificate::from_der(der).ok()?;
    super::keys::VerifyingKey::from_der(&certificate.tbs_certificate.subject_public_key_info.to_der().ok()?)
}

/// The chain a certificate-signed model carries: the signing certificate (the first of
/// its file), then every certificate of the chain files.
pub fn signing_chain(
    signing_certificate: &std::path::Path,
    chain_files: &[std::path::PathBuf],
) -> crate::error::Result<Vec<Vec<u8>>> {
    let mut chain = read_pem_chain(signing_certificate)?;
    chain.truncate(1);
    for path in chain_files {
        chain.extend(read_pem_chain(path)?);
    }
    Ok(chain)
}

/// Refuses a signing certificate that is not issued for the private key at `key_path`.
pub fn check_signing_key(
    chain: &[Vec<u8>],
    key: &super::keys::SigningKey,
    key_path: &std::path::Path,
) -> crate::error::Result<()> {
    let matches =
        chain.first().and_then(|der| certificate_key(der)).is_some_and(|public| public == key.verifying_key());
    if !matches {
        return Err(crate::error::Error::new(
            crate::error::ErrorKind::Config,
            format!("{}: the signing certificate is not for the private key", key_path.display()),
        )
        .hint("pass the certificate issued for this key with --signing-certificate"));
    }
    Ok(())
}
