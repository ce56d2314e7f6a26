//! Reading one cell as a Table Schema type: the rules of the Frictionless v1 spec (and of
//! the `frictionless` Python validator where the spec leaves room), giving a [`Value`]
//! that constraints compare and a canonical key that `unique`, `enum` and `primaryKey`
//! compare.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// The field types of Table Schema v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Number,
    Integer,
    Boolean,
    Date,
    Datetime,
    Time,
    Year,
    Yearmonth,
    Duration,
    Object,
    Array,
    Geopoint,
    Geojson,
    Any,
}

/// Every type name, in the spec's order (for hints).
pub const TYPE_NAMES: &[&str] = &[
    "string",
    "number",
    "integer",
    "boolean",
    "object",
    "array",
    "date",
    "time",
    "datetime",
    "year",
    "yearmonth",
    "duration",
    "geopoint",
    "geojson",
    "any",
];

impl FieldType {
    pub fn parse(name: &str) -> Option<FieldType> {
        Some(match name {
            "string" => FieldType::String,
            "number" => FieldType::Number,
            "integer" => FieldType::Integer,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" => FieldType::Datetime,
            "time" => FieldType::Time,
            "year" => FieldType::Year,
            "yearmonth" => FieldType::Yearmonth,
            "duration" => FieldType::Duration,
            "object" => FieldType::Object,
            "array" => FieldType::Array,
            "geopoint" => FieldType::Geopoint,
            "geojson" => FieldType::Geojson,
            "any" => FieldType::Any,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Time => "time",
            FieldType::Year => "year",
            FieldType::Yearmonth => "yearmonth",
            FieldType::Duration => "duration",
            FieldType::Object => "object",
            FieldType::Array => "array",
            FieldType::Geopoint => "geopoint",
            FieldType::Geojson => "geojson",
            FieldType::Any => "any",
        }
    }

    /// The formats the spec defines for this type (`default` is always valid).
    pub fn formats(self) -> &'static [&'static str] {
        match self {
            FieldType::String => &["default", "email", "uri", "uuid", "binary"],
            FieldType::Date | FieldType::Datetime | FieldType::Time => &["default", "any", "<strptime pattern>"],
            FieldType::Geopoint => &["default", "array", "object"],
            FieldType::Geojson => &["default", "topojson"],
            _ => &["default"],
        }
    }

    /// The constraints this type supports, as frictionless has them.
    pub fn constraints(self) -> &'static [&'static str] {
        const ORDERED: &[&str] =
            &["required", "unique", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum"];
        match self {
            FieldType::String => &["required", "unique", "minLength", "maxLength", "pattern", "enum"],
            FieldType::Number
            | FieldType::Integer
            | FieldType::Date
            | FieldType::Datetime
            | FieldType::Time
            | FieldType::Year
            | FieldType::Yearmonth => ORDERED,
            FieldType::Object | FieldType::Array => &["required", "unique", "minLength", "maxLength", "enum"],
            FieldType::Boolean | FieldType::Duration | FieldType::Geopoint | FieldType::Geojson | FieldType::Any => {
                &["required", "unique", "enum"]
            }
        }
    }
}

/// A field's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Default,
    /// Dates and times in any common form.
    Any,
    /// A strptime pattern (`%d/%m/%Y`).
    Pattern(String),
    Email,
    Uri,
    Uuid,
    Binary,
    Array,
    Object,
    Topojson,
}

impl Format {
    pub fn describe(&self) -> String {
        match self {
            Format::Default => "default".into(),
            Format::Any => "any".into(),
            Format::Pattern(pattern) => pattern.clone(),
            Format::Email => "email".into(),
            Format::Uri => "uri".into(),
            Format::Uuid => "uuid".into(),
            Format::Binary => "binary".into(),
            Format::Array => "array".into(),
            Format::Object => "object".into(),
            Format::Topojson => "topojson".into(),
        }
    }
}

/// How a field reads its cells.
#[derive(Debug, Clone)]
pub struct Reader {
    pub field_type: FieldType,
    pub format: Format,
    pub true_values: Vec<String>,
    pub false_values: Vec<String>,
    pub decimal_char: String,
    pub group_char: String,
    pub bare_number: bool,
    /// Whether `decimalChar`, `groupChar` or `bareNumber` were given (frictionless only
    /// then rewrites the text before parsing it).
    pub number_options: bool,
}

impl Reader {
    pub fn new(field_type: FieldType, format: Format) -> Reader {
        Reader {
            field_type,
            format,
            true_values: ["true", "True", "TRUE", "1"].map(String::from).to_vec(),
            false_values: ["false", "False", "FALSE", "0"].map(String::from).to_vec(),
            decimal_char: ".".into(),
            group_char: String::new(),
            bare_number: true,
            number_options: false,
        }
    }
}

/// A cell read as its field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Integer(i128),
    Number(f64),
    Boolean(bool),
    Date(NaiveDate),
    /// Normalised to UTC when the text carried an offset.
    Datetime(NaiveDateTime),
    Time(NaiveTime),
    Year(i64),
    Yearmonth(i64, u32),
    /// Strings, durations, geopoints: compared as text.
    Text(String),
    Json(serde_json::Value),
}

impl Value {
    /// Orders two values of the same field; `None` when they cannot be compared.
    pub fn compare(&self, other: &Value) -> Option<std::cmp::Ordering> {
        use Value::*;
        match (self, other) {
            (Integer(a), Integer(b)) => Some(a.cmp(b)),
            (Number(a), Number(b)) => a.partial_cmp(b),
            (Integer(a), Number(b)) => (*a as f64).partial_cmp(b),
            (Number(a), Integer(b)) => a.partial_cmp(&(*b as f64)),
            (Date(a), Date(b)) => Some(a.cmp(b)),
            (Datetime(a), Datetime(b)) => Some(a.cmp(b)),
            (Time(a), Time(b)) => Some(a.cmp(b)),
            (Year(a), Year(b)) => Some(a.cmp(b)),
            (Yearmonth(ay, am), Yearmonth(by, bm)) => Some((ay, am).cmp(&(by, bm))),
            (Text(a), Text(b)) => Some(a.cmp(b)),
            (Boolean(a), Boolean(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// The length `minLength`/`maxLength` look at: characters of a string, items of an
    /// array or object.
    pub fn length(&self) -> Option<u64> {
        match self {
            Value::Text(text) => Some(text.chars().count() as u64),
            Value::Json(serde_json::Value::Array(items)) => Some(items.len() as u64),
            Value::Json(serde_json::Value::Object(items)) => Some(items.len() as u64),
            _ => None,
        }
    }

    /// The text a pattern is matched against.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// A key equal for equal values (`1`, `01` and `+1` as integers share one).
    pub fn key(&self) -> String {
        match self {
            Value::Integer(value) => format!("i{value}"),
            // Integral numbers share their key with integers, as Python's 1 == Decimal("1.0").
            Value::Number(value) if value.fract() == 0.0 && value.abs() < 1e18 => format!("i{}", *value as i128),
            Value::Number(value) => format!("n{value}"),
            Value::Boolean(value) => format!("b{value}"),
            Value::Date(value) => format!("d{value}"),
            Value::Datetime(value) => format!("t{value}"),
            Value::Time(value) => format!("h{value}"),
            Value::Year(value) => format!("y{value}"),
            Value::Yearmonth(year, month) => format!("m{year}-{month}"),
            Value::Text(value) => format!("s{value}"),
            Value::Json(value) => format!("j{value}"),
        }
    }
}

/// Reads `cell` (already known not to be a missing value); `None` when it is not of the type.
pub fn read(reader: &Reader, cell: &str) -> Option<Value> {
    match reader.field_type {
        FieldType::String => read_string(&reader.format, cell).then(|| Value::Text(cell.to_string())),
        FieldType::Integer => read_integer(reader, cell).map(Value::Integer),
        FieldType::Number => read_number(reader, cell).map(Value::Number),
        FieldType::Boolean => {
            if reader.true_values.iter().any(|value| value == cell) {
                Some(Value::Boolean(true))
            } else if reader.false_values.iter().any(|value| value == cell) {
                Some(Value::Boolean(false))
            } else {
                None
            }
        }
        FieldType::Date => read_date(&reader.format, cell).map(Value::Date),
        FieldType::Datetime => read_datetime(&reader.format, cell).map(Value::Datetime),
        FieldType::Time => read_time(&reader.format, cell).map(Value::Time),
        FieldType::Year => {
            let year = (cell.len() == 4).then(|| python_int(cell)).flatten()?;
            (0..=9999).contains(&year).then_some(Value::Year(year as i64))
        }
        FieldType::Yearmonth => {
            let (year, month) = cell.split_once('-')?;
            let (year, month) = (python_int(year)?, python_int(month)?);
            ((1..=12).contains(&month) && i64::try_from(year).is_ok())
                .then_some(Value::Yearmonth(year as i64, month as u32))
        }
        FieldType::Duration => is_duration(cell).then(|| Value::Text(cell.to_string())),
        FieldType::Object => match serde_json::from_str(cell) {
            Ok(value @ serde_json::Value::Object(_)) => Some(Value::Json(value)),
            _ => None,
        },
        FieldType::Array => match serde_json::from_str(cell) {
            Ok(value @ serde_json::Value::Array(_)) => Some(Value::Json(value)),
            _ => None,
        },
        FieldType::Geopoint => {
            read_geopoint(&reader.format, cell).map(|(lon, lat)| Value::Text(format!("{lon},{lat}")))
        }
        FieldType::Geojson => match serde_json::from_str(cell) {
            Ok(serde_json::Value::Object(object)) if object.get("type").is_some_and(|t| t.is_string()) => {
                Some(Value::Json(serde_json::Value::Object(object)))
            }
            _ => None,
        },
        FieldType::Any => Some(Value::Text(cell.to_string())),
    }
}

/// Python's `int()` on a string: surrounding whitespace, a sign, digits with single
/// underscores between them.
pub fn python_int(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let mut value: i128 = 0;
    for byte in digits.bytes() {
        match byte {
            b'0'..=b'9' => value = value.checked_mul(10)?.checked_add(i128::from(byte - b'0'))?,
            b'_' => {}
            _ => return None,
        }
    }
    Some(if negative { -value } else { value })
}

/// Strips what a non-bare number may carry around its digits (`$1`, `95%`).
fn strip_non_bare(text: &str) -> &str {
    let start = text.find(|c: char| c == '-' || c.is_ascii_digit()).unwrap_or(text.len());
    let text = &text[start..];
    let end = text.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
    &text[..end]
}

fn read_integer(reader: &Reader, cell: &str) -> Option<i128> {
    let cell = cell.trim();
    if reader.bare_number {
        python_int(cell)
    } else {
        python_int(strip_non_bare(cell))
    }
}

fn read_number(reader: &Reader, cell: &str) -> Option<f64> {
    let cell = cell.trim();
    if !reader.number_options {
        return python_decimal(cell);
    }
    let mut text = if reader.bare_number { cell.to_string() } else { strip_non_bare(cell).to_string() };
    if !reader.group_char.is_empty() {
        text = text.replace(&reader.group_char, "");
    }
    if reader.decimal_char != "." {
        if text.contains('.') {
            return None;
        }
        text = text.replace(&reader.decimal_char, ".");
    }
    python_decimal(&text)
}

/// Python's `Decimal()` on a string: a sign, digits with single underscores, a point, an
/// exponent; `Infinity`/`Inf`/`NaN` in any case.
fn python_decimal(text: &str) -> Option<f64> {
    let text = text.trim();
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let special = ["inf", "infinity", "nan", "snan"].iter().any(|word| unsigned.eq_ignore_ascii_case(word));
    if special {
        return text.to_ascii_lowercase().replace("snan", "nan").replace("infinity", "inf").parse().ok();
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits_ok = |part: &str| {
        part.is_empty()
            || (!part.starts_with('_')
                && !part.ends_with('_')
                && !part.contains("__")
                && part.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
    };
    if !digits_ok(whole) || !digits_ok(fraction) {
        return None;
    }
    if let Some(exponent) = exponent {
        let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        if digits.is_empty() || !digits_ok(digits) {
            return None;
        }
    }
    if text.contains('_') {
        text.replace('_', "").parse().ok()
    } else {
        text.parse().ok()
    }
}

/// Whether `cell` is a string of `format` (`email`, `uri`, …).
pub fn read_string(format: &Format, cell: &str) -> bool {
    match format {
        Format::Email => is_email(cell),
        Format::Uri => is_uri(cell),
        Format::Uuid => is_uuid(cell),
        Format::Binary => is_base64(cell),
        _ => true,
    }
}

fn is_email(cell: &str) -> bool {
    let Some((local, domain)) = cell.rsplit_once('@') else { return false };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let domain_ok = match domain.rsplit_once('.') {
        Some((_, tld)) => domain.split('.').all(label_ok) && tld.len() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    };
    local_ok && domain_ok
}

fn is_uri(cell: &str) -> bool {
    let Some((scheme, rest)) = cell.split_once(':') else { return false };
    let scheme_ok = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    scheme_ok && !rest.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

fn is_uuid(cell: &str) -> bool {
    let bytes = cell.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Python's lenient `base64.b64decode`: characters outside the alphabet are dropped, the
/// padding must then be right.
fn is_base64(cell: &str) -> bool {
    let mut data = 0usize;
    let mut padding = 0usize;
    for byte in cell.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/' {
            data += 1;
        } else if byte == b'=' {
            padding += 1;
        }
    }
    match data % 4 {
        0 => true,
        1 => false,
        2 => padding >= 2,
        _ => padding >= 1,
    }
}

fn is_duration(cell: &str) -> bool {
    // P[nY][nM][nW][nD][T[nH][nM][nS]], the numbers may carry a fraction.
    let Some(rest) = cell.strip_prefix('P') else { return false };
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    fn units(part: &str, allowed: &[u8]) -> Option<usize> {
        let mut count = 0;
        let mut number = String::new();
        let mut next_unit = 0;
        for byte in part.bytes() {
            if byte.is_ascii_digit() || byte == b'.' || byte == b',' {
                number.push(byte as char);
            } else {
                let position = allowed[next_unit..].iter().position(|&unit| unit == byte)?;
                if number.is_empty() || number.replace(',', ".").parse::<f64>().is_err() {
                    return None;
                }
                number.clear();
                next_unit += position + 1;
                count += 1;
            }
        }
        number.is_empty().then_some(count)
    }
    let Some(date_units) = units(date, b"YMWD") else { return false };
    match time {
        None => date_units > 0,
        Some(time) => units(time, b"HMS").is_some_and(|count| count > 0),
    }
}

fn read_geopoint(format: &Format, cell: &str) -> Option<(f64, f64)> {
    let (lon, lat) = match format {
        Format::Array => match serde_json::from_str::<serde_json::Value>(cell).ok()? {
            serde_json::Value::Array(items) if items.len() == 2 => (items[0].as_f64()?, items[1].as_f64()?),
            _ => return None,
        },
        Format::Object => match serde_json::from_str::<serde_json::Value>(cell).ok()? {
            serde_json::Value::Object(object) if object.len() == 2 => {
                (object.get("lon")?.as_f64()?, object.get("lat")?.as_f64()?)
            }
            _ => return None,
        },
        _ => {
            let (lon, lat) = cell.split_once(',')?;
            (python_decimal(lon)?, python_decimal(lat)?)
        }
    };
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some((lon, lat))
}

// ---------------------------------------------------------------- dates and times

fn read_date(format: &Format, cell: &str) -> Option<NaiveDate> {
    match format {
        Format::Pattern(pattern) => NaiveDate::parse_from_str(cell, pattern)
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(cell, pattern).ok().map(|dt| dt.date())),
        Format::Any => read_any_datetime(cell).map(|dt| dt.date()),
        _ => strict_iso_date(cell),
    }
}

/// `%Y-%m-%d` as Python's strptime reads it: the month and day may have one digit.
fn strict_iso_date(cell: &str) -> Option<NaiveDate> {
    let mut parts = cell.splitn(3, '-');
    let year = parts.next()?;
    let month = parts.next()?;
    let day = parts.next()?;
    let digits = |part: &str, min: usize, max: usize| {
        (min..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(year, 4, 4) || !digits(month, 1, 2) || !digits(day, 1, 2) {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

fn read_datetime(format: &Format, cell: &str) -> Option<NaiveDateTime> {
    match format {
        Format::Pattern(pattern) => chrono::DateTime::parse_from_str(cell, pattern)
            .map(|dt| dt.naive_utc())
            .or_else(|_| NaiveDateTime::parse_from_str(cell, pattern))
            .ok(),
        Format::Any => read_any_datetime(cell),
        _ => {
            // frictionless: the 17th character is ':' and there are at least 19.
            if cell.len() < 19 || cell.as_bytes().get(16) != Some(&b':') || !cell.is_char_boundary(10) {
                return None;
            }
            let date = strict_iso_date_fixed(&cell[..10])?;
            let separator = cell[10..].chars().next()?;
            let time = iso_time(&cell[10 + separator.len_utf8()..])?;
            Some(NaiveDateTime::new(date, time))
        }
    }
}

/// `YYYY-MM-DD` exactly (ISO 8601 extended date).
fn strict_iso_date_fixed(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    if !text.bytes().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(text[..4].parse().ok()?, text[5..7].parse().ok()?, text[8..].parse().ok()?)
}

/// `HH:MM:SS[.ffffff][Z|±HH[:MM]]`, normalised to UTC when an offset is given.
fn iso_time(text: &str) -> Option<NaiveTime> {
    let (clock, offset_minutes) = split_offset(text)?;
    let bytes = clock.as_bytes();
    if bytes.len() < 8 || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = clock.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok()).flatten()
    };
    let (hour, minute, second) = (number(0..2)?, number(3..5)?, number(6..8)?);
    let mut nanos = 0;
    if bytes.len() > 8 {
        if bytes[8] != b'.' && bytes[8] != b',' {
            return None;
        }
        let fraction = &clock[9..];
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let padded = format!("{:0<9}", &fraction[..fraction.len().min(9)]);
        nanos = padded.parse().ok()?;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    Some(time - chrono::Duration::minutes(offset_minutes))
}

/// Splits a trailing `Z`, `±HH`, `±HHMM` or `±HH:MM` off a clock time.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(clock) = text.strip_suffix('Z') {
        return Some((clock, 0));
    }
    let Some(at) = text.rfind(['+', '-']) else { return Some((text, 0)) };
    let (clock, offset) = text.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    Some((clock, sign * (hours * 60 + minutes)))
}

fn read_time(format: &Format, cell: &str) -> Option<NaiveTime> {
    match format {
        Format::Pattern(pattern) => NaiveTime::parse_from_str(cell, pattern).ok(),
        Format::Any => read_any_datetime(&format!("2000-01-01T{cell}")).map(|dt| dt.time()),
        _ => {
            if cell.len() < 8 || cell.as_bytes().get(5) != Some(&b':') {
                return None;
            }
            iso_time(cell)
        }
    }
}

/// `any`: the common forms (ISO with any separator, day/month/year with slashes, month
/// names); frictionless hands these to dateutil, which accepts still more.
fn read_any_datetime(cell: &str) -> Option<NaiveDateTime> {
    const DATETIMES: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];
    const DATES: &[&str] =
        &["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%Y%m%d"];
    let cell = cell.trim();
    if let Ok(datetime) = chrono::DateTime::parse_from_rfc3339(cell) {
        return Some(datetime.naive_utc());
    }
    DATETIMES.iter().find_map(|pattern| NaiveDateTime::parse_from_str(cell, pattern).ok()).or_else(|| {
        DATES.iter().find_map(|pattern| NaiveDate::parse_from_str(cell, pattern).ok()).map(|date| {
            // `and_hms_opt(0, 0, 0)` is always valid: midnight exists on every date.
            NaiveDateTime::new(date, NaiveTime::MIN)
        })
    })
}

/// A Parquet DATE (days since 1970-01-01) as a date.
pub fn date_from_days(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::try_days(days)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(field_type: FieldType) -> Reader {
        Reader::new(field_type, Format::Default)
    }

    #[test]
    fn integers_read_as_python_int_does() {
        let integer = reader(FieldType::Integer);
        assert_eq!(read(&integer, " 12 "), Some(Value::Integer(12)));
        assert_eq!(read(&integer, "+7"), Some(Value::Integer(7)));
        assert_eq!(read(&integer, "1_000"), Some(Value::Integer(1000)));
        assert_eq!(read(&integer, "1.0"), None);
        assert_eq!(read(&integer, "1e3"), None);
        assert_eq!(read(&integer, "x"), None);
    }

    #[test]
    fn numbers_honour_decimal_and_group_characters() {
        let mut number = reader(FieldType::Number);
        assert_eq!(read(&number, "1.5e3"), Some(Value::Number(1500.0)));
        assert_eq!(read(&number, ".5"), Some(Value::Number(0.5)));
        assert_eq!(read(&number, "1,5"), None);
        number.decimal_char = ",".into();
        number.group_char = ".".into();
        number.number_options = true;
        assert_eq!(read(&number, "1.234,5"), Some(Value::Number(1234.5)));
        number.group_char = " ".into();
        assert_eq!(read(&number, "1.5"), None);
    }

    #[test]
    fn dates_and_datetimes_follow_the_iso_defaults() {
        assert!(read(&reader(FieldType::Date), "2024-02-29").is_some());
        assert!(read(&reader(FieldType::Date), "2023-02-29").is_none());
        assert!(read(&reader(FieldType::Date), "2024-2-9").is_some());
        let datetime = reader(FieldType::Datetime);
        assert!(read(&datetime, "2024-01-01T10:00:00Z").is_some());
        assert!(read(&datetime, "2024-01-01T10:00:00.25+02:00").is_some());
        assert!(read(&datetime, "2024-01-01T10:00").is_none());
        assert!(read(&reader(FieldType::Time), "10:00:00").is_some());
        assert!(read(&reader(FieldType::Time), "10:00").is_none());
        let pattern = Reader::new(FieldType::Date, Format::Pattern("%d/%m/%Y".into()));
        assert_eq!(
            read(&pattern, "31/12/2020"),
            Some(Value::Date(NaiveDate::from_ymd_opt(2020, 12, 31).expect("present")))
        );
    }

    #[test]
    fn string_formats() {
        let email = Reader::new(FieldType::String, Format::Email);
        assert!(read(&email, "a.b@example.org").is_some());
        assert!(read(&email, "a@b").is_none());
        let uuid = Reader::new(FieldType::String, Format::Uuid);
        assert!(read(&uuid, "123e4567-e89b-12d3-a456-426614174000").is_some());
        assert!(read(&uuid, "123e4567e89b12d3a456426614174000x").is_none());
        let uri = Reader::new(FieldType::String, Format::Uri);
        assert!(read(&uri, "https://example.org/a").is_some());
        assert!(read(&uri, "example.org").is_none());
    }

    #[test]
    fn durations_years_and_keys() {
        assert!(read(&reader(FieldType::Duration), "P1Y2M3DT4H5M6S").is_some());
        assert!(read(&reader(FieldType::Duration), "PT").is_none());
        assert!(read(&reader(FieldType::Duration), "1Y").is_none());
        assert!(read(&reader(FieldType::Year), "99").is_none());
        assert_eq!(read(&reader(FieldType::Yearmonth), "2020-13"), None);
        assert_eq!(Value::Integer(1).key(), Value::Number(1.0).key());
    }
}
