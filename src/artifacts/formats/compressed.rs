//! Compressed streams (what `joblib.dump(..., compress=...)` writes: zlib, gzip, bz2, xz,
//! lzma-alone, lz4 frames; zstd too), decompressed with a hard bound on the output and on
//! the decoder's memory, so that what they hold can be scanned like any other file.
//!
//! The loaders read concatenated streams (Python's `gzip`, `bz2`, `lzma` and joblib's zlib
//! reader all start a new decompressor on the bytes left after a stream's end), so every
//! stream is decompressed, and the output is their concatenation. Bytes after the last
//! stream that are not one are a finding: what the loader does with them depends on the
//! codec, so they are not waved through. A stream that does not decompress, or that would
//! decompress past the bound, is refused with the reason (the caller makes it unsafe).

use std::io::{BufRead, BufReader, Read};

/// Output may exceed the compressed size times this (the zip reader's ratio) only up to
/// [`RATIO_FLOOR`]: beyond both, the stream is a decompression bomb.
pub const MAX_RATIO: u64 = super::super::container::MAX_RATIO;

/// Small streams of zeros compress far better than [`MAX_RATIO`] (bz2 reaches 10⁶:1);
/// up to this output size the ratio is not held against them.
pub const RATIO_FLOOR: u64 = 16 << 20;

/// The most memory a decoder may ask for its dictionary or window (xz -9 needs 64 MiB).
pub const DECODER_MEMORY: u64 = 256 << 20;

/// Why a stream was not decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It would decompress past the ratio bound: a decompression bomb.
    Bomb(String),
    /// It would decompress past the bytes the caller reads at all.
    TooLarge(String),
    /// It does not decompress (corrupt, truncated, a decoder that needs too much memory).
    Broken(String),
}

impl Refusal {
    pub fn why(&self) -> &str {
        match self {
            Refusal::Bomb(why) | Refusal::TooLarge(why) | Refusal::Broken(why) => why,
        }
    }
}

/// What came out of a compressed stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decompressed {
    pub bytes: Vec<u8>,
    /// How many streams were concatenated.
    pub streams: usize,
    /// Bytes after the last stream that do not start another one.
    pub trailing: u64,
}

/// Decompresses every `codec` stream in `reader` (`compressed_len` bytes), at most `limit`
/// bytes of output and at most [`MAX_RATIO`] times `compressed_len` (or [`RATIO_FLOOR`]).
pub fn decompress(codec: &str, reader: impl Read, compressed_len: u64, limit: u64) -> Result<Decompressed, Refusal> {
    let ratio_bound = compressed_len.saturating_mul(MAX_RATIO).max(RATIO_FLOOR);
    let bound = ratio_bound.min(limit);
    let mut input = BufReader::new(reader);
    let mut bytes = Vec::new();
    let mut streams = 0;
    loop {
        let left = bound - bytes.len() as u64;
        // One byte more than allowed tells a stream that ends at the bound from one that goes on.
        let read = match codec {
            "gzip" => flate2::bufread::GzDecoder::new(&mut input).take(left + 1).read_to_end(&mut bytes),
            "zlib" => flate2::bufread::ZlibDecoder::new(&mut input).take(left + 1).read_to_end(&mut bytes),
            "bz2" => bzip2::bufread::BzDecoder::new(&mut input).take(left + 1).read_to_end(&mut bytes),
            // Both of these read concatenated streams themselves.
            "xz" => lzma_rust2::XzReader::new_mem_limit(&mut input, true, (DECODER_MEMORY >> 10) as u32)
                .take(left + 1)
                .read_to_end(&mut bytes),
            "lz4" => lz4_flex::frame::FrameDecoder::new(&mut input).take(left + 1).read_to_end(&mut bytes),
            "lzma" => match lzma_rust2::LzmaReader::new_mem_limit(&mut input, (DECODER_MEMORY >> 10) as u32, None) {
                Ok(decoder) => decoder.take(left + 1).read_to_end(&mut bytes),
                Err(error) => Err(error),
            },
            "zstd" => match zstd::stream::read::Decoder::with_buffer(&mut input) {
                Ok(mut decoder) => match decoder.window_log_max(DECODER_MEMORY.ilog2()) {
                    Ok(()) => decoder.take(left + 1).read_to_end(&mut bytes),
                    Err(error) => Err(error),
                },
                Err(error) => Err(error),
            },
            other => return Err(Refusal::Broken(format!("no decoder for {other} streams"))),
        };
        if bytes.len() as u64 > bound {
            return Err(if bound == limit && limit < ratio_bound {
                Refusal::TooLarge(format!("the {codec} stream decompresses to more than the {limit} bytes read"))
            } else {
                Refusal::Bomb(format!(
                    "the {codec} stream of {compressed_len} bytes decompresses to more than {bound} bytes \
                     (a ratio above {MAX_RATIO}:1): a decompression bomb"
                ))
            });
        }
        read.map_err(|error| Refusal::Broken(format!("the {codec} stream does not decompress: {error}")))?;
        streams += 1;
        let rest = input.fill_buf().map_err(|error| Refusal::Broken(format!("cannot be read: {error}")))?;
        if rest.is_empty() {
            return Ok(Decompressed { bytes, streams, trailing: 0 });
        }
        if matches!(super::detect(rest, rest.len() as u64), super::Format::Compressed { codec: next } if next == codec)
        {
            continue;
        }
        let mut trailing = 0u64;
        loop {
            let n = input.fill_buf().map_err(|error| Refusal::Broken(format!("cannot be read: {error}")))?.len();
            if n == 0 {
                break;
            }
            trailing += n as u64;
            input.consume(n);
        }
        return Ok(Decompressed { bytes, streams, trailing });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).expect("compress");
        encoder.finish().expect("compress")
    }

    #[test]
    fn concatenated_streams_are_all_read() {
        let mut both = zlib(b"first ");
        both.extend(zlib(b"second"));
        let out = decompress("zlib", &both[..], both.len() as u64, 1 << 20).expect("decompresses");
        assert_eq!(out.bytes, b"first second");
        assert_eq!(out.streams, 2);
        assert_eq!(out.trailing, 0);
    }

    #[test]
    fn a_bomb_is_refused_at_the_bound() {
        let zeros = vec![0u8; (RATIO_FLOOR + 1) as usize];
        let bomb = zlib(&zeros);
        assert!((bomb.len() as u64) * MAX_RATIO < RATIO_FLOOR, "{} bytes", bomb.len());
        let refusal = decompress("zlib", &bomb[..], bomb.len() as u64, 1 << 40).expect_err("a bomb");
        assert!(matches!(refusal, Refusal::Bomb(_)), "{refusal:?}");
        // Up to the floor, zeros are fine.
        let small = zlib(&zeros[..1 << 20]);
        assert_eq!(decompress("zlib", &small[..], small.len() as u64, 1 << 40).expect("fine").bytes.len(), 1 << 20);
        // The caller's limit is a different refusal.
        let refusal = decompress("zlib", &small[..], small.len() as u64, 1000).expect_err("too large");
        assert!(matches!(refusal, Refusal::TooLarge(_)), "{refusal:?}");
    }

    #[test]
    fn corrupt_and_truncated_streams_are_broken() {
        let good = zlib(b"some bytes to compress, some bytes to compress");
        let truncated = &good[..good.len() - 6];
        assert!(matches!(decompress("zlib", truncated, 10, 1 << 20), Err(Refusal::Broken(_))));
        for codec in ["gzip", "bz2", "xz", "lzma", "lz4", "zstd"] {
            let garbage = b"\x00\x01\x02\x03 not a stream";
            assert!(matches!(decompress(codec, &garbage[..], 20, 1 << 20), Err(Refusal::Broken(_))), "{codec}");
        }
    }

    #[test]
    fn trailing_bytes_are_counted() {
        let mut data = zlib(b"payload");
        data.extend_from_slice(b"trailing junk");
        let out = decompress("zlib", &data[..], data.len() as u64, 1 << 20).expect("decompresses");
        assert_eq!(out.bytes, b"payload");
        assert_eq!(out.trailing, 13);
    }
}
