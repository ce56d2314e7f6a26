//! Reading one document into its evidence: format, fields and sections with whether each
//! is really filled in, dates, the model version and digest it names, and its claims.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde_json::{Map, Value};

use super::fields::{self, specs};
use super::markdown;
use super::text::{self, Missing};
use super::values::{self, describe, key_line, parse_date, scalar_text, text_list};
use super::{Kind, MAX_DOCUMENT_BYTES};
use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{DatasetReference, Document, DocumentField, DocumentSection, MetricClaim};
use crate::strict::{self, Source, Syntax};

/// What reading needs besides the file.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// The day ages are counted to (the time of collection).
    pub today: NaiveDate,
    /// Fall back to the last commit's date for a document without a date of its own.
    pub git_dates: bool,
}

/// Reads a document that exists. `shown` is its path as the evidence names it.
pub fn read(kind: Kind, path: &Path, shown: &str, options: &ReadOptions) -> Result<Document> {
    let text = read_text(path)?;
    let mut document = parse(kind, path, &text, shown)?;
    if document.last_updated.is_none() && options.git_dates {
        if let Some(date) = git_date(path) {
            document.last_updated = Some(date.to_string());
            document.last_updated_source = Some("git".into());
        }
    }
    if let Some(date) = document.last_updated.as_deref().and_then(parse_date) {
        if date > options.today {
            document.problems.push(format!("the last-updated date {date} is in the future"));
        }
    }
    date(&mut document, options.today);
    Ok(document)
}

/// Sets the parts of a document that depend on the day it is judged: its age and whether
/// its review is overdue. A re-evaluation calls this again with the day it judges on.
pub fn date(document: &mut Document, today: NaiveDate) {
    if let Some(date) = document.last_updated.as_deref().and_then(parse_date) {
        document.age_days = Some((today - date).num_days().max(0) as u64);
    }
    if let Some(due) = document.next_review_due.as_deref().and_then(parse_date) {
        document.review_overdue = Some(today > due);
    }
}

/// Reads a document's text; the format follows `path`'s extension (`.json`, `.yaml`/`.yml`,
/// anything else Markdown). Dates and ages are left to [`read`].
pub fn parse(kind: Kind, path: &Path, text: &str, shown: &str) -> Result<Document> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let mut reader = Reader::new(kind, shown);
    match extension.as_str() {
        "json" => {
            let value =
                strict::parse(text, Syntax::Json, &Source::new(path, "the document", ErrorKind::DocumentInvalid))?;
            let object = top_object(value, path, "the document")?;
            if kind == Kind::ModelCard
                && ["model_details", "quantitative_analysis", "considerations"]
                    .iter()
                    .any(|key| object.contains_key(*key))
            {
                reader.document.format = Some("model-card-toolkit".into());
                reader.model_card_toolkit(&object);
            } else {
                reader.document.format = Some("json".into());
                reader.keyed(&object, "key", text);
            }
            reader.document.metadata = Some(Value::Object(object));
        }
        "yaml" | "yml" => {
            let value =
                strict::parse(text, Syntax::Yaml, &Source::new(path, "the document", ErrorKind::DocumentInvalid))?;
            let object = top_object(value, path, "the document")?;
            reader.document.format = Some("yaml".into());
            reader.keyed(&object, "key", text);
            reader.document.metadata = Some(Value::Object(object));
        }
        _ => reader.markdown(text, path)?,
    }
    Ok(reader.finish())
}

/// Reads at most [`MAX_DOCUMENT_BYTES`]; binary content and text that is not UTF-8 are
/// errors naming where.
fn read_text(path: &Path) -> Result<String> {
    let Some(bytes) = crate::input::read_at_most(path, MAX_DOCUMENT_BYTES)? else {
        return Err(Error::new(
            ErrorKind::DocumentInvalid,
            format!("{}: larger than {} MiB, not a document", path.display(), MAX_DOCUMENT_BYTES >> 20),
        )
        .hint("point [documentation] at the Markdown, YAML or JSON document itself, not at data or a model file"));
    };
    if let Some(offset) = bytes.iter().position(|&byte| byte == 0) {
        return Err(Error::new(
            ErrorKind::DocumentInvalid,
            format!("{}: binary content (a NUL byte at offset {offset}), not a text document", path.display()),
        )
        .hint(
            "point [documentation] at the Markdown, YAML or JSON document (export a PDF or Word document to Markdown)",
        ));
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let prefix = &error.as_bytes()[..valid];
        let line = prefix.iter().filter(|&&byte| byte == b'\n').count() + 1;
        let column = valid - prefix.iter().rposition(|&byte| byte == b'\n').map_or(0, |index| index + 1) + 1;
        Error::new(
            ErrorKind::DocumentInvalid,
            format!("{}:{line}:{column}: not UTF-8 text (byte 0x{:02x})", path.display(), error.as_bytes()[valid]),
        )
        .hint("save the document as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)")
    })
}

fn top_object(value: Value, path: &Path, what: &str) -> Result<Map<String, Value>> {
    match value {
        Value::Object(object) => Ok(object),
        Value::Null => Ok(Map::new()),
        other => Err(Error::new(
            ErrorKind::DocumentInvalid,
            format!("{}: {what} is {}, not a mapping of keys to values", path.display(), describe(&other)),
        )
        .hint("write the document as `key: value` pairs (docs/documentation.md shows each kind)")),
    }
}

/// The last commit touching `path`, when it is in a git checkout and git is installed.
fn git_date(path: &Path) -> Option<NaiveDate> {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name()?;
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["log", "-1", "--format=%cs", "--"])
        .arg(name)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    parse_date(std::str::from_utf8(&output.stdout).ok()?)
}

/// Fills one document's evidence from whichever format it is in.
struct Reader {
    kind: Kind,
    document: Document,
    /// Candidates per field, in document order; the first filled-in one wins.
    candidates: BTreeMap<&'static str, Vec<DocumentField>>,
}

static VERSION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bv?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)\b").expect("version pattern"));
static VERSION_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)\b(?:model\s+)?version\s*[:=]?\s*\**\s*v?(\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?)\b")
        .expect("version line pattern")
});
static UPDATED_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:last[ -]updated|updated on|last[ -]modified|date)\s*[:=]?\s*\**\s*(\d{4}-\d{2}-\d{2})\b")
        .expect("updated pattern")
});
static DIGEST: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bsha256:[0-9a-f]{64}\b").expect("digest pattern"));

const DATE_KEYS: &[&str] = &["last_updated", "last-updated", "updated", "last_modified", "date"];
const VERSION_KEYS: &[&str] = &["model_version", "model-version", "version"];
const DIGEST_KEYS: &[&str] = &["model_digest", "model-digest", "digest"];

impl Reader {
    fn new(kind: Kind, shown: &str) -> Reader {
        Reader {
            kind,
            document: Document { present: true, path: Some(shown.to_string()), ..Document::default() },
            candidates: BTreeMap::new(),
        }
    }

    fn candidate(
        &mut self,
        field: &'static str,
        missing: Option<Missing>,
        source: &str,
        heading: &str,
        line: Option<usize>,
        rule: Option<&str>,
    ) {
        self.candidates.entry(field).or_default().push(DocumentField {
            populated: missing.is_none(),
            reason: missing.map(|reason| reason.as_str().to_string()),
            source: Some(source.to_string()),
            heading: Some(heading.to_string()),
            line: line.map(|line| line as u64),
            rule: rule.map(str::to_string),
            detail: None,
        });
    }

    fn problem(&mut self, message: String) {
        // A date can be both the document's date and a field of it: one message.
        if !self.document.problems.contains(&message) {
            self.document.problems.push(message);
        }
    }

    // ------------------------------------------------------------ Markdown

    fn markdown(&mut self, text: &str, path: &Path) -> Result<()> {
        let split = markdown::split(text).map_err(|markdown::Unclosed| {
            Error::new(
                ErrorKind::DocumentInvalid,
                format!("{}:1: front matter opened with `---` is never closed", path.display()),
            )
            .hint("end the YAML front matter with a line `---` before the Markdown starts")
        })?;
        let mut format = "markdown";
        if let Some(yaml) = split.front_matter {
            let source =
                Source::new(path, "front matter", ErrorKind::DocumentInvalid).starting_at(split.front_matter_line);
            let value = strict::parse(yaml, Syntax::Yaml, &source)?;
            let object = top_object(value, path, "the front matter")?;
            let front = FrontMatter { text: yaml, first_line: split.front_matter_line };
            match self.kind {
                Kind::ModelCard => {
                    format = "huggingface";
                    self.hugging_face(&object, &front);
                }
                Kind::Datasheet => {
                    const HUB_KEYS: &[&str] = &[
                        "pretty_name",
                        "task_categories",
                        "task_ids",
                        "size_categories",
                        "dataset_info",
                        "configs",
                        "language",
                        "license",
                        "annotations_creators",
                        "language_creators",
                        "multilinguality",
                        "source_datasets",
                    ];
                    if HUB_KEYS.iter().any(|key| object.contains_key(*key)) {
                        format = "huggingface";
                    }
                    self.keyed(&object, "front_matter", yaml);
                }
                Kind::RiskAssessment => self.keyed(&object, "front_matter", yaml),
            }
            self.document.metadata = Some(Value::Object(object));
        }
        self.document.format = Some(format.into());
        let sections = markdown::sections(split.body, split.body_line);
        for section in &sections {
            if section.level == 0 {
                continue;
            }
            let matched = fields::match_heading(self.kind, &section.heading);
            let missing = text::check_section(&section.text);
            for &(field, rule) in &matched {
                self.candidate(field, missing, "section", &section.heading, Some(section.line), Some(rule));
            }
            let (field, rule) = match matched.first() {
                Some(&(field, rule)) => (Some(field.to_string()), Some(rule.to_string())),
                None => (None, None),
            };
            self.document.sections.push(DocumentSection {
                heading: section.heading.clone(),
                level: section.level,
                line: section.line as u64,
                field,
                rule,
                populated: missing.is_none(),
                reason: missing.map(|reason| reason.as_str().to_string()),
            });
        }
        self.read_body(split.body, &sections);
        Ok(())
    }

    /// Version, date and digest written in the prose, when the metadata has none.
    fn read_body(&mut self, body: &str, sections: &[markdown::Section]) {
        if self.document.model_version.is_none() && self.kind != Kind::Datasheet {
            let title = sections.iter().find(|section| section.level == 1);
            let from_title = title.and_then(|section| VERSION.captures(&section.heading));
            if let Some(captures) = from_title {
                self.document.model_version = Some(captures[1].to_string());
                self.document.model_version_source = Some("title".into());
            } else if let Some(captures) = VERSION_LINE.captures(body) {
                self.document.model_version = Some(captures[1].to_string());
                self.document.model_version_source = Some("body".into());
            }
        }
        if self.document.last_updated.is_none() {
            if let Some(captures) = UPDATED_LINE.captures(body) {
                if parse_date(&captures[1]).is_some() {
                    self.document.last_updated = Some(captures[1].to_string());
                    self.document.last_updated_source = Some("body".into());
                }
            }
        }
        if self.document.model_digest.is_none() && self.kind == Kind::ModelCard {
            self.document.model_digest = DIGEST.find(body).map(|found| found.as_str().to_string());
        }
    }

    // ------------------------------------------------------------ metadata

    /// Dates, version and digest from the document's keys (front matter or top level).
    fn common_keys(&mut self, object: &Map<String, Value>, source: &str, text: &str) {
        let date_keys: Vec<&str> = match self.kind {
            Kind::RiskAssessment => DATE_KEYS.iter().copied().chain(["review_date"]).collect(),
            _ => DATE_KEYS.to_vec(),
        };
        for key in date_keys {
            let Some(value) = object.get(key) else { continue };
            match scalar_text(value).as_deref().and_then(parse_date) {
                Some(date) => {
                    self.document.last_updated = Some(date.to_string());
                    self.document.last_updated_source = Some(format!("{source}:{key}"));
                }
                // A placeholder is a missing date (reported with its field), not a bad one.
                None if scalar_text(value).is_none_or(|text| text::check(&text).is_some()) => {}
                None => {
                    let line = key_line(text, key).map(|line| format!(" (line {line})")).unwrap_or_default();
                    self.problem(format!("`{key}`{line}: {} is not a date; write YYYY-MM-DD", shown_value(value)));
                }
            }
            break;
        }
        for key in VERSION_KEYS {
            if let Some(value) = object.get(*key) {
                // `version: 2.30` is a number to YAML (2.3); the version is the text written.
                let written = if value.is_number() { raw_scalar(text, key) } else { None };
                match written.or_else(|| scalar_text(value)) {
                    Some(version) if !version.is_empty() => {
                        self.document.model_version = Some(version);
                        self.document.model_version_source = Some(format!("{source}:{key}"));
                    }
                    _ => self.problem(format!("`{key}`: expected a version string, found {}", describe(value))),
                }
                break;
            }
        }
        for key in DIGEST_KEYS {
            if let Some(value) = object.get(*key) {
                match value.as_str().map(str::trim) {
                    Some(digest) if digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()) => {
                        self.document.model_digest = Some(format!("sha256:{}", digest.to_ascii_lowercase()));
                    }
                    Some(digest) if digest.contains(':') => self.document.model_digest = Some(digest.to_string()),
                    _ => self
                        .problem(format!("`{key}`: expected a digest such as sha256:…, found {}", shown_value(value))),
                }
                break;
            }
        }
    }

    /// A YAML/JSON document or front matter whose keys are the field names (datasheets,
    /// risk assessments).
    fn keyed(&mut self, object: &Map<String, Value>, source: &str, text: &str) {
        self.common_keys(object, source, text);
        for (key, value) in object {
            let Some(field) = fields::match_key(self.kind, key) else { continue };
            let line = key_line(text, key);
            let missing = match (self.kind, field) {
                (Kind::RiskAssessment, "risks") => {
                    self.risks(value, line);
                    continue;
                }
                (Kind::RiskAssessment, "review_date" | "next_review_due") => self.date_field(key, value, line),
                (Kind::RiskAssessment, "risk_tier") => match value.as_str() {
                    Some(tier) => {
                        self.document.risk_tier = Some(tier.trim().to_ascii_lowercase());
                        text::check(tier)
                    }
                    None if value.is_null() => Some(Missing::Empty),
                    None => {
                        self.problem(format!("`{key}`: expected a tier such as high, found {}", describe(value)));
                        Some(Missing::Invalid)
                    }
                },
                _ => values::missing(value),
            };
            if field == "next_review_due" {
                self.document.next_review_due = scalar_text(value);
            }
            self.candidate(field, missing, source, key, line, None);
        }
    }

    fn date_field(&mut self, key: &str, value: &Value, line: Option<usize>) -> Option<Missing> {
        match value {
            Value::Null => Some(Missing::Empty),
            _ => match scalar_text(value) {
                Some(text) if parse_date(&text).is_some() => None,
                Some(text) if text::check(&text).is_some() => text::check(&text),
                _ => {
                    let at = line.map(|line| format!(" (line {line})")).unwrap_or_default();
                    self.problem(format!("`{key}`{at}: {} is not a date; write YYYY-MM-DD", shown_value(value)));
                    Some(Missing::Invalid)
                }
            },
        }
    }

    /// `risks`: a list of risks, each with a description, likelihood, impact, mitigation
    /// and owner. `risks` is filled in when every risk has the first three; `mitigations`
    /// and `risk_owners` when every risk has a mitigation and an owner.
    fn risks(&mut self, value: &Value, line: Option<usize>) {
        let Value::Array(items) = value else {
            let missing = if value.is_null() {
                Some(Missing::Empty)
            } else {
                self.problem(format!("`risks`: expected a list of risks, found {}", describe(value)));
                Some(Missing::Invalid)
            };
            for field in ["risks", "mitigations", "risk_owners"] {
                self.candidate(field, missing, "key", "risks", line, None);
            }
            return;
        };
        const PARTS: &[(&str, &[&str])] = &[
            ("description", &["description", "risk", "title", "name"]),
            ("likelihood", &["likelihood", "probability"]),
            ("impact", &["impact", "severity"]),
            ("mitigation", &["mitigation", "mitigations", "controls"]),
            ("owner", &["owner", "owners", "risk_owner"]),
        ];
        // Per part, the risks that lack it (by id).
        let mut lacking: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (index, item) in items.iter().enumerate() {
            let Value::Object(risk) = item else {
                self.problem(format!("`risks[{index}]`: expected a mapping, found {}", describe(item)));
                for (part, _) in PARTS {
                    lacking.entry(part).or_default().push(format!("`risks[{index}]`"));
                }
                continue;
            };
            let id = risk.get("id").and_then(scalar_text).unwrap_or_else(|| format!("`risks[{index}]`"));
            for (part, keys) in PARTS {
                let found = keys.iter().find_map(|key| risk.get(*key));
                if found.is_none_or(|value| values::missing(value).is_some()) {
                    lacking.entry(part).or_default().push(id.clone());
                }
            }
        }
        for (field, heading, parts) in [
            ("risks", "risks", &["description", "likelihood", "impact"][..]),
            ("mitigations", "risks[].mitigation", &["mitigation"][..]),
            ("risk_owners", "risks[].owner", &["owner"][..]),
        ] {
            let gaps: Vec<String> = parts
                .iter()
                .filter_map(|part| lacking.get(part).map(|ids| format!("no {part} for {}", ids.join(", "))))
                .collect();
            let missing = if items.is_empty() {
                Some(Missing::Empty)
            } else if !gaps.is_empty() {
                Some(Missing::Incomplete)
            } else {
                None
            };
            self.candidate(field, missing, "key", heading, line, None);
            if let Some(candidate) = self.candidates.get_mut(field).and_then(|list| list.last_mut()) {
                candidate.detail = (!gaps.is_empty()).then(|| gaps.join("; "));
            }
        }
    }

    // ------------------------------------------------------------ Hugging Face

    /// The Hugging Face model card metadata: types as the Hub validates them, the
    /// `model-index` results as claims, `datasets` as the training data named.
    fn hugging_face(&mut self, object: &Map<String, Value>, front: &FrontMatter) {
        self.common_keys(object, "front_matter", front.text);
        const TEXT_OR_LIST: &[&str] = &["license", "language", "datasets", "tags", "metrics", "base_model"];
        const TEXT: &[&str] = &["pipeline_tag", "library_name", "model_name", "license_name", "license_link"];
        for (key, value) in object {
            let line = front.line(key);
            let at = line.map(|line| format!(" (line {line})")).unwrap_or_default();
            let valid = if TEXT_OR_LIST.contains(&key.as_str()) {
                value.is_null() || text_list(value).is_some()
            } else if TEXT.contains(&key.as_str()) {
                value.is_null() || value.is_string()
            } else {
                true
            };
            if !valid {
                let expected = if TEXT.contains(&key.as_str()) { "a string" } else { "a string or a list of strings" };
                self.problem(format!("front matter `{key}`{at}: expected {expected}, found {}", describe(value)));
            }
            let missing = if valid { values::missing(value) } else { Some(Missing::Invalid) };
            match key.as_str() {
                "license" => self.candidate("license", missing, "front_matter", key, line, None),
                "datasets" => {
                    self.candidate("training_data", missing, "front_matter", key, line, None);
                    if valid {
                        for name in text_list(value).unwrap_or_default() {
                            self.document.datasets.push(DatasetReference {
                                name,
                                source: "front_matter:datasets".into(),
                                in_lineage: None,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(index) = object.get("model-index") {
            let claims = self.model_index(index, front);
            let missing = if claims > 0 { None } else { Some(Missing::Empty) };
            self.candidate("evaluation", missing, "front_matter", "model-index", front.line("model-index"), None);
        }
    }

    /// `model-index: [{name, results: [{task, dataset: {name, split}, metrics: [{type, value}]}]}]`.
    fn model_index(&mut self, index: &Value, front: &FrontMatter) -> usize {
        let at = front.line("model-index").map(|line| format!(" (line {line})")).unwrap_or_default();
        let Some(models) = index.as_array() else {
            self.problem(format!("front matter `model-index`{at}: expected a list, found {}", describe(index)));
            return 0;
        };
        let mut count = 0;
        for (m, model) in models.iter().enumerate() {
            let results = model.get("results").and_then(Value::as_array);
            let Some(results) = results else {
                self.problem(format!("front matter `model-index[{m}]`{at}: no `results` list"));
                continue;
            };
            for (r, result) in results.iter().enumerate() {
                let dataset = result.get("dataset");
                let dataset_name = dataset.and_then(|d| d.get("name").or_else(|| d.get("type"))).and_then(scalar_text);
                let split = dataset.and_then(|d| d.get("split")).and_then(scalar_text);
                let Some(metrics) = result.get("metrics").and_then(Value::as_array) else {
                    self.problem(format!("front matter `model-index[{m}].results[{r}]`{at}: no `metrics` list"));
                    continue;
                };
                for (k, metric) in metrics.iter().enumerate() {
                    let source = format!("model-index[{m}].results[{r}].metrics[{k}]");
                    let kind = metric.get("type").or_else(|| metric.get("name")).and_then(scalar_text);
                    // `{type: f1, args: {average: macro}}` is the macro F1 of a multiclass model.
                    let average = metric.get("args").and_then(|args| args.get("average")).and_then(Value::as_str);
                    let kind = match (kind, average) {
                        (Some(kind), Some(average))
                            if ["f1", "precision", "recall"].contains(&kind.to_ascii_lowercase().as_str()) =>
                        {
                            Some(format!("{kind}_{average}"))
                        }
                        (kind, _) => kind,
                    };
                    let value = metric.get("value");
                    match (kind, value.and_then(number)) {
                        (Some(kind), Some(value)) => {
                            self.claim(&kind, value, source, dataset_name.clone(), split.clone(), None);
                            count += 1;
                        }
                        (_, _) => self.problem(format!(
                            "front matter `{source}`{at}: a metric needs a `type` and a numeric `value`, found {}",
                            value.map(shown_value).unwrap_or_else(|| "no value".into())
                        )),
                    }
                }
            }
        }
        count
    }

    fn claim(
        &mut self,
        kind: &str,
        value: f64,
        source: String,
        dataset: Option<String>,
        split: Option<String>,
        slice: Option<String>,
    ) {
        let metric = super::consistency::metric_name(kind);
        let claimed = super::consistency::as_fraction(&metric, value);
        let not_compared = slice
            .filter(|slice| !slice.trim().is_empty() && !slice.eq_ignore_ascii_case("overall"))
            .map(|slice| format!("claimed for the slice `{slice}`, not the whole test set"));
        self.document.claims.push(MetricClaim {
            metric,
            claimed,
            measured: None,
            difference: None,
            source,
            dataset,
            split,
            not_compared,
        });
    }

    // ------------------------------------------------------------ Model Card Toolkit

    /// The Model Card Toolkit's JSON (schema v0.0.2).
    fn model_card_toolkit(&mut self, object: &Map<String, Value>) {
        let get = |path: &[&str]| -> Option<&Value> {
            let mut value = object.get(path[0])?;
            for key in &path[1..] {
                value = value.get(*key)?;
            }
            Some(value)
        };
        let mapping: &[(&str, &[&str])] = &[
            ("model_description", &["model_details", "overview"]),
            ("intended_use", &["considerations", "use_cases"]),
            ("limitations", &["considerations", "limitations"]),
            ("ethical_considerations", &["considerations", "ethical_considerations"]),
            ("training_data", &["model_parameters", "data"]),
            ("evaluation", &["quantitative_analysis", "performance_metrics"]),
            ("license", &["model_details", "licenses"]),
            ("contact", &["model_details", "owners"]),
            ("out_of_scope_use", &["considerations", "out_of_scope_uses"]),
            ("training_procedure", &["model_parameters", "model_architecture"]),
        ];
        for (field, path) in mapping {
            let heading = path.join(".");
            let missing = get(path).map_or(Some(Missing::Absent), values::missing);
            if missing != Some(Missing::Absent) {
                self.candidate(field, missing, "key", &heading, None, None);
            }
        }
        if let Some(version) = get(&["model_details", "version", "name"]).and_then(scalar_text) {
            self.document.model_version = Some(version);
            self.document.model_version_source = Some("model_details.version.name".into());
        }
        if let Some(date) = get(&["model_details", "version", "date"]).and_then(scalar_text) {
            match parse_date(&date) {
                Some(parsed) => {
                    self.document.last_updated = Some(parsed.to_string());
                    self.document.last_updated_source = Some("model_details.version.date".into());
                }
                None => self.problem(format!("`model_details.version.date`: `{date}` is not a date; write YYYY-MM-DD")),
            }
        }
        if let Some(data) = get(&["model_parameters", "data"]).and_then(Value::as_array) {
            for (index, dataset) in data.iter().enumerate() {
                if let Some(name) = dataset.get("name").and_then(scalar_text) {
                    self.document.datasets.push(DatasetReference {
                        name,
                        source: format!("model_parameters.data[{index}]"),
                        in_lineage: None,
                    });
                }
            }
        }
        if let Some(metrics) = get(&["quantitative_analysis", "performance_metrics"]).and_then(Value::as_array) {
            for (index, metric) in metrics.iter().enumerate() {
                let source = format!("quantitative_analysis.performance_metrics[{index}]");
                let kind = metric.get("type").and_then(scalar_text);
                match (kind, metric.get("value").and_then(number)) {
                    (Some(kind), Some(value)) => {
                        let slice = metric.get("slice").and_then(scalar_text);
                        self.claim(&kind, value, source, None, None, slice);
                    }
                    _ => self.problem(format!("`{source}`: a metric needs a `type` and a numeric `value`")),
                }
            }
        }
    }

    // ------------------------------------------------------------ result

    fn finish(mut self) -> Document {
        for spec in specs(self.kind) {
            let mut candidates = self.candidates.remove(spec.name).unwrap_or_default();
            // A card's `datasets` list stands for its training-data prose only when it has
            // no such section: a section left as a placeholder is not filled in by metadata.
            if candidates.iter().any(|c| c.source.as_deref() == Some("section")) {
                candidates.retain(|c| {
                    !(c.source.as_deref() == Some("front_matter") && c.heading.as_deref() == Some("datasets"))
                });
            }
            // The filled-in one; among several, the closest match (a heading named as
            // the field, then a key, then a synonym); among the missing, the most telling
            // reason (a placeholder says more than a heading with nothing of its own).
            let rank = |field: &DocumentField| {
                let filled = if field.populated { 0 } else { 1 };
                let rule = match field.rule.as_deref() {
                    Some("exact") => 0,
                    Some("loose") => 1,
                    Some("numbering") => 2,
                    None => 3,
                    Some(_) => 4,
                };
                let reason = match field.reason.as_deref() {
                    None => 0,
                    Some("heading-only" | "empty" | "absent") => 2,
                    Some(_) => 1,
                };
                (filled, rule, reason)
            };
            let chosen = candidates
                .iter()
                .enumerate()
                .min_by_key(|(index, field)| (rank(field), *index))
                .map(|(_, field)| field)
                .cloned()
                .unwrap_or(DocumentField {
                    populated: false,
                    reason: Some(Missing::Absent.as_str().into()),
                    source: None,
                    heading: None,
                    line: None,
                    rule: None,
                    detail: None,
                });
            self.document.fields.insert(spec.name.to_string(), chosen);
        }
        self.document
    }
}

/// Front matter text and where it starts, for line numbers of its keys.
struct FrontMatter<'a> {
    text: &'a str,
    first_line: usize,
}

impl FrontMatter<'_> {
    fn line(&self, key: &str) -> Option<usize> {
        key_line(self.text, key).map(|line| self.first_line + line - 1)
    }
}

/// The text written after `key:` on its line (a top-level key), without quotes or comment.
fn raw_scalar(text: &str, key: &str) -> Option<String> {
    let line = text.lines().find(|line| line.starts_with(key) && line[key.len()..].trim_start().starts_with(':'))?;
    let value = line[key.len()..].trim_start().strip_prefix(':')?;
    let value = value.split(" #").next().unwrap_or(value).trim();
    (!value.is_empty()).then(|| value.trim_matches(['"', '\'']).to_string())
}

/// A metric value: a number, or text holding one (`"0.93"`, `"93%"`).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => {
            let text = text.trim();
            match text.strip_suffix('%') {
                Some(percent) => percent.trim().parse::<f64>().ok().map(|value| value / 100.0),
                None => text.parse::<f64>().ok(),
            }
        }
        _ => None,
    }
    .filter(|value| value.is_finite())
}

/// A value as a message shows it: text in backticks, anything else by type.
fn shown_value(value: &Value) -> String {
    match value {
        Value::String(text) => format!("`{text}`"),
        Value::Number(number) => format!("`{number}`"),
        other => describe(other),
    }
}
