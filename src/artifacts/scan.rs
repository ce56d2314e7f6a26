//! `modelgate scan`: what each model file is, by its content, whether loading it can run
//! code, and what it would run. Files are never executed, imported or unpickled; a file
//! that cannot be parsed is unsafe, with the reason.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::container::{self, Member};
use super::digest::{self, EntryKind};
use super::formats::{self, Format, FormatReport};
use super::pickle::{self, GlobalsPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{ArtifactFile, ArtifactFinding, Severity};

/// How to scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    pub policy: GlobalsPolicy,
    /// The largest pickle (file or archive member) read whole for analysis; a larger one
    /// is unsafe, as it cannot be checked.
    pub max_pickle_bytes: u64,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions { policy: GlobalsPolicy::Allow, max_pickle_bytes: 4 << 30 }
    }
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
    let mut file = File::open(path).map_err(|source| Error::read(path, source))?;
    let mut head = vec![0u8; 4096.min(size as usize)];
    file.read_exact(&mut head).map_err(|source| Error::read(path, source))?;
    file.seek(SeekFrom::Start(0)).map_err(|source| Error::read(path, source))?;
    let verdict = match formats::detect(&head, size) {
        Format::Pickle { .. } => pickle_verdict("pickle", &mut file, size, options, None),
        Format::Zip => zip_verdict(&mut file, size, options),
        Format::Safetensors => structural(formats::check_safetensors(&mut file, size)),
        Format::Npy => structural(formats::check_npy(&mut file, size)),
        Format::Gguf => structural(formats::check_gguf(&mut file, size)),
        Format::Hdf5 => Verdict {
            format: "hdf5".into(),
            executable: true,
            findings: vec![finding(
                "format",
                Severity::High,
                "HDF5 (Keras .h5): Lambda layers carry marshalled Python code, and this format is not inspected yet"
                    .into(),
            )],
        },
        Format::Compressed { codec } => Verdict {
            format: format!("compressed ({codec})"),
            executable: true,
            findings: vec![finding(
                "format",
                Severity::High,
                format!("a {codec}-compressed stream (compressed joblib holds pickles) is not inspected yet"),
            )],
        },
        Format::Unknown => unknown_verdict(&mut file, size, options),
    };
    let safe = !verdict.findings.iter().any(|f| matches!(f.severity, Severity::High | Severity::Critical));
    Ok(ArtifactFile {
        path: shown,
        size,
        sha256,
        format: verdict.format,
        executable_serialization: verdict.executable,
        safe,
        findings: verdict.findings,
        signed: None,
    })
}

/// Protocol 0 and 1 pickles have no magic: a file of no known format that the pickle
/// machine reads to a STOP is a pickle, and judged as one.
fn unknown_verdict(file: &mut File, size: u64, options: ScanOptions) -> Verdict {
    let unknown = || Verdict { format: "unknown".into(), executable: false, findings: Vec::new() };
    if size > UNKNOWN_PICKLE_PROBE {
        return unknown();
    }
    let mut bytes = Vec::with_capacity(size as usize);
    if let Err(error) = file.take(size).read_to_end(&mut bytes) {
        return Verdict {
            format: "unknown".into(),
            executable: false,
            findings: vec![finding("format", Severity::High, format!("cannot be read: {error}"))],
        };
    }
    match probe_pickle(&bytes, options, None) {
        Some(findings) => Verdict { format: "pickle".into(), executable: true, findings },
        None => unknown(),
    }
}

/// The findings of `bytes` as a pickle, when the pickle machine reads at least one
/// pickle to its STOP; `None` when they are not a pickle.
fn probe_pickle(bytes: &[u8], options: ScanOptions, member: Option<&str>) -> Option<Vec<ArtifactFinding>> {
    let report = pickle::analyze(bytes, options.policy);
    (report.pickles > 0).then(|| prefixed(report.findings, member))
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

/// Files of no known format up to this size are tried as protocol 0/1 pickles.
const UNKNOWN_PICKLE_PROBE: u64 = 64 << 20;

fn structural(report: FormatReport) -> Verdict {
    let mut findings = report.findings;
    if report.executable && findings.is_empty() {
        findings.push(finding("format", Severity::High, format!("{} data that loads through pickle", report.format)));
    }
    Verdict { format: report.format.to_string(), executable: report.executable, findings }
}

/// Reads `len` bytes (at most the bound) and simulates the pickle machine on them.
fn pickle_verdict(
    format: &str,
    reader: &mut impl Read,
    len: u64,
    options: ScanOptions,
    member: Option<&str>,
) -> Verdict {
    let prefix = member.map(|name| format!("{name}: ")).unwrap_or_default();
    if len > options.max_pickle_bytes {
        return Verdict {
            format: format.into(),
            executable: true,
            findings: vec![finding(
                "pickle",
                Severity::High,
                format!("{prefix}{len} bytes of pickle, more than the {} analysed", options.max_pickle_bytes),
            )],
        };
    }
    let mut bytes = Vec::with_capacity(len as usize);
    if let Err(error) = reader.take(len).read_to_end(&mut bytes) {
        return Verdict {
            format: format.into(),
            executable: true,
            findings: vec![finding("pickle", Severity::High, format!("{prefix}cannot be read: {error}"))],
        };
    }
    let report = pickle::analyze(&bytes, options.policy);
    Verdict { format: format.into(), executable: true, findings: prefixed(report.findings, member) }
}

fn zip_verdict(file: &mut File, len: u64, options: ScanOptions) -> Verdict {
    let report = container::read_zip(file, len);
    let mut findings = report.findings;
    let mut executable = false;
    let names: Vec<&str> = report.members.iter().map(|m| m.name.as_str()).collect();
    let format = if names.iter().any(|n| n.ends_with("data.pkl")) {
        "pytorch-zip"
    } else if names.contains(&"config.json") && names.iter().any(|n| n.ends_with(".weights.h5")) {
        "keras"
    } else if !names.is_empty() && names.iter().all(|n| n.ends_with(".npy")) {
        "npz"
    } else {
        "zip"
    };
    for member in &report.members {
        if let Some(verdict) = member_verdict(file, member, options) {
            executable |= verdict.executable;
            findings.extend(verdict.findings);
        }
    }
    Verdict { format: format.into(), executable, findings }
}

/// Scans one archive member that holds a pickle, an array or another archive.
fn member_verdict(file: &mut File, member: &Member, options: ScanOptions) -> Option<Verdict> {
    if member.name.ends_with('/') && member.size == 0 {
        return None; // a folder entry
    }
    let bytes = match container::read_member(file, member, options.max_pickle_bytes) {
        Ok(bytes) => bytes,
        Err(why) => {
            return Some(Verdict {
                format: String::new(),
                executable: true,
                findings: vec![finding("container", Severity::High, why)],
            })
        }
    };
    let name = member.name.as_str();
    match formats::detect(&bytes[..bytes.len().min(4096)], bytes.len() as u64) {
        Format::Pickle { .. } => {
            Some(pickle_verdict("", &mut Cursor::new(&bytes), bytes.len() as u64, options, Some(name)))
        }
        Format::Npy => {
            let mut verdict = structural(formats::check_npy(&mut Cursor::new(&bytes), bytes.len() as u64));
            verdict.findings = prefixed(verdict.findings, Some(name));
            Some(verdict)
        }
        Format::Zip => Some(Verdict {
            format: String::new(),
            executable: true,
            findings: vec![finding(
                "container",
                Severity::High,
                format!("{name}: a nested archive, which is not scanned"),
            )],
        }),
        // A member of no known format may still be a protocol 0/1 pickle.
        _ => match probe_pickle(&bytes, options, Some(name)) {
            Some(findings) => Some(Verdict { format: String::new(), executable: true, findings }),
            None if name.ends_with(".pkl") || name.ends_with(".pickle") => Some(Verdict {
                format: String::new(),
                executable: true,
                findings: vec![finding("pickle", Severity::High, format!("{name}: named as a pickle but not one"))],
            }),
            None => None,
        },
    }
}
