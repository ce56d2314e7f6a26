//! The table reader on arbitrary bytes (CSV, gzip CSV and Parquet are told apart by
//! content): listing the columns and reading every column, as categories and as
//! numbers, must return rows or an error, never panic or run away with memory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::table::{self, ColumnRequest, Table, Want};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("table", data);
    let Ok(info) = table::describe(&path) else { return };
    for want in [Want::Category, Want::Number] {
        let requests: Vec<ColumnRequest> = info
            .columns
            .iter()
            .take(16)
            .map(|column| ColumnRequest { name: column.name.clone(), want, role: "fuzzed".into() })
            .collect();
        let Ok(mut table) = Table::open(&path, &requests) else { continue };
        let mut batch = table.new_batch();
        while let Ok(true) = table.next_batch(&mut batch) {}
    }
});
