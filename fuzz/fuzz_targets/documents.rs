//! The document reader on arbitrary bytes: a model card, datasheet and risk assessment in
//! Markdown with front matter, YAML and JSON (Model Card Toolkit); each gives a document or
//! an error (binary, not UTF-8, bad YAML, duplicate keys), never a panic.

#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use modelgate::docs::read::{read, ReadOptions};
use modelgate::docs::Kind;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions { today: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"), git_dates: false };
    for name in ["README.md", "risk.yaml", "card.json"] {
        let path = common::scratch(name, data);
        for kind in Kind::ALL {
            let _ = read(kind, &path, name, &options);
        }
    }
});
