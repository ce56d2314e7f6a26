//! Which format a file is, from its first bytes and its length, never from its name.
//!
//! Each rule and its false-positive risk is in `docs/model-formats.md`. The order matters:
//! the strict magics (zip, npy, GGUF, HDF5) first, then safetensors (a length prefix plus
//! `{`), then compressed streams (short magics), then pickle (whose protocol 0/1 opcodes are printable bytes).

/// A file's format as recognised from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A pickle stream; `protocol` is the PROTO argument (2–5), or 0 for text/binary
    /// opcodes without PROTO (protocols 0 and 1 look alike).
    Pickle {
        protocol: u8,
    },
    /// A zip archive (PyTorch, Keras v3, .npz): routed to the container scanner.
    Zip,
    Safetensors,
    Npy,
    Gguf,
    Hdf5,
    /// An ONNX `ModelProto`: a protobuf message starting with `ir_version` (3 or more).
    Onnx,
    /// A TensorFlow `saved_model.pb`: a protobuf message starting with schema version 1
    /// and a `MetaGraphDef`.
    SavedModel,
    /// A compressed stream (compressed joblib dumps, among others).
    Compressed {
        codec: &'static str,
    },
    /// A tar archive (SageMaker's `model.tar.gz` once decompressed, legacy PyTorch
    /// checkpoints): its members are scanned.
    Tar,
    /// An archive the scanner does not open (7z, RAR): unscanned, so a finding.
    Unopened {
        kind: &'static str,
    },
    /// An image (PNG, JPEG, GIF, WebP): model cards carry them; no model loader runs one.
    Image,
    Unknown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pickle { .. } => "pickle",
            Format::Zip => "zip",
            Format::Safetensors => "safetensors",
            Format::Npy => "npy",
            Format::Gguf => "gguf",
            Format::Hdf5 => "hdf5",
            Format::Onnx => "onnx",
            Format::SavedModel => "tf-savedmodel",
            Format::Compressed { .. } => "compressed",
            Format::Tar => "tar",
            Format::Unopened { kind } => kind,
            Format::Image => "image",
            Format::Unknown => "unknown",
        }
    }
}

/// The HDF5 superblock signature: at offset 0, or after a user block of 512, 1024, 2048, …
/// bytes (the HDF5 file format specification, "Disk Format: Level 0A").
pub const HDF5_SIGNATURE: &[u8] = b"\x89HDF\r\n\x1a\n";

/// The safetensors header bound of the reference implementation (100 MB).
pub(crate) const SAFETENSORS_MAX_HEADER: u64 = 100_000_000;

/// Detects the format from `head` (the first bytes of the file, up to 4 KiB is enough) and
/// the file length `len`.
pub fn detect(head: &[u8], len: u64) -> Format {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Format::Npy;
    }
    if head.starts_with(b"GGUF") {
        return Format::Gguf;
    }
    if head.starts_with(HDF5_SIGNATURE) {
        return Format::Hdf5;
    }
    if head.starts_with(b"7z\xbc\xaf\x27\x1c") {
        return Format::Unopened { kind: "7z" };
    }
    if head.starts_with(b"Rar!\x1a\x07") {
        return Format::Unopened { kind: "rar" };
    }
    if is_tar(head) {
        return Format::Tar;
    }
    if is_image(head) {
        return Format::Image;
    }
    // Before the compressed magics: a header size of 93 (0x5d) or 120 (0x78) would otherwise
    // look like lzma or zlib.
    if is_safetensors(head, len) {
        return Format::Safetensors;
    }
    if let Some(codec) = compressed(head) {
        return Format::Compressed { codec };
    }
    if let Some(format) = protobuf_model(head) {
        return format;
    }
    if let Some(protocol) = pickle(head) {
        return Format::Pickle { protocol };
    }
    Format::Unknown
}

/// A tar header block: 512 bytes whose checksum field (octal, at 148) equals the sum of
/// the block's bytes with that field counted as spaces (POSIX ustar, GNU and v7 tars).
/// The magic `ustar` at 257 is not required: v7 tars have none.
fn is_tar(head: &[u8]) -> bool {
    let Some(block) = head.get(..512) else { return false };
    let field = &block[148..156];
    let digits: Vec<u8> = field.iter().copied().skip_while(|b| *b == b' ').take_while(u8::is_ascii_digit).collect();
    let Some(stored) = std::str::from_utf8(&digits).ok().and_then(|d| u32::from_str_radix(d, 8).ok()) else {
        return false;
    };
    let sum: u32 =
        block.iter().enumerate().map(|(i, b)| if (148..156).contains(&i) { 32 } else { u32::from(*b) }).sum();
    // A name is required: an all-zero block is the end of an archive, not a header.
    !digits.is_empty() && stored == sum && block[0] != 0
}

fn is_image(head: &[u8]) -> bool {
    head.starts_with(b"\x89PNG\r\n\x1a\n")
        || head.starts_with(b"\xff\xd8\xff")
        || head.starts_with(b"GIF87a")
        || head.starts_with(b"GIF89a")
        || (head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP"))
}

fn compressed(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Some("gzip");
    }
    if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        return Some("bz2");
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return Some("xz");
    }
    if head.starts_with(&[0x5d, 0x00, 0x00]) {
        return Some("lzma");
    }
    if head.starts_with(&[0x04, 0x22, 0x4d, 0x18]) {
        return Some("lz4");
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Some("zstd");
    }
    // zlib: CMF 0x78 (deflate, 32 KiB window) and (CMF*256 + FLG) % 31 == 0 (RFC 1950).
    if let [0x78, flg, ..] = head {
        if (0x78u16 * 256 + u16::from(*flg)) % 31 == 0 {
            return Some("zlib");
        }
    }
    None
}

/// ONNX and SavedModel files are protobuf messages whose first field is a varint numbered 1
/// (`ir_version`, `saved_model_schema_version`), followed by a length-delimited field.
/// SavedModel's schema version is 1 and its next field is 2 (`meta_graphs`); ONNX's IR
/// version is 3 or more since ONNX 1.0, and its next field is one of `ModelProto`'s.
fn protobuf_model(head: &[u8]) -> Option<Format> {
    let (field, value, used) = super::protobuf::first_varint(head)?;
    let next = *head.get(used)?;
    if field != 1 {
        return None;
    }
    if value == 1 && next == 0x12 {
        return Some(Format::SavedModel);
    }
    // Keys of ModelProto fields 2-8 (strings, model_version, graph, opset_import), 14
    // (metadata_props), 20 (training_info) and 25 (functions), as their first byte.
    let model_keys = [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xa2, 0xca];
    ((3..=64).contains(&value) && model_keys.contains(&next)).then_some(Format::Onnx)
}

fn is_safetensors(head: &[u8], len: u64) -> bool {
    let Some(prefix) = head.get(..8) else { return false };
    let mut n = [0u8; 8];
    n.copy_from_slice(prefix);
    let n = u64::from_le_bytes(n);
    (2..=SAFETENSORS_MAX_HEADER).contains(&n)
        && n.checked_add(8).is_some_and(|end| end <= len)
        && head.get(8) == Some(&b'{')
}

fn pickle(head: &[u8]) -> Option<u8> {
    match head {
        // PROTO (0x80) with a known version.
        [0x80, v, ..] if *v <= 5 => Some(*v),
        // Protocol 0/1 streams start with an opcode that pushes or builds something.
        // Text opcodes: MARK `(`, GLOBAL `c`, INST `i`, PERSID `P`, INT `I`, LONG `L`,
        // STRING `S`, UNICODE `V`, FLOAT `F`, NONE `N`, EMPTY_DICT `}`, EMPTY_LIST `]`,
        // EMPTY_TUPLE `)`; binary protocol 1 ones: BININT `J`, BININT1 `K`, BINUNICODE `X`,
        // BINSTRING `T`, SHORT_BINSTRING `U`, BINPERSID `Q`. Only accepted when the stream
        // ends with STOP `.` somewhere in the head or continues beyond it, and the second
        // byte is plausible; see the docs for the false-positive risk on text files.
        [first, rest @ ..] if b"(ciPILSVFN}])JKXTUQ".contains(first) && !rest.is_empty() => {
            let text = matches!(first, b'c' | b'i' | b'P' | b'I' | b'L' | b'S' | b'V' | b'F');
            if text {
                // Text opcodes carry a newline-terminated argument: `cos\nsystem\n`, `I1\n`.
                let line = rest.iter().take(256).position(|&b| b == b'\n')?;
                if *first == b'c' || *first == b'i' {
                    // module\nname\n — both lines must be identifiers.
                    let module = &rest[..line];
                    let after = &rest[line + 1..];
                    let name_end = after.iter().take(256).position(|&b| b == b'\n')?;
                    return (ident(module) && ident(&after[..name_end])).then_some(0);
                }
                return (line > 0 && rest[..line].iter().all(|b| b.is_ascii_graphic() || *b == b' ')).then_some(0);
            }
            head.contains(&b'.').then_some(0)
        }
        _ => None,
    }
}

fn ident(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
}

/// A SentencePiece model (`tokenizer.model`, `spiece.model`): a protobuf `ModelProto`
/// whose every top-level field is one of its five length-delimited ones (pieces, trainer,
/// normalizer, self-test data, denormalizer), with at least one piece, and the first field
/// a piece that starts with its UTF-8 text. Data, read by no loader that runs code.
pub fn is_sentencepiece(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0x0a]) {
        return false;
    }
    let mut wire = super::protobuf::Wire::new(std::io::Cursor::new(bytes), bytes.len() as u64);
    let mut pieces = 0usize;
    let walked = wire.fields(bytes.len() as u64, 0, |wire, field, value, depth| match (field, value) {
        (1, super::protobuf::Value::Bytes { .. }) => {
            pieces += 1;
            if pieces > 1 {
                return Ok(());
            }
            let mut text = false;
            wire.message(value, depth, |wire, field, value, _| {
                if field == 1 && wire.text(value)?.is_some() {
                    text = true;
                }
                Ok(())
            })?;
            if text {
                Ok(())
            } else {
                Err("no piece text".into())
            }
        }
        (2..=5, super::protobuf::Value::Bytes { .. }) => Ok(()),
        _ => Err("not a SentencePiece field".into()),
    });
    walked.is_ok() && pieces > 0
}

/// ONNX and SavedModel files whose fields are not in the order their writers use: protobuf
/// allows any order, and a hostile file may put its graph first, where [`detect`]'s fast
/// path expects `ir_version`. The top-level message is walked (payloads seeked over, not
/// read): every field must be well-formed and the last must end at the end of the file.
/// ONNX: a varint field 1 (`ir_version`, 3–64) and a length-delimited field 7 (`graph`).
/// SavedModel: field 1 equal to 1 and a length-delimited field 2 (`meta_graphs`), no field 7.
pub fn protobuf_model_in_any_order(reader: impl std::io::Read + std::io::Seek, len: u64) -> Option<Format> {
    use super::protobuf::{Value, Wire};
    if len == 0 {
        return None;
    }
    let mut wire = Wire::new(reader, len);
    let (mut version, mut graph, mut meta_graphs) = (None, false, false);
    wire.fields(len, 0, |_, field, value, _| {
        match (field, value) {
            (1, Value::Varint(v)) => version = Some(v),
            (1, _) => return Err("field 1 is not a varint".into()),
            (7, Value::Bytes { .. }) => graph = true,
            (2, Value::Bytes { .. }) => meta_graphs = true,
            _ => {}
        }
        Ok(())
    })
    .ok()?;
    match version {
        Some(v) if (3..=64).contains(&v) && graph => Some(Format::Onnx),
        Some(1) if meta_graphs && !graph => Some(Format::SavedModel),
        _ => None,
    }
}
