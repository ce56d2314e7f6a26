//! Model signatures on arbitrary bytes: as a signature file verified against a small
//! model folder with a fixed key, and as the signed statement itself (which an attacker
//! cannot normally reach without the key, but a compromised signer can); each gives an
//! outcome or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::signing::{self, keys::VerifyingKey, Trust, VerifyOptions};

#[path = "common.rs"]
mod common;

const KEY: &str = include_str!("../../tests/fixtures/signing/keys/p256.pub");

fuzz_target!(|data: &[u8]| {
    let signature = common::scratch("model.sig", data);
    let model = signature.parent().expect("scratch folder").join("model");
    if !model.exists() {
        std::fs::create_dir_all(model.join("weights")).expect("model folder");
        std::fs::write(model.join("weights/a.safetensors"), b"weights").expect("file");
        std::fs::write(model.join("config.json"), b"{}").expect("file");
    }
    let key = VerifyingKey::from_pem(KEY).expect("fixture key");
    let _ = signing::verify(&model, &signature, &Trust::Key(key), &VerifyOptions::default());
    let _ = signing::read_statement(data, "fuzz");
});
