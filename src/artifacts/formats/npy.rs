//! NumPy .npy: `\x93NUMPY`, major/minor version (1.0, 2.0, 3.0), a little-endian header
//! length (u16 for 1.0, u32 for 2.0/3.0), then a Python dict literal with exactly the keys
//! `descr`, `fortran_order` and `shape`, then the array data. The literal is parsed here
//! (a small grammar: strings, integers, booleans, None, tuples, lists, dicts), never
//! evaluated. An object dtype anywhere in `descr` means the data is a pickle.

use std::io::Read;

use serde_json::json;

use super::{read_up_to, FormatReport};
use crate::evidence::Severity;

/// NumPy's own bound on the header (`_MAX_HEADER_SIZE` since numpy 1.24 is 10 000 bytes
/// unless the caller raises it); larger headers are refused here too.
pub const MAX_HEADER: u64 = 1 << 20;

/// Checks a .npy file: `reader` is at its start, `len` is its length in bytes.
pub fn check_npy(reader: &mut impl Read, len: u64) -> FormatReport {
    let mut report = FormatReport::new("npy");
    if let Err(why) = check(reader, len, &mut report) {
        report.finding(Severity::Critical, None, why);
    }
    report
}

fn check(reader: &mut impl Read, len: u64, report: &mut FormatReport) -> Result<(), String> {
    let pre = read_up_to(reader, 8).map_err(|e| format!("cannot read the preamble: {e}"))?;
    if pre.len() < 8 || !pre.starts_with(b"\x93NUMPY") {
        return Err("not a .npy file: missing the \\x93NUMPY magic".into());
    }
    let (major, minor) = (pre[6], pre[7]);
    let size_bytes: u64 = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(format!("unknown .npy version {major}.{minor} (known: 1.0, 2.0, 3.0)")),
    };
    let raw = read_up_to(reader, size_bytes).map_err(|e| format!("cannot read the header length: {e}"))?;
    let hlen = match raw.as_slice() {
        [a, b] => u64::from(u16::from_le_bytes([*a, *b])),
        [a, b, c, d] => u64::from(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => return Err("file cut short in the header length".into()),
    };
    let data_start = 8 + size_bytes + hlen;
    if hlen > MAX_HEADER {
        return Err(format!("header length {hlen} exceeds the {MAX_HEADER}-byte bound"));
    }
    if data_start > len {
        return Err(format!("header length {hlen} runs past the end of the file ({len} bytes)"));
    }
    let header = read_up_to(reader, hlen).map_err(|e| format!("cannot read the header: {e}"))?;
    if header.len() as u64 != hlen {
        return Err(format!("header cut short: {} of {hlen} bytes", header.len()));
    }
    // 1.0/2.0 headers are latin-1, 3.0 is UTF-8.
    let text: String = if major == 3 {
        std::str::from_utf8(&header).map_err(|e| format!("version 3.0 header is not UTF-8: {e}"))?.to_string()
    } else {
        header.iter().map(|&b| char::from(b)).collect()
    };
    let dict = Parser::new(&text).document()?;
    let Lit::Dict(entries) = dict else {
        return Err("header is not a dict literal".into());
    };
    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    if keys != ["descr", "fortran_order", "shape"] {
        return Err(format!("header keys are {keys:?}, expected exactly descr, fortran_order, shape"));
    }
    let get = |k: &str| entries.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let (Some(descr), Some(fortran), Some(shape)) = (get("descr"), get("fortran_order"), get("shape")) else {
        return Err("header keys missing".into());
    };
    let Lit::Bool(fortran) = fortran else {
        return Err("fortran_order is not a boolean".into());
    };
    let Lit::Tuple(dims) = shape else {
        return Err("shape is not a tuple".into());
    };
    let mut elements: u64 = 1;
    let mut shape_out = Vec::new();
    for d in dims {
        let Lit::Int(d) = d else { return Err("shape holds a non-integer".into()) };
        let d = u64::try_from(*d).map_err(|_| format!("negative dimension {d} in shape"))?;
        shape_out.push(d);
        elements = elements.checked_mul(d).ok_or("shape product overflows")?;
    }
    let dtype = itemsize(descr, 0)?;
    let data_len = len - data_start;
    report.details = json!({
        "version": format!("{major}.{minor}"),
        "descr": descr.to_string(),
        "fortran_order": fortran,
        "shape": shape_out,
        "header_bytes": hlen,
        "data_bytes": data_len,
    });
    match dtype {
        Item::Object => {
            report.executable = true;
            report.finding(
                Severity::Critical,
                Some(data_start),
                format!(
                    "object dtype in descr {}: the array data is a pickle (numpy.load needs allow_pickle=True and unpickles it)",
                    descr
                ),
            );
        }
        Item::Size(size) => {
            let expected = elements.checked_mul(size).ok_or("shape × itemsize overflows")?;
            if data_len < expected {
                report.finding(
                    Severity::High,
                    Some(data_start + data_len),
                    format!("array data truncated: {data_len} bytes, shape × itemsize is {expected}"),
                );
            } else if data_len > expected {
                report.finding(
                    Severity::High,
                    Some(data_start + expected),
                    format!(
                        "{} trailing bytes after the array data (shape × itemsize is {expected})",
                        data_len - expected
                    ),
                );
            }
        }
    }
    Ok(())
}

enum Item {
    Object,
    Size(u64),
}

/// Item size of a dtype description: a type string (`<f8`, `|u1`, `<U10`, `<M8[ns]`, `O`)
/// or a structured list of `(name, descr[, shape])`.
fn itemsize(descr: &Lit, depth: usize) -> Result<Item, String> {
    if depth > 32 {
        return Err("descr nested too deep".into());
    }
    match descr {
        Lit::Str(s) => simple(s),
        Lit::List(fields) => {
            let mut total: u64 = 0;
            let mut object = false;
            for f in fields {
                let Lit::Tuple(parts) = f else { return Err(format!("structured descr field {f} is not a tuple")) };
                let (name, sub, shape) = match parts.as_slice() {
                    [n, d] => (n, d, None),
                    [n, d, s] => (n, d, Some(s)),
                    _ => return Err(format!("structured descr field {f} is not (name, descr[, shape])")),
                };
                if !matches!(name, Lit::Str(_) | Lit::Tuple(_)) {
                    return Err(format!("structured descr field name {name} is not a string"));
                }
                let mut count: u64 = 1;
                match shape {
                    None => {}
                    Some(Lit::Int(n)) => count = u64::try_from(*n).map_err(|_| "negative sub-array shape")?,
                    Some(Lit::Tuple(dims)) => {
                        for d in dims {
                            let Lit::Int(d) = d else { return Err("sub-array shape holds a non-integer".into()) };
                            let d = u64::try_from(*d).map_err(|_| "negative sub-array shape")?;
                            count = count.checked_mul(d).ok_or("sub-array shape overflows")?;
                        }
                    }
                    Some(other) => return Err(format!("sub-array shape {other} is not a tuple")),
                }
                match itemsize(sub, depth + 1)? {
                    Item::Object => object = true,
                    Item::Size(s) => {
                        total = s.checked_mul(count).and_then(|b| total.checked_add(b)).ok_or("itemsize overflows")?
                    }
                }
            }
            Ok(if object { Item::Object } else { Item::Size(total) })
        }
        other => Err(format!("descr {other} is neither a type string nor a list of fields")),
    }
}

fn simple(s: &str) -> Result<Item, String> {
    let body = s.strip_prefix(['<', '>', '|', '=']).unwrap_or(s);
    let mut chars = body.chars();
    let Some(code) = chars.next() else { return Err("empty descr".into()) };
    let rest = chars.as_str();
    if code == 'O' {
        return Ok(Item::Object);
    }
    // Datetime units: `M8[ns]`, `m8[D]`.
    let digits = rest.split('[').next().unwrap_or(rest);
    if rest.contains('[') && !matches!(code, 'M' | 'm') {
        return Err(format!("unknown descr `{s}`"));
    }
    let n: u64 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| format!("unknown descr `{s}`"))? };
    let size = match code {
        'b' | 'i' | 'u' | 'f' | 'c' | 'M' | 'm' if n > 0 => n,
        '?' if n <= 1 => 1,
        'S' | 'a' | 'V' => n,
        'U' => n.checked_mul(4).ok_or("itemsize overflows")?,
        _ => return Err(format!("unknown descr `{s}`")),
    };
    Ok(Item::Size(size))
}

// ---------------------------------------------------------------- Python literal

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(String, Lit)>),
}

impl std::fmt::Display for Lit {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let seq = |f: &mut std::fmt::Formatter, items: &[Lit], open: &str, close: &str| {
            f.write_str(open)?;
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            if open == "(" && items.len() == 1 {
                f.write_str(",")?;
            }
            f.write_str(close)
        };
        match self {
            Lit::Str(s) => write!(f, "'{s}'"),
            Lit::Int(i) => write!(f, "{i}"),
            Lit::Bool(b) => f.write_str(if *b { "True" } else { "False" }),
            Lit::None => f.write_str("None"),
            Lit::Tuple(x) => seq(f, x, "(", ")"),
            Lit::List(x) => seq(f, x, "[", "]"),
            Lit::Dict(x) => {
                f.write_str("{")?;
                for (i, (k, v)) in x.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "'{k}': {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

const MAX_NESTING: usize = 32;

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Parser<'a> {
        Parser { s: s.as_bytes(), pos: 0 }
    }

    fn document(&mut self) -> Result<Lit, String> {
        let v = self.value(0)?;
        self.ws();
        if self.pos != self.s.len() {
            return Err(format!("unexpected text after the header dict at byte {}", self.pos));
        }
        Ok(v)
    }

    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!("header literal: {what} at byte {}", self.pos)
    }

    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > MAX_NESTING {
            return Err(self.err("nested too deep"));
        }
        self.ws();
        match self.s.get(self.pos) {
            Some(b'\'' | b'"') => self.string().map(Lit::Str),
            Some(b'(') => {
                let (items, trailing_comma) = self.seq(b')', depth)?;
                // `(x)` is just x in Python; only `(x,)` is a tuple.
                if items.len() == 1 && !trailing_comma {
                    Ok(items.into_iter().next().unwrap_or(Lit::None))
                } else {
                    Ok(Lit::Tuple(items))
                }
            }
            Some(b'[') => self.seq(b']', depth).map(|(items, _)| Lit::List(items)),
            Some(b'{') => self.dict(depth),
            Some(b'-' | b'0'..=b'9') => self.int(),
            Some(_) => {
                let start = self.pos;
                while self.s.get(self.pos).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_') {
                    self.pos += 1;
                }
                match &self.s[start..self.pos] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    _ => {
                        self.pos = start;
                        Err(self.err("unexpected token"))
                    }
                }
            }
            None => Err(self.err("unexpected end")),
        }
    }

    fn int(&mut self) -> Result<Lit, String> {
        let start = self.pos;
        if self.s.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        // Python 2 long suffix, still written by old numpy for shapes.
        let digits = std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err("bad integer"))?;
        if self.s.get(self.pos) == Some(&b'L') {
            self.pos += 1;
        }
        digits.parse().map(Lit::Int).map_err(|_| self.err("bad integer"))
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.pos) {
                None => return Err(self.err("unterminated string")),
                Some(&b) if b == quote => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let esc = *self.s.get(self.pos + 1).ok_or_else(|| self.err("unterminated escape"))?;
                    out.push(match esc {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'\\' | b'\'' | b'"' => esc,
                        _ => return Err(self.err("unsupported escape")),
                    });
                    self.pos += 2;
                }
                Some(&b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not valid text"))
    }

    fn seq(&mut self, close: u8, depth: usize) -> Result<(Vec<Lit>, bool), String> {
        self.pos += 1;
        let mut items = Vec::new();
        let mut trailing = false;
        loop {
            self.ws();
            if self.s.get(self.pos) == Some(&close) {
                self.pos += 1;
                return Ok((items, trailing));
            }
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                    trailing = true;
                }
                Some(&b) if b == close => {
                    self.pos += 1;
                    return Ok((items, false));
                }
                _ => return Err(self.err("expected `,` or a closing bracket")),
            }
        }
    }

    fn dict(&mut self, depth: usize) -> Result<Lit, String> {
        self.pos += 1;
        let mut items: Vec<(String, Lit)> = Vec::new();
        loop {
            self.ws();
            if self.s.get(self.pos) == Some(&b'}') {
                self.pos += 1;
                return Ok(Lit::Dict(items));
            }
            if !matches!(self.s.get(self.pos), Some(b'\'' | b'"')) {
                return Err(self.err("dict key is not a string"));
            }
            let key = self.string()?;
            self.ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.err("expected `:`"));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            if items.iter().any(|(k, _)| *k == key) {
                return Err(self.err(&format!("duplicate key '{key}'")));
            }
            items.push((key, value));
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Lit::Dict(items));
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
    }
}
