//! The preprocessing lineage of the training file: which pipeline steps produced it, in
//! order, and whether the file is still the recorded output of the last one.
//!
//! Three sources, recognised by content: DVC's `dvc.lock` (schema 2.0 and the older
//! stage map), OpenLineage run events (one JSON object, an array, or JSON Lines as the
//! file transport writes them), and modelgate's own manifest for pipelines that have
//! neither (docs/data.md). Each is turned into the same list of [`Step`]s; the steps
//! behind the training file are found by walking from the step that wrote it back
//! through the steps that wrote its inputs.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use md5::Md5;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Lineage, LineageStep};

/// `[data.lineage]` in modelgate.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineageConfig {
    /// `dvc.lock`, an OpenLineage event file, or a lineage manifest.
    pub path: PathBuf,
    /// The source format; recognised from the content when absent.
    #[serde(default)]
    pub format: Option<SourceFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Dvc,
    Openlineage,
    Manifest,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Dvc => "dvc",
            SourceFormat::Openlineage => "openlineage",
            SourceFormat::Manifest => "manifest",
        }
    }
}

/// What to read and which file it must explain.
#[derive(Debug, Clone)]
pub struct LineageSpec {
    /// The lineage file (absolute, or relative to the working folder).
    pub path: PathBuf,
    pub format: Option<SourceFormat>,
    /// The training file on disk.
    pub training: PathBuf,
    /// The training file as the user wrote it (shown, and matched against dataset names).
    pub training_display: String,
}

/// A file a step read or wrote, with the digest the lineage recorded for it.
#[derive(Debug, Clone, PartialEq)]
struct Artifact {
    /// Normalised absolute path (or `namespace/name` of a dataset that is not a local file).
    path: String,
    /// As the lineage names it.
    shown: String,
    digest: Option<Recorded>,
}

#[derive(Debug, Clone, PartialEq)]
struct Recorded {
    algorithm: Algorithm,
    hex: String,
    /// DVC: the digest is of a directory listing (`…​.dir`).
    directory: bool,
    /// DVC 2 hashed text files after turning CRLF into LF.
    dos2unix: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha256 => "sha256",
        }
    }
}

#[derive(Debug, Clone)]
struct Step {
    name: String,
    command: Option<String>,
    inputs: Vec<Artifact>,
    outputs: Vec<Artifact>,
}

/// Reads the lineage and traces the training file through it.
pub fn trace(spec: &LineageSpec) -> Result<Lineage> {
    let text = read_bounded(&spec.path)?;
    let format = match spec.format {
        Some(format) => format,
        None => recognise(&spec.path, &text)?,
    };
    let base = absolute(spec.path.parent().unwrap_or(Path::new(".")));
    let steps = match format {
        SourceFormat::Dvc => dvc::steps(&spec.path, &text, &base)?,
        SourceFormat::Openlineage => openlineage::steps(&spec.path, &text, &base)?,
        SourceFormat::Manifest => manifest::steps(&spec.path, &text, &base)?,
    };
    let training = normalise(&absolute(&spec.training));
    let target = Target { path: training.clone(), written: spec.training_display.clone() };
    let Some((last, output)) = producer(&steps, &target) else {
        let written: Vec<&str> =
            steps.iter().flat_map(|step| step.outputs.iter().map(|output| output.shown.as_str())).collect();
        return Err(Error::new(
            ErrorKind::DataInvalid,
            format!(
                "{}: no {} step writes the training file {} (the steps write: {})",
                spec.path.display(),
                format.as_str(),
                spec.training_display,
                if written.is_empty() { "nothing".to_string() } else { written.join(", ") }
            ),
        )
        .hint("point [data.lineage] path at the lineage of the pipeline that produces the training file, or [data] training at the file that pipeline writes"));
    };
    let order = ancestry(&steps, last);
    let mut findings = Vec::new();
    let (freshness, recorded, actual) = freshness(&spec.training, &output, &base, format, &mut findings)?;
    inconsistent_links(&steps, &order, &mut findings);
    let stale = freshness == "stale" || !findings.is_empty();
    Ok(Lineage {
        source: format.as_str().to_string(),
        steps: order.iter().map(|&index| steps[index].name.clone()).collect(),
        stale,
        training_data: Some(spec.training_display.clone()),
        path: Some(spec.path.display().to_string()),
        final_step: Some(steps[last].name.clone()),
        freshness: Some(freshness.to_string()),
        recorded_digest: recorded,
        actual_digest: actual,
        stages: order
            .iter()
            .map(|&index| {
                let step = &steps[index];
                LineageStep {
                    name: step.name.clone(),
                    command: step.command.clone(),
                    inputs: step.inputs.iter().map(|artifact| artifact.shown.clone()).collect(),
                    outputs: step.outputs.iter().map(|artifact| artifact.shown.clone()).collect(),
                }
            })
            .collect(),
        findings,
    })
}

/// Lineage files are small; anything larger than this is not one.
const MAX_LINEAGE_BYTES: u64 = 64 << 20;

fn read_bounded(path: &Path) -> Result<String> {
    let Some(bytes) = crate::input::read_at_most(path, MAX_LINEAGE_BYTES)? else {
        return Err(invalid(path, format!("the file is larger than {} MiB", MAX_LINEAGE_BYTES >> 20))
            .hint("name the dvc.lock, OpenLineage event file or lineage manifest, not a data file"));
    };
    String::from_utf8(bytes).map_err(|_| {
        invalid(path, "the file is not UTF-8 text").hint("name a dvc.lock, OpenLineage JSON or lineage manifest file")
    })
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::DataInvalid, format!("{}: {message}", path.display()))
}

/// Tells the format from the file name and its first meaningful characters.
fn recognise(path: &Path, text: &str) -> Result<SourceFormat> {
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    if name == "dvc.lock" {
        return Ok(SourceFormat::Dvc);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if text.contains("\"eventType\"") || text.contains("\"eventTime\"") {
            return Ok(SourceFormat::Openlineage);
        }
        if text.contains("\"steps\"") {
            return Ok(SourceFormat::Manifest);
        }
    } else {
        let keys: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with([' ', '\t', '#', '-']) && line.contains(':'))
            .filter_map(|line| line.split(':').next())
            .collect();
        if keys.contains(&"steps") {
            return Ok(SourceFormat::Manifest);
        }
        if keys.contains(&"stages") || keys.contains(&"schema") {
            return Ok(SourceFormat::Dvc);
        }
    }
    Err(invalid(path, "cannot tell the lineage format: not a dvc.lock, an OpenLineage run event or a lineage manifest")
        .hint("set [data.lineage] format = \"dvc\", \"openlineage\" or \"manifest\" (or --format), see docs/data.md"))
}

/// The training file as lineage files may name it.
struct Target {
    /// Absolute, normalised.
    path: String,
    /// As written in the config (relative to it), for dataset names that are not local paths.
    written: String,
}

impl Target {
    fn matches(&self, artifact: &str) -> bool {
        if artifact == self.path {
            return true;
        }
        // A dataset name from another machine or a bucket: its trailing path components
        // must be the training path as written (`…/data/train.parquet`).
        let written: Vec<&str> = self.written.split('/').filter(|part| !part.is_empty() && *part != ".").collect();
        let parts: Vec<&str> = artifact.split('/').filter(|part| !part.is_empty()).collect();
        !written.is_empty() && parts.ends_with(&written)
    }

    /// A directory output that contains the training file.
    fn inside(&self, directory: &str) -> bool {
        self.path.starts_with(directory) && self.path[directory.len()..].starts_with('/')
    }
}

/// The last step (in file order) that writes the training file, and that output.
fn producer(steps: &[Step], target: &Target) -> Option<(usize, Artifact)> {
    let mut found = None;
    for (index, step) in steps.iter().enumerate() {
        for output in &step.outputs {
            if target.matches(&output.path) || target.inside(&output.path) {
                found = Some((index, output.clone()));
            }
        }
    }
    found
}

/// Does `output` (a file or a directory) provide `input`?
fn provides(output: &str, input: &str) -> bool {
    output == input
        || (input.starts_with(output) && input[output.len()..].starts_with('/'))
        || (output.starts_with(input) && output[input.len()..].starts_with('/'))
}

/// The steps behind `last`, upstream first, `last` at the end (depth-first, inputs in order).
fn ancestry(steps: &[Step], last: usize) -> Vec<usize> {
    fn visit(steps: &[Step], index: usize, seen: &mut Vec<bool>, order: &mut Vec<usize>) {
        if seen[index] {
            return;
        }
        seen[index] = true;
        for input in &steps[index].inputs {
            for (upstream, step) in steps.iter().enumerate() {
                if upstream != index && step.outputs.iter().any(|output| provides(&output.path, &input.path)) {
                    visit(steps, upstream, seen, order);
                }
            }
        }
        order.push(index);
    }
    let mut seen = vec![false; steps.len()];
    let mut order = Vec::new();
    visit(steps, last, &mut seen, &mut order);
    order
}

/// Inputs whose recorded digest differs from the digest recorded when the upstream step
/// wrote them: a step was re-run without the steps after it.
fn inconsistent_links(steps: &[Step], order: &[usize], findings: &mut Vec<String>) {
    for &index in order {
        for input in &steps[index].inputs {
            let Some(read) = &input.digest else { continue };
            for &upstream in order {
                for output in &steps[upstream].outputs {
                    let Some(written) = &output.digest else { continue };
                    if output.path == input.path && written.algorithm == read.algorithm && written.hex != read.hex {
                        findings.push(format!(
                            "step {} read {} with {} {}, but step {} recorded writing {} {}",
                            steps[index].name,
                            input.shown,
                            read.algorithm.name(),
                            read.hex,
                            steps[upstream].name,
                            written.algorithm.name(),
                            written.hex
                        ));
                    }
                }
            }
        }
    }
}

/// Compares the training file with the digest recorded for it:
/// (`fresh` | `stale` | `unknown`, recorded digest, actual digest).
fn freshness(
    training: &Path,
    output: &Artifact,
    base: &Path,
    format: SourceFormat,
    findings: &mut Vec<String>,
) -> Result<(&'static str, Option<String>, Option<String>)> {
    let Some(recorded) = &output.digest else { return Ok(("unknown", None, None)) };
    let expected = if recorded.directory {
        // The digest is of the directory listing; DVC's cache holds the listing.
        match directory_entry(base, recorded, output, training)? {
            Some(entry) => entry,
            None => return Ok(("unknown", Some(format!("md5:{}.dir", recorded.hex)), None)),
        }
    } else {
        recorded.hex.clone()
    };
    let actuals = file_digests(training, recorded.algorithm, recorded.dos2unix && format == SourceFormat::Dvc)?;
    let label = |hex: &str| format!("{}:{hex}", recorded.algorithm.name());
    if actuals.iter().any(|actual| actual.eq_ignore_ascii_case(&expected)) {
        return Ok(("fresh", Some(label(&expected)), Some(label(&actuals[0]))));
    }
    findings.push(format!(
        "the training file's {} is {}, but the lineage recorded {}",
        recorded.algorithm.name(),
        actuals[0],
        expected
    ));
    Ok(("stale", Some(label(&expected)), Some(label(&actuals[0]))))
}

/// The digest of the file, and for DVC 2 text files also with CRLF turned into LF.
fn file_digests(path: &Path, algorithm: Algorithm, dos2unix: bool) -> Result<Vec<String>> {
    let mut file = crate::input::open(path)?;
    let mut plain_md5 = Md5::new();
    let mut plain_sha = Sha256::new();
    let mut unix = Md5::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut pending_cr = false;
    loop {
        let read = file.read(&mut buffer).map_err(|source| Error::read(path, source))?;
        if read == 0 {
            break;
        }
        let chunk = &buffer[..read];
        match algorithm {
            Algorithm::Md5 => plain_md5.update(chunk),
            Algorithm::Sha256 => plain_sha.update(chunk),
        }
        if dos2unix {
            for &byte in chunk {
                if pending_cr && byte != b'\n' {
                    unix.update([b'\r']);
                }
                pending_cr = byte == b'\r';
                if !pending_cr {
                    unix.update([byte]);
                }
            }
        }
    }
    if pending_cr {
        unix.update([b'\r']);
    }
    let mut digests = vec![match algorithm {
        Algorithm::Md5 => hex::encode(plain_md5.finalize()),
        Algorithm::Sha256 => hex::encode(plain_sha.finalize()),
    }];
    if dos2unix {
        digests.push(hex::encode(unix.finalize()));
    }
    Ok(digests)
}

/// The md5 DVC recorded for `training` inside a directory output, read from the
/// directory listing in the project's DVC cache; `None` when the cache does not have it.
fn directory_entry(base: &Path, recorded: &Recorded, output: &Artifact, training: &Path) -> Result<Option<String>> {
    let (head, tail) = recorded.hex.split_at(2.min(recorded.hex.len()));
    let candidates = [
        base.join(".dvc/cache/files/md5").join(head).join(format!("{tail}.dir")),
        base.join(".dvc/cache").join(head).join(format!("{tail}.dir")),
    ];
    let Some(listing) = candidates.iter().find(|path| path.is_file()) else { return Ok(None) };
    #[derive(Deserialize)]
    struct Entry {
        md5: String,
        relpath: String,
    }
    let text = read_bounded(listing)?;
    let source = crate::strict::Source::new(listing, "a DVC directory listing", ErrorKind::DataInvalid);
    let entries: Vec<Entry> = crate::strict::read(&text, crate::strict::Syntax::Json, &source)
        .map_err(|error| error.hint("run `dvc cache` checks or `dvc repro`"))?;
    let training = normalise(&absolute(training));
    Ok(entries
        .into_iter()
        .find(|entry| format!("{}/{}", output.path, entry.relpath) == training)
        .map(|entry| entry.md5))
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|dir| dir.join(path)).unwrap_or_else(|_| path.to_path_buf())
    }
}

/// `/a/./b/../c` → `/a/c`, as text with `/` separators and no trailing slash.
fn normalise(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    format!("/{}", parts.join("/"))
}

/// A local path named in a lineage file, relative to `base`.
fn local(base: &Path, path: &str) -> String {
    normalise(&base.join(path.trim_end_matches('/')))
}

/// Parses with the field path in the error, for YAML and JSON alike.
fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str, what: &str) -> Result<T> {
    let syntax = if text.trim_start().starts_with(['{', '[']) {
        crate::strict::Syntax::Json
    } else {
        crate::strict::Syntax::Yaml
    };
    let what = format!("the {what}");
    let source = crate::strict::Source::new(path, &what, ErrorKind::DataInvalid).documented_in("docs/data.md");
    crate::strict::read(text, syntax, &source)
}

/// A command written as one string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Command {
    One(String),
    Many(Vec<String>),
}

impl Command {
    fn text(self) -> String {
        match self {
            Command::One(text) => text,
            Command::Many(lines) => lines.join(" && "),
        }
    }
}

mod dvc {
    use super::*;

    /// `dvc.lock` schema 2.0: `schema: '2.0'` and `stages: {…}`. (The 1.x layout is the
    /// stage map alone.)
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Lock {
        #[allow(dead_code)] // read only so that the layout is checked
        schema: String,
        stages: BTreeMap<String, Stage>,
    }

    /// A stage; what else DVC records (params, size, nfiles, frozen, …) is not needed.
    #[derive(Debug, Deserialize)]
    struct Stage {
        #[serde(default)]
        cmd: Option<Command>,
        #[serde(default)]
        deps: Vec<Entry>,
        #[serde(default)]
        outs: Vec<Entry>,
    }

    #[derive(Debug, Deserialize)]
    struct Entry {
        path: String,
        #[serde(default)]
        md5: Option<String>,
        /// DVC 3 writes `hash: md5`; DVC 2 does not (and hashed text as dos2unix).
        #[serde(default)]
        hash: Option<String>,
    }

    pub fn steps(path: &Path, text: &str, base: &Path) -> Result<Vec<Step>> {
        let layout_2 = text.lines().any(|line| line.starts_with("schema:") || line.starts_with("stages:"));
        let stages = if layout_2 {
            parse::<Lock>(path, text, "dvc.lock")?.stages
        } else {
            parse::<BTreeMap<String, Stage>>(path, text, "dvc.lock")?
        };
        if stages.is_empty() {
            return Err(invalid(path, "the dvc.lock has no stages").hint("run `dvc repro` to record the pipeline"));
        }
        // dvc.lock lists stages by name; DVC runs them in dependency order, which
        // `ancestry` recovers from the deps and outs.
        Ok(stages
            .into_iter()
            .map(|(name, stage)| Step {
                name,
                command: stage.cmd.map(Command::text),
                inputs: stage.deps.into_iter().map(|entry| artifact(base, entry)).collect(),
                outputs: stage.outs.into_iter().map(|entry| artifact(base, entry)).collect(),
            })
            .collect())
    }

    fn artifact(base: &Path, entry: Entry) -> Artifact {
        let digest = entry.md5.map(|md5| {
            let directory = md5.ends_with(".dir");
            Recorded {
                algorithm: Algorithm::Md5,
                hex: md5.trim_end_matches(".dir").to_ascii_lowercase(),
                directory,
                dos2unix: entry.hash.is_none(),
            }
        });
        Artifact { path: local(base, &entry.path), shown: entry.path, digest }
    }
}

mod openlineage {
    use super::*;

    /// One OpenLineage run event (the fields this reader needs; others are ignored, as
    /// the spec lets producers add facets).
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Event {
        #[serde(default)]
        event_type: Option<String>,
        event_time: String,
        job: Job,
        #[serde(default)]
        inputs: Vec<Dataset>,
        #[serde(default)]
        outputs: Vec<Dataset>,
    }

    #[derive(Debug, Deserialize)]
    struct Job {
        namespace: String,
        name: String,
    }

    #[derive(Debug, Deserialize)]
    struct Dataset {
        namespace: String,
        name: String,
        #[serde(default)]
        facets: BTreeMap<String, serde_json::Value>,
    }

    pub fn steps(path: &Path, text: &str, base: &Path) -> Result<Vec<Step>> {
        let trimmed = text.trim_start();
        let events: Vec<Event> = if trimmed.starts_with('[') {
            parse(path, text, "OpenLineage event list")?
        } else if text.trim().lines().filter(|line| !line.trim().is_empty()).count() > 1
            && text.lines().next().is_some_and(|line| line.trim_end().ends_with('}'))
        {
            // JSON Lines, as OpenLineage's file transport writes them.
            let mut events = Vec::new();
            for (number, line) in text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
                events.push(parse(path, line, "OpenLineage run event").map_err(|mut error| {
                    error.message = format!("{} (line {})", error.message, number + 1);
                    error
                })?);
            }
            events
        } else {
            vec![parse(path, text, "OpenLineage run event")?]
        };
        // A job's latest completed run is its step; runs that started, failed or were
        // aborted did not produce anything.
        let mut latest: BTreeMap<(String, String), Event> = BTreeMap::new();
        for event in events {
            let complete = event.event_type.as_deref().is_none_or(|kind| kind.eq_ignore_ascii_case("COMPLETE"));
            if !complete {
                continue;
            }
            let key = (event.job.namespace.clone(), event.job.name.clone());
            let newer = latest.get(&key).is_none_or(|seen| seen.event_time <= event.event_time);
            if newer {
                latest.insert(key, event);
            }
        }
        if latest.is_empty() {
            return Err(invalid(path, "no COMPLETE run event: no job finished").hint(
                "give the events of the pipeline run that produced the training data, including its COMPLETE events",
            ));
        }
        let mut events: Vec<Event> = latest.into_values().collect();
        events.sort_by(|a, b| a.event_time.cmp(&b.event_time));
        Ok(events
            .into_iter()
            .map(|event| Step {
                name: event.job.name,
                command: None,
                inputs: event.inputs.into_iter().map(|dataset| artifact(base, dataset)).collect(),
                outputs: event.outputs.into_iter().map(|dataset| artifact(base, dataset)).collect(),
            })
            .collect())
    }

    /// Local files (`file` namespaces) become paths; other datasets keep their
    /// `namespace/name`. The digest comes from the `version` facet when it is one.
    fn artifact(base: &Path, dataset: Dataset) -> Artifact {
        let is_file = dataset.namespace == "file" || dataset.namespace.starts_with("file:");
        let shown = if is_file {
            dataset.name.clone()
        } else {
            format!("{}/{}", dataset.namespace.trim_end_matches('/'), dataset.name.trim_start_matches('/'))
        };
        let path = if is_file { local(base, &dataset.name) } else { shown.clone() };
        let digest = dataset
            .facets
            .get("version")
            .and_then(|facet| facet.get("datasetVersion"))
            .and_then(|version| version.as_str())
            .and_then(parse_digest);
        Artifact { path, shown, digest }
    }
}

/// `md5:HEX`, `sha256:HEX`, or bare hex of either length.
fn parse_digest(text: &str) -> Option<Recorded> {
    let (algorithm, hex) = match text.split_once(':') {
        Some(("md5", hex)) => (Algorithm::Md5, hex),
        Some(("sha256", hex)) => (Algorithm::Sha256, hex),
        Some(_) => return None,
        None if text.len() == 32 => (Algorithm::Md5, text),
        None if text.len() == 64 => (Algorithm::Sha256, text),
        None => return None,
    };
    let valid = hex.len() == if algorithm == Algorithm::Md5 { 32 } else { 64 }
        && hex.bytes().all(|byte| byte.is_ascii_hexdigit());
    valid.then(|| Recorded { algorithm, hex: hex.to_ascii_lowercase(), directory: false, dos2unix: false })
}

mod manifest {
    use super::*;

    /// modelgate's lineage manifest (docs/data.md): the ordered steps of a pipeline.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Manifest {
        steps: Vec<ManifestStep>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ManifestStep {
        name: String,
        #[serde(default)]
        command: Option<Command>,
        #[serde(default)]
        inputs: Vec<File>,
        #[serde(default)]
        outputs: Vec<File>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum File {
        Path(String),
        Recorded(RecordedFile),
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RecordedFile {
        path: String,
        #[serde(default)]
        sha256: Option<String>,
        #[serde(default)]
        md5: Option<String>,
    }

    pub fn steps(path: &Path, text: &str, base: &Path) -> Result<Vec<Step>> {
        let manifest: Manifest = parse(path, text, "lineage manifest")?;
        if manifest.steps.is_empty() {
            return Err(invalid(path, "the lineage manifest has no steps")
                .hint("list the steps that produced the training data under `steps:`"));
        }
        manifest
            .steps
            .into_iter()
            .enumerate()
            .map(|(index, step)| {
                let files = |files: Vec<File>, field: &str| -> Result<Vec<Artifact>> {
                    files
                        .into_iter()
                        .enumerate()
                        .map(|(position, file)| {
                            artifact(path, base, file, &format!("steps[{index}].{field}[{position}]"))
                        })
                        .collect()
                };
                Ok(Step {
                    name: step.name,
                    command: step.command.map(Command::text),
                    inputs: files(step.inputs, "inputs")?,
                    outputs: files(step.outputs, "outputs")?,
                })
            })
            .collect()
    }

    fn artifact(path: &Path, base: &Path, file: File, field: &str) -> Result<Artifact> {
        let (name, digest) = match file {
            File::Path(name) => (name, None),
            File::Recorded(RecordedFile { path: name, sha256, md5 }) => {
                let digest = match (sha256, md5) {
                    (Some(hex), _) => Some(format!("sha256:{hex}")),
                    (None, Some(hex)) => Some(format!("md5:{hex}")),
                    (None, None) => None,
                };
                let recorded = match digest {
                    Some(text) => Some(parse_digest(&text).ok_or_else(|| {
                        invalid(path, format!("`{field}` has a digest that is not hex of the right length"))
                            .hint("write sha256 as 64 hex digits (or md5 as 32), e.g. from `sha256sum FILE`")
                    })?),
                    None => None,
                };
                (name, recorded)
            }
        };
        Ok(Artifact { path: local(base, &name), shown: name, digest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths() {
        assert_eq!(normalise(Path::new("/a/./b/../c/")), "/a/c");
        assert_eq!(local(Path::new("/p"), "data/out/"), "/p/data/out");
    }

    #[test]
    fn matches_dataset_names_by_trailing_components() {
        let target = Target { path: "/p/data/train.parquet".into(), written: "data/train.parquet".into() };
        assert!(target.matches("/p/data/train.parquet"));
        assert!(target.matches("s3://bucket/ml/data/train.parquet"));
        assert!(!target.matches("s3://bucket/ml/other/train.parquet"));
        assert!(target.inside("/p/data"));
        assert!(!target.inside("/p/dat"));
    }

    #[test]
    fn reads_digests() {
        assert_eq!(parse_digest("md5:0123456789abcdef0123456789ABCDEF").map(|d| d.hex.len()), Some(32));
        assert!(parse_digest("sha256:xyz").is_none());
        assert!(parse_digest("v3").is_none());
    }

    #[test]
    fn dos2unix_digest_turns_crlf_into_lf() {
        let dir = tempfile::tempdir().expect("tempdir");
        let crlf = dir.path().join("crlf.csv");
        std::fs::write(&crlf, b"a,b\r\n1,2\r\n").expect("write");
        let digests = file_digests(&crlf, Algorithm::Md5, true).expect("digest");
        assert_eq!(digests[0], hex::encode(Md5::digest(b"a,b\r\n1,2\r\n")));
        assert_eq!(digests[1], hex::encode(Md5::digest(b"a,b\n1,2\n")));
    }
}
