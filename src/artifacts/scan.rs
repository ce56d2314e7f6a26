//! `modelgate scan`: what each model file is, by its content, whether loading it can run
//! code, and what it would run. Files are never executed, imported or unpickled; a file
//! that cannot be parsed is unsafe, with the reason.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::container::{self, Member};
use super::digest::{self, EntryKind};
use super::formats::compressed::Refusal;
use super::formats::{self, Format, FormatReport};
use super::pickle::{self, GlobalsPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{ArtifactFile, ArtifactFinding, Severity};

/// How to scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    pub policy: GlobalsPolicy,
    /// The largest archive member read whole for analysis; a larger one is unsafe, as it
    /// cannot be checked. A pickle file is streamed, whatever its size.
    pub max_pickle_bytes: u64,
    /// The most bytes unpacked from one file's nested content (archives inside archives,
    /// compressed streams), all levels together; beyond it the file is unsafe.
    pub max_nested_bytes: u64,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions { policy: GlobalsPolicy::Allow, max_pickle_bytes: 4 << 30, max_nested_bytes: 4 << 30 }
    }
}

/// How deep archives and compressed streams may nest inside one file (a compressed joblib
/// dump inside a zip is 2); deeper content is unsafe, never skipped.
pub const MAX_DEPTH: u32 = 3;

/// What is left of the nested-content bounds of one file, shared by every level.
struct Nesting {
    remaining: u64,
}

/// Scans each path (a file, or every file under a folder, links listed but never
/// followed), in path order.
pub fn scan_paths(paths: &[PathBuf], options: ScanOptions) -> Result<Vec<ArtifactFile>> {
    let mut files = Vec::new();
    for root in paths {
        let is_dir = std::fs::symlink_metadata(root).map_err(|source| Error::read(root, source))?.is_dir();
        let entries = digest::walk(root, &[".git"])?;
        let file_paths: Vec<String> =
            entries.iter().filter(|e| matches!(e.kind, EntryKind::File { .. })).map(|e| e.path.clone()).collect();
        let base = if is_dir { root.clone() } else { root.parent().map(Path::to_path_buf).unwrap_or_default() };
        let shown =
            |path: &str| if is_dir { root.join(path).display().to_string() } else { root.display().to_string() };
        // Hashing and scanning read the same files: they run side by side, so that one
        // large checkpoint keeps both busy (hashing on every core, scanning on this one).
        let (digests, scanned) = std::thread::scope(|scope| {
            let hashing = scope.spawn(|| digest::sha256_files(&base, &file_paths, digest::default_threads()));
            let scanned: Vec<Result<ArtifactFile>> = entries
                .iter()
                .filter_map(|entry| match entry.kind {
                    EntryKind::File { size } => {
                        Some(scan_file(&base.join(&entry.path), shown(&entry.path), size, String::new(), options))
                    }
                    EntryKind::Symlink { .. } => None,
                })
                .collect();
            let digests = hashing
                .join()
                .unwrap_or_else(|_| Err(Error::new(ErrorKind::Io, format!("{}: hashing failed", root.display()))));
            (digests, scanned)
        });
        let mut digests = digests?.into_iter();
        let mut scanned = scanned.into_iter();
        for entry in entries {
            match entry.kind {
                EntryKind::Symlink { target } => files.push(ArtifactFile {
                    path: shown(&entry.path),
                    size: 0,
                    sha256: String::new(),
                    format: "symlink".into(),
                    executable_serialization: false,
                    safe: false,
                    findings: vec![finding(
                        "container",
                        Severity::High,
                        format!("a symbolic link to {target}: not followed, so what it loads was not checked"),
                    )],
                    signed: None,
                }),
                EntryKind::File { size } => {
                    let (Some(digest), Some(file)) = (digests.next(), scanned.next()) else { break };
                    let mut file = file?;
                    if digest.size != size {
                        return Err(Error::new(
                            ErrorKind::Io,
                            format!("{}: changed while it was scanned", base.join(&entry.path).display()),
                        )
                        .hint("do not change the model folder while it is scanned"));
                    }
                    file.sha256 = digest.sha256;
                    files.push(file);
                }
            }
        }
    }
    Ok(files)
}

fn finding(kind: &str, severity: Severity, why: String) -> ArtifactFinding {
    ArtifactFinding { kind: kind.into(), global: None, offset: None, severity, why }
}

/// The verdict of one file.
struct Verdict {
    format: String,
    executable: bool,
    findings: Vec<ArtifactFinding>,
}

fn scan_file(path: &Path, shown: String, size: u64, sha256: String, options: ScanOptions) -> Result<ArtifactFile> {
    let mut file = crate::input::open(path)?;
    let mut head = vec![0u8; 4096.min(size as usize)];
    file.read_exact(&mut head).map_err(|source| Error::read(path, source))?;
    file.seek(SeekFrom::Start(0)).map_err(|source| Error::read(path, source))?;
    let verdict = verdict(&head, &mut file, size, options);
    Ok(artifact(shown, size, sha256, verdict))
}

/// Scans bytes held in memory as `scan` scans a file: the verdict, under the name `shown`
/// (the fuzz target and tests use it; the digest is left empty).
pub fn scan_bytes(bytes: &[u8], shown: &str, options: ScanOptions) -> ArtifactFile {
    let len = bytes.len() as u64;
    let verdict = verdict(&bytes[..bytes.len().min(4096)], &mut Cursor::new(bytes), len, options);
    artifact(shown.to_string(), len, String::new(), verdict)
}

fn artifact(path: String, size: u64, sha256: String, verdict: Verdict) -> ArtifactFile {
    let safe = !verdict.findings.iter().any(|f| matches!(f.severity, Severity::High | Severity::Critical));
    ArtifactFile {
        path,
        size,
        sha256,
        format: verdict.format,
        executable_serialization: verdict.executable,
        safe,
        findings: verdict.findings,
        signed: None,
    }
}

/// The verdict of one file of `size` bytes whose first bytes are `head`.
fn verdict(head: &[u8], file: &mut (impl Read + Seek), size: u64, options: ScanOptions) -> Verdict {
    let mut nesting = Nesting { remaining: options.max_nested_bytes };
    let format = formats::detect(head, size);
    let mut verdict = match format {
        Format::Pickle { .. } => pickle_verdict("pickle", file, size, options, None),
        Format::Zip => zip_verdict(file, size, options, &mut nesting, 0),
        Format::Safetensors => structural(formats::check_safetensors(file, size)),
        Format::Npy => structural(formats::check_npy(file, size)),
        Format::Gguf => structural(formats::check_gguf(file, size)),
        Format::Hdf5 => structural(formats::check_keras_h5(file, size)),
        Format::Onnx => structural(formats::check_onnx(&mut *file, size)),
        Format::SavedModel => structural(formats::check_savedmodel(&mut *file, size)),
        Format::Compressed { codec } => compressed_verdict(codec, file, size, options, &mut nesting, 0, None),
        Format::Tar => tar_verdict(file, size, options, &mut nesting, 0),
        Format::Unopened { kind } => unopened(kind, None),
        Format::Image => Verdict { format: "image".into(), executable: false, findings: Vec::new() },
        Format::Unknown => match hdf5_user_block(file, size) {
            Ok(Some(block)) => {
                let mut verdict = structural(formats::check_keras_h5(file, size));
                verdict.findings.push(ArtifactFinding {
                    kind: "format".into(),
                    global: None,
                    offset: Some(0),
                    severity: Severity::Low,
                    why: format!("an HDF5 file after a {block}-byte user block, where HDF5 readers find it"),
                });
                verdict
            }
            Ok(None) => match formats::detect::protobuf_model_in_any_order(&mut *file, size) {
                Some(format) => {
                    let rewound = file.seek(SeekFrom::Start(0));
                    match (rewound, format) {
                        (Err(error), _) => unsafe_verdict("format", format!("cannot be read: {error}")),
                        (Ok(_), Format::Onnx) => structural(formats::check_onnx(&mut *file, size)),
                        (Ok(_), _) => structural(formats::check_savedmodel(&mut *file, size)),
                    }
                }
                None => match file.seek(SeekFrom::Start(0)) {
                    Ok(_) => unknown_verdict(file, size, options),
                    Err(error) => unsafe_verdict("format", format!("cannot be read: {error}")),
                },
            },
            Err(error) => unsafe_verdict("format", format!("cannot be read: {error}")),
        },
    };
    if format != Format::Zip {
        if let Some(zip) = trailing_zip(file, size, options, &mut nesting) {
            verdict.executable |= zip.executable;
            verdict.findings.extend(zip.findings);
        }
    }
    if !matches!(format, Format::Pickle { .. } | Format::Zip) && verdict.format != "pickle" {
        if let Some(findings) = also_a_pickle(file, size, options, None) {
            verdict.executable = true;
            verdict.findings.extend(findings);
        }
    }
    verdict
}

/// Bytes of another format that also read, from their first byte, as a pickle importing a
/// global: a polyglot that `pickle.load`, `joblib.load` or `torch.load` of the file runs
/// whatever its first bytes claim (a GIF header that is a BINFLOAT, a tar header whose name
/// is opcodes, a user block before an HDF5 superblock). Read streaming, so it costs what
/// the pickle reading takes before it breaks, usually a few bytes.
fn also_a_pickle(
    reader: &mut (impl Read + Seek),
    len: u64,
    options: ScanOptions,
    member: Option<&str>,
) -> Option<Vec<ArtifactFinding>> {
    reader.seek(SeekFrom::Start(0)).ok()?;
    let report = pickle::analyze_stream(reader, len, options.policy);
    let imported: Vec<&str> =
        report.globals.iter().filter(|g| pickle::is_dotted_identifier(g)).map(String::as_str).collect();
    if imported.is_empty() {
        return None;
    }
    let lead = finding(
        "pickle",
        Severity::High,
        format!(
            "its bytes also read as a pickle that imports {}: loading the file with pickle, joblib or torch.load \
             runs it",
            imported.join(", ")
        ),
    );
    Some(prefixed(std::iter::once(lead).chain(report.findings).collect(), member))
}

/// A file that is not a zip at its start may still end with one: Python's `zipfile` (what
/// Keras and `torch.load`'s zip reader use) finds the archive from its end record and
/// skips whatever precedes it. When the end of the file is a well-formed end record whose
/// central directory is where it says, the archive is scanned as those loaders read it.
fn trailing_zip(
    file: &mut (impl Read + Seek),
    size: u64,
    options: ScanOptions,
    nesting: &mut Nesting,
) -> Option<Verdict> {
    let prefix = container::zip_prefix(file, size)?;
    let mut verdict = zip_verdict(file, size, options, nesting, 0);
    verdict.findings.insert(
        0,
        finding(
            "container",
            Severity::High,
            format!(
                "a {} archive starts after {prefix} bytes of other content: Python's zipfile (Keras, torch.load) opens it",
                verdict.format
            ),
        ),
    );
    Some(verdict)
}

/// Where the HDF5 superblock is when it is not at offset 0: after a user block of 512
/// bytes or a larger power of two, as the HDF5 library looks for it.
fn hdf5_user_block(file: &mut (impl Read + Seek), size: u64) -> std::io::Result<Option<u64>> {
    let mut offset = 512u64;
    let mut signature = [0u8; 8];
    while offset.checked_add(8).is_some_and(|end| end <= size) {
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut signature)?;
        if signature == formats::detect::HDF5_SIGNATURE {
            file.seek(SeekFrom::Start(0))?;
            return Ok(Some(offset));
        }
        offset *= 2;
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(None)
}

/// An archive the scanner does not open: what it holds was not checked.
fn unopened(kind: &str, member: Option<&str>) -> Verdict {
    let prefix = member.map(|name| format!("{name}: ")).unwrap_or_default();
    Verdict {
        format: kind.into(),
        executable: false,
        findings: vec![finding(
            UNSCANNED,
            Severity::High,
            format!("{prefix}a {kind} archive, which the scanner does not open: what it holds was not checked"),
        )],
    }
}

/// The kind of the finding on a file the scanner could not check. The policies decide
/// whether it blocks (`security.require_scanned_files`); `modelgate scan` counts it unsafe.
pub const UNSCANNED: &str = "unscanned";

/// A file of no known format: a protocol 0/1 pickle (which has no magic) is judged as
/// one; text (configs, tokenizers, model cards) and SentencePiece models are data;
/// anything else was not checked, which is a finding, never a pass.
fn unknown_verdict(file: &mut impl Read, size: u64, options: ScanOptions) -> Verdict {
    let data = |format: &str| Verdict { format: format.into(), executable: false, findings: Vec::new() };
    if size == 0 {
        return data("empty");
    }
    if size > UNKNOWN_PICKLE_PROBE {
        return Verdict {
            format: "unknown".into(),
            executable: false,
            findings: vec![finding(
                UNSCANNED,
                Severity::High,
                format!(
                    "of no format the scanner knows, and larger than the {} MiB tried as a pickle: not checked",
                    UNKNOWN_PICKLE_PROBE >> 20
                ),
            )],
        };
    }
    let mut bytes = Vec::with_capacity(size as usize);
    if let Err(error) = file.take(size).read_to_end(&mut bytes) {
        return unsafe_verdict("format", format!("cannot be read: {error}"));
    }
    if let Some(findings) = probe_pickle(&bytes, options, None) {
        return Verdict { format: "pickle".into(), executable: true, findings };
    }
    if is_text(&bytes) {
        return data("text");
    }
    if formats::detect::is_sentencepiece(&bytes) {
        return data("sentencepiece");
    }
    Verdict {
        format: "unknown".into(),
        executable: false,
        findings: vec![finding(
            UNSCANNED,
            Severity::High,
            "of no format the scanner knows (not a model format, text or an archive it opens): not checked".into(),
        )],
    }
}

/// UTF-8 with no control characters but tab, newline, carriage return and form feed.
fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .is_ok_and(|text| text.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c')))
}

/// The findings of `bytes` as a pickle, when the pickle machine reads at least one
/// pickle to its STOP, or imports a global before the stream breaks: the unpickler runs
/// what it imported and called before it reaches the break (a "broken" pickle still runs
/// its payload), so those findings stand wherever the pickle sits. `None` when the bytes
/// are not a pickle.
fn probe_pickle(bytes: &[u8], options: ScanOptions, member: Option<&str>) -> Option<Vec<ArtifactFinding>> {
    let report = pickle::analyze(bytes, options.policy);
    let imported = report.globals.iter().any(|global| pickle::is_dotted_identifier(global));
    (report.pickles > 0 || imported).then(|| prefixed(report.findings, member))
}

/// Findings in an archive member say which member.
fn prefixed(findings: Vec<ArtifactFinding>, member: Option<&str>) -> Vec<ArtifactFinding> {
    let Some(name) = member else { return findings };
    findings
        .into_iter()
        .map(|mut f| {
            f.why = format!("{name}: {}", f.why);
            f
        })
        .collect()
}

/// Members a loader unpickles whatever their first bytes are: `.pkl`/`.pickle`, and the
/// `pickle`, `storages` and `tensors` members of a legacy PyTorch checkpoint. A large one is
/// never skipped as tensor data.
fn unpickled_by_name(name: &str) -> bool {
    name.ends_with(".pkl") || name.ends_with(".pickle") || ["pickle", "storages", "tensors"].contains(&name)
}

/// The most members read from one tar archive (as for zips).
const MAX_TAR_MEMBERS: usize = 1 << 20;

/// Files of no known format up to this size are tried as protocol 0/1 pickles.
const UNKNOWN_PICKLE_PROBE: u64 = 64 << 20;

fn structural(report: FormatReport) -> Verdict {
    let mut findings = report.findings;
    if report.executable && findings.is_empty() {
        findings.push(finding("format", Severity::High, format!("{} data that loads through pickle", report.format)));
    }
    Verdict { format: report.format.to_string(), executable: report.executable, findings }
}

/// Simulates the pickle machine on `len` bytes from the reader's position, streaming: the
/// payloads it does not keep are seeked over, so a pickle of any size is scanned in bounded
/// memory.
fn pickle_verdict(
    format: &str,
    reader: &mut (impl Read + Seek),
    len: u64,
    options: ScanOptions,
    member: Option<&str>,
) -> Verdict {
    let report = pickle::analyze_stream(reader, len, options.policy);
    Verdict { format: format.into(), executable: true, findings: prefixed(report.findings, member) }
}

fn zip_verdict(
    file: &mut (impl Read + Seek),
    len: u64,
    options: ScanOptions,
    nesting: &mut Nesting,
    depth: u32,
) -> Verdict {
    let report = container::read_zip(file, len);
    let mut findings = report.findings;
    let mut executable = false;
    let names: Vec<&str> = report.members.iter().map(|m| m.name.as_str()).collect();
    let format = if names.iter().any(|n| n.ends_with("data.pkl")) {
        "pytorch-zip"
    } else if names.contains(&"config.json")
        && names.iter().any(|n| *n == "metadata.json" || n.ends_with(".weights.h5") || n.ends_with(".weights.npz"))
    {
        "keras"
    } else if !names.is_empty() && names.iter().all(|n| n.ends_with(".npy")) {
        "npz"
    } else {
        "zip"
    };
    for member in &report.members {
        // Keras loads a `.keras` file by its name, runs `config.json` and only then looks for
        // the weights: a root `config.json` is judged in any zip.
        let verdict = if format == "keras" || member.name == "config.json" {
            keras_member(file, member, options, format == "keras")
        } else {
            None
        };
        if let Some(verdict) = verdict.or_else(|| member_verdict(file, member, options, nesting, depth)) {
            executable |= verdict.executable;
            findings.extend(verdict.findings);
        }
    }
    Verdict { format: format.into(), executable, findings }
}

/// Scans every member of a tar archive (a SageMaker `model.tar.gz` once decompressed, a
/// legacy PyTorch checkpoint) as the members of a zip are scanned. Links and special files
/// are findings; so is anything the tar reader refuses.
fn tar_verdict(
    file: &mut (impl Read + Seek),
    len: u64,
    options: ScanOptions,
    nesting: &mut Nesting,
    depth: u32,
) -> Verdict {
    let mut findings = Vec::new();
    let mut executable = false;
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(file.by_ref().take(len));
    let broken = |why: String| finding("container", Severity::Critical, format!("not a readable tar archive: {why}"));
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => {
            return Verdict { format: "tar".into(), executable: true, findings: vec![broken(error.to_string())] }
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                findings.push(broken(error.to_string()));
                executable = true;
                break;
            }
        };
        // Python's tarfile cuts a name at its first NUL and drops a trailing slash: the name
        // `torch.load` looks members up by.
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let name = raw.split('\0').next().unwrap_or_default().trim_end_matches('/').to_string();
        if names.len() >= MAX_TAR_MEMBERS {
            findings.push(broken(format!("more than {MAX_TAR_MEMBERS} members")));
            executable = true;
            break;
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            findings.push(finding(
                "container",
                Severity::High,
                format!("member {name:?} is a {kind:?} entry, not a file: what it points at was not checked"),
            ));
            continue;
        }
        if name.starts_with('/') || name.split(['/', '\\']).any(|part| part == "..") {
            findings.push(finding(
                "container",
                Severity::Critical,
                format!("member {name:?} would be written outside the folder it is unpacked into"),
            ));
        }
        let size = entry.size();
        names.push(name.clone());
        let named_pickle = unpickled_by_name(&name);
        let limit = if depth == 0 { options.max_pickle_bytes } else { options.max_pickle_bytes.min(nesting.remaining) };
        let mut bytes = Vec::new();
        let read = if size > UNKNOWN_PICKLE_PROBE && !named_pickle {
            // A large member whose head is of no format that matters is tensor data.
            let mut head = Vec::with_capacity(4096);
            let read = entry.by_ref().take(4096).read_to_end(&mut head);
            if read.is_ok() && formats::detect(&head, size) == Format::Unknown {
                continue;
            }
            bytes = head;
            read.and_then(|_| entry.by_ref().take(limit.saturating_sub(4096)).read_to_end(&mut bytes))
        } else {
            entry.by_ref().take(limit).read_to_end(&mut bytes)
        };
        if let Err(error) = read {
            findings.push(broken(format!("member {name:?}: {error}")));
            executable = true;
            break;
        }
        if (bytes.len() as u64) < size {
            findings.push(finding(
                "container",
                Severity::High,
                format!("member {name:?} holds {size} bytes, more than the {limit} read"),
            ));
            executable = true;
            continue;
        }
        if depth > 0 {
            nesting.remaining = nesting.remaining.saturating_sub(bytes.len() as u64);
        }
        let verdict = if name == "storages" || name == "tensors" {
            Some(legacy_torch_member(&bytes, &name, options))
        } else {
            content_verdict(&bytes, &name, options, nesting, depth)
        };
        if let Some(verdict) = verdict {
            executable |= verdict.executable;
            findings.extend(verdict.findings);
        }
    }
    let legacy_torch = ["sys_info", "pickle", "storages"].iter().all(|member| names.iter().any(|n| n == member));
    Verdict { format: if legacy_torch { "pytorch-tar" } else { "tar" }.into(), executable, findings }
}

/// The `storages` and `tensors` members of a legacy PyTorch tar checkpoint, read as
/// `torch.load` reads them: a count pickle, then per entry a pickle and raw data whose size
/// that pickle says (storages: an 8-byte element count times the element size of the storage
/// type it names; tensors: `16 + 16 × ndim` bytes), then (storages) a pickle of views. Every
/// pickle is judged; where the layout cannot be followed the member is unsafe, as its later
/// pickles cannot be found.
fn legacy_torch_member(bytes: &[u8], name: &str, options: ScanOptions) -> Verdict {
    let len = bytes.len() as u64;
    let mut findings = Vec::new();
    let dropped = std::cell::Cell::new(false);
    let next = |at: u64, findings: &mut Vec<ArtifactFinding>| {
        let mut cursor = Cursor::new(&bytes[at as usize..]);
        let (report, end) = pickle::analyze_one(&mut cursor, len - at, options.policy);
        let room = pickle::MAX_FINDINGS.saturating_sub(findings.len());
        if report.findings.len() > room {
            dropped.set(true);
        }
        findings.extend(report.findings.into_iter().take(room).map(|mut f| {
            f.offset = f.offset.map(|offset| offset + at);
            f
        }));
        end.map(|(after, loaded)| (at + after, loaded))
    };
    let broken =
        |why: String| finding("pickle", Severity::High, format!("{why}, so the pickles after it were not found"));
    let verdict = |mut findings: Vec<ArtifactFinding>| {
        if dropped.get() {
            let why = format!("more than {} findings; the rest are not listed", pickle::MAX_FINDINGS);
            findings.push(finding("pickle", Severity::High, why));
        }
        Verdict { format: "pickle".into(), executable: true, findings: prefixed(findings, Some(name)) }
    };
    let count = match next(0, &mut findings) {
        Some((after, pickle::Loaded::Int(count))) if (0..=len as i64).contains(&count) => Some((after, count)),
        Some(_) => {
            findings.push(broken("the first pickle is not the count of a legacy PyTorch member".into()));
            None
        }
        None => None,
    };
    let Some((mut at, count)) = count else { return verdict(findings) };
    let word =
        |at: u64| bytes.get(at as usize..at as usize + 8).map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    for index in 0..count {
        let Some((after, loaded)) = next(at, &mut findings) else { return verdict(findings) };
        at = after;
        let size = match (name, &loaded, word(at)) {
            ("storages", pickle::Loaded::Tuple(items), Some(elements)) => {
                let element = match items.get(2) {
                    Some(pickle::Loaded::Global(kind)) => storage_element_size(kind),
                    _ => None,
                };
                element.zip(u64::try_from(elements).ok()).and_then(|(e, n)| n.checked_mul(e)?.checked_add(8))
            }
            ("tensors", pickle::Loaded::Tuple(_), Some(ndim)) => {
                u64::try_from(ndim as i32).ok().and_then(|n| n.checked_mul(16)?.checked_add(16))
            }
            _ => None,
        };
        match size.and_then(|size| at.checked_add(size)).filter(|end| *end <= len) {
            Some(end) => at = end,
            None => {
                findings.push(broken(format!("entry {index} does not say how much raw data follows it")));
                return verdict(findings);
            }
        }
    }
    if name == "storages" {
        match next(at, &mut findings) {
            Some((after, _)) => at = after,
            None => return verdict(findings),
        }
    }
    if at < len {
        findings.push(finding("pickle", Severity::Medium, format!("{} bytes after what torch.load reads", len - at)));
    }
    verdict(findings)
}

/// Bytes per element of a legacy storage type (`torch.FloatStorage`, `torch.cuda.HalfStorage`).
fn storage_element_size(kind: &str) -> Option<u64> {
    let class = kind.rsplit('.').next()?;
    Some(match class {
        "DoubleStorage" | "LongStorage" | "ComplexFloatStorage" => 8,
        "ComplexDoubleStorage" => 16,
        "FloatStorage" | "IntStorage" | "QInt32Storage" => 4,
        "HalfStorage" | "BFloat16Storage" | "ShortStorage" => 2,
        "CharStorage" | "ByteStorage" | "BoolStorage" | "QInt8Storage" | "QUInt8Storage" | "QUInt4x2Storage"
        | "QUInt2x4Storage" => 1,
        _ => return None,
    })
}

/// The members of a `.keras` zip that are Keras' own: `config.json` is the architecture,
/// judged for Lambda layers and foreign modules; `*.weights.h5` holds only datasets, which
/// Keras reads with h5py without deserializing anything, so it is not searched for a config.
fn keras_member(file: &mut (impl Read + Seek), member: &Member, options: ScanOptions, keras: bool) -> Option<Verdict> {
    if keras && member.name.ends_with(".weights.h5") {
        return Some(Verdict { format: String::new(), executable: false, findings: Vec::new() });
    }
    if member.name != "config.json" {
        return None;
    }
    Some(match container::read_member(file, member, options.max_pickle_bytes) {
        // Outside a recognised .keras zip, a config.json that is not JSON is someone else's.
        Ok(bytes) if !keras && serde_json::from_slice::<serde_json::Value>(&bytes).is_err() => {
            Verdict { format: String::new(), executable: false, findings: Vec::new() }
        }
        Ok(bytes) => named(structural(formats::check_keras_config(&bytes)), &member.name),
        Err(why) => unsafe_verdict("container", why),
    })
}

/// Scans one archive member. Members of a nested archive count against the nested bound.
fn member_verdict(
    file: &mut (impl Read + Seek),
    member: &Member,
    options: ScanOptions,
    nesting: &mut Nesting,
    depth: u32,
) -> Option<Verdict> {
    if member.name.ends_with('/') && member.size == 0 {
        return None; // a folder entry
    }
    let name = member.name.as_str();
    // A large member is first read through without being kept (size and CRC checked):
    // when its head is of no format that matters (tensor data, the bulk of a checkpoint)
    // that is all, and memory stays bounded; otherwise it is read again, whole.
    // A large pickle member is streamed like a pickle file (memory bounded whatever its size)
    // once the pass above has checked its size and CRC: in place when stored, inflating
    // forward when deflated.
    let named_pickle = unpickled_by_name(name);
    if member.size > UNKNOWN_PICKLE_PROBE {
        let mut head = Vec::with_capacity(4096);
        let streamed = container::stream_member(file, member, |chunk| {
            let wanted = 4096 - head.len();
            head.extend_from_slice(&chunk[..chunk.len().min(wanted)]);
        });
        if let Err(why) = streamed {
            return Some(unsafe_verdict("container", why));
        }
        let format = formats::detect(&head, member.size);
        if format == Format::Unknown && !named_pickle {
            return None;
        }
        if matches!(format, Format::Pickle { .. }) || named_pickle {
            if let Some(mut stored) = container::stored_member(file, member) {
                return Some(pickle_verdict("pickle", &mut stored, member.size, options, Some(name)));
            }
            if let Some(mut inflated) = container::deflated_member(file, member) {
                return Some(pickle_verdict("pickle", &mut inflated, member.size, options, Some(name)));
            }
        }
    }
    let limit = if depth == 0 { options.max_pickle_bytes } else { options.max_pickle_bytes.min(nesting.remaining) };
    let bytes = match container::read_member(file, member, limit) {
        Ok(bytes) => bytes,
        Err(why) => return Some(unsafe_verdict("container", why)),
    };
    if depth > 0 {
        nesting.remaining -= bytes.len() as u64;
    }
    content_verdict(&bytes, name, options, nesting, depth)
}

/// A verdict of one unsafe finding and nothing else known.
fn unsafe_verdict(kind: &str, why: String) -> Verdict {
    Verdict { format: String::new(), executable: true, findings: vec![finding(kind, Severity::High, why)] }
}

/// Scans content found inside a file (an archive member, a decompressed stream), named
/// `name` in findings, at nesting `depth`; `None` when it is of no format that matters.
fn content_verdict(
    bytes: &[u8],
    name: &str,
    options: ScanOptions,
    nesting: &mut Nesting,
    depth: u32,
) -> Option<Verdict> {
    let len = bytes.len() as u64;
    let format = formats::detect(&bytes[..bytes.len().min(4096)], len);
    let verdict = format_verdict(format, bytes, name, options, nesting, depth);
    if matches!(format, Format::Pickle { .. } | Format::Zip | Format::Unknown) {
        return verdict;
    }
    match also_a_pickle(&mut Cursor::new(bytes), len, options, Some(name)) {
        Some(findings) => {
            let mut verdict =
                verdict.unwrap_or(Verdict { format: String::new(), executable: true, findings: Vec::new() });
            verdict.executable = true;
            verdict.findings.extend(findings);
            Some(verdict)
        }
        None => verdict,
    }
}

fn format_verdict(
    format: Format,
    bytes: &[u8],
    name: &str,
    options: ScanOptions,
    nesting: &mut Nesting,
    depth: u32,
) -> Option<Verdict> {
    let len = bytes.len() as u64;
    match format {
        Format::Pickle { .. } => Some(pickle_verdict("pickle", &mut Cursor::new(bytes), len, options, Some(name))),
        Format::Npy => Some(named(structural(formats::check_npy(&mut Cursor::new(bytes), len)), name)),
        Format::Safetensors => Some(named(structural(formats::check_safetensors(&mut Cursor::new(bytes), len)), name)),
        Format::Gguf => Some(named(structural(formats::check_gguf(&mut Cursor::new(bytes), len)), name)),
        Format::Zip | Format::Compressed { .. } | Format::Tar if depth + 1 > MAX_DEPTH => Some(unsafe_verdict(
            "container",
            format!("{name}: an archive or compressed stream nested more than {MAX_DEPTH} deep, which is not unpacked"),
        )),
        // Archive and stream members of the top-level file are what starts the nested bound.
        Format::Zip | Format::Compressed { .. } | Format::Tar if depth == 0 && len > nesting.remaining => {
            Some(unsafe_verdict(
                "container",
                format!("{name}: nested content beyond the {} bytes unpacked from one file", options.max_nested_bytes),
            ))
        }
        Format::Zip => {
            if depth == 0 {
                nesting.remaining -= len;
            }
            let mut verdict = zip_verdict(&mut Cursor::new(bytes), len, options, nesting, depth + 1);
            verdict.findings = prefixed(verdict.findings, Some(name));
            Some(verdict)
        }
        Format::Compressed { codec } => {
            if depth == 0 {
                nesting.remaining -= len;
            }
            Some(compressed_verdict(codec, &mut Cursor::new(bytes), len, options, nesting, depth + 1, Some(name)))
        }
        Format::Tar => {
            if depth == 0 {
                nesting.remaining -= len;
            }
            Some(named(tar_verdict(&mut Cursor::new(bytes), len, options, nesting, depth + 1), name))
        }
        Format::Unopened { kind } => Some(unopened(kind, Some(name))),
        Format::Image => None,
        Format::Hdf5 => Some(named(structural(formats::check_keras_h5(&mut Cursor::new(bytes), len)), name)),
        Format::Onnx => Some(named(structural(formats::check_onnx(Cursor::new(bytes), len)), name)),
        Format::SavedModel => Some(named(structural(formats::check_savedmodel(Cursor::new(bytes), len)), name)),
        // Content of no known format may still be a protocol 0/1 pickle.
        Format::Unknown => match probe_pickle(bytes, options, Some(name)) {
            Some(findings) => Some(Verdict { format: "pickle".into(), executable: true, findings }),
            None if name.ends_with(".pkl") || name.ends_with(".pickle") => {
                Some(unsafe_verdict("pickle", format!("{name}: named as a pickle but not one")))
            }
            None => None,
        },
    }
}

fn named(mut verdict: Verdict, name: &str) -> Verdict {
    verdict.findings = prefixed(verdict.findings, Some(name));
    verdict
}

/// Decompresses a stream (bounded by what is left of the nested bound) and scans what it
/// holds: a compressed joblib dump is a pickle. `name` is the member it came from, if any.
fn compressed_verdict(
    codec: &'static str,
    reader: &mut impl Read,
    len: u64,
    options: ScanOptions,
    nesting: &mut Nesting,
    depth: u32,
    name: Option<&str>,
) -> Verdict {
    let prefix = name.map(|name| format!("{name}: ")).unwrap_or_default();
    let format = format!("{codec}-compressed");
    let limit = nesting.remaining.min(options.max_pickle_bytes);
    let decompressed = match formats::compressed::decompress(codec, reader, len, limit) {
        Ok(decompressed) => decompressed,
        Err(refusal) => {
            let severity = if matches!(refusal, Refusal::Bomb(_)) { Severity::Critical } else { Severity::High };
            return Verdict {
                format,
                executable: true,
                findings: vec![finding("container", severity, format!("{prefix}{}", refusal.why()))],
            };
        }
    };
    nesting.remaining -= decompressed.bytes.len() as u64;
    let inner_name = match name {
        Some(name) => format!("{name} ({codec} stream)"),
        None => format!("{codec} stream"),
    };
    let mut verdict = content_verdict(&decompressed.bytes, &inner_name, options, nesting, depth).unwrap_or(Verdict {
        format: "unknown".into(),
        executable: false,
        findings: Vec::new(),
    });
    if decompressed.trailing > 0 {
        verdict.findings.push(finding(
            "container",
            Severity::High,
            format!(
                "{prefix}{} bytes after the last {codec} stream are not a stream: loaders differ on them",
                decompressed.trailing
            ),
        ));
    }
    let inner = if verdict.format.is_empty() { "unknown".to_string() } else { verdict.format };
    Verdict { format: format!("{format} {inner}"), executable: verdict.executable, findings: verdict.findings }
}
