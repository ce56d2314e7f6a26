//! Table Schema descriptors (JSON, and YAML by extension) on arbitrary bytes, validated
//! against a small table: a report or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::data::schema::{self, ValidateSpec};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let table = common::scratch("table.csv", b"id,age,name,when\n1,34,ann,2024-01-02\n2,,bob,2024-13-01\n2,7,,x\n");
    for name in ["schema.json", "schema.yaml"] {
        let path = common::scratch(name, data);
        let _ = schema::validate(&ValidateSpec::new(&path, &table));
    }
});
