//! ECDSA keys in PEM, as model_signing reads and writes them: P-256 signs with SHA-256 and
//! P-384 with SHA-384; signatures are DER. A key is named by the SHA-256 of its public key
//! in SubjectPublicKeyInfo PEM, the `hint` model_signing puts in the bundle.

use std::path::Path;

use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, Result};

pub enum SigningKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum VerifyingKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

fn key_error(path: &Path, what: &str) -> Error {
    Error::new(ErrorKind::Config, format!("{}: not a {what} on curve P-256 or P-384", path.display())).hint(
        "generate one with `openssl ecparam -name prime256v1 -genkey -noout -out key.pem` and \
         `openssl ec -in key.pem -pubout -out key.pub`",
    )
}

impl SigningKey {
    /// Reads a PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM file. Encrypted keys
    /// are refused: the gate runs unattended.
    pub fn read(path: &Path) -> Result<SigningKey> {
        let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "a private key")?;
        if text.contains("ENCRYPTED PRIVATE KEY") {
            return Err(Error::new(ErrorKind::Config, format!("{}: the private key is encrypted", path.display()))
                .hint("decrypt it for the signing step (`openssl pkcs8 -in key.pem -out plain.pem`) and keep it in the CI secret store"));
        }
        let pem = strip_ec_parameters(&text);
        if let Ok(key) = p256::SecretKey::from_pkcs8_pem(pem).or_else(|_| p256::SecretKey::from_sec1_pem(pem)) {
            return Ok(SigningKey::P256(key.into()));
        }
        if let Ok(key) = p384::SecretKey::from_pkcs8_pem(pem).or_else(|_| p384::SecretKey::from_sec1_pem(pem)) {
            return Ok(SigningKey::P384(key.into()));
        }
        Err(key_error(path, "PEM private key"))
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            SigningKey::P256(key) => VerifyingKey::P256(*key.verifying_key()),
            SigningKey::P384(key) => VerifyingKey::P384(*key.verifying_key()),
        }
    }

    /// A DER ECDSA signature of `message` (hashed with the curve's hash). RFC 6979
    /// deterministic nonces.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer;
        match self {
            SigningKey::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            SigningKey::P384(key) => {
                let signature: p384::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
        }
    }
}

/// `openssl ecparam -genkey` without `-noout` writes an `EC PARAMETERS` block first.
fn strip_ec_parameters(text: &str) -> &str {
    match (text.find("-----BEGIN EC PARAMETERS-----"), text.find("-----END EC PARAMETERS-----")) {
        (Some(_), Some(end)) => &text[end + "-----END EC PARAMETERS-----".len()..],
        _ => text,
    }
}

impl VerifyingKey {
    /// Reads a SubjectPublicKeyInfo PEM file (`PUBLIC KEY`).
    pub fn read(path: &Path) -> Result<VerifyingKey> {
        let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "a public key")?;
        VerifyingKey::from_pem(&text).ok_or_else(|| key_error(path, "PEM public key (SubjectPublicKeyInfo)"))
    }

    pub fn from_pem(text: &str) -> Option<VerifyingKey> {
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(text) {
            return Some(VerifyingKey::P256(key));
        }
        p384::ecdsa::VerifyingKey::from_public_key_pem(text).ok().map(VerifyingKey::P384)
    }

    /// From a DER SubjectPublicKeyInfo (a certificate's key).
    pub fn from_der(der: &[u8]) -> Option<VerifyingKey> {
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Some(VerifyingKey::P256(key));
        }
        p384::ecdsa::VerifyingKey::from_public_key_der(der).ok().map(VerifyingKey::P384)
    }

    /// The key as SubjectPublicKeyInfo PEM with LF line endings, byte for byte what
    /// Python's `cryptography` writes.
    pub fn to_pem(&self) -> String {
        let pem = match self {
            VerifyingKey::P256(key) => key.to_public_key_pem(LineEnding::LF),
            VerifyingKey::P384(key) => key.to_public_key_pem(LineEnding::LF),
        };
        // Encoding a valid curve point cannot fail; an empty string would only fail the hint check.
        pem.unwrap_or_default()
    }

    /// model_signing's key hint: the SHA-256 of the PEM public key, hex.
    pub fn hint(&self) -> String {
        hex::encode(Sha256::digest(self.to_pem().as_bytes()))
    }

    pub fn curve(&self) -> &'static str {
        match self {
            VerifyingKey::P256(_) => "P-256",
            VerifyingKey::P384(_) => "P-384",
        }
    }

    /// Whether `signature` (DER) signs a message whose hash is `prehash` (certificates
    /// choose their hash independently of the key's curve).
    pub fn verify_prehash(&self, prehash: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            VerifyingKey::P256(key) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify_prehash(prehash, &signature).is_ok()),
            VerifyingKey::P384(key) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify_prehash(prehash, &signature).is_ok()),
        }
    }

    /// Whether `signature` (DER) signs `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier;
        match self {
            VerifyingKey::P256(key) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            VerifyingKey::P384(key) => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_on_both_curves_and_rejects_other_messages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p256_key = p256::SecretKey::from_slice(&[7u8; 32]).expect("scalar");
        let p384_key = p384::SecretKey::from_slice(&[9u8; 48]).expect("scalar");
        use p256::pkcs8::EncodePrivateKey;
        let pem256 = p256_key.to_pkcs8_pem(LineEnding::LF).expect("pem");
        let pem384 = p384_key.to_sec1_pem(LineEnding::LF).expect("pem");
        for (name, pem) in [("a.pem", pem256.as_str()), ("b.pem", pem384.as_str())] {
            std::fs::write(dir.path().join(name), pem).expect("write");
            let key = SigningKey::read(&dir.path().join(name)).expect("key");
            let signature = key.sign(b"payload");
            let public = key.verifying_key();
            assert!(public.verify(b"payload", &signature));
            assert!(!public.verify(b"payloaD", &signature));
            let round_trip = VerifyingKey::from_pem(&public.to_pem()).expect("pem");
            assert_eq!(round_trip.hint(), public.hint());
        }
        std::fs::write(dir.path().join("bad.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .expect("write");
        let error = SigningKey::read(&dir.path().join("bad.pem")).err().expect("refused");
        assert!(error.message.contains("bad.pem"), "{}", error.message);
    }
}
