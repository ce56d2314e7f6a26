//! A protocol-buffers wire-format reader for the model formats that are protobuf messages
//! (ONNX `ModelProto`, TensorFlow `SavedModel`), read statically from a stream.
//!
//! Only the fields a check needs are decoded; every other field, and the weight bytes that
//! make these files large, are skipped with a relative seek, so memory stays bounded by the
//! longest string kept ([`MAX_TEXT`]) whatever the file claims. Messages nest at most
//! [`MAX_DEPTH`] deep (subgraphs in ONNX attributes, functions). Anything the wire format
//! does not allow (a length past its message, an unknown wire type, a varint of more than
//! ten bytes, groups) is an error naming the offset.

use std::io::{BufRead, BufReader, Read, Seek};

/// Longest string or bytes field kept; longer ones are read as "too long" and not kept.
pub const MAX_TEXT: u64 = 64 << 10;

/// How deep messages may nest before the file is refused.
pub const MAX_DEPTH: usize = 64;

/// One field of a message, as the wire says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Varint(u64),
    Fixed64,
    Fixed32,
    /// A length-delimited field (string, bytes, sub-message) at `offset`, not read yet.
    Bytes {
        offset: u64,
        len: u64,
    },
}

/// A stream of protobuf bytes, read forward; skipped fields are seeked over.
pub struct Wire<R: Read + Seek> {
    input: BufReader<R>,
    position: u64,
    len: u64,
}

impl<R: Read + Seek> Wire<R> {
    /// `len` is the message's length (the file's, for a top-level message).
    pub fn new(input: R, len: u64) -> Wire<R> {
        Wire { input: BufReader::new(input), position: 0, len }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn byte(&mut self) -> Result<u8, String> {
        let mut one = [0u8];
        self.input.read_exact(&mut one).map_err(|error| format!("at byte {}: {error}", self.position))?;
        self.position += 1;
        Ok(one[0])
    }

    fn varint(&mut self) -> Result<u64, String> {
        let start = self.position;
        let mut value = 0u64;
        for index in 0..10 {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!("at byte {start}: a varint longer than ten bytes"))
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        let step = i64::try_from(n).map_err(|_| format!("at byte {}: a skip of {n} bytes", self.position))?;
        self.input.seek_relative(step).map_err(|error| format!("at byte {}: {error}", self.position))?;
        self.position += n;
        Ok(())
    }

    /// Calls `visit` on each field of the message that spans `start..end` (the reader must
    /// be at `start`). `visit` reads a `Bytes` field with [`Wire::text`] or
    /// [`Wire::message`], or leaves it, and then it is skipped.
    pub fn fields(
        &mut self,
        end: u64,
        depth: usize,
        mut visit: impl FnMut(&mut Self, u32, Value, usize) -> Result<(), String>,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("at byte {}: messages nested more than {MAX_DEPTH} deep", self.position));
        }
        if end > self.len {
            return Err(format!("a message claims to end at byte {end}, past the {} bytes there are", self.len));
        }
        while self.position < end {
            let at = self.position;
            let key = self.varint()?;
            let field = u32::try_from(key >> 3).map_err(|_| format!("at byte {at}: field number {}", key >> 3))?;
            if field == 0 {
                return Err(format!("at byte {at}: field number 0"));
            }
            let value = match key & 7 {
                0 => Value::Varint(self.varint()?),
                1 => {
                    self.skip(8)?;
                    Value::Fixed64
                }
                5 => {
                    self.skip(4)?;
                    Value::Fixed32
                }
                2 => {
                    let len = self.varint()?;
                    let offset = self.position;
                    if offset.checked_add(len).is_none_or(|field_end| field_end > end) {
                        return Err(format!(
                            "at byte {at}: field {field} claims {len} bytes, past the end of its message"
                        ));
                    }
                    Value::Bytes { offset, len }
                }
                wire => return Err(format!("at byte {at}: field {field} has wire type {wire}, not read here")),
            };
            if self.position > end {
                return Err(format!("at byte {at}: field {field} runs past the end of its message"));
            }
            visit(self, field, value, depth)?;
            if let Value::Bytes { offset, len } = value {
                // Whatever `visit` read of it, continue after the field.
                let field_end = offset + len;
                if self.position > field_end {
                    return Err(format!("at byte {at}: field {field} was read past its end"));
                }
                self.skip(field_end - self.position)?;
            }
        }
        if self.position != end {
            return Err(format!("a message ends at byte {}, not at {end}", self.position));
        }
        Ok(())
    }

    /// Reads a `Bytes` field whose message starts at `offset`: its fields, one level deeper.
    pub fn message(
        &mut self,
        value: Value,
        depth: usize,
        visit: impl FnMut(&mut Self, u32, Value, usize) -> Result<(), String>,
    ) -> Result<(), String> {
        let Value::Bytes { offset, len } = value else {
            return Err(format!("at byte {}: a message field that is not length-delimited", self.position));
        };
        if self.position != offset {
            return Err(format!("at byte {}: a message read out of order", self.position));
        }
        self.fields(offset + len, depth + 1, visit)
    }

    /// Reads a `Bytes` field as text (lossy UTF-8); `None` when longer than [`MAX_TEXT`].
    pub fn text(&mut self, value: Value) -> Result<Option<String>, String> {
        let Value::Bytes { offset, len } = value else {
            return Err(format!("at byte {}: a string field that is not length-delimited", self.position));
        };
        if len > MAX_TEXT || self.position != offset {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        self.input.by_ref().take(len).read_to_end(&mut bytes).map_err(|error| format!("at byte {offset}: {error}"))?;
        if bytes.len() as u64 != len {
            return Err(format!("at byte {offset}: a string of {len} bytes is cut short"));
        }
        self.position += len;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Whether the whole stream was consumed (for checking that nothing follows a message).
    pub fn at_end(&mut self) -> bool {
        self.position == self.len && self.input.fill_buf().is_ok_and(|rest| rest.is_empty())
    }
}

/// Reads the first `head` bytes as a message's first key and varint: `(field, value)` when
/// the message starts with a varint field, as ONNX and SavedModel files do.
pub fn first_varint(head: &[u8]) -> Option<(u32, u64, usize)> {
    let (key, used) = varint_at(head)?;
    if key & 7 != 0 {
        return None;
    }
    let (value, more) = varint_at(&head[used..])?;
    Some((u32::try_from(key >> 3).ok()?, value, used + more))
}

fn varint_at(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (index, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn wire(bytes: &[u8]) -> Wire<Cursor<&[u8]>> {
        Wire::new(Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn reads_varints_strings_and_skips_the_rest() {
        // field 1 = 150, field 2 = "hi", field 3 fixed32, field 4 = sub-message { field 1 = 1 }
        let bytes = b"\x08\x96\x01\x12\x02hi\x1d\x00\x00\x00\x00\x22\x02\x08\x01";
        let mut seen = Vec::new();
        let mut w = wire(bytes);
        w.fields(bytes.len() as u64, 0, |w, field, value, depth| {
            match (field, value) {
                (2, v) => seen.push(format!("2={}", w.text(v)?.unwrap_or_default())),
                (4, v) => w.message(v, depth, |_, f, v, _| {
                    seen.push(format!("4.{f}={v:?}"));
                    Ok(())
                })?,
                (f, v) => seen.push(format!("{f}={v:?}")),
            }
            Ok(())
        })
        .expect("parses");
        assert_eq!(seen, ["1=Varint(150)", "2=hi", "3=Fixed32", "4.1=Varint(1)"]);
    }

    #[test]
    fn malformed_input_is_an_error() {
        for bytes in [
            &b"\x12\x05hi"[..],                                  // length past the end
            b"\x0b\x00",                                         // a group
            b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", // an eleven-byte varint
            b"\x00\x01",                                         // field 0
        ] {
            let mut w = wire(bytes);
            assert!(w.fields(bytes.len() as u64, 0, |_, _, _, _| Ok(())).is_err(), "{bytes:?}");
        }
    }
}
