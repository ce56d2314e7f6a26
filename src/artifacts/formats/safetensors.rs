//! safetensors: an 8-byte little-endian header size N, N bytes of UTF-8 JSON (an object,
//! starting with `{`, padded with spaces only), then the data buffer. Every rule of the
//! format and of the reference reader (`SafeTensors::deserialize` in huggingface/safetensors)
//! is checked from the header alone: the tensor data is never read.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::{json, Map, Value};

use super::detect::SAFETENSORS_MAX_HEADER;
use super::{read_up_to, FormatReport};
use crate::evidence::Severity;
use crate::strict::StrictValue;

/// Size in bits of each dtype of the format (sub-byte float types included).
pub fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

/// Checks a safetensors file: `reader` is at its start, `len` is its length in bytes.
pub fn check_safetensors(reader: &mut impl Read, len: u64) -> FormatReport {
    let mut report = FormatReport::new("safetensors");
    if let Err(why) = check(reader, len, &mut report) {
        report.finding(Severity::Critical, None, why);
    }
    report
}

fn check(reader: &mut impl Read, len: u64, report: &mut FormatReport) -> Result<(), String> {
    let prefix = read_up_to(reader, 8).map_err(|e| format!("cannot read the header size: {e}"))?;
    let Ok(prefix) = <[u8; 8]>::try_from(prefix.as_slice()) else {
        return Err(format!("file of {len} bytes is shorter than the 8-byte header size"));
    };
    let n = u64::from_le_bytes(prefix);
    if n > SAFETENSORS_MAX_HEADER {
        return Err(format!("header size {n} exceeds the {SAFETENSORS_MAX_HEADER}-byte limit of the format"));
    }
    let data_start = 8 + n;
    if data_start > len {
        return Err(format!("header size {n} runs past the end of the file ({len} bytes)"));
    }
    let header = read_up_to(reader, n).map_err(|e| format!("cannot read the header: {e}"))?;
    if header.len() as u64 != n {
        return Err(format!("header cut short: {} of {n} bytes", header.len()));
    }
    let text = std::str::from_utf8(&header).map_err(|e| format!("header is not valid UTF-8: {e}"))?;
    if !text.starts_with('{') {
        return Err("header does not start with `{`".into());
    }
    let body = text.trim_end_matches(' ');
    if !body.ends_with('}') {
        return Err("header JSON is followed by something other than space (0x20) padding".into());
    }
    let StrictValue(value) = serde_json::from_str(body).map_err(|e| format!("header is not valid JSON: {e}"))?;
    let Value::Object(entries) = value else {
        return Err("header is not a JSON object".into());
    };
    let data_len = len - data_start;
    validate(&entries, data_len, data_start, report);
    Ok(())
}

struct Tensor<'a> {
    name: &'a str,
    begin: u64,
    end: u64,
}

fn validate(entries: &Map<String, Value>, data_len: u64, data_start: u64, report: &mut FormatReport) {
    let mut tensors = Vec::new();
    let mut dtypes = BTreeSet::new();
    let mut metadata_keys = Vec::new();
    for (name, entry) in entries {
        if name == "__metadata__" {
            match entry {
                Value::Null => {}
                Value::Object(map) => {
                    for (k, v) in map {
                        if !v.is_string() {
                            report.finding(
                                Severity::High,
                                None,
                                format!("__metadata__ value of `{k}` is not a string: {}", kind(v)),
                            );
                        }
                        metadata_keys.push(k.clone());
                    }
                }
                other => report.finding(
                    Severity::High,
                    None,
                    format!("__metadata__ is not a map of strings: {}", kind(other)),
                ),
            }
            continue;
        }
        match tensor(name, entry) {
            Ok((dtype, t)) => {
                dtypes.insert(dtype);
                tensors.push(t);
            }
            Err(why) => report.finding(Severity::High, None, format!("tensor `{name}`: {why}")),
        }
    }
    // The reference reader sorts by offsets, then requires each tensor to start where the
    // previous ended and the last to end where the buffer ends.
    tensors.sort_by_key(|t| (t.begin, t.end));
    let mut cursor = 0u64;
    for t in &tensors {
        if t.begin > cursor {
            report.finding(
                Severity::High,
                Some(data_start + cursor),
                format!(
                    "gap of {} bytes in the data buffer before tensor `{}` (offsets {cursor}..{})",
                    t.begin - cursor,
                    t.name,
                    t.begin
                ),
            );
        } else if t.begin < cursor {
            report.finding(
                Severity::High,
                Some(data_start + t.begin),
                format!(
                    "tensor `{}` overlaps the previous tensor (begins at {}, previous ends at {cursor})",
                    t.name, t.begin
                ),
            );
        }
        cursor = cursor.max(t.end);
    }
    if cursor > data_len {
        report.finding(
            Severity::Critical,
            None,
            format!("data offsets end at {cursor}, past the end of the data buffer ({data_len} bytes)"),
        );
    } else if cursor < data_len {
        report.finding(
            Severity::High,
            Some(data_start + cursor),
            format!(
                "{} trailing bytes after the last tensor (data ends at {cursor}, buffer is {data_len} bytes)",
                data_len - cursor
            ),
        );
    }
    report.details = json!({
        "tensors": tensors.len(),
        "dtypes": dtypes,
        "metadata_keys": metadata_keys,
        "header_bytes": data_start - 8,
        "data_bytes": data_len,
    });
}

fn tensor<'a>(name: &'a str, entry: &Value) -> Result<(String, Tensor<'a>), String> {
    let Value::Object(fields) = entry else {
        return Err(format!("entry is not an object: {}", kind(entry)));
    };
    if let Some(unknown) = fields.keys().find(|k| !matches!(k.as_str(), "dtype" | "shape" | "data_offsets")) {
        return Err(format!("unknown field `{unknown}`"));
    }
    let dtype = fields.get("dtype").and_then(Value::as_str).ok_or("missing or non-string `dtype`")?;
    let bits = dtype_bits(dtype).ok_or_else(|| format!("unknown dtype `{dtype}`"))?;
    let shape = fields.get("shape").and_then(Value::as_array).ok_or("missing or non-array `shape`")?;
    let mut elements: u64 = 1;
    for dim in shape {
        let d = dim.as_u64().ok_or_else(|| format!("shape dimension {dim} is not a non-negative integer"))?;
        elements = elements.checked_mul(d).ok_or("shape product overflows")?;
    }
    let offsets = fields.get("data_offsets").and_then(Value::as_array).ok_or("missing or non-array `data_offsets`")?;
    let [begin, end] = offsets.as_slice() else {
        return Err(format!("data_offsets has {} values instead of [begin, end]", offsets.len()));
    };
    let (Some(begin), Some(end)) = (begin.as_u64(), end.as_u64()) else {
        return Err("data_offsets are not non-negative integers".into());
    };
    if begin > end {
        return Err(format!("data_offsets begin {begin} > end {end}"));
    }
    let total_bits = elements.checked_mul(bits).ok_or("shape × dtype size overflows")?;
    if total_bits % 8 != 0 {
        return Err(format!("{elements} elements of {dtype} ({total_bits} bits) do not fill whole bytes"));
    }
    let expected = total_bits / 8;
    if end - begin != expected {
        return Err(format!(
            "byte length {} (offsets {begin}..{end}) differs from shape {:?} × {dtype} = {expected} bytes",
            end - begin,
            shape.iter().filter_map(Value::as_u64).collect::<Vec<_>>()
        ));
    }
    Ok((dtype.to_string(), Tensor { name, begin, end }))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
