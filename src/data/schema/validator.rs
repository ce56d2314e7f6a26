//! The streaming check of a table against a [`Schema`].
//!
//! The table is read in batches: CSV cells and Parquet strings as raw bytes
//! ([`Want::Raw`]), Parquet numbers, booleans, dates and times as numbers. Each cell is
//! read as the field's type and checked against the field's constraints, giving a bit
//! set of failed checks and a 128-bit key hash (equal for equal values); a column with
//! few distinct texts caches both per text. The columns of a batch are checked on two
//! threads while the next batch is read. `unique` keeps a set of key hashes per column,
//! the primary key a map of key-tuple hashes, duplicate rows a map of row hashes (from
//! the cells' texts), each to the first row that had it: memory grows with the distinct
//! keys, not with the rows.

use std::path::Path;

use chrono::{DateTime, NaiveTime};
use parquet::basic::{ConvertedType, LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use std::hash::Hasher;

use rustc_hash::{FxHashMap, FxHashSet};

use super::descriptor::{Field, Schema};
use super::types::{self, FieldType, Format, Value};
use super::{ExtraColumns, ValidateSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{FailingRow, SchemaCheck, SchemaFieldReport, SchemaViolation};
use crate::table::{self, ColumnKind, ColumnRequest, RawCells, Table, TableFormat, Values, Want};

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
/// A number that is not finite: not a failed check, counted for the evidence.
const NON_FINITE: u16 = 1 << 12;
/// Bits that are violations (a null alone is not one).
const FAILURES: u16 = !(NULL | NON_FINITE);

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
const NO_KEY: u128 = 0;

/// Distinct cell texts cached per column; a column with more in its first batch is not cached.
const CACHE: usize = 1024;

/// The hash of a Parquet null.
const NULL_HASH: u64 = 0x5555_5555_5555_5555;

/// A 64-bit hash of a cell text.
fn hash_text(bytes: &[u8]) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(bytes);
    hasher.write_u8(0xff);
    hasher.finish()
}

/// A 128-bit hash of a value's key: equal values, equal hashes; a collision between
/// different values has a probability of about n²/2¹²⁹.
fn key_hash(value: &Value) -> u128 {
    match value {
        Value::Text(text) => text_key_hash(text),
        // As in `Value::key`, an integral number has the key of the integer.
        Value::Integer(integer) => hash_128(&integer.to_le_bytes()),
        Value::Number(number) if number.fract() == 0.0 && number.abs() < 1e18 => {
            hash_128(&(*number as i128).to_le_bytes())
        }
        _ => hash_128(value.key().as_bytes()),
    }
}

/// The key hash of a string value (as [`key_hash`] of a [`Value::Text`], without allocating).
fn text_key_hash(text: &str) -> u128 {
    hash_128(text.as_bytes()) ^ 0x5bd1_e995
}

fn hash_128(key: &[u8]) -> u128 {
    let mut first = std::hash::DefaultHasher::new();
    first.write(key);
    let mut second = std::hash::DefaultHasher::new();
    second.write_u8(1);
    second.write(key);
    let hash = (u128::from(first.finish()) << 64) | u128::from(second.finish());
    hash.max(1)
}

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
    /// The checks and keys of recent cell texts, while the column has few distinct values.
    cache: FxHashMap<Box<[u8]>, (u16, u128)>,
    cache_on: bool,
    /// The value keys seen so far (the `unique` constraint).
    seen: FxHashSet<u128>,
    unique: bool,
    /// Whether the column's value keys are needed (`unique`, primary key).
    keyed: bool,
    /// The current batch's value keys, when keyed ([`NO_KEY`] for no value).
    keys: Vec<u128>,
    /// The current batch's cell hashes (duplicate rows).
    cell_hashes: Vec<u64>,
    /// Failing rows per check bit.
    counts: [u64; 12],
    examples: [Vec<FailingRow>; 12],
    nulls: u64,
    /// Numbers that are not finite (NaN, ±infinity).
    non_finite: u64,
}

/// Checks the table in `spec` against `schema`.
pub fn run(spec: &ValidateSpec, schema: &Schema) -> Result<SchemaCheck> {
    let path = spec.table.as_path();
    let mut info = table::describe(path)?;
    let parquet = info.format == TableFormat::Parquet;
    // A nested Parquet column (list, map, struct) is one column named by its root, not
    // one per leaf (`tags.list.element`).
    let mut roots: Vec<String> = Vec::new();
    info.columns.retain_mut(|column| {
        if column.kind != ColumnKind::Nested {
            return true;
        }
        column.name = column.name.split('.').next().unwrap_or_default().to_string();
        if roots.contains(&column.name) {
            return false;
        }
        roots.push(column.name.clone());
        true
    });
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
            // Not read: present, and of the field's type only when the field is `any`.
            if field.is_some() {
                columns.push(new_column(column.name.clone(), field, Native::Text, compatible, spec));
            }
            continue;
        }
        if parquet && column.kind == ColumnKind::Timestamp && !units.contains_key(&column.name) {
            return Err(invalid(path, format!("column `{}` is an INT96 timestamp, which cannot be read", column.name))
                .hint("write timestamps as INT64 (pyarrow: coerce_timestamps=\"us\"; Spark: spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS)"));
        }
        let native = if parquet {
            match column.kind {
                ColumnKind::String | ColumnKind::Binary => Native::Text,
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
        let want = if native == Native::Text { Want::Raw } else { Want::Number };
        requests.push(ColumnRequest { name: column.name.clone(), want, role: "schema".into() });
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
    }

    // Read.
    let mut table = Table::open(path, &requests)?;
    let mut batch = table.new_batch();
    // Parquet says how many rows there are: size the key sets once.
    let expected = table.total_rows().unwrap_or(0).min(1 << 24) as usize;
    let mut primary_keys: FxHashMap<u128, u64> =
        FxHashMap::with_capacity_and_hasher(if primary_key.is_some() { expected } else { 0 }, Default::default());
    let mut row_hashes: FxHashMap<u128, u64> =
        FxHashMap::with_capacity_and_hasher(if spec.duplicate_rows { expected } else { 0 }, Default::default());
    for column in columns.iter_mut().filter(|column| column.unique) {
        column.seen.reserve(expected);
    }
    let mut pk_counts = 0u64;
    let mut pk_examples: Vec<FailingRow> = Vec::new();
    let mut duplicate_counts = 0u64;
    let mut duplicate_examples: Vec<FailingRow> = Vec::new();
    let mut hashes: Vec<(u64, u64)> = Vec::new();
    let mut first_batch = true;
    // Two batches in flight: the next one is read while the current one is checked.
    let mut spare = table.new_batch();
    let mut raws: Vec<RawCells> = vec![RawCells::default(); requests.len()];
    let mut spare_raws = raws.clone();
    let mut more = table.next_batch(&mut batch)?;
    table.swap_raw(&mut raws);
    while more {
        let rows = batch.rows;
        hashes.clear();
        hashes.resize(rows, (0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344));
        // A helper thread checks two columns in three; this thread reads the next batch,
        // then checks the rest. The columns' cell hashes then make the rows'.
        let (mine, helper): (Vec<_>, Vec<_>) = columns
            .iter_mut()
            .enumerate()
            .filter(|(index, _)| read_columns.contains(index))
            .enumerate()
            .map(|(request, (_, column))| (request, column))
            .partition(|(request, _)| request % 3 == 0);
        let work = |part: Vec<(usize, &mut Column)>| {
            for (request, column) in part {
                let field = column.field.map(|f| &schema.fields[f]);
                let values = &batch.columns[request];
                column.process(
                    field,
                    &schema.missing_values,
                    values,
                    &raws[request],
                    batch.first_row,
                    spec.max_examples,
                );
            }
        };
        let mut next = Ok(false);
        std::thread::scope(|scope| {
            scope.spawn(|| work(helper));
            next = table.next_batch(&mut spare);
            table.swap_raw(&mut spare_raws);
            work(mine);
        });
        for (request, &index) in read_columns.iter().enumerate() {
            let salt = (request as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            for (hash, &cell) in hashes.iter_mut().zip(&columns[index].cell_hashes) {
                mix(hash, cell ^ salt);
            }
        }
        if first_batch {
            // A column with many distinct values gains nothing from the cache.
            for column in &mut columns {
                if column.cache.len() >= CACHE {
                    column.cache_on = false;
                    column.cache = FxHashMap::default();
                }
            }
            first_batch = false;
        }
        if let Some(key_columns) = &primary_key {
            for row in 0..rows {
                let mut key: u128 = 0;
                let mut empty = true;
                for &request in key_columns {
                    let part = columns[read_columns[request]].keys[row];
                    empty &= part == NO_KEY;
                    key = (key.rotate_left(29) ^ part).wrapping_mul(0x2d35_8dcc_aa6c_78a5_8bb8_4b93_962e_acc9);
                }
                let number = batch.first_row + row as u64 + 1;
                let failure = if empty {
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
        std::mem::swap(&mut batch, &mut spare);
        std::mem::swap(&mut raws, &mut spare_raws);
        more = next?;
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
        cache: FxHashMap::default(),
        cache_on: true,
        seen: FxHashSet::default(),
        unique: false,
        keyed: false,
        keys: Vec::new(),
        cell_hashes: Vec::new(),
        counts: [0; 12],
        examples: Default::default(),
        nulls: 0,
        non_finite: 0,
    }
}

impl Column {
    /// Checks the column's cells in a batch: counts, examples, keys and cell hashes.
    fn process(
        &mut self,
        field: Option<&Field>,
        missing_values: &[String],
        values: &Values,
        cells: &RawCells,
        first_row: u64,
        max_examples: usize,
    ) {
        self.keys.clear();
        self.cell_hashes.clear();
        match values {
            Values::Numbers(numbers) => {
                for (row, &number) in numbers.iter().enumerate() {
                    let (status, value) = match field {
                        _ if number.is_nan() => (field.map_or(NULL, null_status), None),
                        Some(field) if self.values => classify_native(field, self.native, number),
                        _ => (0, None),
                    };
                    let key = if self.keyed { value.as_ref().map_or(NO_KEY, key_hash) } else { NO_KEY };
                    let text = || value.as_ref().map_or_else(String::new, render);
                    self.observe(status, key, first_row + row as u64 + 1, text, max_examples);
                    let cell = if number.is_nan() { NULL_HASH } else { hash_text(&number.to_bits().to_le_bytes()) };
                    self.cell_hashes.push(cell);
                }
            }
            Values::Codes(_) => {
                for row in 0..cells.len() {
                    let cell = cells.get(row);
                    let (status, key) = match cell {
                        None => (field.map_or(NULL, null_status), NO_KEY),
                        Some(bytes) => self.classify_cell(field, missing_values, bytes),
                    };
                    let text = || cell.map(|bytes| String::from_utf8_lossy(bytes).into_owned()).unwrap_or_default();
                    self.observe(status, key, first_row + row as u64 + 1, text, max_examples);
                    self.cell_hashes.push(cell.map_or(NULL_HASH, hash_text));
                }
            }
        }
    }

    /// The failed checks and the value key of a cell given as text.
    fn classify_cell(&mut self, field: Option<&Field>, missing_values: &[String], bytes: &[u8]) -> (u16, u128) {
        if self.cache_on {
            if let Some(&hit) = self.cache.get(bytes) {
                return hit;
            }
        }
        let missing = || missing_values.iter().any(|missing| missing.as_bytes() == bytes);
        let (status, value) = match (field, std::str::from_utf8(bytes)) {
            (None, _) => (if missing() { NULL } else { 0 }, None),
            (Some(field), _) if !self.values => (if missing() { null_status(field) } else { 0 }, None),
            // Strings, the common case, are checked without copying them.
            (Some(field), Ok(text)) if field.reader.field_type == FieldType::String => {
                let (status, key) = if missing() {
                    (null_status(field), NO_KEY)
                } else if !types::read_string(&field.reader.format, text) {
                    (TYPE, NO_KEY)
                } else {
                    (check_text(field, text), if self.keyed { text_key_hash(text) } else { NO_KEY })
                };
                if self.cache_on && self.cache.len() < CACHE {
                    self.cache.insert(bytes.into(), (status, key));
                }
                return (status, key);
            }
            (Some(field), Ok(text)) => classify(field, missing_values, Native::Text, text),
            (Some(field), Err(_)) => (if missing() { null_status(field) } else { TYPE }, None),
        };
        let key = if self.keyed { value.as_ref().map_or(NO_KEY, key_hash) } else { NO_KEY };
        if self.cache_on && self.cache.len() < CACHE {
            self.cache.insert(bytes.into(), (status, key));
        }
        (status, key)
    }

    /// Counts a cell's failed checks (keeping examples), and its key for `unique`.
    fn observe(&mut self, mut status: u16, key: u128, row: u64, text: impl Fn() -> String, max_examples: usize) {
        if self.unique && key != NO_KEY && !self.seen.insert(key) {
            status |= UNIQUE;
        }
        if self.keyed {
            self.keys.push(key);
        }
        if status == 0 {
            return;
        }
        if status & NULL != 0 {
            self.nulls += 1;
        }
        if status & NON_FINITE != 0 {
            self.non_finite += 1;
        }
        let mut failures = status & FAILURES;
        while failures != 0 {
            let bit = failures.trailing_zeros() as usize;
            failures &= failures - 1;
            self.counts[bit] += 1;
            if self.examples[bit].len() < max_examples {
                let value = if self.sensitive { REDACTED.to_string() } else { text() };
                self.examples[bit].push(FailingRow { row, value });
            }
        }
    }
}

/// Adds a cell's hash to its row's.
fn mix(hash: &mut (u64, u64), cell: u64) {
    hash.0 = (hash.0 ^ cell).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(23);
    hash.1 = (hash.1.rotate_left(17) ^ cell.wrapping_mul(0xff51_afd7_ed55_8ccd)).wrapping_add(0x2545_f491);
}

/// A typed Parquet value as text, for examples.
fn render(value: &Value) -> String {
    match value {
        Value::Integer(value) => value.to_string(),
        Value::Number(value) => value.to_string(),
        Value::Boolean(value) => value.to_string(),
        Value::Date(value) => value.to_string(),
        Value::Datetime(value) => value.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        Value::Time(value) => value.to_string(),
        Value::Year(value) => value.to_string(),
        Value::Yearmonth(year, month) => format!("{year}-{month:02}"),
        Value::Text(value) => value.clone(),
        Value::Json(value) => value.to_string(),
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
    check(field, types::read(&field.reader, text))
}

/// The failed checks of a Parquet number (boolean, integer, float, date, time, timestamp).
fn classify_native(field: &Field, native: Native, number: f64) -> (u16, Option<Value>) {
    let units = number as i64;
    let value = match native {
        Native::Text => None,
        Native::Boolean => Some(Value::Boolean(number != 0.0)),
        Native::Number => match field.reader.field_type {
            FieldType::Integer if number.fract() == 0.0 => Some(Value::Integer(number as i128)),
            FieldType::Year => {
                (number.fract() == 0.0 && (0.0..=9999.0).contains(&number)).then_some(Value::Year(units))
            }
            FieldType::Integer => None,
            _ => Some(Value::Number(number)),
        },
        Native::Days => types::date_from_days(units).map(Value::Date),
        Native::Timestamp(per_second) => {
            let seconds = units.div_euclid(per_second);
            let nanos = (units.rem_euclid(per_second) * (1_000_000_000 / per_second)) as u32;
            DateTime::from_timestamp(seconds, nanos).map(|dt| Value::Datetime(dt.naive_utc()))
        }
        Native::Time(per_second) => u32::try_from(units.div_euclid(per_second)).ok().and_then(|seconds| {
            let nanos = (units.rem_euclid(per_second) * (1_000_000_000 / per_second)) as u32;
            NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos).map(Value::Time)
        }),
    };
    check(field, value)
}

/// The constraints a string value fails.
fn check_text(field: &Field, text: &str) -> u16 {
    let constraints = &field.constraints;
    let mut status = 0;
    if constraints.min_length.is_some() || constraints.max_length.is_some() {
        let length = text.chars().count() as u64;
        if constraints.min_length.is_some_and(|min| length < min) {
            status |= MIN_LENGTH;
        }
        if constraints.max_length.is_some_and(|max| length > max) {
            status |= MAX_LENGTH;
        }
    }
    if let Some((_, regex)) = &constraints.pattern {
        if !regex.is_match(text) {
            status |= PATTERN;
        }
    }
    if let Some((allowed, _)) = &constraints.enumeration {
        if !allowed.iter().any(|key| key.strip_prefix('s') == Some(text)) {
            status |= ENUM;
        }
    }
    status
}

/// The constraints `value` fails; [`TYPE`] when there is no value of the field's type.
fn check(field: &Field, value: Option<Value>) -> (u16, Option<Value>) {
    let Some(value) = value else { return (TYPE, None) };
    let constraints = &field.constraints;
    let mut status = 0;
    if matches!(value, Value::Number(number) if !number.is_finite()) {
        status |= NON_FINITE;
    }
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

/// Units per second of each TIME and TIMESTAMP column of a Parquet file.
fn parquet_units(path: &Path) -> Result<FxHashMap<String, i64>> {
    let file = crate::input::open(path)?;
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
        non_finite: 0,
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
    report.non_finite = column.non_finite;
    report.null_rate = (rows > 0).then(|| column.nulls as f64 / rows as f64);
    if !column.values {
        let kind = info.columns.iter().find(|c| c.name == field.name).map_or("unknown", |c| c.kind.name());
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
