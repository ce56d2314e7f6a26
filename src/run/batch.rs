//! `modelgate eval --batch`: many evidence documents judged in one process.
//!
//! The bundle is read, compiled and its git state looked up once; the documents are read
//! [`CHUNK`] at a time (JSON Lines from a file or standard input, or every `*.json` of a
//! folder), checked and judged on every core by [`fleet::judge_all`] (the worker pool of
//! `fleet::evaluate_all`, which `reevaluate` and `policy impact` take), recorded one
//! transaction per chunk, and written in input order,
//! one report per line, before the next chunk is read: memory does not grow with the
//! batch.

use std::io::{BufRead, BufReader, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::gate::{unrecordable, Recording};
use super::Format;
use crate::audit::{self, record, EntryKind, Store};
use crate::decision::{AuditRef, Decision, Report};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{self, Evidence};
use crate::exit::ExitStatus;
use crate::policy::{fleet, Gate};

/// Documents judged (and recorded) together.
pub const CHUNK: usize = 256;
/// A chunk ends early once its documents add up to this many bytes.
const CHUNK_BYTES: u64 = 64 * 1024 * 1024;

/// `modelgate eval --batch`.
#[derive(Debug, Clone)]
pub struct BatchRequest<'a> {
    /// A JSON Lines file of evidence documents, `-` for standard input, or a folder whose
    /// `*.json` files are each one document.
    pub input: &'a Path,
    pub policies: &'a Path,
    pub timeout: Duration,
    pub recording: Recording<'a>,
    /// Evaluation workers (all cores when `None`).
    pub threads: Option<NonZeroUsize>,
    pub format: Format,
}

/// What a batch came to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchSummary {
    pub documents: usize,
    pub allow: usize,
    pub deny: usize,
    pub error: usize,
    /// Each document that ended in `error`: where it is and why.
    pub errors: Vec<BatchError>,
    /// Why the decisions were kept unrecorded (`--allow-unrecorded`), when they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unrecorded: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BatchError {
    /// `FILE:LINE` for JSON Lines, the file for a folder.
    pub source: String,
    pub kind: String,
    pub message: String,
}

impl BatchSummary {
    /// 2 when any document is an error (or none was given), else 1 when any is denied.
    pub fn status(&self) -> ExitStatus {
        if self.error > 0 || self.documents == 0 {
            ExitStatus::Error
        } else if self.deny > 0 {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        }
    }

    fn add(&mut self, report: &Report) {
        self.documents += 1;
        match report.decision {
            Decision::Allow => self.allow += 1,
            Decision::Deny => self.deny += 1,
            Decision::Error => {
                self.error += 1;
                let error = report.error.as_ref();
                self.errors.push(BatchError {
                    source: report.evidence_source.clone().unwrap_or_default(),
                    kind: error.map(|error| error.kind.clone()).unwrap_or_default(),
                    message: error.map(|error| error.message.clone()).unwrap_or_default(),
                });
            }
        }
    }
}

/// Judges every document of `request.input` and writes one report per line to `out`
/// (`Format::Json`: the report as `eval --format json` gives it, on one line; `Text`: one
/// line per document), then the summary (`{"summary": …}` as the last JSON line). An
/// error that concerns the whole batch (the policies, the store, an unreadable input) is
/// returned before or instead of reports; a document that cannot be read or judged is
/// that document's `error` report.
pub fn eval_batch(request: &BatchRequest, out: &mut dyn Write) -> Result<BatchSummary> {
    let started = Instant::now();
    let gate = Gate::load(request.policies, request.timeout)?;
    let mut recorder = Recorder::open(&request.recording)?;
    let mut documents = Documents::open(request.input)?;
    let mut summary = BatchSummary { unrecorded: recorder.unrecorded.clone(), ..BatchSummary::default() };
    loop {
        let chunk = documents.next_chunk(CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        // Waivers and grace periods are judged on the day each chunk is judged: a batch
        // streamed across midnight must not keep an exception that has expired.
        let today = crate::policy::today()?;
        let mut reports = judge(&gate, &chunk, request.threads, today);
        recorder.record(&gate, &mut reports, &mut summary)?;
        for (report, _) in &reports {
            summary.add(report);
            write_report(report, request.format, out)?;
        }
    }
    if summary.documents == 0 {
        return Err(Error::new(
            ErrorKind::EvidenceInvalid,
            format!("{}: no evidence documents to judge", documents.name),
        )
        .hint("give one evidence document per line (JSON Lines), or a folder of *.json evidence documents"));
    }
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    write_summary(&summary, request.format, out)?;
    Ok(summary)
}

/// The chunk's reports, in order, each with the evidence it judged (none when the
/// document could not be read). Documents are read and checked on the workers too: the
/// strict reading is a third of the work.
fn judge(
    gate: &Gate,
    chunk: &[Pending],
    threads: Option<NonZeroUsize>,
    today: chrono::NaiveDate,
) -> Vec<(Report, Option<Evidence>)> {
    fleet::judge_all(
        gate,
        chunk,
        threads,
        |gate, pending| match pending.read() {
            Ok(evidence) => (gate.report_at(&evidence, Some(pending.source.clone()), today), Some(evidence)),
            Err(error) => {
                let mut report = Report::from_error(&error);
                report.evidence_source = Some(pending.source.clone());
                report.policy = Some(gate.bundle.clone());
                (report, None)
            }
        },
        |pending| {
            let mut report = fleet::panicked();
            report.evidence_source = Some(pending.source.clone());
            (report, None)
        },
    )
}

/// A document of the batch, named by where it is, not yet read.
struct Pending {
    /// `FILE:LINE`, or the file of a folder.
    source: String,
    what: Unread,
}

enum Unread {
    Line(Vec<u8>),
    File(PathBuf),
}

impl Pending {
    fn read(&self) -> Result<Evidence> {
        match &self.what {
            Unread::Line(bytes) => parse_line(&self.source, bytes),
            Unread::File(path) => evidence::read(path),
        }
    }
}

/// The audit store a batch records in, opened once.
struct Recorder {
    store: Option<Box<dyn Store>>,
    allow_unrecorded: bool,
    /// Why nothing is recorded although recording was asked for.
    unrecorded: Option<String>,
    bundle_stored: bool,
}

impl Recorder {
    fn open(recording: &Recording) -> Result<Recorder> {
        let mut recorder = Recorder {
            store: None,
            allow_unrecorded: recording.allow_unrecorded,
            unrecorded: None,
            bundle_stored: false,
        };
        if recording.skip {
            return Ok(recorder);
        }
        let opened = audit::resolve(recording.store, Path::new("."))
            .and_then(|address| audit::open(&address, audit::recording_access(recording.store)));
        match opened {
            Ok(store) => recorder.store = Some(store),
            Err(error) if recording.allow_unrecorded => recorder.unrecorded = Some(error.message),
            Err(error) => return Err(error),
        }
        Ok(recorder)
    }

    /// Records the chunk in one transaction. When that fails, every decision of the chunk
    /// becomes an `error` (unless `allow_unrecorded`): an unrecorded decision must not
    /// let a deployment through.
    fn record(
        &mut self,
        gate: &Gate,
        reports: &mut [(Report, Option<Evidence>)],
        summary: &mut BatchSummary,
    ) -> Result<()> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        let recorded = (|| {
            if !self.bundle_stored {
                self.bundle_stored = store.bundle(&gate.bundle.digest)?.is_some();
            }
            // The bundle's files go with the first decision made under it.
            let carrier = match self.bundle_stored {
                true => None,
                false => reports.iter().position(|(report, _)| report.policy.is_some()),
            };
            let mut drafts = Vec::with_capacity(reports.len());
            for (index, (report, evidence)) in reports.iter().enumerate() {
                let files = (Some(index) == carrier).then_some(gate.files.as_slice());
                drafts.push(record::decision_draft(
                    EntryKind::Decision,
                    report,
                    evidence.as_ref(),
                    files,
                    serde_json::Map::new(),
                )?);
            }
            store.append(drafts).map(|records| (records, carrier.is_some()))
        })();
        match recorded {
            Ok((records, carried)) => {
                self.bundle_stored |= carried;
                let location = store.location();
                for ((report, _), record) in reports.iter_mut().zip(records) {
                    report.audit = Some(AuditRef { store: location.clone(), seq: record.entry.seq, hash: record.hash });
                }
            }
            Err(error) if self.allow_unrecorded => {
                summary.unrecorded.get_or_insert(error.message);
            }
            Err(error) => {
                for (report, _) in reports.iter_mut() {
                    unrecordable(report, &error);
                }
            }
        }
        Ok(())
    }
}

/// The documents of a batch, read in order.
struct Documents {
    /// The input as messages name it.
    name: String,
    source: Source,
}

enum Source {
    /// JSON Lines, and the number of the last line read.
    Lines(Box<dyn BufRead>, usize),
    /// A folder's `*.json` files, sorted by name, and how many were read.
    Files(Vec<PathBuf>, usize),
}

impl Documents {
    fn open(input: &Path) -> Result<Documents> {
        if input.as_os_str() == "-" {
            let stdin = crate::input::BoundedLines::new(std::io::stdin(), MAX_LINE);
            return Ok(Documents { name: "-".into(), source: Source::Lines(Box::new(BufReader::new(stdin)), 0) });
        }
        let name = input.display().to_string();
        let metadata = std::fs::metadata(input).map_err(|error| Error::read(input, error))?;
        if metadata.is_dir() {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(input).map_err(|error| Error::read(input, error))? {
                let path = entry.map_err(|error| Error::read(input, error))?.path();
                if path.extension().is_some_and(|extension| extension == "json") {
                    files.push(path);
                }
            }
            files.sort();
            return Ok(Documents { name, source: Source::Files(files, 0) });
        }
        let file = crate::input::open(input)?;
        let lines = crate::input::BoundedLines::new(file, MAX_LINE);
        Ok(Documents { name, source: Source::Lines(Box::new(BufReader::with_capacity(1 << 20, lines)), 0) })
    }

    /// Up to `count` documents, each named by where it is.
    fn next_chunk(&mut self, count: usize) -> Result<Vec<Pending>> {
        let mut chunk = Vec::with_capacity(count);
        // The documents of a chunk are held together: a chunk also ends once it has read
        // CHUNK_BYTES, so that 256 documents of the largest size are never in memory at once.
        let mut bytes_read = 0u64;
        while chunk.len() < count && bytes_read < CHUNK_BYTES {
            match &mut self.source {
                Source::Files(files, read) => {
                    let Some(path) = files.get(*read) else { break };
                    *read += 1;
                    bytes_read += std::fs::metadata(path).map_or(0, |metadata| metadata.len());
                    chunk.push(Pending { source: path.display().to_string(), what: Unread::File(path.clone()) });
                }
                Source::Lines(reader, line) => {
                    let mut bytes = Vec::new();
                    let read = reader.read_until(b'\n', &mut bytes).map_err(|error| {
                        Error::new(ErrorKind::Io, format!("{}:{}: cannot read: {error}", self.name, *line + 1)).hint(
                            "give one evidence document per line (JSON Lines, as `jq -c` writes them), each under 256 MiB",
                        )
                    })?;
                    if read == 0 {
                        break;
                    }
                    *line += 1;
                    bytes_read += read as u64;
                    chunk.push(Pending { source: format!("{}:{}", self.name, line), what: Unread::Line(bytes) });
                }
            }
        }
        Ok(chunk)
    }
}

/// A line of a JSON Lines batch is at most as large as one evidence document.
const MAX_LINE: usize = evidence::MAX_EVIDENCE_BYTES as usize;

fn parse_line(source: &str, bytes: &[u8]) -> Result<Evidence> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::new(ErrorKind::EvidenceInvalid, format!("{source}: the line is not UTF-8 text"))
            .hint("an evidence document is UTF-8 JSON")
    })?;
    if text.trim().is_empty() {
        return Err(Error::new(
            ErrorKind::EvidenceInvalid,
            format!("{source}: an empty line is not an evidence document"),
        )
        .hint("remove the empty line: each line of a batch is one evidence document"));
    }
    evidence::parse(source, text)
}

fn write_report(report: &Report, format: Format, out: &mut dyn Write) -> Result<()> {
    let written = match format {
        Format::Json => {
            serde_json::to_writer(&mut *out, report).map_err(std::io::Error::from).and_then(|()| writeln!(out))
        }
        Format::Text => writeln!(out, "{}", text_line(report)),
    };
    written.map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the report: {error}")))
}

/// `DENY   credit-scoring 2.4.0 production  docs.jsonl:3  2 violations: fairness/…, …`
fn text_line(report: &Report) -> String {
    let model = report.model.as_ref().map_or("-".to_string(), |model| format!("{} {}", model.name, model.version));
    let environment = report.environment.as_deref().unwrap_or("-");
    let source = report.evidence_source.as_deref().unwrap_or("-");
    let what = match report.decision {
        Decision::Allow if report.warnings.is_empty() => String::new(),
        Decision::Allow => format!("{} warnings", report.warnings.len()),
        Decision::Deny => {
            let mut codes: Vec<&str> = Vec::new();
            for finding in &report.violations {
                if !codes.contains(&finding.code.as_str()) {
                    codes.push(&finding.code);
                }
            }
            format!("{} violations: {}", report.violations.len(), codes.join(", "))
        }
        Decision::Error => report.error.as_ref().map_or(String::new(), |error| error.message.clone()),
    };
    format!("{:<6} {model} {environment}  {source}  {what}", report.decision.as_str().to_uppercase())
        .trim_end()
        .to_string()
}

fn write_summary(summary: &BatchSummary, format: Format, out: &mut dyn Write) -> Result<()> {
    let written = match format {
        Format::Json => serde_json::to_writer(&mut *out, &serde_json::json!({ "summary": summary }))
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Format::Text => writeln!(
            out,
            "\n{} documents: {} allow, {} deny, {} error ({:.1} s)",
            summary.documents,
            summary.allow,
            summary.deny,
            summary.error,
            summary.elapsed_ms as f64 / 1000.0
        ),
    };
    written.map_err(|error| Error::new(ErrorKind::Io, format!("cannot write the summary: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_document() {
        let error = parse_line("b.jsonl:2", b"  \r\n").expect_err("empty");
        assert!(error.message.contains("b.jsonl:2: an empty line"), "{}", error.message);
        let error = parse_line("b.jsonl:3", b"\xff\n").expect_err("not utf-8");
        assert!(error.message.contains("not UTF-8"), "{}", error.message);
        let error = parse_line("b.jsonl:4", b"{\"schema_version\": \"1\"} {}\n").expect_err("trailing");
        assert!(error.message.contains("b.jsonl:4"), "{}", error.message);
    }

    #[test]
    fn the_status_fails_closed() {
        assert_eq!(BatchSummary::default().status(), ExitStatus::Error, "an empty batch allows nothing");
        let summary = BatchSummary { documents: 2, allow: 1, deny: 1, ..BatchSummary::default() };
        assert_eq!(summary.status(), ExitStatus::Failure);
        let summary = BatchSummary { documents: 2, allow: 1, error: 1, ..BatchSummary::default() };
        assert_eq!(summary.status(), ExitStatus::Error);
    }
}
