//! Prohibited data categories in training data: column names and (sampled) values are
//! checked against a list of detectors (national identifiers, payment cards, IBANs,
//! emails, phone numbers, IP addresses, birth dates, precise geolocation), and the
//! evidence says, per column, which categories were found, in what share of the
//! non-null values, and whether by name, by values or both. It never holds a value.
//!
//! Sampling is deterministic: row `i` gets the priority `splitmix64(seed ^
//! splitmix64(i))` and the `sample_rows` rows of lowest priority are scanned (a bottom-k
//! sample: uniform without replacement, the same for the same file and seed whatever
//! the batch sizes). A full scan classifies every row.
//!
//! Text columns are read as [`table::RawCells`] (a batch's cells in one buffer, nothing
//! interned or allocated per cell; empty cells and pandas' missing tokens are missing)
//! and numeric Parquet columns as numbers, so memory is bounded by two batches and the
//! sample. On a full scan the reading (this thread) and the classification (a worker)
//! overlap.

mod detectors;
pub mod validators;

use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Deserialize;

pub use detectors::{normalise, Class, DetectorConfig, Detectors, Gate, BUILTINS, MAX_DETECTORS, MIN_SHAPE_VALUES};

use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Detection, ProhibitedScan};
use crate::table::{self, ColumnKind, ColumnRequest, RawCells, Table, Values, Want};

/// Rows sampled when the configuration does not say.
pub const DEFAULT_SAMPLE_ROWS: u64 = 10_000;

/// The `[data.prohibited]` table of modelgate.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProhibitedConfig {
    /// The table to scan (default: the training data file).
    #[serde(default)]
    pub table: Option<PathBuf>,
    /// Columns to scan (default: all).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Rows sampled (deterministically) when not scanning in full.
    #[serde(default = "default_sample_rows")]
    pub sample_rows: u64,
    /// Classify every row instead of a sample.
    #[serde(default)]
    pub full_scan: bool,
    /// Seed of the sample.
    #[serde(default)]
    pub seed: u64,
    /// Use the built-in detectors (a user detector with a built-in's name replaces it).
    #[serde(default = "default_true")]
    pub builtin_detectors: bool,
    /// Detectors added by the user.
    #[serde(default)]
    pub detectors: Vec<DetectorConfig>,
}

impl Default for ProhibitedConfig {
    fn default() -> ProhibitedConfig {
        ProhibitedConfig {
            table: None,
            columns: Vec::new(),
            sample_rows: DEFAULT_SAMPLE_ROWS,
            full_scan: false,
            seed: 0,
            builtin_detectors: true,
            detectors: Vec::new(),
        }
    }
}

fn default_sample_rows() -> u64 {
    DEFAULT_SAMPLE_ROWS
}

fn default_true() -> bool {
    true
}

/// A detector list file (`--detectors FILE`): TOML, YAML or JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorsFile {
    #[serde(default = "default_true")]
    pub builtin_detectors: bool,
    #[serde(default)]
    pub detectors: Vec<DetectorConfig>,
}

impl DetectorsFile {
    /// Reads a detector list, by extension: `.toml`, `.yaml`/`.yml`, else JSON.
    pub fn load(path: &Path) -> Result<DetectorsFile> {
        let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES, "a detector list")?;
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let source = crate::strict::Source::new(path, "the detector list", ErrorKind::Config);
        let parsed: std::result::Result<DetectorsFile, String> = match extension.as_str() {
            "toml" => toml::from_str(&text).map_err(|error| error.to_string()),
            _ => crate::strict::read(&text, crate::strict::Syntax::of(path), &source).map_err(|error| error.message),
        };
        parsed.map_err(|error| {
            Error::new(ErrorKind::Config, format!("{}: not a valid detector list: {}", path.display(), error.trim()))
                .hint(
                    "write `[[detectors]]` entries with `name`, `pattern`, optional `validator`, `category` and \
                     `column_names` (see docs/prohibited-data.md)",
                )
        })
    }
}

/// One scan, with absolute paths.
#[derive(Debug, Clone)]
pub struct ScanSpec {
    pub table: PathBuf,
    /// The table's path as it is shown in the evidence and in messages.
    pub display_path: String,
    /// Columns to scan; empty: all.
    pub columns: Vec<String>,
    pub sample_rows: u64,
    pub full_scan: bool,
    pub seed: u64,
    pub builtin_detectors: bool,
    pub detectors: Vec<DetectorConfig>,
    /// Where the detectors were configured, for error messages.
    pub detectors_source: String,
    /// Reference date for ages (default: today, UTC).
    pub today: Option<(i32, u32, u32)>,
}

impl ProhibitedConfig {
    /// The scan this configuration asks for: `table` resolved against `base` (the config
    /// file's folder), else `training` (the training data file).
    pub fn spec(&self, base: &Path, training: Option<&Path>) -> Result<ScanSpec> {
        let table = match (&self.table, training) {
            (Some(table), _) => crate::error::resolve(base, table),
            (None, Some(training)) => training.to_path_buf(),
            (None, None) => {
                return Err(Error::new(ErrorKind::Config, "[data.prohibited]: no `table` and no training data file")
                    .hint("set `table = \"data/train.parquet\"` in [data.prohibited]"))
            }
        };
        Ok(ScanSpec {
            display_path: table.display().to_string(),
            table,
            columns: self.columns.clone(),
            sample_rows: self.sample_rows,
            full_scan: self.full_scan,
            seed: self.seed,
            builtin_detectors: self.builtin_detectors,
            detectors: self.detectors.clone(),
            detectors_source: "[data.prohibited]".to_string(),
            today: None,
        })
    }
}

/// How a column's values are read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Read {
    /// As text (numbers as their decimal form).
    Text,
    /// A Parquet DATE column: days since 1970-01-01.
    Days,
    /// A Parquet integer or floating-point column: numbers, classified by their decimal
    /// form (integral values without a fraction), so that the reader interns nothing.
    Number,
}

/// One scanned column and what has been counted for it.
struct Column {
    name: String,
    read: Read,
    name_bits: u64,
    /// Detectors whose value matches do not count in this column.
    excluded_bits: u64,
    classes: Vec<Class>,
    class_ids: FxHashMap<Class, u32>,
    /// Rows per class id.
    counts: Vec<u64>,
    non_null: u64,
}

impl Column {
    fn new(name: String, read: Read, detectors: &Detectors) -> Column {
        let name_bits = detectors.match_name(&name);
        let excluded_bits = detectors.excluded_by_name(&name);
        let mut class_ids = FxHashMap::default();
        class_ids.insert(Class::default(), 0);
        Column {
            name,
            read,
            name_bits,
            excluded_bits,
            classes: vec![Class::default()],
            class_ids,
            counts: vec![0],
            non_null: 0,
        }
    }

    fn intern(&mut self, class: Class) -> u32 {
        if class.is_empty() {
            return 0;
        }
        let next = self.classes.len() as u32;
        let id = *self.class_ids.entry(class).or_insert(next);
        if id == next {
            self.classes.push(class);
            self.counts.push(0);
        }
        id
    }

    /// Counts one cell's text.
    fn count_bytes(&mut self, bytes: &[u8], detectors: &Detectors) {
        self.non_null += 1;
        let class = match std::str::from_utf8(bytes) {
            Ok(text) => detectors.classify(text),
            Err(_) => detectors.classify(&String::from_utf8_lossy(bytes)),
        };
        let id = self.intern(class);
        self.counts[id as usize] += 1;
    }

    fn count_number(&mut self, value: f64, detectors: &Detectors) {
        if value.is_nan() {
            return;
        }
        self.non_null += 1;
        let mut text = NumberText::default();
        let id = self.intern(detectors.classify(text.format(value)));
        self.counts[id as usize] += 1;
    }

    fn count_days(&mut self, days: f64, detectors: &Detectors) {
        if days.is_nan() {
            return;
        }
        self.non_null += 1;
        let id = self.intern(detectors.classify_days(days));
        self.counts[id as usize] += 1;
    }
}

/// Scans the table of `spec`.
pub fn scan(spec: &ScanSpec) -> Result<ProhibitedScan> {
    let today = spec.today.unwrap_or_else(today_utc);
    let detectors = Detectors::new(spec.builtin_detectors, &spec.detectors, &spec.detectors_source, today)?;
    if !spec.full_scan && spec.sample_rows == 0 {
        return Err(Error::new(ErrorKind::Config, "sample_rows is 0: nothing would be scanned")
            .hint("set sample_rows to a positive number of rows, or scan in full (full_scan = true, --full)"));
    }
    let info = table::describe(&spec.table)?;
    let wanted: Vec<&table::ColumnInfo> = if spec.columns.is_empty() {
        info.columns.iter().collect()
    } else {
        let mut wanted = Vec::new();
        for name in &spec.columns {
            let Some(column) = info.columns.iter().find(|column| column.name == *name) else {
                return Err(Error::new(
                    ErrorKind::DataInvalid,
                    format!(
                        "{}: no column `{name}` to scan; the file has: {}",
                        spec.display_path,
                        info.columns.iter().map(|c| format!("`{}`", c.name)).collect::<Vec<_>>().join(", ")
                    ),
                )
                .hint("name the columns as they are spelled in the file's header (names are case-sensitive)"));
            };
            wanted.push(column);
        }
        wanted
    };
    let mut columns = Vec::new();
    let mut requests = Vec::new();
    let mut name_only = Vec::new();
    for column in wanted {
        let read = match column.kind {
            ColumnKind::Text | ColumnKind::String => Some(Read::Text),
            ColumnKind::Integer | ColumnKind::Number => Some(Read::Number),
            ColumnKind::Date => Some(Read::Days),
            // Booleans hold no identifiers; nested, binary, decimal and timestamp columns
            // are checked by name only.
            _ => None,
        };
        match read {
            Some(read) => {
                requests.push(ColumnRequest {
                    name: column.name.clone(),
                    want: if read == Read::Text { Want::Raw } else { Want::Number },
                    role: "scanned".to_string(),
                });
                columns.push(Column::new(column.name.clone(), read, &detectors));
            }
            None => name_only.push(column.name.clone()),
        }
    }
    let mut total_rows = 0u64;
    if !requests.is_empty() {
        let mut table = Table::open(&spec.table, &requests)?;
        let mut batch = table.new_batch();
        if spec.full_scan {
            // Reading (this thread) and classifying (a worker) overlap, two batches in flight.
            let (full_sender, full_receiver) = std::sync::mpsc::sync_channel::<Chunk>(1);
            let (empty_sender, empty_receiver) = std::sync::mpsc::sync_channel::<Chunk>(2);
            let _ = empty_sender.send(Chunk { batch, raw: Vec::new() });
            let _ = empty_sender.send(Chunk { batch: table.new_batch(), raw: Vec::new() });
            let (columns, detectors) = (&mut columns, &detectors);
            let read: Result<()> = std::thread::scope(|scope| {
                scope.spawn(move || {
                    for chunk in full_receiver {
                        count_batch(columns, &chunk, detectors, 1);
                        if empty_sender.send(chunk).is_err() {
                            break;
                        }
                    }
                });
                let mut outcome = Ok(());
                while let Ok(mut chunk) = empty_receiver.recv() {
                    match table.next_batch(&mut chunk.batch) {
                        Ok(true) => {
                            table.swap_raw(&mut chunk.raw);
                            if full_sender.send(chunk).is_err() {
                                break;
                            }
                        }
                        Ok(false) => break,
                        Err(error) => {
                            outcome = Err(error);
                            break;
                        }
                    }
                }
                drop(full_sender);
                outcome
            });
            read?;
        } else {
            let mut sample = Sample::new(spec.sample_rows, spec.seed, columns.len());
            while table.next_batch(&mut batch)? {
                sample.offer(&batch, &table);
            }
            for row in 0..sample.rows() {
                for (index, column) in columns.iter_mut().enumerate() {
                    match sample.cell(row, index) {
                        Cell::Missing => {}
                        Cell::Text(text) => column.count_bytes(text, &detectors),
                        Cell::Number(value) if column.read == Read::Days => column.count_days(*value, &detectors),
                        Cell::Number(value) => column.count_number(*value, &detectors),
                    }
                }
            }
        }
        total_rows = table.rows_read();
    } else if let Some(rows) = info.rows {
        total_rows = rows;
    }
    let sampled_rows = if spec.full_scan { total_rows } else { total_rows.min(spec.sample_rows) };
    let mut detections = Vec::new();
    for column in &columns {
        detections.extend(column_detections(column, &detectors));
    }
    for name in &name_only {
        let column = Column::new(name.clone(), Read::Text, &detectors);
        detections.extend(column_detections(&column, &detectors));
    }
    let order: Vec<&str> = info.columns.iter().map(|c| c.name.as_str()).collect();
    detections.sort_by_key(|d: &Detection| {
        (order.iter().position(|name| *name == d.column).unwrap_or(usize::MAX), d.category.clone())
    });
    Ok(ProhibitedScan {
        table_path: spec.display_path.clone(),
        sampled_rows,
        detections,
        total_rows: Some(total_rows),
        full_scan: Some(spec.full_scan),
        seed: (!spec.full_scan).then_some(spec.seed),
        columns: columns.iter().map(|c| c.name.clone()).collect(),
        columns_name_only: name_only,
        detectors: detectors.names(),
    })
}

/// A batch and the text of its raw columns, moved between the reader and the worker.
struct Chunk {
    batch: table::Batch,
    raw: Vec<RawCells>,
}

/// A raw cell's text, trimmed; `None` when it is missing (null, empty or a missing token).
fn text_of(cells: &RawCells, row: usize) -> Option<&[u8]> {
    let text = cells.get(row)?.trim_ascii();
    (!table::is_missing_token(text)).then_some(text)
}

/// Counts every cell of `chunk` into its column; the columns are shared out among
/// `workers` threads, each taking the next column not yet done.
fn count_batch(columns: &mut [Column], chunk: &Chunk, detectors: &Detectors, workers: usize) {
    let count = |index: usize, column: &mut Column| match &chunk.batch.columns[index] {
        _ if column.read == Read::Text => {
            let cells = &chunk.raw[index];
            for row in 0..cells.len() {
                if let Some(text) = text_of(cells, row) {
                    column.count_bytes(text, detectors);
                }
            }
        }
        Values::Codes(_) => {}
        Values::Numbers(numbers) if column.read == Read::Days => {
            for &days in numbers {
                column.count_days(days, detectors);
            }
        }
        Values::Numbers(numbers) => {
            for &value in numbers {
                column.count_number(value, detectors);
            }
        }
    };
    if workers <= 1 {
        for (index, column) in columns.iter_mut().enumerate() {
            count(index, column);
        }
        return;
    }
    let queue: Vec<std::sync::Mutex<&mut Column>> = columns.iter_mut().map(std::sync::Mutex::new).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || loop {
        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(slot) = queue.get(index) else { break };
        // Each index is taken by one thread only, so the lock is never contended or poisoned
        // by another holder; a poisoned one (a panic elsewhere) is still usable here.
        let mut column = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        count(index, &mut column);
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
}

/// The detectors whose matches count in `column`: strong and embedded ones, weak ones
/// where the detector's gate opens, none of those excluded by the column's name.
fn counting(column: &Column, detectors: &Detectors) -> u64 {
    let mut open = 0u64;
    for bit in 0..detectors.len() {
        let mask = 1u64 << bit;
        let named = column.name_bits & mask != 0;
        let shape: u64 = counted(column, |class| class.shape & mask != 0);
        let passed: u64 = counted(column, |class| class.weak & mask != 0);
        let opens = match detectors.gate(bit) {
            Gate::None => true,
            Gate::Name => named,
            Gate::NameOrConsistent { min_share } => {
                named || (shape >= MIN_SHAPE_VALUES && passed as f64 >= min_share * shape as f64)
            }
            Gate::NameOrAdultDates { min_share } => {
                let adult = counted(column, |class| class.adult_date && class.shape & mask != 0);
                named || (shape >= MIN_SHAPE_VALUES && adult as f64 >= min_share * shape as f64)
            }
        };
        if opens {
            open |= mask;
        }
    }
    open & !column.excluded_bits
}

/// The detectors a value of `class` counts for in a column whose gates are `open`.
fn effective(class: &Class, open: u64, excluded: u64) -> (u64, u64) {
    let whole = (class.strong & !excluded) | (class.weak & open);
    (whole, class.embedded & !excluded)
}

/// Per value of a column called `column`, the categories the scan counts it for (after
/// the column's gates): what the precision and recall figures measure.
pub fn classify_column(detectors: &Detectors, column: &str, values: &[&str]) -> Vec<Vec<String>> {
    let mut scanned = Column::new(column.to_string(), Read::Text, detectors);
    let ids: Vec<Option<u32>> = values
        .iter()
        .map(|value| {
            if value.trim().is_empty() {
                return None;
            }
            scanned.non_null += 1;
            let id = scanned.intern(detectors.classify(value));
            scanned.counts[id as usize] += 1;
            Some(id)
        })
        .collect();
    let open = counting(&scanned, detectors);
    ids.iter()
        .map(|id| {
            let Some(id) = id else { return Vec::new() };
            let (whole, inside) = effective(&scanned.classes[*id as usize], open, scanned.excluded_bits);
            let mut categories: Vec<String> = Vec::new();
            for bit in 0..detectors.len() {
                let category = detectors.category(bit);
                if (whole | inside) & (1 << bit) != 0 && !categories.iter().any(|c| c == category) {
                    categories.push(category.to_string());
                }
            }
            categories
        })
        .collect()
}

/// The detections of one column, by category.
fn column_detections(column: &Column, detectors: &Detectors) -> Vec<Detection> {
    let open = counting(column, detectors);
    // Categories in first-detector order; a value counts once per category.
    let mut categories: Vec<(&str, u64)> = Vec::new();
    for bit in 0..detectors.len() {
        let category = detectors.category(bit);
        match categories.iter_mut().find(|(name, _)| *name == category) {
            Some((_, mask)) => *mask |= 1 << bit,
            None => categories.push((category, 1 << bit)),
        }
    }
    let mut detections = Vec::new();
    for (category, mask) in categories {
        let mut matched = 0u64;
        let mut embedded = 0u64;
        for (id, class) in column.classes.iter().enumerate() {
            let (whole, inside) = effective(class, open, column.excluded_bits);
            let (whole, inside) = (whole & mask != 0, inside & mask != 0);
            if whole || inside {
                matched += column.counts[id];
                if !whole {
                    embedded += column.counts[id];
                }
            }
        }
        let named = column.name_bits & mask != 0;
        if matched == 0 && !named {
            continue;
        }
        let matched_on = match (named, matched > 0) {
            (true, true) => "both",
            (true, false) => "name",
            _ => "values",
        };
        let match_fraction = if column.non_null == 0 { 0.0 } else { matched as f64 / column.non_null as f64 };
        detections.push(Detection {
            column: column.name.clone(),
            category: category.to_string(),
            match_fraction,
            matched_on: matched_on.to_string(),
            matched: Some(matched),
            non_null: Some(column.non_null),
            free_text: (matched > 0).then_some(embedded * 2 > matched),
        });
    }
    detections
}

fn counted(column: &Column, wanted: impl Fn(&Class) -> bool) -> u64 {
    column.classes.iter().zip(&column.counts).filter(|(class, _)| wanted(class)).map(|(_, &count)| count).sum()
}

/// The decimal form of a number in a stack buffer: integral values (below 2^53, where
/// doubles hold integers exactly) without a fraction, others in Rust's shortest form;
/// empty when longer than the buffer (no identifier is written that long).
#[derive(Default)]
struct NumberText {
    buffer: [u8; 32],
    length: usize,
}

impl std::fmt::Write for NumberText {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let end = self.length + text.len();
        let slot = self.buffer.get_mut(self.length..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(text.as_bytes());
        self.length = end;
        Ok(())
    }
}

impl NumberText {
    fn format(&mut self, value: f64) -> &str {
        use std::fmt::Write as _;
        self.length = 0;
        let written = if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
            write!(self, "{}", value as i64)
        } else {
            write!(self, "{value}")
        };
        if written.is_err() {
            self.length = 0;
        }
        // Only ASCII digits, signs, `.`, `e`, `inf` and `NaN` were written.
        std::str::from_utf8(&self.buffer[..self.length]).unwrap_or("")
    }
}

fn today_utc() -> (i32, u32, u32) {
    use chrono::Datelike;
    let now = chrono::Utc::now().date_naive();
    (now.year(), now.month(), now.day())
}

/// A sampled cell: its text (copied, since the table's dictionaries are cleared after
/// every batch), its number, or nothing.
#[derive(Debug, Clone, Default)]
enum Cell {
    #[default]
    Missing,
    Text(Box<[u8]>),
    Number(f64),
}

/// The deterministic bottom-k sample of rows: their cells in slots, and a max-heap of
/// (priority, row, slot) to evict from.
struct Sample {
    capacity: usize,
    seed: u64,
    width: usize,
    heap: BinaryHeap<(u64, u64, usize)>,
    cells: Vec<Cell>,
}

impl Sample {
    fn new(capacity: u64, seed: u64, width: usize) -> Sample {
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX).min(1 << 26);
        Sample { capacity, seed, width, heap: BinaryHeap::new(), cells: Vec::new() }
    }

    fn offer(&mut self, batch: &table::Batch, table: &Table) {
        for row in 0..batch.rows {
            let index = batch.first_row + row as u64;
            let priority = splitmix64(self.seed ^ splitmix64(index));
            let slot = if self.heap.len() < self.capacity {
                let slot = self.heap.len();
                self.cells.resize((slot + 1) * self.width, Cell::Missing);
                slot
            } else {
                // The heap is full here, so peek finds its largest entry.
                match self.heap.peek() {
                    Some(&(largest, largest_index, slot)) if (priority, index) < (largest, largest_index) => {
                        self.heap.pop();
                        slot
                    }
                    _ => continue,
                }
            };
            self.heap.push((priority, index, slot));
            for (column, values) in batch.columns.iter().enumerate() {
                self.cells[slot * self.width + column] = match values {
                    Values::Codes(_) => {
                        text_of(table.raw(column), row).map_or(Cell::Missing, |text| Cell::Text(text.into()))
                    }
                    Values::Numbers(numbers) if numbers[row].is_nan() => Cell::Missing,
                    Values::Numbers(numbers) => Cell::Number(numbers[row]),
                };
            }
        }
    }

    fn rows(&self) -> usize {
        self.heap.len()
    }

    fn cell(&self, slot: usize, column: usize) -> &Cell {
        &self.cells[slot * self.width + column]
    }
}

/// SplitMix64's output function: a fixed, documented mix of a 64-bit value.
pub fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_unknown_fields() {
        let config: ProhibitedConfig = toml::from_str("").expect("empty config");
        assert_eq!(config, ProhibitedConfig::default());
        assert!(toml::from_str::<ProhibitedConfig>("sample = 5").is_err());
        let config: ProhibitedConfig = toml::from_str(
            "full_scan = true\n[[detectors]]\nname = \"x\"\npattern = \"X\\\\d+\"\nvalidator = \"luhn\"",
        )
        .expect("config with a detector");
        assert_eq!(config.detectors[0].validator.as_deref(), Some("luhn"));
    }

    #[test]
    fn numbers_are_formatted_like_their_text() {
        let mut text = NumberText::default();
        assert_eq!(text.format(123456789.0), "123456789");
        assert_eq!(text.format(-52.520008), "-52.520008");
        // Too long to be an identifier: classified as nothing.
        assert_eq!(text.format(1e300), "");
    }

    #[test]
    fn splitmix_is_the_reference_function() {
        // First output of the reference SplitMix64 generator seeded with 0.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
    }
}
