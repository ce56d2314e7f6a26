//! The streaming check of a table against a [`Schema`].
//!
//! Every column is read as interned cell texts ([`Want::Text`]). Each distinct text of a
//! column is read as the field's type and checked against the field's constraints once,
//! giving a bit set of failed checks and a key (equal for equal values); each row then
//! costs a lookup per column. `unique`, the primary key and duplicate rows work on those
//! keys: per column a bit per distinct value, for the primary key a set of key tuples;
//! duplicate rows a set of 128-bit hashes of the rows' cell texts.

use std::path::Path;

use chrono::{DateTime, NaiveTime};
use parquet::basic::{ConvertedType, LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use rustc_hash::FxHashMap;

use super::descriptor::{Field, Schema};
use super::types::{self, FieldType, Format, Value};
use super::{ExtraColumns, ValidateSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{FailingRow, SchemaCheck, SchemaFieldReport, SchemaViolation};
use crate::table::{self, ColumnKind, ColumnRequest, Table, TableFormat, Want, MISSING};

/// The per-cell checks, as bits of a status; their names in the evidence.
const NULL: u16 = 1;
const TYPE: u16 = 1 << 1;
const REQUIRED: u16 = 1 << 2;
const MINIMUM: u16 = 1 << 3;
const MAXIMUM: u16 = 1 << 4;
const EXCLUSIVE_MINIMUM: u16 = 1 << 5;
const EXCLUSIVE_MAXIMUM: u16 = 1 << 6;
const MIN_LENGTH: u16 = 1 << 7;
const MAX_LENGTH: u16 = 1 << 8;
const PATTERN: u16 = 1 << 9;
const ENUM: u16 = 1 << 10;
const UNIQUE: u16 = 1 << 11;
/// Bits that are violations (a null alone is not one).
const FAILURES: u16 = !NULL;

/// Check names by bit position.
const CHECK_NAMES: [&str; 12] = [
    "null",
    "type",
    "required",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "unique",
];

/// The key of a missing cell, or of one that is not of the field's type.
const NO_KEY: u32 = u32::MAX;

const REDACTED: &str = "<redacted>";

/// How a Parquet column's values are rendered by the table reader, so that they can be
/// read back as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Native {
    /// Text (CSV cells, Parquet strings): read as the field's type.
    Text,
    /// Parquet booleans, as `true`/`false`.
    Boolean,
    /// Parquet numbers: already numbers, only the field's type decides integer or not.
    Number,
    /// Parquet DATE: days since 1970-01-01.
    Days,
    /// Parquet TIMESTAMP: units (per second) since 1970-01-01T00:00:00.
    Timestamp(i64),
    /// Parquet TIME: units (per second) since midnight.
    Time(i64),
}

struct Column {
    name: String,
    /// Index of the schema field; `None` for a column the schema does not declare.
    field: Option<usize>,
    native: Native,
    /// False when the column's Parquet type cannot hold the field's type: then only
    /// presence and nulls are checked.
    values: bool,
    sensitive: bool,
    /// Per dictionary code: the failed checks.
    status: Vec<u16>,
    /// Per dictionary code: the value's key id, [`NO_KEY`] for no value.
    keys: Vec<u32>,
    key_ids: FxHashMap<String, u32>,
    /// Per key id: seen in an earlier row (the `unique` constraint).
    seen: Vec<bool>,
    unique: bool,
    /// Whether the column's value keys are needed (`unique`, primary key).
    keyed: bool,
    /// Whether a value's key is its cell text (strings): then the dictionary code is the key.
    text_keys: bool,
    /// Failing rows per check bit.
    counts: [u64; 12],
    examples: [Vec<FailingRow>; 12],
    nulls: u64,
}

/// Checks the table in `spec` against `schema`.
pub fn run(spec: &ValidateSpec, schema: &Schema) -> Result<SchemaCheck> {
    let path = spec.table.as_path();
    let info = table::describe(path)?;
    let parquet = info.format == TableFormat::Parquet;
    let units = if parquet { parquet_units(path)? } else { FxHashMap::default() };
    let mut violations = Vec::new();
    let mut table_violations = Vec::new();

    // Header: duplicate names, columns to read.
    let mut columns: Vec<Column> = Vec::new();
    let mut requests: Vec<ColumnRequest> = Vec::new();
    for (position, column) in info.columns.iter().enumerate() {
        if info.columns[..position].iter().any(|earlier| earlier.name == column.name) {
            table_violations.push(violation(
                &column.name,
                "duplicate-column",
                0,
                format!("the table has more than one column named `{}`; only the first is checked", column.name),
            ));
            continue;
        }
        let field = schema.fields.iter().position(|field| field.name == column.name);
        let compatible = match field {
            Some(index) => !parquet || compatible(schema.fields[index].reader.field_type, column.kind),
            None => true,
        };
        if parquet && matches!(column.kind, ColumnKind::Decimal | ColumnKind::Nested) {
            if field.is_some() && column.kind == ColumnKind::Decimal {
                return Err(invalid(
                    path,
                    format!("column `{}` is a Parquet DECIMAL, which schema validation cannot read yet", column.name),
                )
                .hint("cast the column to float64 before writing the file, or leave it out of the schema"));
            }
            if field.is_some() && !compatible {
                columns.push(new_column(column.name.clone(), field, Native::Text, false, spec));
            }
            continue;
        }
        let native = if parquet {
            match column.kind {
                ColumnKind::Boolean => Native::Boolean,
                ColumnKind::Integer | ColumnKind::Number => Native::Number,
                ColumnKind::Date => Native::Days,
                ColumnKind::Timestamp => Native::Timestamp(units.get(&column.name).copied().unwrap_or(1_000_000)),
                ColumnKind::Time => Native::Time(units.get(&column.name).copied().unwrap_or(1_000)),
                _ => Native::Text,
            }
        } else {
            Native::Text
        };
        let mut state = new_column(column.name.clone(), field, native, compatible, spec);
        state.unique = field.is_some_and(|index| schema.fields[index].constraints.unique) && compatible;
        columns.push(state);
        requests.push(ColumnRequest { name: column.name.clone(), want: Want::Text, role: "schema".into() });
    }
    let read_columns: Vec<usize> =
        (0..columns.len()).filter(|&c| requests.iter().any(|r| r.name == columns[c].name)).collect();

    // Primary key columns, when all are present and readable.
    let primary_key: Option<Vec<usize>> = if schema.primary_key.is_empty() {
        None
    } else {
        schema
            .primary_key
            .iter()
            .map(|name| read_columns.iter().position(|&c| columns[c].name == *name && columns[c].values))
            .collect()
    };

    for &request in primary_key.iter().flatten() {
        columns[read_columns[request]].keyed = true;
    }
    for column in &mut columns {
        column.keyed |= column.unique;
        column.text_keys = column
            .field
            .is_some_and(|f| matches!(schema.fields[f].reader.field_type, FieldType::String | FieldType::Any));
    }

    // Read.
    let mut table = Table::open(path, &requests)?;
    let mut batch = table.new_batch();
    let mut primary_keys: FxHashMap<Vec<u32>, u64> = FxHashMap::default();
    let mut row_hashes: FxHashMap<u128, u64> = FxHashMap::default();
    let mut pk_counts = 0u64;
    let mut pk_examples: Vec<FailingRow> = Vec::new();
    let mut duplicate_counts = 0u64;
    let mut duplicate_examples: Vec<FailingRow> = Vec::new();
    let mut hashes: Vec<(u64, u64)> = Vec::new();
    while table.next_batch(&mut batch)? {
        let rows = batch.rows;
        hashes.clear();
        hashes.resize(rows, (0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344));
        for (request, &index) in read_columns.iter().enumerate() {
            let column = &mut columns[index];
            let dictionary = table.dictionary(request);
            let field = column.field.map(|f| &schema.fields[f]);
            let known = column.status.len();
            for code in known..dictionary.values().len() {
                let text = dictionary.value(code as u32);
                let (status, value) = match (field, column.values) {
                    (Some(field), true) => classify(field, &schema.missing_values, column.native, text),
                    (Some(field), false) => {
                        let null = schema.missing_values.iter().any(|m| m == text) && column.native == Native::Text;
                        (if null { null_status(field) } else { 0 }, None)
                    }
                    (None, _) => {
                        let null = column.native == Native::Text && schema.missing_values.iter().any(|m| m == text);
                        (if null { NULL } else { 0 }, None)
                    }
                };
                column.status.push(status);
                if column.keyed {
                    let key = match value {
                        None => NO_KEY,
                        // A string is its text: the code is its key.
                        Some(_) if column.text_keys => code as u32,
                        Some(value) => {
                            let next = column.key_ids.len() as u32;
                            *column.key_ids.entry(value.key()).or_insert(next)
                        }
                    };
                    column.keys.push(key);
                }
            }
            if column.unique {
                column.seen.resize(column.status.len().max(column.key_ids.len()), false);
            }
            let missing_status = field.map_or(NULL, null_status);
            let codes = batch.columns[request].codes();
            let salt = (request as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for (row, &code) in codes.iter().enumerate() {
                let mut status = if code == MISSING { missing_status } else { column.status[code as usize] };
                let key = if column.keyed && code != MISSING { column.keys[code as usize] } else { NO_KEY };
                if column.unique && key != NO_KEY {
                    let seen = &mut column.seen[key as usize];
                    if *seen {
                        status |= UNIQUE;
                    }
                    *seen = true;
                }
                if status != 0 {
                    column.record(status, batch.first_row + row as u64 + 1, code, dictionary, spec.max_examples);
                }
                let hash = &mut hashes[row];
                let mixed = u64::from(code) ^ salt;
                hash.0 = (hash.0 ^ mixed).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(23);
                hash.1 = (hash.1.rotate_left(17) ^ mixed.wrapping_mul(0xff51_afd7_ed55_8ccd)).wrapping_add(0x2545_f491);
            }
        }
        if let Some(key_columns) = &primary_key {
            for row in 0..rows {
                let key: Vec<u32> = key_columns
                    .iter()
                    .map(|&request| {
                        let code = batch.columns[request].codes()[row];
                        if code == MISSING {
                            NO_KEY
                        } else {
                            columns[read_columns[request]].keys[code as usize]
                        }
                    })
                    .collect();
                let number = batch.first_row + row as u64 + 1;
                let failure = if key.iter().all(|&k| k == NO_KEY) {
                    Some("no value in any key column".to_string())
                } else {
                    match primary_keys.get(&key) {
                        Some(&first) => Some(format!("same key as row {first}")),
                        None => {
                            primary_keys.insert(key, number);
                            None
                        }
                    }
                };
                if let Some(note) = failure {
                    pk_counts += 1;
                    if pk_examples.len() < spec.max_examples {
                        pk_examples.push(FailingRow { row: number, value: note });
                    }
                }
            }
        }
        if spec.duplicate_rows {
            for (row, hash) in hashes.iter().enumerate() {
                let number = batch.first_row + row as u64 + 1;
                let hash = (u128::from(hash.0) << 64) | u128::from(hash.1);
                match row_hashes.get(&hash) {
                    Some(&first) => {
                        duplicate_counts += 1;
                        if duplicate_examples.len() < spec.max_examples {
                            duplicate_examples.push(FailingRow { row: number, value: format!("same as row {first}") });
                        }
                    }
                    None => {
                        row_hashes.insert(hash, number);
                    }
                }
            }
        }
    }
    let rows = table.rows_read();

    // Violations and the per-field report, in schema order.
    let mut reports = Vec::with_capacity(schema.fields.len());
    for (index, field) in schema.fields.iter().enumerate() {
        let column = columns.iter().find(|column| column.field == Some(index));
        let report = field_report(field, column, rows, spec, &mut violations, &info);
        reports.push(report);
    }
    if spec.extra_columns == ExtraColumns::Deny {
        for column in columns.iter().filter(|column| column.field.is_none()) {
            violations.push(violation(
                &column.name,
                "extra-column",
                rows,
                format!("the table has a column `{}` that the schema does not declare", column.name),
            ));
        }
        for column in
            info.columns.iter().filter(|c| matches!(c.kind, ColumnKind::Nested | ColumnKind::Decimal) && parquet)
        {
            if schema.fields.iter().all(|field| field.name != column.name) {
                violations.push(violation(
                    &column.name,
                    "extra-column",
                    rows,
                    format!("the table has a column `{}` that the schema does not declare", column.name),
                ));
            }
        }
    }
    violations.extend(table_violations);
    if pk_counts > 0 {
        let key = schema.primary_key.join(",");
        let redact = schema.primary_key.iter().any(|name| spec.sensitive.contains(name));
        let mut item = violation(
            "*",
            "primary-key",
            pk_counts,
            format!("{}: repeat an earlier primary key ({key}) or have none", plural(pk_counts)),
        );
        item.examples = if redact {
            pk_examples.into_iter().map(|example| FailingRow { row: example.row, value: REDACTED.into() }).collect()
        } else {
            pk_examples
        };
        violations.push(item);
    }
    if duplicate_counts > 0 {
        let mut item = violation(
            "*",
            "duplicate-row",
            duplicate_counts,
            format!("{}: repeat an earlier row", plural(duplicate_counts)),
        );
        item.examples = duplicate_examples;
        violations.push(item);
    }
    Ok(SchemaCheck {
        schema_path: Some(spec.schema_display.clone()),
        table_path: spec.table_display.clone(),
        rows,
        violations,
        source: Some(schema.source.as_str().to_string()),
        fields: reports,
    })
}

fn new_column(name: String, field: Option<usize>, native: Native, values: bool, spec: &ValidateSpec) -> Column {
    Column {
        sensitive: spec.sensitive.contains(&name),
        name,
        field,
        native,
        values,
        status: Vec::new(),
        keys: Vec::new(),
        key_ids: FxHashMap::default(),
        seen: Vec::new(),
        unique: false,
        keyed: false,
        text_keys: false,
        counts: [0; 12],
        examples: Default::default(),
        nulls: 0,
    }
}

impl Column {
    fn record(&mut self, status: u16, row: u64, code: u32, dictionary: &table::Dictionary, max_examples: usize) {
        if status & NULL != 0 {
            self.nulls += 1;
        }
        let mut failures = status & FAILURES;
        while failures != 0 {
            let bit = failures.trailing_zeros() as usize;
            failures &= failures - 1;
            self.counts[bit] += 1;
            if self.examples[bit].len() < max_examples {
                let value = if self.sensitive {
                    REDACTED.to_string()
                } else if code == MISSING {
                    String::new()
                } else {
                    dictionary.value(code).to_string()
                };
                self.examples[bit].push(FailingRow { row, value });
            }
        }
    }
}

fn null_status(field: &Field) -> u16 {
    if field.constraints.required {
        NULL | REQUIRED
    } else {
        NULL
    }
}

/// The failed checks and the value key of one distinct cell text.
fn classify(field: &Field, missing_values: &[String], native: Native, text: &str) -> (u16, Option<Value>) {
    if native == Native::Text && missing_values.iter().any(|missing| missing == text) {
        return (null_status(field), None);
    }
    let value = match native {
        Native::Text => types::read(&field.reader, text),
        Native::Boolean => Some(Value::Boolean(text == "true")),
        Native::Number => match field.reader.field_type {
            FieldType::Number => text.parse::<f64>().ok().map(Value::Number),
            _ => types::read(&field.reader, text),
        },
        Native::Days => text.parse::<i64>().ok().and_then(types::date_from_days).map(Value::Date),
        Native::Timestamp(per_second) => text.parse::<i64>().ok().and_then(|units| {
            let seconds = units.div_euclid(per_second);
            let nanos = (units.rem_euclid(per_second) * (1_000_000_000 / per_second)) as u32;
            DateTime::from_timestamp(seconds, nanos).map(|dt| Value::Datetime(dt.naive_utc()))
        }),
        Native::Time(per_second) => text.parse::<i64>().ok().and_then(|units| {
            let seconds = u32::try_from(units.div_euclid(per_second)).ok()?;
            let nanos = (units.rem_euclid(per_second) * (1_000_000_000 / per_second)) as u32;
            NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos).map(Value::Time)
        }),
    };
    let Some(value) = value else { return (TYPE, None) };
    let constraints = &field.constraints;
    let mut status = 0;
    let below = |bound: &Option<super::descriptor::Bound>, wanted: &[std::cmp::Ordering]| {
        bound.as_ref().is_some_and(|bound| value.compare(&bound.value).is_none_or(|order| !wanted.contains(&order)))
    };
    use std::cmp::Ordering::{Equal, Greater, Less};
    if below(&constraints.minimum, &[Greater, Equal]) {
        status |= MINIMUM;
    }
    if below(&constraints.maximum, &[Less, Equal]) {
        status |= MAXIMUM;
    }
    if below(&constraints.exclusive_minimum, &[Greater]) {
        status |= EXCLUSIVE_MINIMUM;
    }
    if below(&constraints.exclusive_maximum, &[Less]) {
        status |= EXCLUSIVE_MAXIMUM;
    }
    if let Some(length) = value.length() {
        if constraints.min_length.is_some_and(|min| length < min) {
            status |= MIN_LENGTH;
        }
        if constraints.max_length.is_some_and(|max| length > max) {
            status |= MAX_LENGTH;
        }
    }
    if let Some((_, regex)) = &constraints.pattern {
        if !value.text().is_some_and(|text| regex.is_match(text)) {
            status |= PATTERN;
        }
    }
    if let Some((allowed, _)) = &constraints.enumeration {
        if !allowed.contains(&value.key()) {
            status |= ENUM;
        }
    }
    (status, Some(value))
}

/// Can a Parquet column of `kind` hold values of `field_type`?
fn compatible(field_type: FieldType, kind: ColumnKind) -> bool {
    use ColumnKind as K;
    match field_type {
        FieldType::Any => true,
        FieldType::String => matches!(kind, K::String | K::Binary),
        FieldType::Integer | FieldType::Year => kind == K::Integer,
        FieldType::Number => matches!(kind, K::Number | K::Integer | K::Decimal),
        FieldType::Boolean => kind == K::Boolean,
        FieldType::Date => kind == K::Date,
        FieldType::Datetime => kind == K::Timestamp,
        FieldType::Time => kind == K::Time,
        FieldType::Yearmonth
        | FieldType::Duration
        | FieldType::Object
        | FieldType::Array
        | FieldType::Geopoint
        | FieldType::Geojson => kind == K::String,
    }
}

fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Boolean => "boolean",
        ColumnKind::Integer => "integer",
        ColumnKind::Number => "floating-point",
        ColumnKind::Decimal => "decimal",
        ColumnKind::String => "string",
        ColumnKind::Date => "date",
        ColumnKind::Time => "time",
        ColumnKind::Timestamp => "timestamp",
        ColumnKind::Binary => "binary",
        ColumnKind::Nested => "nested (list, map or struct)",
        ColumnKind::Text => "text",
    }
}

/// Units per second of each TIME and TIMESTAMP column of a Parquet file.
fn parquet_units(path: &Path) -> Result<FxHashMap<String, i64>> {
    let file = std::fs::File::open(path).map_err(|source| Error::read(path, source))?;
    let reader = SerializedFileReader::new(file).map_err(|error| {
        invalid(path, format!("cannot read the Parquet file: {error}"))
            .hint("the file may be truncated or corrupt; re-export it (pandas: DataFrame.to_parquet)")
    })?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let mut units = FxHashMap::default();
    for leaf in 0..schema.num_columns() {
        let column = schema.column(leaf);
        let per_second = |unit: &TimeUnit| match unit {
            TimeUnit::MILLIS => 1_000,
            TimeUnit::MICROS => 1_000_000,
            TimeUnit::NANOS => 1_000_000_000,
        };
        let unit = match (column.logical_type_ref(), column.converted_type()) {
            (Some(LogicalType::Timestamp(time) | LogicalType::Time(time)), _) => Some(per_second(&time.unit)),
            (_, ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIME_MILLIS) => Some(1_000),
            (_, ConvertedType::TIMESTAMP_MICROS | ConvertedType::TIME_MICROS) => Some(1_000_000),
            _ => None,
        };
        if let Some(unit) = unit {
            units.insert(column.path().string(), unit);
        }
    }
    Ok(units)
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::DataInvalid, format!("{}: {message}", path.display()))
}

fn violation(field: &str, check: &str, failing_rows: u64, message: String) -> SchemaViolation {
    SchemaViolation {
        field: field.to_string(),
        check: check.to_string(),
        failing_rows,
        message: Some(message),
        examples: Vec::new(),
    }
}

/// The checks a field runs, by the names the evidence uses.
fn checks_of(field: &Field, ceiling: Option<f64>) -> Vec<String> {
    let constraints = &field.constraints;
    let mut checks = vec!["present".to_string(), "type".to_string()];
    let flags = [
        ("required", constraints.required),
        ("unique", constraints.unique),
        ("minimum", constraints.minimum.is_some()),
        ("maximum", constraints.maximum.is_some()),
        ("exclusiveMinimum", constraints.exclusive_minimum.is_some()),
        ("exclusiveMaximum", constraints.exclusive_maximum.is_some()),
        ("minLength", constraints.min_length.is_some()),
        ("maxLength", constraints.max_length.is_some()),
        ("pattern", constraints.pattern.is_some()),
        ("enum", constraints.enumeration.is_some()),
        ("null-rate", ceiling.is_some()),
    ];
    checks.extend(flags.iter().filter(|(_, on)| *on).map(|(name, _)| name.to_string()));
    checks
}

fn field_report(
    field: &Field,
    column: Option<&Column>,
    rows: u64,
    spec: &ValidateSpec,
    violations: &mut Vec<SchemaViolation>,
    info: &table::TableInfo,
) -> SchemaFieldReport {
    let ceiling = spec.null_rates.get(&field.name).copied().or(spec.max_null_rate);
    let mut report = SchemaFieldReport {
        name: field.name.clone(),
        field_type: field.reader.field_type.as_str().to_string(),
        format: (field.reader.format != Format::Default).then(|| field.reader.format.describe()),
        present: column.is_some(),
        checks: checks_of(field, ceiling),
        failed: Vec::new(),
        nulls: 0,
        null_rate: None,
    };
    let Some(column) = column else {
        report.failed.push("present".into());
        violations.push(violation(
            &field.name,
            "missing-column",
            rows,
            format!("the schema declares a field `{}` that the table does not have", field.name),
        ));
        return report;
    };
    report.nulls = column.nulls;
    report.null_rate = (rows > 0).then(|| column.nulls as f64 / rows as f64);
    if !column.values {
        let kind = info.columns.iter().find(|c| c.name == field.name).map_or("unknown", |c| kind_name(c.kind));
        report.failed.push("type".into());
        violations.push(violation(
            &field.name,
            "type",
            rows,
            format!(
                "the Parquet column is {kind}, which cannot hold the field's type {}",
                field.reader.field_type.as_str()
            ),
        ));
        return report;
    }
    for (bit, name) in CHECK_NAMES.iter().enumerate().skip(1) {
        let count = column.counts[bit];
        if count == 0 {
            continue;
        }
        report.failed.push((*name).to_string());
        let mut item = violation(&field.name, name, count, describe_failure(field, name, count));
        item.examples = column.examples[bit].clone();
        violations.push(item);
    }
    if let (Some(ceiling), Some(rate)) = (ceiling, report.null_rate) {
        if rate > ceiling {
            report.failed.push("null-rate".into());
            violations.push(violation(
                &field.name,
                "null-rate",
                column.nulls,
                format!("{:.2}% of the cells are missing; the ceiling is {:.2}%", rate * 100.0, ceiling * 100.0),
            ));
        }
    }
    report
}

fn describe_failure(field: &Field, check: &str, count: u64) -> String {
    let constraints = &field.constraints;
    let rows = plural(count);
    let bound = |bound: &Option<super::descriptor::Bound>| bound.as_ref().map(|b| b.text.clone()).unwrap_or_default();
    match check {
        "type" => format!(
            "{rows}: not a valid {} (format {})",
            field.reader.field_type.as_str(),
            field.reader.format.describe()
        ),
        "required" => format!("{rows}: missing, but the field is required"),
        "minimum" => format!("{rows}: below the minimum {}", bound(&constraints.minimum)),
        "maximum" => format!("{rows}: above the maximum {}", bound(&constraints.maximum)),
        "exclusiveMinimum" => format!("{rows}: not above {}", bound(&constraints.exclusive_minimum)),
        "exclusiveMaximum" => format!("{rows}: not below {}", bound(&constraints.exclusive_maximum)),
        "minLength" => format!("{rows}: shorter than {}", constraints.min_length.unwrap_or_default()),
        "maxLength" => format!("{rows}: longer than {}", constraints.max_length.unwrap_or_default()),
        "pattern" => format!(
            "{rows}: do not match the pattern {}",
            constraints.pattern.as_ref().map(|(p, _)| p.as_str()).unwrap_or_default()
        ),
        "enum" => format!(
            "{rows}: not one of {}",
            constraints.enumeration.as_ref().map(|(_, shown)| shown.as_str()).unwrap_or_default()
        ),
        "unique" => format!("{rows}: repeat a value of an earlier row, but the field is unique"),
        _ => format!("{rows} fail {check}"),
    }
}

fn plural(rows: u64) -> String {
    if rows == 1 {
        "1 row".into()
    } else {
        format!("{rows} rows")
    }
}
