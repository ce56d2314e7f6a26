//! Zip containers (PyTorch checkpoints, .keras, .npz) read as hostile input.
//!
//! The central directory is read from the end-of-central-directory record (ZIP64 too),
//! and every entry is checked against its local header, because loaders and scanners
//! disagree on which one to trust: Python's `zipfile` (what `torch.load` uses) reads
//! names and sizes from the central directory, while a scanner that walks local headers
//! can be shown other bytes. Each of these tricks is a finding, never skipped:
//! mismatched local and central headers, data before the first entry or between the
//! entries and the central directory, overlapping entries, encrypted entries,
//! compression methods that cannot be inspected, absolute or `..` names, backslashes and
//! control characters in names, duplicate names, symbolic links, declared sizes that
//! make a zip bomb. A member is inflated only up to its declared size and a bound, and
//! its CRC-32 is checked.

use std::io::{Read, Seek, SeekFrom};

use crate::evidence::{ArtifactFinding, Severity};

/// One entry, as the central directory declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// 0 stored, 8 deflate; anything else cannot be inspected.
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub local_offset: u64,
    /// Where the member's data starts (after its local header), once checked.
    pub data_offset: Option<u64>,
    /// Unix file type bits from the external attributes show a symbolic link.
    pub symlink: bool,
}

/// What the container holds and what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct ZipReport {
    pub members: Vec<Member>,
    pub findings: Vec<ArtifactFinding>,
    /// Bytes before the archive, which Python's zipfile skips (its `concat`).
    pub prefix: u64,
}

/// A compression ratio above this (declared size over compressed size) is a zip bomb.
pub const MAX_RATIO: u64 = 1_000;

/// The most entries a container may declare.
const MAX_ENTRIES: u64 = 1 << 20;

/// The largest central directory read (a million entries with long names fit).
const MAX_DIRECTORY: u64 = 256 << 20;

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

fn finding(severity: Severity, why: String, offset: Option<u64>) -> ArtifactFinding {
    ArtifactFinding { kind: "container".into(), global: None, offset, severity, why }
}

/// Little-endian fields of a byte slice, with bounds checks.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Fields<'a> {
        Fields { bytes, at: 0 }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes)
    }
}

fn read_at(file: &mut (impl Read + Seek), offset: u64, len: usize) -> Option<Vec<u8>> {
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut buffer = vec![0u8; len];
    file.read_exact(&mut buffer).ok()?;
    Some(buffer)
}

/// Reads the container's directory and checks every entry against its local header.
/// A container that cannot be read at all gives one critical finding and no members.
pub fn read_zip(file: &mut (impl Read + Seek), len: u64) -> ZipReport {
    let mut report = ZipReport::default();
    match directory(file, len, &mut report) {
        Ok(()) => check_entries(file, len, &mut report),
        Err(why) => report.findings.push(finding(Severity::Critical, why, None)),
    }
    report
}

/// Where a zip archive starts in a file that does not start with one: `Some(prefix)` when
/// Python's zipfile would open it, found as it finds it: the last end record in the final
/// 64 KiB (bytes after its comment do not stop Python), its central directory `prefix`
/// bytes further than it says, starting with an entry. The archive is then read (and any
/// such irregularity reported) by [`read_zip`].
pub fn zip_prefix(file: &mut (impl Read + Seek), len: u64) -> Option<u64> {
    let tail_len = len.min(22 + 65_535);
    let tail = read_at(file, len - tail_len, tail_len as usize)?;
    let at = (0..tail.len().saturating_sub(21)).rev().find(|&i| tail[i..i + 4] == EOCD.to_le_bytes())?;
    let eocd_offset = len - tail_len + at as u64;
    let mut fields = Fields::new(&tail[at + 4..]);
    let _disks = (fields.u16(), fields.u16(), fields.u16(), fields.u16());
    let (size, offset) = (u64::from(fields.u32()?), u64::from(fields.u32()?));
    if size == 0 {
        return None;
    }
    // ZIP64: the directory's true place is in the ZIP64 end record; let `locate` judge it.
    let (size, offset, end) = if size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        let dir = locate(file, len).ok()?;
        (dir.size, dir.offset, dir.end)
    } else {
        (size, offset, eocd_offset)
    };
    let prefix = end.checked_sub(offset)?.checked_sub(size)?;
    let signature = read_at(file, offset + prefix, 4)?;
    (signature == CENTRAL.to_le_bytes()).then_some(prefix)
}

/// Where the central directory is and how many entries it has.
struct Directory {
    entries: u64,
    offset: u64,
    size: u64,
    /// Where the end record (or the ZIP64 end record) starts.
    end: u64,
}

fn locate(file: &mut (impl Read + Seek), len: u64) -> Result<Directory, String> {
    // The end record is 22 bytes plus a comment of up to 65,535 bytes.
    let tail_len = len.min(22 + 65_535);
    let tail = read_at(file, len - tail_len, tail_len as usize).ok_or("cannot read the end of the file")?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD.to_le_bytes())
        .ok_or("not a zip archive: no end-of-central-directory record")?;
    let eocd_offset = len - tail_len + at as u64;
    let mut fields = Fields::new(&tail[at + 4..]);
    let (disk, cd_disk) = (fields.u16(), fields.u16());
    let _entries_on_disk = fields.u16();
    let (entries, size, offset) = (fields.u16(), fields.u32(), fields.u32());
    let comment = fields.u16().ok_or("truncated end-of-central-directory record")?;
    if disk != Some(0) || cd_disk != Some(0) {
        return Err("a multi-disk (spanned) zip archive, which cannot be checked".into());
    }
    if eocd_offset + 22 + u64::from(comment) != len {
        return Err("bytes after the zip archive's comment (a second file appended?)".into());
    }
    let (entries, size, offset) = (entries.unwrap_or(0), size.unwrap_or(0), offset.unwrap_or(0));
    let saturated = entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF;
    // A ZIP64 locator right before the end record means ZIP64 records, whether or not a
    // field needed them: Python's zipfile writes them whenever the central directory
    // starts past 2 GiB (large checkpoints, numpy.savez of large arrays).
    let locator = eocd_offset
        .checked_sub(20)
        .and_then(|at| read_at(file, at, 20))
        .filter(|bytes| bytes[..4] == ZIP64_LOCATOR.to_le_bytes());
    let Some(locator) = locator else {
        if saturated {
            return Err("a ZIP64 archive without its ZIP64 locator".into());
        }
        return Ok(Directory {
            entries: u64::from(entries),
            offset: u64::from(offset),
            size: u64::from(size),
            end: eocd_offset,
        });
    };
    let mut locator_fields = Fields::new(&locator[4..]);
    let record_disk = locator_fields.u32();
    let record_offset = locator_fields.u64().ok_or("truncated ZIP64 locator")?;
    if record_disk != Some(0) {
        return Err("a multi-disk (spanned) ZIP64 archive, which cannot be checked".into());
    }
    let record = read_at(file, record_offset, 56)
        .filter(|bytes| bytes[..4] == ZIP64_EOCD.to_le_bytes())
        .ok_or("the ZIP64 end record is not where its locator says")?;
    let mut fields = Fields::new(&record[4..]);
    let record_size = fields.u64().ok_or("truncated ZIP64 end record")?;
    // The record (its size field counts what follows it) ends where the locator starts.
    if record_offset.checked_add(12).and_then(|end| end.checked_add(record_size)) != Some(eocd_offset - 20) {
        return Err("the ZIP64 end record does not end at its locator".into());
    }
    let mut fields = Fields::new(&record[24..]);
    let _entries_on_disk = fields.u64();
    let entries64 = fields.u64().ok_or("truncated ZIP64 end record")?;
    let size64 = fields.u64().ok_or("truncated ZIP64 end record")?;
    let offset64 = fields.u64().ok_or("truncated ZIP64 end record")?;
    // A field the end record does not saturate must agree with the ZIP64 one: two
    // directories for two readers is the confusion this reader exists to catch.
    let agrees = |narrow: u64, saturated_value: u64, wide: u64| narrow == saturated_value || narrow == wide;
    if !agrees(u64::from(entries), 0xFFFF, entries64)
        || !agrees(u64::from(size), 0xFFFF_FFFF, size64)
        || !agrees(u64::from(offset), 0xFFFF_FFFF, offset64)
    {
        return Err("the end record and the ZIP64 end record describe different central directories".into());
    }
    Ok(Directory { entries: entries64, offset: offset64, size: size64, end: record_offset })
}

fn directory(file: &mut (impl Read + Seek), len: u64, report: &mut ZipReport) -> Result<(), String> {
    let dir = locate(file, len)?;
    if dir.entries > MAX_ENTRIES {
        return Err(format!("the archive declares {} entries (at most {MAX_ENTRIES} are read)", dir.entries));
    }
    if dir.size > MAX_DIRECTORY {
        return Err(format!("the central directory declares {} bytes (at most {MAX_DIRECTORY} are read)", dir.size));
    }
    if dir.offset.checked_add(dir.size).is_none_or(|end| end > dir.end) {
        return Err("the central directory lies outside the archive".into());
    }
    // Python's zipfile reads the central directory right before its end record and takes
    // the difference from the offset it declares as bytes before the archive (`concat`),
    // shifting every offset by it: a file with something before the zip still opens.
    let prefix = dir.end - dir.offset - dir.size;
    if prefix > 0 {
        report.findings.push(finding(
            Severity::High,
            format!("{prefix} bytes before the zip archive, which Python's zipfile skips"),
            Some(0),
        ));
    }
    report.prefix = prefix;
    let bytes = read_at(file, dir.offset + prefix, dir.size as usize).ok_or("cannot read the central directory")?;
    let mut fields = Fields::new(&bytes);
    for index in 0..dir.entries {
        let start = dir.offset + prefix + fields.at as u64;
        let truncated = || format!("central directory entry {index} is truncated");
        if fields.u32() != Some(CENTRAL) {
            return Err(format!("central directory entry {index} has no entry signature"));
        }
        let made_by = fields.u16().ok_or_else(truncated)?;
        let _needed = fields.u16();
        let flags = fields.u16().ok_or_else(truncated)?;
        let method = fields.u16().ok_or_else(truncated)?;
        let _time_date = fields.u32();
        let crc32 = fields.u32().ok_or_else(truncated)?;
        let mut compressed_size = u64::from(fields.u32().ok_or_else(truncated)?);
        let mut size = u64::from(fields.u32().ok_or_else(truncated)?);
        let name_len = fields.u16().ok_or_else(truncated)? as usize;
        let extra_len = fields.u16().ok_or_else(truncated)? as usize;
        let comment_len = fields.u16().ok_or_else(truncated)? as usize;
        let _disk = fields.u16();
        let _internal = fields.u16();
        let external = fields.u32().ok_or_else(truncated)?;
        let mut local_offset = u64::from(fields.u32().ok_or_else(truncated)?);
        let name_bytes = fields.take(name_len).ok_or_else(truncated)?;
        let extra = fields.take(extra_len).ok_or_else(truncated)?;
        fields.take(comment_len).ok_or_else(truncated)?;
        zip64_extra(extra, &mut size, &mut compressed_size, &mut local_offset);
        let local_offset = local_offset.saturating_add(prefix);
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        // Unix attributes live in the high half when the archive was made on Unix (3).
        let symlink = made_by >> 8 == 3 && (external >> 16) & 0o170_000 == 0o120_000;
        check_name(&name, name_bytes, start, &mut report.findings);
        report.members.push(Member {
            name,
            method,
            flags,
            crc32,
            compressed_size,
            size,
            local_offset,
            data_offset: None,
            symlink,
        });
    }
    // Python's zipfile reads entries until the directory's size is used up, whatever the
    // count says: more entries than declared would be members only Python sees.
    if fields.at < bytes.len() {
        let more = bytes.len() - fields.at;
        return Err(format!(
            "the central directory holds {more} bytes after the {} entries its end record declares",
            dir.entries
        ));
    }
    Ok(())
}

/// Sizes and offsets a ZIP64 extra field carries for the fields set to all ones.
fn zip64_extra(extra: &[u8], size: &mut u64, compressed: &mut u64, offset: &mut u64) {
    let mut fields = Fields::new(extra);
    while let (Some(id), Some(len)) = (fields.u16(), fields.u16()) {
        let Some(body) = fields.take(len as usize) else { return };
        if id != 0x0001 {
            continue;
        }
        let mut values = Fields::new(body);
        for slot in [size, compressed, offset] {
            if *slot == 0xFFFF_FFFF {
                match values.u64() {
                    Some(value) => *slot = value,
                    None => return,
                }
            }
        }
        return;
    }
}

fn check_name(name: &str, bytes: &[u8], offset: u64, findings: &mut Vec<ArtifactFinding>) {
    let mut problem = |why: String| findings.push(finding(Severity::High, why, Some(offset)));
    if name.starts_with('/') || name.get(1..3) == Some(":\\") || name.get(1..3) == Some(":/") {
        problem(format!("member {name:?} has an absolute path"));
    }
    if name.split(['/', '\\']).any(|part| part == "..") {
        problem(format!("member {name:?} climbs out of the archive with `..`"));
    }
    if name.contains('\\') {
        problem(format!("member {name:?} uses backslashes, which loaders read differently"));
    }
    if bytes.iter().any(|&b| b < 0x20 || b == 0x7f) {
        problem(format!("member {name:?} has control characters in its name"));
    }
    if std::str::from_utf8(bytes).is_err() {
        problem(format!("member {name:?} has a name that is not UTF-8"));
    }
}

fn check_entries(file: &mut (impl Read + Seek), len: u64, report: &mut ZipReport) {
    let mut findings = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for member in &report.members {
        if let Some(first) = seen.insert(member.name.to_lowercase(), member.name.clone()) {
            findings.push(finding(
                Severity::Critical,
                format!("two members are named {:?} and {:?}: loaders pick different ones", first, member.name),
                Some(member.local_offset),
            ));
        }
        if member.symlink {
            findings.push(finding(Severity::High, format!("member {:?} is a symbolic link", member.name), None));
        }
        if member.flags & 0x1 != 0 {
            findings.push(finding(
                Severity::High,
                format!("member {:?} is encrypted and cannot be inspected", member.name),
                Some(member.local_offset),
            ));
        }
        if member.method != 0 && member.method != 8 {
            findings.push(finding(
                Severity::High,
                format!(
                    "member {:?} uses compression method {}, which cannot be inspected",
                    member.name, member.method
                ),
                Some(member.local_offset),
            ));
        }
        if member.method == 8 && member.size > member.compressed_size.max(1).saturating_mul(MAX_RATIO) {
            findings.push(finding(
                Severity::Critical,
                format!(
                    "member {:?} would inflate {} bytes to {}: a zip bomb",
                    member.name, member.compressed_size, member.size
                ),
                Some(member.local_offset),
            ));
        }
    }
    let mut spans: Vec<(u64, u64, usize)> = Vec::new();
    for (index, member) in report.members.iter_mut().enumerate() {
        match local_header(file, len, member) {
            Ok(data_offset) => {
                member.data_offset = Some(data_offset);
                spans.push((member.local_offset, data_offset + member.compressed_size, index));
            }
            Err(why) => findings.push(finding(Severity::Critical, why, Some(member.local_offset))),
        }
    }
    spans.sort_unstable();
    if let Some(&(first, _, _)) = spans.first() {
        if first > report.prefix {
            let gap = first - report.prefix;
            findings.push(finding(Severity::High, format!("{gap} bytes before the first member"), Some(report.prefix)));
        }
    }
    for pair in spans.windows(2) {
        let ((_, end, a), (start, _, b)) = (pair[0], pair[1]);
        if start < end {
            findings.push(finding(
                Severity::Critical,
                format!(
                    "members {:?} and {:?} overlap (a zip bomb or a hidden member)",
                    report.members[a].name, report.members[b].name
                ),
                Some(start),
            ));
        }
    }
    report.findings.extend(findings);
}

/// Checks the local header of `member` against the central directory; the offset of
/// the member's data.
fn local_header(file: &mut (impl Read + Seek), len: u64, member: &Member) -> Result<u64, String> {
    let name = &member.name;
    let header = read_at(file, member.local_offset, 30)
        .ok_or_else(|| format!("member {name:?}: its local header is past the end of the file"))?;
    let mut fields = Fields::new(&header);
    if fields.u32() != Some(LOCAL) {
        return Err(format!("member {name:?}: no local header where the central directory says"));
    }
    let _needed = fields.u16();
    let flags = fields.u16().unwrap_or_default();
    let method = fields.u16().unwrap_or_default();
    let _time_date = fields.u32();
    let crc32 = fields.u32().unwrap_or_default();
    let compressed = fields.u32().unwrap_or_default();
    let size = fields.u32().unwrap_or_default();
    let name_len = u64::from(fields.u16().unwrap_or_default());
    let extra_len = u64::from(fields.u16().unwrap_or_default());
    let local_name = read_at(file, member.local_offset + 30, name_len as usize)
        .ok_or_else(|| format!("member {name:?}: its local header is truncated"))?;
    let mut differences = Vec::new();
    if local_name != member.name.as_bytes() && String::from_utf8_lossy(&local_name) != member.name {
        differences.push(format!("name {:?}", String::from_utf8_lossy(&local_name)));
    }
    if method != member.method {
        differences.push(format!("method {method}"));
    }
    if flags & 0x1 != member.flags & 0x1 {
        differences.push("encryption flag".to_string());
    }
    // With a data descriptor (flag bit 3) the local sizes and CRC are zero.
    if flags & 0x8 == 0 {
        if crc32 != member.crc32 {
            differences.push(format!("CRC {crc32:08x}"));
        }
        let sizes_zip64 = compressed == u32::MAX || size == u32::MAX;
        if !sizes_zip64 && (u64::from(compressed) != member.compressed_size || u64::from(size) != member.size) {
            differences.push(format!("sizes {compressed}/{size}"));
        }
    }
    if !differences.is_empty() {
        return Err(format!(
            "member {name:?}: the local header disagrees with the central directory ({})",
            differences.join(", ")
        ));
    }
    let data_offset = member.local_offset + 30 + name_len + extra_len;
    if data_offset.checked_add(member.compressed_size).is_none_or(|end| end > len) {
        return Err(format!("member {name:?}: its data runs past the end of the file"));
    }
    Ok(data_offset)
}

/// The bytes of `member`, inflated up to its declared size and at most `limit` bytes,
/// with the CRC-32 checked. Errors say why the member cannot be read.
pub fn read_member(file: &mut (impl Read + Seek), member: &Member, limit: u64) -> Result<Vec<u8>, String> {
    let name = &member.name;
    if member.size > limit {
        return Err(format!("member {name:?} declares {} bytes, more than the {limit} read", member.size));
    }
    let mut out = Vec::with_capacity(member.size as usize);
    stream_member(file, member, |chunk| out.extend_from_slice(chunk))?;
    Ok(out)
}

/// Reads `member` through, inflating it, handing each chunk to `chunk`, and checks its
/// size and CRC-32 without keeping it: how a large member of tensor data is verified in
/// bounded memory.
pub fn stream_member(
    file: &mut (impl Read + Seek),
    member: &Member,
    mut chunk: impl FnMut(&[u8]),
) -> Result<(), String> {
    let name = &member.name;
    let data_offset = member.data_offset.ok_or_else(|| format!("member {name:?} has no readable local header"))?;
    file.seek(SeekFrom::Start(data_offset)).map_err(|error| format!("member {name:?}: {error}"))?;
    let raw = file.by_ref().take(member.compressed_size);
    let mut reader: Box<dyn Read + '_> = match member.method {
        0 => Box::new(raw.take(member.size + 1)),
        8 => Box::new(flate2::read::DeflateDecoder::new(raw).take(member.size + 1)),
        method => return Err(format!("member {name:?}: compression method {method} is not supported")),
    };
    let mut crc = flate2::Crc::new();
    let mut buffer = vec![0u8; (1 << 20).min(member.size as usize + 1).max(1)];
    let mut total = 0u64;
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(format!("member {name:?} does not inflate: {error}")),
        };
        crc.update(&buffer[..read]);
        chunk(&buffer[..read]);
        total += read as u64;
    }
    if total != member.size {
        return Err(format!("member {name:?} holds {total} bytes, not the {} declared", member.size));
    }
    if crc.sum() != member.crc32 {
        return Err(format!("member {name:?} fails its CRC-32 check"));
    }
    Ok(())
}

/// The bytes of a stored (uncompressed) member, read in place: a reader and a seeker over
/// its span of the archive, so that a pickle member is streamed like a pickle file. `None`
/// for a compressed member or one whose local header was not checked.
pub fn stored_member<'a, R: Read + Seek>(file: &'a mut R, member: &Member) -> Option<Span<'a, R>> {
    let start = member.data_offset?;
    (member.method == 0 && member.compressed_size == member.size).then_some(Span {
        inner: file,
        start,
        len: member.size,
        pos: 0,
    })
}

/// The inflated bytes of a deflated member, read forward once: seeking moves only forward
/// (by reading and dropping), which is all a streamed pickle needs. `None` for another
/// method or a member whose local header was not checked.
pub fn deflated_member<'a, R: Read + Seek>(
    file: &'a mut R,
    member: &Member,
) -> Option<Forward<flate2::read::DeflateDecoder<std::io::Take<&'a mut R>>>> {
    let start = member.data_offset?;
    if member.method != 8 {
        return None;
    }
    file.seek(SeekFrom::Start(start)).ok()?;
    let raw = file.take(member.compressed_size);
    Some(Forward { inner: flate2::read::DeflateDecoder::new(raw), pos: 0 })
}

/// A reader that can only go forward, with the seeks a forward reading needs.
pub struct Forward<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for Forward<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.pos += read as u64;
        Ok(read)
    }
}

impl<R: Read> Seek for Forward<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
            SeekFrom::End(_) => None,
        };
        let Some(target) = target.filter(|target| *target >= self.pos) else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "a compressed member is read forward only",
            ));
        };
        let skipped = std::io::copy(&mut self.inner.by_ref().take(target - self.pos), &mut std::io::sink())?;
        self.pos += skipped;
        if self.pos != target {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(target)
    }
}

/// `len` bytes of a reader from `start`, as a reader of their own.
pub struct Span<'a, R> {
    inner: &'a mut R,
    start: u64,
    len: u64,
    pos: u64,
}

impl<R: Read + Seek> Read for Span<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = (buf.len() as u64).min(left) as usize;
        if want == 0 {
            return Ok(0);
        }
        self.inner.seek(SeekFrom::Start(self.start + self.pos))?;
        let read = self.inner.read(&mut buf[..want])?;
        self.pos += read as u64;
        Ok(read)
    }
}

impl<R: Read + Seek> Seek for Span<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
        };
        let target =
            target.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the span"))?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    /// A stored (or deflated) entry to build a test archive from.
    struct Spec<'a> {
        name: &'a str,
        data: &'a [u8],
        deflate: bool,
    }

    fn crc(data: &[u8]) -> u32 {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        crc.sum()
    }

    /// A well-formed archive; `edit` may change the bytes afterwards.
    fn archive(entries: &[Spec]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for entry in entries {
            let payload = if entry.deflate {
                let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(entry.data).expect("deflate");
                encoder.finish().expect("deflate")
            } else {
                entry.data.to_vec()
            };
            let method: u16 = if entry.deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            let header = |signature: u32, out: &mut Vec<u8>, central: bool| {
                out.extend(signature.to_le_bytes());
                if central {
                    out.extend(0x031eu16.to_le_bytes()); // made by Unix
                }
                out.extend(20u16.to_le_bytes());
                out.extend(0u16.to_le_bytes());
                out.extend(method.to_le_bytes());
                out.extend(0u32.to_le_bytes());
                out.extend(crc(entry.data).to_le_bytes());
                out.extend((payload.len() as u32).to_le_bytes());
                out.extend((entry.data.len() as u32).to_le_bytes());
                out.extend((entry.name.len() as u16).to_le_bytes());
                out.extend(0u16.to_le_bytes());
            };
            header(LOCAL, &mut out, false);
            out.extend(entry.name.as_bytes());
            out.extend(&payload);
            header(CENTRAL, &mut central, true);
            central.extend(0u16.to_le_bytes()); // comment
            central.extend(0u16.to_le_bytes()); // disk
            central.extend(0u16.to_le_bytes()); // internal
            central.extend((0o100_644u32 << 16).to_le_bytes());
            central.extend(offset.to_le_bytes());
            central.extend(entry.name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend(&central);
        out.extend(EOCD.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((entries.len() as u16).to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    fn read(bytes: &[u8]) -> ZipReport {
        read_zip(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    fn whys(report: &ZipReport) -> Vec<String> {
        report.findings.iter().map(|finding| finding.why.clone()).collect()
    }

    const PICKLE: &[u8] = b"\x80\x02}q\x00.";

    /// `bytes` (an archive from [`archive`]) with ZIP64 end records inserted before its end
    /// record, as Python's zipfile writes them once the directory starts past 2 GiB:
    /// the end record keeps its (unsaturated) values.
    fn with_zip64_records(bytes: &[u8], entries: u64, cd_offset: u64, cd_size: u64) -> Vec<u8> {
        let eocd = bytes.len() - 22;
        let mut out = bytes[..eocd].to_vec();
        let record_offset = out.len() as u64;
        out.extend(ZIP64_EOCD.to_le_bytes());
        out.extend(44u64.to_le_bytes());
        out.extend(45u16.to_le_bytes());
        out.extend(45u16.to_le_bytes());
        out.extend([0u8; 8]);
        out.extend(entries.to_le_bytes());
        out.extend(entries.to_le_bytes());
        out.extend(cd_size.to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend(ZIP64_LOCATOR.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend(record_offset.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        out.extend(&bytes[eocd..]);
        out
    }

    #[test]
    fn zip64_end_records_with_an_unsaturated_end_record_read_clean() {
        let bytes = archive(&[Spec { name: "archive/data.pkl", data: PICKLE, deflate: false }]);
        let eocd = bytes.len() - 22;
        let cd_size = u64::from(u32::from_le_bytes(bytes[eocd + 12..eocd + 16].try_into().expect("4 bytes")));
        let cd_offset = u64::from(u32::from_le_bytes(bytes[eocd + 16..eocd + 20].try_into().expect("4 bytes")));
        let zip64 = with_zip64_records(&bytes, 1, cd_offset, cd_size);
        let report = read(&zip64);
        assert!(report.findings.is_empty(), "{:?}", whys(&report));
        assert_eq!(report.members.len(), 1);
        // Two directories that disagree are refused, not resolved one way.
        let report = read(&with_zip64_records(&bytes, 1, cd_offset + 1, cd_size));
        assert!(
            whys(&report).iter().any(|why| why.contains("describe different central directories")),
            "{:?}",
            whys(&report)
        );
    }

    #[test]
    fn a_large_pickle_member_is_streamed_stored_or_deflated() {
        // PROTO 4, BINBYTES8 of 65 MiB, then os.system called: past the size read whole.
        let payload = 65u64 << 20;
        let mut pickle = b"\x80\x04\x8e".to_vec();
        pickle.extend(payload.to_le_bytes());
        pickle.resize(pickle.len() + payload as usize, 0);
        let global_at = pickle.len() as u64;
        pickle.extend_from_slice(b"cos\nsystem\n\x8c\x02id\x85R.");
        for deflate in [false, true] {
            let bytes = archive(&[Spec { name: "archive/data.pkl", data: &pickle, deflate }]);
            let options = crate::artifacts::scan::ScanOptions {
                max_pickle_bytes: 1 << 20,
                ..crate::artifacts::scan::ScanOptions::default()
            };
            let file = crate::artifacts::scan::scan_bytes(&bytes, "big.pt", options);
            let finding = file.findings.iter().find(|f| f.global.as_deref() == Some("os.system")).expect("os.system");
            assert_eq!(finding.offset, Some(global_at), "deflate {deflate}");
            assert!(finding.why.starts_with("archive/data.pkl: "), "{}", finding.why);
            assert!(!file.findings.iter().any(|f| f.why.contains("more than the")), "{:?}", file.findings);
        }
    }

    #[test]
    fn a_clean_checkpoint_reads_and_inflates() {
        let bytes = archive(&[
            Spec { name: "archive/data.pkl", data: PICKLE, deflate: false },
            Spec { name: "archive/data/0", data: &[7u8; 4096], deflate: true },
        ]);
        let report = read(&bytes);
        assert!(report.findings.is_empty(), "{:?}", whys(&report));
        assert_eq!(report.members.len(), 2);
        let mut cursor = Cursor::new(&bytes);
        assert_eq!(read_member(&mut cursor, &report.members[0], 1 << 20).expect("stored"), PICKLE);
        assert_eq!(read_member(&mut cursor, &report.members[1], 1 << 20).expect("deflated"), vec![7u8; 4096]);
    }

    #[test]
    fn a_local_name_other_than_the_central_one_is_critical() {
        let mut bytes = archive(&[Spec { name: "archive/data.pkl", data: PICKLE, deflate: false }]);
        // The local header's name (at 30) says something else than the directory's.
        bytes[30..38].copy_from_slice(b"ARCHIVE_");
        let report = read(&bytes);
        assert!(
            whys(&report).iter().any(|why| why.contains("disagrees with the central directory")),
            "{:?}",
            whys(&report)
        );
    }

    #[test]
    fn a_bad_crc_and_a_wrong_size_are_refused_on_read() {
        let mut bytes = archive(&[Spec { name: "data.pkl", data: PICKLE, deflate: false }]);
        let data_at = 30 + "data.pkl".len();
        bytes[data_at + 2] ^= 0xff;
        let report = read(&bytes);
        assert!(report.findings.is_empty(), "the headers agree: {:?}", whys(&report));
        let error = read_member(&mut Cursor::new(&bytes), &report.members[0], 1 << 20).expect_err("crc");
        assert!(error.contains("CRC-32"), "{error}");
    }

    #[test]
    fn hostile_names_and_duplicates_are_findings() {
        let bytes = archive(&[
            Spec { name: "../../etc/cron.d/x", data: b"a", deflate: false },
            Spec { name: "/abs/data.pkl", data: b"b", deflate: false },
            Spec { name: "dir\\data.pkl", data: b"c", deflate: false },
            Spec { name: "archive/data.pkl", data: b"d", deflate: false },
            Spec { name: "archive/DATA.pkl", data: b"e", deflate: false },
        ]);
        let all = whys(&read(&bytes)).join("\n");
        for needle in ["climbs out", "absolute path", "backslashes", "two members are named"] {
            assert!(all.contains(needle), "no {needle:?} in\n{all}");
        }
    }

    #[test]
    fn prepended_and_appended_bytes_are_findings() {
        let clean = archive(&[Spec { name: "data.pkl", data: PICKLE, deflate: false }]);
        let mut appended = clean.clone();
        appended.extend(b"\x80\x02cos\nsystem\n.");
        assert!(
            whys(&read(&appended))
                .iter()
                .any(|why| why.contains("no end-of-central-directory") || why.contains("after the zip archive")),
            "{:?}",
            whys(&read(&appended))
        );
        // Offsets in a prepended archive point at the wrong bytes: the local header check fails.
        let mut prepended = b"MZ-polyglot".to_vec();
        prepended.extend(&clean);
        assert!(!read(&prepended).findings.is_empty());
    }

    #[test]
    fn a_declared_size_far_beyond_the_compressed_size_is_a_zip_bomb() {
        let zeros = vec![0u8; 2_000_000];
        let bytes = archive(&[Spec { name: "bomb", data: &zeros, deflate: true }]);
        let report = read(&bytes);
        assert!(whys(&report).iter().any(|why| why.contains("zip bomb")), "{:?}", whys(&report));
        let error = read_member(&mut Cursor::new(&bytes), &report.members[0], 1 << 20).expect_err("limit");
        assert!(error.contains("more than"), "{error}");
    }

    /// Archives written by Python's zipfile (as torch.save and numpy.savez write them):
    /// stored, deflated with data descriptors, and ZIP64.
    #[test]
    fn archives_written_by_python_are_clean_and_read_back() {
        for name in ["checkpoint.zip", "deflated.zip", "zip64.zip"] {
            let path = format!("{}/tests/fixtures/containers/{name}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(&path).expect("fixture");
            let report = read(&bytes);
            assert!(report.findings.is_empty(), "{name}: {:?}", whys(&report));
            let names: Vec<&str> = report.members.iter().map(|member| member.name.as_str()).collect();
            assert_eq!(names, ["archive/data.pkl", "archive/data/0", "archive/version"], "{name}");
            let mut cursor = Cursor::new(&bytes);
            let data = read_member(&mut cursor, &report.members[1], 1 << 20).expect("member");
            assert_eq!(data.len(), 4096, "{name}");
            assert_eq!(&data[..4], &[0, 1, 2, 3], "{name}");
        }
    }

    #[test]
    fn garbage_and_truncation_never_panic_and_are_critical() {
        let clean = archive(&[Spec { name: "archive/data.pkl", data: PICKLE, deflate: true }]);
        for cut in 0..clean.len() {
            let report = read(&clean[..cut]);
            assert!(!report.findings.is_empty(), "a zip cut at {cut} must not look clean");
        }
        let report = read(b"not a zip at all");
        assert_eq!(report.findings[0].severity, Severity::Critical);
    }
}
