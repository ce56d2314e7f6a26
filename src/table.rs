//! Streaming, column-projected reading of a table (predictions, training data): CSV (gzip-compressed or not,
//! detected by content) and Parquet.
//!
//! Only the requested columns are read, in batches of at most [`BATCH_ROWS`] rows, so
//! memory does not grow with the file. Each column is read either as a *category*
//! (values interned into a per-column dictionary, one `u32` code per row) or as a
//! *number* (`f64`, `NaN` for a missing cell). Missing cells are the empty cell and
//! the tokens pandas reads as missing (`NA`, `NaN`, `null`, `None`, …); a cell that is
//! present but not a number, in a number column, is an error naming the row.

use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::column::reader::ColumnReader;
use parquet::data_type::ByteArray;
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::error::{Error, ErrorKind, Result};
use crate::input::BoundedLines;

/// Rows per batch.
pub const BATCH_ROWS: usize = 64 * 1024;

/// The code of a missing cell in a category column.
pub const MISSING: u32 = u32::MAX;

/// The cell texts pandas' `read_csv` treats as missing by default (see [`is_missing_token`]).
const MISSING_TOKENS: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
];

pub fn is_missing_token(bytes: &[u8]) -> bool {
    MISSING_TOKENS.iter().any(|token| token.as_bytes() == bytes)
}

/// How a column is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Category,
    Number,
    /// The cell bytes exactly as written (not trimmed, no missing tokens), kept for the
    /// current batch only: read them with [`Table::raw`]. CSV, and Parquet string columns.
    Raw,
}

/// One requested column.
#[derive(Debug, Clone)]
pub struct ColumnRequest {
    pub name: String,
    pub want: Want,
    /// What the column is for (`label`, `score`, …), for error messages.
    pub role: String,
}

/// The values of one column in a batch.
#[derive(Debug, Clone)]
pub enum Values {
    /// Dictionary codes ([`MISSING`] for a missing cell).
    Codes(Vec<u32>),
    /// Numbers (`NaN` for a missing cell).
    Numbers(Vec<f64>),
}

impl Values {
    pub fn codes(&self) -> &[u32] {
        match self {
            Values::Codes(codes) => codes,
            Values::Numbers(_) => &[],
        }
    }

    pub fn numbers(&self) -> &[f64] {
        match self {
            Values::Numbers(numbers) => numbers,
            Values::Codes(_) => &[],
        }
    }

    fn clear(&mut self) {
        match self {
            Values::Codes(codes) => codes.clear(),
            Values::Numbers(numbers) => numbers.clear(),
        }
    }
}

/// A batch of rows: one [`Values`] per requested column, in request order.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Index of the batch's first row in the file (0-based, header excluded).
    pub first_row: u64,
    pub rows: usize,
    pub columns: Vec<Values>,
}

/// Interned values of a category column.
#[derive(Debug, Default, Clone)]
pub struct Dictionary {
    values: Vec<String>,
    index: FxHashMap<Vec<u8>, u32>,
    /// Codes of small non-negative integers (labels, classes), by value.
    small_integers: Vec<u32>,
    /// The code returned last: runs of equal values are common.
    last: Option<u32>,
}

/// Integers below this are looked up in a table instead of being formatted.
const SMALL_INTEGERS: i64 = 1024;

impl Dictionary {
    /// The code of `bytes`, adding it when new.
    pub fn intern(&mut self, bytes: &[u8]) -> u32 {
        if let Some(code) = self.last.filter(|&code| self.values[code as usize].as_bytes() == bytes) {
            return code;
        }
        let code = self.lookup(bytes);
        self.last = Some(code);
        code
    }

    /// The code of an integer value, whose text is its decimal form.
    pub fn intern_integer(&mut self, value: i64) -> u32 {
        if !(0..SMALL_INTEGERS).contains(&value) {
            return self.intern(value.to_string().as_bytes());
        }
        let slot = value as usize;
        if let Some(&code) = self.small_integers.get(slot).filter(|&&code| code != MISSING) {
            return code;
        }
        let code = self.intern(value.to_string().as_bytes());
        if self.small_integers.len() <= slot {
            self.small_integers.resize(slot + 1, MISSING);
        }
        self.small_integers[slot] = code;
        code
    }

    fn lookup(&mut self, bytes: &[u8]) -> u32 {
        // Sensitive attributes and labels have few values: a scan beats hashing.
        if self.values.len() <= 8 {
            if let Some(code) = self.values.iter().position(|value| value.as_bytes() == bytes) {
                return code as u32;
            }
        } else if let Some(&code) = self.index.get(bytes) {
            return code;
        }
        let code = self.values.len() as u32;
        self.values.push(String::from_utf8_lossy(bytes).into_owned());
        self.index.insert(bytes.to_vec(), code);
        code
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    pub fn value(&self, code: u32) -> &str {
        self.values.get(code as usize).map(String::as_str).unwrap_or("")
    }
}

/// An open table being read batch by batch.
pub struct Table {
    path: PathBuf,
    pub format: TableFormat,
    requests: Vec<ColumnRequest>,
    dictionaries: Vec<Dictionary>,
    source: Source,
    rows_read: u64,
    /// Missing cells per requested column: empty cells and pandas' missing tokens (`NA`,
    /// `null`, …) in CSV, nulls in Parquet.
    pub missing: Vec<u64>,
    /// Values that are numbers but not finite, per requested [`Want::Number`] column: NaN
    /// (a Parquet NaN, a CSV `NaN`/`nan`) and ±infinity. Counted apart from missing cells:
    /// a column of infinities is not a column with gaps.
    pub non_finite: Vec<u64>,
    /// The current batch's cells of the [`Want::Raw`] columns.
    raw: Vec<RawCells>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    CsvGzip,
    Parquet,
}

impl TableFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::CsvGzip => "csv+gzip",
            TableFormat::Parquet => "parquet",
        }
    }
}

enum Source {
    Csv { reader: csv::Reader<Box<dyn Read>>, positions: Vec<usize>, record: csv::ByteRecord },
    Parquet(Box<ParquetSource>),
}

struct ParquetSource {
    reader: SerializedFileReader<File>,
    /// Leaf column index of each request.
    leaves: Vec<usize>,
    /// Maximum definition level of each request's column (0 when required).
    max_def: Vec<i16>,
    row_group: usize,
    /// Column readers of the current row group, one per request.
    readers: Vec<ColumnReader>,
    remaining_in_group: u64,
    total_rows: u64,
    def_levels: Vec<i16>,
}

impl Table {
    /// Opens `path`, checks that every requested column exists, and reads nothing else yet.
    pub fn open(path: &Path, requests: &[ColumnRequest]) -> Result<Table> {
        let format = detect(path)?;
        let source = match format {
            TableFormat::Parquet => guarded(path, || open_parquet(path, requests))?,
            TableFormat::CsvGzip | TableFormat::Csv => open_csv(path, csv_input(path, format)?, requests)?,
        };
        Ok(Table {
            path: path.to_path_buf(),
            format,
            requests: requests.to_vec(),
            dictionaries: vec![Dictionary::default(); requests.len()],
            source,
            rows_read: 0,
            missing: vec![0; requests.len()],
            non_finite: vec![0; requests.len()],
            raw: vec![RawCells::default(); requests.len()],
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows in the file, when the format says so up front (Parquet).
    pub fn total_rows(&self) -> Option<u64> {
        match &self.source {
            Source::Parquet(source) => Some(source.total_rows),
            Source::Csv { .. } => None,
        }
    }

    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }

    pub fn dictionary(&self, column: usize) -> &Dictionary {
        &self.dictionaries[column]
    }

    /// A new, empty batch shaped for this table's requests.
    pub fn new_batch(&self) -> Batch {
        let columns = self
            .requests
            .iter()
            .map(|request| match request.want {
                Want::Category | Want::Raw => Values::Codes(Vec::new()),
                Want::Number => Values::Numbers(Vec::with_capacity(BATCH_ROWS)),
            })
            .collect();
        Batch { first_row: 0, rows: 0, columns }
    }

    /// Fills `batch` with the next rows; `false` when the table is exhausted.
    pub fn next_batch(&mut self, batch: &mut Batch) -> Result<bool> {
        batch.columns.iter_mut().for_each(Values::clear);
        self.raw.iter_mut().for_each(RawCells::clear);
        batch.first_row = self.rows_read;
        batch.rows = 0;
        let rows = match &mut self.source {
            Source::Csv { reader, positions, record } => read_csv_batch(
                &self.path,
                reader,
                positions,
                record,
                &self.requests,
                &mut self.dictionaries,
                Counts { missing: &mut self.missing, non_finite: &mut self.non_finite },
                self.rows_read,
                batch,
                &mut self.raw,
            )?,
            Source::Parquet(source) => guarded(&self.path, || {
                read_parquet_batch(
                    &self.path,
                    source,
                    &self.requests,
                    &mut self.dictionaries,
                    Counts { missing: &mut self.missing, non_finite: &mut self.non_finite },
                    batch,
                    &mut self.raw,
                )
            })?,
        };
        batch.rows = rows;
        self.rows_read += rows as u64;
        Ok(rows > 0)
    }
}

/// The format of the table at `path`, by content: Parquet magic, gzip magic, else CSV.
pub fn detect(path: &Path) -> Result<TableFormat> {
    let mut file = crate::input::open(path)?;
    let mut magic = [0u8; 4];
    let read = read_prefix(&mut file, &mut magic).map_err(|source| Error::read(path, source))?;
    let magic = &magic[..read];
    if magic == b"PAR1" {
        Ok(TableFormat::Parquet)
    } else if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(TableFormat::CsvGzip)
    } else if read == 0 {
        Err(invalid(path, "the file is empty (no header, no rows)")
            .hint("write the table with a header row and at least one data row"))
    } else {
        Ok(TableFormat::Csv)
    }
}

/// The text of a CSV table, decompressed, with every line bounded: a file without line
/// breaks (or a gzip bomb of one line) fails instead of filling memory.
fn csv_input(path: &Path, format: TableFormat) -> Result<Box<dyn Read>> {
    let file = crate::input::open(path)?;
    let max = crate::input::MAX_LINE_BYTES;
    Ok(if format == TableFormat::CsvGzip {
        Box::new(BoundedLines::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)), max))
    } else {
        Box::new(BoundedLines::new(BufReader::with_capacity(1 << 20, file), max))
    })
}

/// Refuses a table whose header names a column twice: which of the two a check reads
/// would be a guess.
fn refuse_duplicate_columns(path: &Path, names: &[String]) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for name in names {
        if !seen.insert(name.as_str()) {
            return Err(invalid(path, format!("the column `{name}` appears twice in the header"))
                .hint("give every column its own name: a check could read either of the two"));
        }
    }
    Ok(())
}

/// What a column holds, as far as the file says before any value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Boolean,
    Integer,
    Number,
    Decimal,
    String,
    Date,
    Time,
    Timestamp,
    Binary,
    /// A nested or repeated column (a list, a map, a struct field).
    Nested,
    /// CSV: the text of each cell; its type is what the values look like.
    Text,
}

impl ColumnKind {
    /// The kind in words, for messages.
    pub fn name(self) -> &'static str {
        match self {
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
}

/// One column of a table, as its header or schema declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    pub kind: ColumnKind,
    /// Parquet: may the column hold nulls? CSV: always true.
    pub nullable: bool,
}

/// A table's format, columns and (Parquet) row count, without reading any row.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub format: TableFormat,
    pub columns: Vec<ColumnInfo>,
    pub rows: Option<u64>,
}

/// Lists the columns of the table at `path`.
pub fn describe(path: &Path) -> Result<TableInfo> {
    let format = detect(path)?;
    if format == TableFormat::Parquet {
        let file = crate::input::open(path)?;
        let reader = guarded(path, || SerializedFileReader::new(file).map_err(|error| parquet_error(path, error)))?;
        let metadata = reader.metadata().file_metadata();
        let schema = metadata.schema_descr();
        let names: Vec<String> = (0..schema.num_columns()).map(|leaf| schema.column(leaf).path().string()).collect();
        refuse_duplicate_columns(path, &names)?;
        let columns = (0..schema.num_columns())
            .map(|leaf| {
                let column = schema.column(leaf);
                ColumnInfo {
                    name: column.path().string(),
                    kind: parquet_kind(&column),
                    nullable: column.max_def_level() > 0,
                }
            })
            .collect();
        return Ok(TableInfo { format, columns, rows: Some(metadata.num_rows().max(0) as u64) });
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(csv_input(path, format)?);
    let headers = reader.byte_headers().map_err(|error| csv_error(path, &error))?;
    let names: Vec<String> = headers.iter().map(|name| String::from_utf8_lossy(name).trim().to_string()).collect();
    refuse_duplicate_columns(path, &names)?;
    let columns = names.into_iter().map(|name| ColumnInfo { name, kind: ColumnKind::Text, nullable: true }).collect();
    Ok(TableInfo { format, columns, rows: None })
}

fn parquet_kind(column: &parquet::schema::types::ColumnDescriptor) -> ColumnKind {
    if column.max_rep_level() > 0 || column.path().parts().len() > 1 {
        return ColumnKind::Nested;
    }
    let logical = column.logical_type_ref();
    if is_decimal(logical, column.converted_type()) {
        return ColumnKind::Decimal;
    }
    match logical {
        Some(LogicalType::Date) => return ColumnKind::Date,
        Some(LogicalType::Time { .. }) => return ColumnKind::Time,
        Some(LogicalType::Timestamp { .. }) => return ColumnKind::Timestamp,
        Some(LogicalType::String | LogicalType::Enum | LogicalType::Json) => return ColumnKind::String,
        _ => {}
    }
    match column.converted_type() {
        ConvertedType::DATE => return ColumnKind::Date,
        ConvertedType::TIME_MILLIS | ConvertedType::TIME_MICROS => return ColumnKind::Time,
        ConvertedType::TIMESTAMP_MILLIS | ConvertedType::TIMESTAMP_MICROS => return ColumnKind::Timestamp,
        ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON => return ColumnKind::String,
        _ => {}
    }
    match column.physical_type() {
        PhysicalType::BOOLEAN => ColumnKind::Boolean,
        PhysicalType::INT32 | PhysicalType::INT64 => ColumnKind::Integer,
        PhysicalType::FLOAT | PhysicalType::DOUBLE => ColumnKind::Number,
        PhysicalType::INT96 => ColumnKind::Timestamp,
        PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY => ColumnKind::Binary,
    }
}

fn read_prefix(file: &mut File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::DataInvalid, format!("{}: {message}", path.display()))
}

fn missing_column(path: &Path, request: &ColumnRequest, existing: &[String]) -> Error {
    // Column names, each cut short, and not all of a long header: a file that is not a
    // table may hold anything in its first line.
    let mut listed: Vec<String> =
        existing.iter().take(40).map(|name| format!("`{}`", crate::error::excerpt(name))).collect();
    if existing.len() > 40 {
        listed.push(format!("… ({} in all)", existing.len()));
    }
    invalid(
        path,
        format!("no column `{}` (the {} column); the file has: {}", request.name, request.role, listed.join(", ")),
    )
    .hint(format!(
        "name the {} column as it is spelled in the file's header (column names are case-sensitive)",
        request.role
    ))
}

// ---------------------------------------------------------------- CSV

fn open_csv(path: &Path, input: Box<dyn Read>, requests: &[ColumnRequest]) -> Result<Source> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(input);
    let headers = reader.byte_headers().map_err(|error| csv_error(path, &error))?.clone();
    let names: Vec<String> = headers.iter().map(|name| String::from_utf8_lossy(name).trim().to_string()).collect();
    if names.iter().all(String::is_empty) {
        return Err(
            invalid(path, "the file has no header row").hint("write the table with a header row naming its columns")
        );
    }
    refuse_duplicate_columns(path, &names)?;
    let positions = requests
        .iter()
        .map(|request| {
            names.iter().position(|name| *name == request.name).ok_or_else(|| missing_column(path, request, &names))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Source::Csv { reader, positions, record: csv::ByteRecord::new() })
}

fn csv_error(path: &Path, error: &csv::Error) -> Error {
    let at = error.position().map(|position| format!(" at line {}", position.line())).unwrap_or_default();
    let hint = match error.kind() {
        csv::ErrorKind::UnequalLengths { .. } => {
            "every row must have as many fields as the header; check for unquoted commas or a truncated last line"
        }
        csv::ErrorKind::Io(_) => "the file may be truncated or not valid gzip; re-export it",
        _ => "check that the file is a comma-separated table with a header row",
    };
    invalid(path, format!("cannot read the CSV table{at}: {error}")).hint(hint)
}

#[allow(clippy::too_many_arguments)]
fn read_csv_batch(
    path: &Path,
    reader: &mut csv::Reader<Box<dyn Read>>,
    positions: &[usize],
    record: &mut csv::ByteRecord,
    requests: &[ColumnRequest],
    dictionaries: &mut [Dictionary],
    counts: Counts,
    first_row: u64,
    batch: &mut Batch,
    raw: &mut [RawCells],
) -> Result<usize> {
    let Counts { missing, non_finite } = counts;
    let mut rows = 0;
    while rows < BATCH_ROWS {
        if !reader.read_byte_record(record).map_err(|error| csv_error(path, &error))? {
            break;
        }
        let row = first_row + rows as u64;
        for (column, &position) in positions.iter().enumerate() {
            let cell = record.get(position).unwrap_or_default();
            if requests[column].want == Want::Raw {
                raw[column].push(Some(cell));
                continue;
            }
            let cell = trim(cell);
            match &mut batch.columns[column] {
                Values::Codes(codes) => {
                    if is_missing_token(cell) {
                        // `NaN` is a number that is not finite; `NA`, `null` and empty are gaps.
                        if parse_number(cell).is_some() {
                            non_finite[column] += 1;
                        } else {
                            missing[column] += 1;
                        }
                        codes.push(MISSING);
                    } else {
                        codes.push(dictionaries[column].intern(cell));
                    }
                }
                Values::Numbers(numbers) => match parse_number(cell) {
                    // `NaN`, `inf`, `-Infinity`: numbers, but not finite ones.
                    Some(value) => {
                        if !value.is_finite() {
                            non_finite[column] += 1;
                        }
                        numbers.push(value);
                    }
                    None if is_missing_token(cell) => {
                        missing[column] += 1;
                        numbers.push(f64::NAN);
                    }
                    None => return Err(not_a_number(path, &requests[column], row, cell)),
                },
            }
        }
        rows += 1;
    }
    Ok(rows)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn parse_number(cell: &[u8]) -> Option<f64> {
    std::str::from_utf8(cell).ok()?.parse::<f64>().ok()
}

fn not_a_number(path: &Path, request: &ColumnRequest, row: u64, cell: &[u8]) -> Error {
    invalid(
        path,
        format!(
            "data row {} (line {}): the {} column `{}` holds \"{}\", which is not a number",
            row + 1,
            row + 2,
            request.role,
            request.name,
            crate::error::excerpt(&String::from_utf8_lossy(cell))
        ),
    )
    .hint(format!("the {} column must hold numbers; fix or remove that row, or name another column", request.role))
}

// ---------------------------------------------------------------- Parquet

/// Runs a Parquet read, turning a panic of the decoder into an error. The parquet crate
/// asserts on some corrupt inputs instead of returning an error (found by fuzzing: an
/// RLE run header longer than a varint may be); a corrupt file must fail closed with a
/// message, not crash. The panic's own report is silenced, the error says it all.
fn guarded<T>(path: &Path, read: impl FnOnce() -> Result<T>) -> Result<T> {
    thread_local! {
        static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = GUARDED.with(|flag| flag.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    GUARDED.with(|flag| flag.set(outer));
    result.unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("decoder failure");
        Err(invalid(path, format!("cannot read the Parquet file: corrupt data ({detail})"))
            .hint("the file is corrupt; re-export it (pandas: DataFrame.to_parquet)"))
    })
}

fn parquet_error(path: &Path, error: parquet::errors::ParquetError) -> Error {
    invalid(path, format!("cannot read the Parquet file: {error}"))
        .hint("the file may be truncated or corrupt; re-export it (pandas: DataFrame.to_parquet)")
}

fn open_parquet(path: &Path, requests: &[ColumnRequest]) -> Result<Source> {
    let file = crate::input::open(path)?;
    let reader = SerializedFileReader::new(file).map_err(|error| parquet_error(path, error))?;
    let metadata = reader.metadata();
    let schema = metadata.file_metadata().schema_descr();
    let names: Vec<String> = (0..schema.num_columns()).map(|i| schema.column(i).path().string()).collect();
    refuse_duplicate_columns(path, &names)?;
    let mut leaves = Vec::with_capacity(requests.len());
    let mut max_def = Vec::with_capacity(requests.len());
    for request in requests {
        let leaf =
            names.iter().position(|name| *name == request.name).ok_or_else(|| missing_column(path, request, &names))?;
        let column = schema.column(leaf);
        if column.max_rep_level() > 0 {
            return Err(invalid(path, format!("column `{}` is a list, not one value per row", request.name))
                .hint(format!("the {} column must hold one scalar value per row", request.role)));
        }
        let physical = column.physical_type();
        let numeric = matches!(
            physical,
            PhysicalType::INT32
                | PhysicalType::INT64
                | PhysicalType::FLOAT
                | PhysicalType::DOUBLE
                | PhysicalType::BOOLEAN
        );
        let supported = match request.want {
            Want::Number => numeric && !is_decimal(column.logical_type_ref(), column.converted_type()),
            Want::Category => numeric || physical == PhysicalType::BYTE_ARRAY,
            Want::Raw => physical == PhysicalType::BYTE_ARRAY,
        };
        if !supported {
            let hint = match request.want {
                Want::Number => format!("the {} column must be a numeric column (int, float or double)", request.role),
                Want::Category => format!("the {} column must be a string, integer or boolean column", request.role),
                Want::Raw => format!("the {} column must be a string column", request.role),
            };
            return Err(invalid(
                path,
                format!(
                    "column `{}` has Parquet type {physical}, which cannot be read as the {} column",
                    request.name, request.role
                ),
            )
            .hint(hint));
        }
        leaves.push(leaf);
        max_def.push(column.max_def_level());
    }
    let total_rows = metadata.file_metadata().num_rows().max(0) as u64;
    Ok(Source::Parquet(Box::new(ParquetSource {
        reader,
        leaves,
        max_def,
        row_group: 0,
        readers: Vec::new(),
        remaining_in_group: 0,
        total_rows,
        def_levels: Vec::with_capacity(BATCH_ROWS),
    })))
}

fn is_decimal(logical: Option<&LogicalType>, converted: ConvertedType) -> bool {
    matches!(logical, Some(LogicalType::Decimal { .. })) || converted == ConvertedType::DECIMAL
}

fn read_parquet_batch(
    path: &Path,
    source: &mut ParquetSource,
    requests: &[ColumnRequest],
    dictionaries: &mut [Dictionary],
    counts: Counts,
    batch: &mut Batch,
    raw: &mut [RawCells],
) -> Result<usize> {
    let Counts { missing, non_finite } = counts;
    while source.remaining_in_group == 0 {
        if source.row_group >= source.reader.num_row_groups() {
            return Ok(0);
        }
        let group = source.reader.get_row_group(source.row_group).map_err(|error| parquet_error(path, error))?;
        source.remaining_in_group = group.metadata().num_rows().max(0) as u64;
        source.readers = source
            .leaves
            .iter()
            .map(|&leaf| group.get_column_reader(leaf))
            .collect::<parquet::errors::Result<Vec<_>>>()
            .map_err(|error| parquet_error(path, error))?;
        source.row_group += 1;
    }
    let want = (source.remaining_in_group as usize).min(BATCH_ROWS);
    for (column, reader) in source.readers.iter_mut().enumerate() {
        source.def_levels.clear();
        if requests[column].want == Want::Raw {
            let read = read_parquet_raw(reader, want, source.max_def[column], &mut source.def_levels, &mut raw[column])
                .map_err(|error| parquet_error(path, error))?;
            if read != want {
                return Err(cut_short(path, &requests[column].name, read, want));
            }
            missing[column] += raw[column].nulls.iter().filter(|&&null| null).count() as u64;
            continue;
        }
        let read = read_parquet_column(
            reader,
            want,
            source.max_def[column],
            &mut source.def_levels,
            &mut batch.columns[column],
            &mut dictionaries[column],
        )
        .map_err(|error| parquet_error(path, error))?;
        if read != want {
            return Err(cut_short(path, &requests[column].name, read, want));
        }
        // Nulls are rows below the column's full definition level; a NaN that is there is
        // a value, not a gap.
        let max_def = source.max_def[column];
        let nulls = source.def_levels.iter().filter(|&&level| level != max_def).count() as u64;
        missing[column] += nulls;
        if let Values::Numbers(numbers) = &batch.columns[column] {
            let not_finite = numbers.iter().filter(|value| !value.is_finite()).count() as u64;
            non_finite[column] += not_finite.saturating_sub(nulls);
        }
    }
    source.remaining_in_group -= want as u64;
    Ok(want)
}

fn cut_short(path: &Path, column: &str, read: usize, want: usize) -> Error {
    invalid(path, format!("column `{column}` ended after {read} of {want} rows of its row group"))
        .hint("the file is truncated or corrupt; re-export it")
}

/// Where a batch reader counts missing cells and non-finite values, per requested column.
struct Counts<'a> {
    missing: &'a mut [u64],
    non_finite: &'a mut [u64],
}

/// Reads `rows` records of one column into `out`, spreading non-null values over the
/// rows by their definition levels.
fn read_parquet_column(
    reader: &mut ColumnReader,
    rows: usize,
    max_def: i16,
    def_levels: &mut Vec<i16>,
    out: &mut Values,
    dictionary: &mut Dictionary,
) -> parquet::errors::Result<usize> {
    macro_rules! typed {
        ($reader:expr, $to_number:expr, $to_category:expr) => {{
            let mut values = Vec::with_capacity(rows);
            let mut read = 0;
            while read < rows {
                let before = def_levels.len();
                let (records, _, _) = $reader.read_records(rows - read, Some(def_levels), None, &mut values)?;
                if records == 0 {
                    break;
                }
                // A required column has no levels: every record has a value.
                if def_levels.len() == before {
                    def_levels.resize(before + records, max_def);
                }
                read += records;
            }
            spread(def_levels, max_def, &values, out, $to_number, |v| $to_category(v, dictionary));
            Ok(read)
        }};
    }
    match reader {
        ColumnReader::BoolColumnReader(r) => {
            typed!(r, |v: &bool| f64::from(u8::from(*v)), |v: &bool, d: &mut Dictionary| d.intern(if *v {
                b"true"
            } else {
                b"false"
            }))
        }
        ColumnReader::Int32ColumnReader(r) => {
            typed!(r, |v: &i32| f64::from(*v), |v: &i32, d: &mut Dictionary| d.intern_integer(i64::from(*v)))
        }
        ColumnReader::Int64ColumnReader(r) => {
            typed!(r, |v: &i64| *v as f64, |v: &i64, d: &mut Dictionary| d.intern_integer(*v))
        }
        ColumnReader::FloatColumnReader(r) => {
            typed!(r, |v: &f32| f64::from(*v), |v: &f32, d: &mut Dictionary| d.intern(v.to_string().as_bytes()))
        }
        ColumnReader::DoubleColumnReader(r) => {
            typed!(r, |v: &f64| *v, |v: &f64, d: &mut Dictionary| d.intern(v.to_string().as_bytes()))
        }
        ColumnReader::ByteArrayColumnReader(r) => {
            typed!(r, |_: &ByteArray| f64::NAN, |v: &ByteArray, d: &mut Dictionary| d.intern(v.data()))
        }
        _ => Err(parquet::errors::ParquetError::General("unsupported column type".into())),
    }
}

/// Places `values` (the non-null ones) on the rows whose definition level is `max_level`.
fn spread<T>(
    def_levels: &[i16],
    max_level: i16,
    values: &[T],
    out: &mut Values,
    to_number: impl Fn(&T) -> f64,
    mut to_category: impl FnMut(&T) -> u32,
) {
    let mut next = values.iter();
    match out {
        Values::Numbers(numbers) => {
            for &level in def_levels {
                let value = if level == max_level { next.next().map_or(f64::NAN, &to_number) } else { f64::NAN };
                numbers.push(value);
            }
        }
        Values::Codes(codes) => {
            for &level in def_levels {
                let code = if level == max_level { next.next().map_or(MISSING, &mut to_category) } else { MISSING };
                codes.push(code);
            }
        }
    }
}

// ---------------------------------------------------------------- raw cells (schema validation)

/// The cells of one [`Want::Raw`] column in the current batch, back to back.
#[derive(Debug, Clone, Default)]
pub struct RawCells {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Parquet nulls (a CSV cell is never null).
    nulls: Vec<bool>,
}

impl RawCells {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of cell `index`; `None` for a Parquet null.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        if self.nulls[index] {
            return None;
        }
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.bytes.get(start..self.ends[index])
    }

    fn push(&mut self, cell: Option<&[u8]>) {
        self.bytes.extend_from_slice(cell.unwrap_or_default());
        self.ends.push(self.bytes.len());
        self.nulls.push(cell.is_none());
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.nulls.clear();
    }
}

impl Table {
    /// The current batch's cells of requested column `column` (empty unless it is [`Want::Raw`]).
    pub fn raw(&self, column: usize) -> &RawCells {
        &self.raw[column]
    }

    /// Exchanges the current batch's raw cells (one per requested column) with `cells`,
    /// so that they can be used while the next batch is read.
    pub fn swap_raw(&mut self, cells: &mut Vec<RawCells>) {
        cells.resize_with(self.raw.len(), RawCells::default);
        std::mem::swap(&mut self.raw, cells);
    }
}

/// Reads `rows` records of a BYTE_ARRAY column into `out`, a null where the definition
/// level is below `max_def`.
fn read_parquet_raw(
    reader: &mut ColumnReader,
    rows: usize,
    max_def: i16,
    def_levels: &mut Vec<i16>,
    out: &mut RawCells,
) -> parquet::errors::Result<usize> {
    let ColumnReader::ByteArrayColumnReader(reader) = reader else {
        return Err(parquet::errors::ParquetError::General("not a string column".into()));
    };
    let mut values: Vec<ByteArray> = Vec::with_capacity(rows);
    let mut read = 0;
    while read < rows {
        let before = def_levels.len();
        let (records, _, _) = reader.read_records(rows - read, Some(def_levels), None, &mut values)?;
        if records == 0 {
            break;
        }
        if def_levels.len() == before {
            def_levels.resize(before + records, max_def);
        }
        read += records;
    }
    let mut next = values.iter();
    for &level in def_levels.iter() {
        let value = if level == max_def { next.next() } else { None };
        out.push(value.map(ByteArray::data));
    }
    Ok(read)
}
