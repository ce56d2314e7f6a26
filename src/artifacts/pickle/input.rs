//! The bytes of a pickle, read forward through a window of [`WINDOW`] bytes. What the
//! machine does not keep (tensor bytes, long strings) is seeked over and never read, so the
//! memory a scan takes does not depend on the size of the file.

use std::io::{Read, Seek, SeekFrom};

/// A reader the pickle is read from.
pub(super) trait Source: Read + Seek {}

impl<T: Read + Seek> Source for T {}

/// The most bytes held at once.
const WINDOW: usize = 64 << 10;

pub(super) struct Input<'r> {
    reader: &'r mut dyn Source,
    /// Where the pickle starts in the reader: offsets are counted from there.
    base: u64,
    len: u64,
    pos: u64,
    window: Vec<u8>,
    /// The offset of `window[0]`.
    window_at: u64,
    /// How much the next refill reads: it starts small and doubles up to [`WINDOW`], so that
    /// reading a short pickle costs what it reads, not a whole window.
    next_fill: usize,
}

/// A line of a text opcode, as far as it is kept.
pub(super) struct Line {
    pub bytes: Vec<u8>,
    /// The line was longer than what was kept.
    pub cut: bool,
}

impl<'r> Input<'r> {
    /// The `len` bytes from the reader's current position.
    pub fn new(reader: &'r mut dyn Source, len: u64) -> std::io::Result<Input<'r>> {
        let base = reader.stream_position()?;
        Ok(Input { reader, base, len, pos: 0, window: Vec::new(), window_at: 0, next_fill: 512 })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn left(&self) -> u64 {
        self.len - self.pos
    }

    /// Makes the window hold the byte at `pos` (which is before the end).
    fn fill(&mut self) -> std::io::Result<()> {
        let end = self.window_at + self.window.len() as u64;
        if (self.window_at..end).contains(&self.pos) {
            return Ok(());
        }
        let want = self.left().min(self.next_fill as u64) as usize;
        self.next_fill = (self.next_fill * 2).min(WINDOW);
        if self.pos != end {
            self.reader.seek(SeekFrom::Start(self.base + self.pos))?;
        }
        self.window.resize(want, 0);
        self.reader.read_exact(&mut self.window)?;
        self.window_at = self.pos;
        Ok(())
    }

    /// The window from `pos` on (empty at the end).
    fn here(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.len {
            return Ok(&[]);
        }
        self.fill()?;
        let from = (self.pos - self.window_at) as usize;
        Ok(&self.window[from..])
    }

    pub fn peek(&mut self) -> std::io::Result<Option<u8>> {
        Ok(self.here()?.first().copied())
    }

    pub fn byte(&mut self) -> std::io::Result<Option<u8>> {
        let byte = self.peek()?;
        if byte.is_some() {
            self.pos += 1;
        }
        Ok(byte)
    }

    /// The next `n` bytes; the caller has checked that they are there and that `n` is small.
    pub fn read(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let here = self.here()?;
            if here.is_empty() {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let take = here.len().min(n - out.len());
            out.extend_from_slice(&here[..take]);
            self.pos += take as u64;
        }
        Ok(out)
    }

    /// Moves past `n` bytes without reading them; the caller has checked they are there.
    pub fn skip(&mut self, n: u64) {
        self.pos += n;
    }

    /// The bytes up to the next newline (which is consumed), keeping at most `keep`; `None`
    /// when the input ends first.
    pub fn line(&mut self, keep: usize) -> std::io::Result<Option<Line>> {
        let mut line = Line { bytes: Vec::new(), cut: false };
        loop {
            let here = self.here()?;
            if here.is_empty() {
                return Ok(None);
            }
            let (part, found) = match here.iter().position(|b| *b == b'\n') {
                Some(end) => (&here[..end], true),
                None => (here, false),
            };
            let room = keep.saturating_sub(line.bytes.len());
            let advance = part.len() as u64 + u64::from(found);
            line.cut |= part.len() > room;
            line.bytes.extend_from_slice(&part[..part.len().min(room)]);
            self.pos += advance;
            if found {
                return Ok(Some(line));
            }
        }
    }
}
