//! The one way modelgate opens a file it was handed: regular files only, never more than a
//! bound.
//!
//! Every input (a predictions table, a data.yaml, a key, a k6 report, a model file) is
//! opened with [`open`], which refuses what is not a regular file before reading a byte: a
//! FIFO would block the gate forever, a link to `/dev/zero` would read until memory runs
//! out. Whole files are read with [`read`] (an error past the bound) or [`read_at_most`]
//! (the caller says what a larger file means); streams are wrapped in [`BoundedLines`],
//! so that no line of a table can grow without end.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::error::{Error, ErrorKind, Result};

/// The bound for a structured text file (YAML, JSON, TOML, a key, a lock file): far above
/// any real one, far below what would hurt.
pub const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;

/// The longest line a table (CSV, JSON Lines) may have.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Opens `path` for reading if it is a regular file (after following links). A FIFO, a
/// device, a socket or a folder is an error naming what it is; it is never opened in a way
/// that could block.
pub fn open(path: &Path) -> Result<File> {
    let metadata = std::fs::metadata(path).map_err(|source| Error::read(path, source))?;
    refuse_irregular(path, &metadata)?;
    let file = open_nonblocking(path).map_err(|source| Error::read(path, source))?;
    // The name may have been swapped between the two looks: judge what was opened.
    let metadata = file.metadata().map_err(|source| Error::read(path, source))?;
    refuse_irregular(path, &metadata)?;
    Ok(file)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO swapped in after the check returns at once instead of
    // waiting for a writer; on a regular file it changes nothing.
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

fn refuse_irregular(path: &Path, metadata: &std::fs::Metadata) -> Result<()> {
    if metadata.is_file() {
        return Ok(());
    }
    let what = describe(metadata);
    Err(Error::new(ErrorKind::Io, format!("{} is {what}, not a regular file", path.display())).hint(
        "point modelgate at the file itself: FIFOs, devices, sockets and folders are refused so that a read can \
         neither block nor run without end",
    ))
}

fn describe(metadata: &std::fs::Metadata) -> &'static str {
    if metadata.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Refuses a file that resolves (links followed, `..` folded) outside `root`: what it holds
/// would be copied into the evidence and the audit record. `canonical` is `path` resolved.
pub fn refuse_outside(path: &Path, canonical: &Path, root: &Path, what: &str) -> Result<()> {
    let root = root.canonicalize().map_err(|source| Error::read(root, source))?;
    if canonical.starts_with(&root) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Config,
        format!(
            "{}: {what} resolves to {}, outside the project folder {}",
            path.display(),
            canonical.display(),
            root.display()
        ),
    )
    .hint("keep the file inside the project folder (a link out of it is followed and refused): its content goes into the evidence and the audit record"))
}

/// `path` resolved, if it is inside `root` (see [`refuse_outside`]).
pub fn inside(path: &Path, root: &Path, what: &str) -> Result<std::path::PathBuf> {
    let canonical = path.canonicalize().map_err(|source| Error::read(path, source))?;
    refuse_outside(path, &canonical, root, what)?;
    Ok(canonical)
}

/// Reads at most `max` bytes of a regular file: `None` when it is larger (what that means
/// is the caller's message). Memory stays bounded whatever the file holds.
pub fn read_at_most(path: &Path, max: u64) -> Result<Option<Vec<u8>>> {
    let file = open(path)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|source| Error::read(path, source))?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// Reads a whole regular file of at most `max` bytes; a larger one is an error naming
/// `what` it is and the bound.
pub fn read(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    read_at_most(path, max)?.ok_or_else(|| {
        Error::new(ErrorKind::Io, format!("{}: {what} is larger than {}", path.display(), size(max)))
            .hint(format!("a real {what} is far smaller: check that the path names the right file"))
    })
}

/// [`read`] as UTF-8 text.
pub fn read_text(path: &Path, max: u64, what: &str) -> Result<String> {
    String::from_utf8(read(path, max, what)?).map_err(|error| {
        Error::new(
            ErrorKind::Io,
            format!(
                "{}: {what} is not UTF-8 text (invalid byte at offset {})",
                path.display(),
                error.utf8_error().valid_up_to()
            ),
        )
        .hint("save the file as UTF-8")
    })
}

/// Reads standard input as UTF-8 text, at most `max` bytes.
pub fn read_stdin(max: u64, what: &str) -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| Error::new(ErrorKind::Io, format!("cannot read standard input: {error}")))?;
    if bytes.len() as u64 > max {
        return Err(Error::new(ErrorKind::Io, format!("standard input: {what} is larger than {}", size(max)))
            .hint(format!("a real {what} is far smaller: check what is piped in")));
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::new(ErrorKind::Io, format!("standard input: {what} is not UTF-8 text")).hint("send UTF-8 text")
    })
}

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// A reader that fails (`InvalidData`) once a line grows past `max` bytes, so that a table
/// without line breaks cannot make its parser buffer without end.
pub struct BoundedLines<R> {
    inner: R,
    max: usize,
    current: usize,
}

impl<R: Read> BoundedLines<R> {
    pub fn new(inner: R, max: usize) -> BoundedLines<R> {
        BoundedLines { inner, max, current: 0 }
    }
}

impl<R: Read> Read for BoundedLines<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        for &byte in &buffer[..read] {
            if byte == b'\n' {
                self.current = 0;
            } else {
                self.current += 1;
                if self.current > self.max {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a line is longer than {}", size(self.max as u64)),
                    ));
                }
            }
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = open(dir.path()).expect_err("a folder");
        assert!(error.message.contains("is a folder"), "{}", error.message);
        assert!(error.hint.is_some());
        #[cfg(unix)]
        {
            let link = dir.path().join("zero");
            std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
            assert!(read_at_most(&link, 10).expect_err("a device").message.contains("a device"));
            let fifo = dir.path().join("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
            assert!(made.success());
            assert!(open(&fifo).expect_err("a fifo").message.contains("FIFO"));
        }
        let file = dir.path().join("f.txt");
        std::fs::write(&file, "hello").expect("write");
        assert_eq!(read_text(&file, 5, "the file").expect("fits"), "hello");
        assert!(read(&file, 4, "the file").expect_err("too big").message.contains("larger than 4 bytes"));
        assert_eq!(read_at_most(&file, 4).expect("reads"), None);
    }

    #[test]
    fn bounded_lines_stop_a_line_without_end() {
        let mut text = String::new();
        let ok = BoundedLines::new("ab\ncd\n".as_bytes(), 2).read_to_string(&mut text);
        assert!(ok.is_ok());
        let mut sink = Vec::new();
        let error = BoundedLines::new("abc\n".as_bytes(), 2).read_to_end(&mut sink).expect_err("too long");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
