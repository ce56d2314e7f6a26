//! GGUF (llama.cpp): `GGUF`, version (1–3), tensor count, metadata KV count, the KV pairs,
//! the tensor infos, padding to `general.alignment`, then the tensor data. Everything up to
//! the data is read sequentially with every count and length bounded by the bytes left in
//! the file before anything is allocated. The chat template (`tokenizer.chat_template*`) is
//! a Jinja program run by the loader: it is parsed and analysed ([`super::jinja`]).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Read};

use serde_json::json;

use super::FormatReport;
use crate::evidence::Severity;

/// Bounds of this reader (llama.cpp's own are larger, but no real model comes close).
pub const MAX_TENSORS: u64 = 1 << 20;
pub const MAX_KV: u64 = 1 << 20;
/// Longest string read (a chat template, a key, a tensor name).
pub const MAX_STRING: u64 = 16 << 20;
/// llama.cpp's `GGML_MAX_DIMS` and `GGML_MAX_NAME`.
const MAX_DIMS: u32 = 4;
const MAX_NAME: usize = 64;
const DEFAULT_ALIGNMENT: u64 = 32;

/// (block size, bytes per block) of each ggml tensor type (gguf-py `GGML_QUANT_SIZES`).
fn ggml_type(t: u32) -> Option<(&'static str, u64, u64)> {
    Some(match t {
        0 => ("F32", 1, 4),
        1 => ("F16", 1, 2),
        2 => ("Q4_0", 32, 18),
        3 => ("Q4_1", 32, 20),
        6 => ("Q5_0", 32, 22),
        7 => ("Q5_1", 32, 24),
        8 => ("Q8_0", 32, 34),
        9 => ("Q8_1", 32, 40),
        10 => ("Q2_K", 256, 84),
        11 => ("Q3_K", 256, 110),
        12 => ("Q4_K", 256, 144),
        13 => ("Q5_K", 256, 176),
        14 => ("Q6_K", 256, 210),
        15 => ("Q8_K", 256, 292),
        16 => ("IQ2_XXS", 256, 66),
        17 => ("IQ2_XS", 256, 74),
        18 => ("IQ3_XXS", 256, 98),
        19 => ("IQ1_S", 256, 50),
        20 => ("IQ4_NL", 32, 18),
        21 => ("IQ3_S", 256, 110),
        22 => ("IQ2_S", 256, 82),
        23 => ("IQ4_XS", 256, 136),
        24 => ("I8", 1, 1),
        25 => ("I16", 1, 2),
        26 => ("I32", 1, 4),
        27 => ("I64", 1, 8),
        28 => ("F64", 1, 8),
        29 => ("IQ1_M", 256, 56),
        30 => ("BF16", 1, 2),
        34 => ("TQ1_0", 256, 54),
        35 => ("TQ2_0", 256, 66),
        39 => ("MXFP4", 32, 17),
        40 => ("NVFP4", 64, 36),
        41 => ("Q1_0", 128, 18),
        _ => return None,
    })
}

/// Checks a GGUF file: `reader` is at its start, `len` is its length in bytes.
pub fn check_gguf(reader: &mut impl Read, len: u64) -> FormatReport {
    let mut report = FormatReport::new("gguf");
    let mut r = Counting { inner: BufReader::new(reader), pos: 0, len };
    if let Err(why) = check(&mut r, &mut report) {
        let at = r.pos;
        report.finding(Severity::Critical, Some(at), why);
    }
    report
}

struct Counting<R> {
    inner: R,
    pos: u64,
    len: u64,
}

impl<R: Read> Counting<R> {
    fn left(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut b = [0u8; N];
        self.inner.read_exact(&mut b).map_err(|_| format!("file cut short at byte {}", self.pos))?;
        self.pos += N as u64;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, String> {
        self.bytes::<4>().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64, String> {
        self.bytes::<8>().map(u64::from_le_bytes)
    }
    /// A count or length: u32 in version 1, u64 since version 2.
    fn size(&mut self, v1: bool) -> Result<u64, String> {
        if v1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }
    fn string(&mut self, v1: bool, what: &str) -> Result<String, String> {
        let n = self.size(v1)?;
        if n > self.left() || n > MAX_STRING {
            return Err(format!("{what}: string length {n} exceeds the {} bytes left", self.left().min(MAX_STRING)));
        }
        let mut buf = Vec::new();
        (&mut self.inner).take(n).read_to_end(&mut buf).map_err(|e| e.to_string())?;
        if buf.len() as u64 != n {
            return Err(format!("{what}: string cut short"));
        }
        self.pos += n;
        String::from_utf8(buf).map_err(|_| format!("{what}: string is not valid UTF-8"))
    }
    fn skip(&mut self, n: u64) -> Result<(), String> {
        let got = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink()).map_err(|e| e.to_string())?;
        self.pos += got;
        if got != n {
            return Err(format!("file cut short at byte {}", self.pos));
        }
        Ok(())
    }
}

/// A metadata value, kept only when small (scalars, strings); arrays are walked and counted.
enum Kv {
    Int(i128),
    Float,
    Bool,
    Str(String),
    Array,
}

const TYPE_NAMES: [&str; 13] = [
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64",
    "float64",
];

fn scalar_size(t: u32) -> Option<u64> {
    Some(match t {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

fn value<R: Read>(r: &mut Counting<R>, t: u32, v1: bool, depth: u32, key: &str) -> Result<Kv, String> {
    Ok(match t {
        0 => Kv::Int(r.bytes::<1>()?[0].into()),
        1 => Kv::Int((r.bytes::<1>()?[0] as i8).into()),
        2 => Kv::Int(u16::from_le_bytes(r.bytes()?).into()),
        3 => Kv::Int(i16::from_le_bytes(r.bytes()?).into()),
        4 => Kv::Int(r.u32()?.into()),
        5 => Kv::Int(i32::from_le_bytes(r.bytes()?).into()),
        10 => Kv::Int(r.u64()?.into()),
        11 => Kv::Int(i64::from_le_bytes(r.bytes()?).into()),
        6 => r.bytes::<4>().map(|_| Kv::Float)?,
        12 => r.bytes::<8>().map(|_| Kv::Float)?,
        7 => match r.bytes::<1>()?[0] {
            0 | 1 => Kv::Bool,
            b => return Err(format!("`{key}`: boolean byte {b} is neither 0 nor 1")),
        },
        8 => Kv::Str(r.string(v1, key)?),
        9 => {
            if depth > 0 {
                return Err(format!("`{key}`: nested arrays are not supported"));
            }
            let et = r.u32()?;
            let n = r.size(v1)?;
            // Each element takes at least its scalar size, or the length prefix of a string.
            let min = match et {
                8 => {
                    if v1 {
                        4
                    } else {
                        8
                    }
                }
                9 => return Err(format!("`{key}`: arrays of arrays are not supported")),
                t => scalar_size(t).ok_or_else(|| format!("`{key}`: unknown array element type {t}"))?,
            };
            if n.checked_mul(min).is_none_or(|b| b > r.left()) {
                return Err(format!("`{key}`: array of {n} elements exceeds the {} bytes left", r.left()));
            }
            if et == 8 {
                for _ in 0..n {
                    let len = r.size(v1)?;
                    if len > r.left() {
                        return Err(format!("`{key}`: string length {len} exceeds the {} bytes left", r.left()));
                    }
                    r.skip(len)?;
                }
            } else {
                r.skip(n * min)?;
            }
            Kv::Array
        }
        t => return Err(format!("`{key}`: unknown value type {t}")),
    })
}

fn check<R: Read>(r: &mut Counting<R>, report: &mut FormatReport) -> Result<(), String> {
    let magic = r.bytes::<4>()?;
    if &magic != b"GGUF" {
        return Err("not a GGUF file: missing the GGUF magic".into());
    }
    let version = r.u32()?;
    if !(1..=3).contains(&version) {
        return Err(format!("unknown GGUF version {version} (known: 1, 2, 3)"));
    }
    let v1 = version == 1;
    let tensor_count = r.size(v1)?;
    let kv_count = r.size(v1)?;
    // A KV pair takes at least 8 + 4 + 1 bytes, a tensor info 8 + 4 + 8 + 4 + 8.
    if tensor_count > MAX_TENSORS || tensor_count.saturating_mul(32) > r.left() {
        return Err(format!("tensor count {tensor_count} is impossible for a file of {} bytes", r.len));
    }
    if kv_count > MAX_KV || kv_count.saturating_mul(13) > r.left() {
        return Err(format!("metadata count {kv_count} is impossible for a file of {} bytes", r.len));
    }
    let mut keys = BTreeSet::new();
    let mut alignment = DEFAULT_ALIGNMENT;
    let mut templates: BTreeMap<String, String> = BTreeMap::new();
    let mut architecture = None;
    for _ in 0..kv_count {
        let key = r.string(v1, "metadata key")?;
        let t = r.u32()?;
        let v = value(r, t, v1, 0, &key)?;
        if !keys.insert(key.clone()) {
            return Err(format!("duplicate metadata key `{key}`"));
        }
        match (key.as_str(), &v) {
            ("general.alignment", Kv::Int(a)) if t == 4 => {
                let a = u64::try_from(*a).unwrap_or(0);
                if a == 0 || !a.is_power_of_two() {
                    return Err(format!("general.alignment {a} is not a power of two"));
                }
                alignment = a;
            }
            ("general.alignment", _) => {
                return Err(format!(
                    "general.alignment has type {}, not uint32",
                    TYPE_NAMES.get(t as usize).unwrap_or(&"?")
                ))
            }
            ("general.architecture", Kv::Str(s)) => architecture = Some(s.clone()),
            (k, Kv::Str(s)) if k == "tokenizer.chat_template" || k.starts_with("tokenizer.chat_template.") => {
                templates.insert(key.clone(), s.clone());
            }
            (k, _) if k == "tokenizer.chat_template" || k.starts_with("tokenizer.chat_template.") => {
                report.finding(Severity::High, None, format!("`{k}` is not a string"));
            }
            _ => {}
        }
    }
    struct Info {
        name: String,
        offset: u64,
        size: u64,
    }
    let mut infos: Vec<Info> = Vec::new();
    let mut names = BTreeSet::new();
    let mut types = BTreeSet::new();
    for _ in 0..tensor_count {
        let name = r.string(v1, "tensor name")?;
        if name.len() >= MAX_NAME {
            report.finding(
                Severity::High,
                None,
                format!("tensor name `{name}` is {} bytes (llama.cpp limit {})", name.len(), MAX_NAME - 1),
            );
        }
        let n_dims = r.u32()?;
        if n_dims > MAX_DIMS {
            return Err(format!("tensor `{name}` has {n_dims} dimensions (at most {MAX_DIMS})"));
        }
        let mut dims = Vec::new();
        let mut elements: u64 = 1;
        for _ in 0..n_dims {
            let d = r.size(v1)?;
            dims.push(d);
            elements = elements.checked_mul(d).ok_or_else(|| format!("tensor `{name}`: element count overflows"))?;
        }
        let t = r.u32()?;
        let offset = r.u64()?;
        let Some((tname, block, bytes)) = ggml_type(t) else {
            return Err(format!("tensor `{name}` has unknown ggml type {t}"));
        };
        types.insert(tname);
        let first = dims.first().copied().unwrap_or(1);
        if first % block != 0 {
            report.finding(
                Severity::High,
                None,
                format!("tensor `{name}`: first dimension {first} is not a multiple of the {tname} block size {block}"),
            );
        }
        let size =
            (elements / block).checked_mul(bytes).ok_or_else(|| format!("tensor `{name}`: byte size overflows"))?;
        if offset % alignment != 0 {
            report.finding(
                Severity::High,
                None,
                format!("tensor `{name}`: offset {offset} is not aligned to {alignment}"),
            );
        }
        if !names.insert(name.clone()) {
            return Err(format!("duplicate tensor name `{name}`"));
        }
        infos.push(Info { name, offset, size });
    }
    let data_start = r.pos.div_ceil(alignment).checked_mul(alignment).ok_or("data offset overflows")?;
    let data_len = r.len.saturating_sub(data_start);
    if tensor_count > 0 && data_start > r.len {
        return Err(format!("tensor data would start at {data_start}, past the end of the file ({} bytes)", r.len));
    }
    infos.sort_by_key(|i| i.offset);
    let mut end = 0u64;
    for i in &infos {
        let Some(stop) = i.offset.checked_add(i.size) else {
            report.finding(
                Severity::Critical,
                None,
                format!("tensor `{}`: offset {} + size overflows", i.name, i.offset),
            );
            continue;
        };
        if stop > data_len {
            report.finding(
                Severity::Critical,
                Some(data_start.saturating_add(i.offset)),
                format!(
                    "tensor `{}`: data {}..{stop} runs past the end of the data section ({data_len} bytes)",
                    i.name, i.offset
                ),
            );
        }
        if i.offset < end {
            report.finding(
                Severity::High,
                Some(data_start.saturating_add(i.offset)),
                format!("tensor `{}` overlaps the previous tensor", i.name),
            );
        }
        end = end.max(stop);
    }
    for (key, template) in &templates {
        for finding in super::jinja::analyze(template) {
            report.finding(
                finding.severity,
                None,
                format!(
                    "`{key}` {}: a chat template is a Jinja program the loader runs; one that escapes its sandbox \
                     runs code when the model is loaded (CVE-2024-34359)",
                    finding.why
                ),
            );
        }
    }
    report.details = json!({
        "version": version,
        "tensors": tensor_count,
        "metadata_keys": kv_count,
        "architecture": architecture,
        "alignment": alignment,
        "tensor_types": types,
        "chat_templates": templates.keys().collect::<Vec<_>>(),
        "data_offset": data_start,
    });
    Ok(())
}
