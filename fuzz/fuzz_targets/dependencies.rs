//! Dependency inputs on arbitrary bytes: a requirements file, and an OSV record matched
//! against a version; each gives a result or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::{osv, pep440::Version, requirements};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("requirements.txt", data);
    let _ = requirements::read(&path);
    if let Ok(record) = serde_json::from_slice::<osv::Record>(data) {
        for version in ["0", "1.0", "2.6.0rc1", "1!0.1.post2.dev3+local.7"] {
            let version = Version::parse(version).expect("valid");
            let _ = record.affects("torch", &version);
            let _ = record.fixed_after("torch", &version);
        }
        let _ = record.rating();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Version::parse(text).map(|version| version.to_string());
    }
});
