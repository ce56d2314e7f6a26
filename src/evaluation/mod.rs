//! The `evaluation` section: performance and fairness metrics computed from the
//! predictions a model made on its held-out test set.
//!
//! The predictions file is streamed once ([`table`]); each batch feeds the task's
//! accumulators (overall and per group of every sensitive attribute or intersection),
//! and the metrics are built from those at the end. Nothing but the scores (for the
//! exact ROC AUC) is kept per row, so memory does not grow with the file otherwise.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::evidence::{Baseline, ConfusionMatrix, Evaluation, FairnessAttribute, GroupStats, MetricMap, Task, TestSet};

pub mod binary;
mod bootstrap;
pub mod fairness;
pub mod labels;
pub mod multiclass;
pub mod regression;

pub use bootstrap::BootstrapSpec;

use binary::{Counts, Scores};
use fairness::{Aggregates, Disparity, GroupValue};
use labels::{BinaryLabels, LabelError};
use multiclass::Confusion;
use regression::Errors;

use crate::table::{self, Batch, ColumnRequest, Table, Want, MISSING};

/// A metric value, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: Option<f64>,
    pub reason: Option<String>,
}

impl Metric {
    pub fn value(name: &str, value: f64) -> Metric {
        Metric { name: name.to_string(), value: Some(value), reason: None }
    }

    pub fn missing(name: &str, reason: &str) -> Metric {
        Metric { name: name.to_string(), value: None, reason: Some(reason.to_string()) }
    }

    pub fn named(mut self, name: &str) -> Metric {
        self.name = name.to_string();
        self
    }
}

/// Puts `metrics` into a metric map and its reasons map.
fn record(metrics: Vec<Metric>, values: &mut MetricMap, reasons: &mut BTreeMap<String, String>) {
    for metric in metrics {
        if let Some(reason) = metric.reason {
            reasons.insert(metric.name.clone(), reason);
        }
        values.insert(metric.name, metric.value);
    }
}

/// How the score column is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// Probability of the positive class, in [0, 1]: ROC AUC, PR AUC, log loss, Brier score.
    #[default]
    Probability,
    /// Any real-valued decision score (margins, logits): ROC AUC and PR AUC only.
    Decision,
}

/// The columns of a predictions file.
#[derive(Debug, Clone)]
pub struct Columns {
    pub label: String,
    pub prediction: String,
    pub score: Option<String>,
    pub weight: Option<String>,
}

/// The deployed model's predictions on the same test set.
#[derive(Debug, Clone)]
pub struct BaselineSpec {
    pub predictions: PathBuf,
    /// The deployed version, for the report.
    pub model_version: Option<String>,
}

/// What to compute, from modelgate.toml `[evaluation]` or the command line.
#[derive(Debug, Clone)]
pub struct Spec {
    pub predictions: PathBuf,
    /// How the path is shown in the evidence (relative to the project, usually).
    pub display_path: String,
    pub task: Task,
    pub columns: Columns,
    /// Sensitive attributes, each one column (`sex`) or a comma-joined intersection (`race,sex`).
    pub sensitive: Vec<String>,
    pub positive_label: Option<String>,
    pub scores: ScoreKind,
    /// Leave out rows with a missing cell instead of failing.
    pub drop_missing: bool,
    /// Also compute the aggregates against the overall value (fairlearn `to_overall`).
    pub to_overall: bool,
    pub bootstrap: Option<BootstrapSpec>,
    pub baseline: Option<BaselineSpec>,
    /// Show a progress bar on stderr when it is a terminal and the file takes over a second.
    pub progress: bool,
}

/// Computes the evaluation section (without serving figures) for `spec`.
pub fn evaluate(spec: &Spec) -> Result<Evaluation> {
    if spec.task == Task::Other {
        return Err(Error::new(
            ErrorKind::Config,
            "model.task is `other`, so modelgate cannot compute its metrics from predictions",
        )
        .hint("set model.task to binary_classification, multiclass_classification or regression, or hand in a metrics file with [evidence] evaluation"));
    }
    if spec.columns.score.is_some() && spec.task != Task::BinaryClassification {
        return Err(Error::new(ErrorKind::Config, "a score column is only used for binary classification")
            .hint("remove the score column setting, or set model.task = \"binary_classification\""));
    }
    let candidate = measure(spec, &spec.predictions, &spec.display_path)?;
    let mut evaluation = candidate.evaluation;
    if let Some(baseline) = &spec.baseline {
        let display = baseline.predictions.display().to_string();
        let reference = measure(spec, &baseline.predictions, &display)?;
        check_alignment(spec, baseline, &candidate.alignment, &reference.alignment)?;
        evaluation.baseline = Some(baseline_section(&evaluation, reference.evaluation, baseline));
    }
    Ok(evaluation)
}

fn baseline_section(candidate: &Evaluation, reference: Evaluation, spec: &BaselineSpec) -> Baseline {
    let deltas = candidate
        .metrics
        .iter()
        .filter_map(|(name, value)| {
            let reference = reference.metrics.get(name).copied().flatten()?;
            Some((name.clone(), value.map(|value| value - reference)))
        })
        .collect();
    Baseline {
        model_version: spec.model_version.clone(),
        // The rows were checked to be the candidate's: the same test set.
        test_set: candidate.test_set.clone(),
        predictions: reference.test_set,
        metrics: reference.metrics,
        reasons: reference.reasons,
        deltas,
        fairness: reference.fairness,
        serving: None,
    }
}

/// The same rows in the same order: same count, and the same labels and sensitive
/// values chunk by chunk.
fn check_alignment(spec: &Spec, baseline: &BaselineSpec, candidate: &Alignment, reference: &Alignment) -> Result<()> {
    let mismatch = |detail: String| {
        Error::new(
            ErrorKind::DataInvalid,
            format!(
                "{}: the baseline predictions are not on the same test set as {}: {detail}",
                baseline.predictions.display(),
                spec.display_path
            ),
        )
        .hint("score the deployed model on exactly the candidate's test set, rows in the same order, and hand in that file as the baseline")
    };
    if candidate.rows != reference.rows {
        return Err(mismatch(format!("{} rows against {}", reference.rows, candidate.rows)));
    }
    if let Some(chunk) = candidate.chunks.iter().zip(&reference.chunks).position(|(a, b)| a != b) {
        let first = chunk as u64 * ALIGNMENT_CHUNK + 1;
        let last = ((chunk as u64 + 1) * ALIGNMENT_CHUNK).min(candidate.rows);
        return Err(mismatch(format!(
            "the labels or sensitive attributes differ in data rows {first}–{last} (different rows or a different order)"
        )));
    }
    Ok(())
}

const ALIGNMENT_CHUNK: u64 = 65_536;

/// Digests of the label and sensitive columns, per chunk of rows, to check that a
/// baseline file holds the same rows in the same order.
#[derive(Debug, Default)]
struct Alignment {
    rows: u64,
    chunks: Vec<u64>,
    current: u64,
    /// Hash of each dictionary value, per requested column.
    value_hashes: Vec<Vec<u64>>,
}

impl Alignment {
    fn add_batch(&mut self, table: &Table, batch: &Batch, columns: &[usize]) {
        if self.value_hashes.len() < batch.columns.len() {
            self.value_hashes.resize(batch.columns.len(), Vec::new());
        }
        for &column in columns {
            let dictionary = table.dictionary(column);
            let hashes = &mut self.value_hashes[column];
            for value in &dictionary.values()[hashes.len()..] {
                let mut hasher = DefaultHasher::new();
                labels::canonical(value).hash(&mut hasher);
                hashes.push(hasher.finish());
            }
        }
        for row in 0..batch.rows {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for &column in columns {
                let cell = match &batch.columns[column] {
                    table::Values::Codes(codes) => match codes[row] {
                        MISSING => 0x9e37_79b9_7f4a_7c15,
                        code => self.value_hashes[column][code as usize],
                    },
                    table::Values::Numbers(numbers) => numbers[row].to_bits(),
                };
                hash = (hash ^ cell).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
            }
            self.current = self.current.rotate_left(7) ^ hash;
            self.rows += 1;
            if self.rows % ALIGNMENT_CHUNK == 0 {
                self.chunks.push(std::mem::take(&mut self.current));
            }
        }
    }

    fn finish(&mut self) {
        if self.rows % ALIGNMENT_CHUNK != 0 {
            self.chunks.push(std::mem::take(&mut self.current));
        }
    }
}

struct Measured {
    evaluation: Evaluation,
    alignment: Alignment,
}

/// The columns requested from the table, by role.
struct Layout {
    requests: Vec<ColumnRequest>,
    label: usize,
    prediction: usize,
    score: Option<usize>,
    weight: Option<usize>,
    /// Per sensitive spec: its attribute names and their request indices.
    sensitive: Vec<(String, Vec<String>, Vec<usize>)>,
}

fn layout(spec: &Spec) -> Result<Layout> {
    let value_want = if spec.task == Task::Regression { Want::Number } else { Want::Category };
    let mut requests = vec![
        ColumnRequest { name: spec.columns.label.clone(), want: value_want, role: "label".into() },
        ColumnRequest { name: spec.columns.prediction.clone(), want: value_want, role: "prediction".into() },
    ];
    let push = |requests: &mut Vec<ColumnRequest>, name: &str, want: Want, role: &str| {
        requests.push(ColumnRequest { name: name.to_string(), want, role: role.to_string() });
        requests.len() - 1
    };
    let score = spec.columns.score.as_deref().map(|name| push(&mut requests, name, Want::Number, "score"));
    let weight = spec.columns.weight.as_deref().map(|name| push(&mut requests, name, Want::Number, "sample weight"));
    let mut sensitive = Vec::new();
    for key in &spec.sensitive {
        let attributes: Vec<String> = key.split(',').map(|name| name.trim().to_string()).collect();
        if attributes.iter().any(String::is_empty) {
            return Err(Error::new(ErrorKind::Config, format!("sensitive attribute `{key}` has an empty column name"))
                .hint("name one column (`sex`) or several joined by commas (`race,sex`)"));
        }
        if attributes.len() > 4 {
            return Err(Error::new(
                ErrorKind::Config,
                format!("sensitive intersection `{key}` has {} columns; at most 4 are supported", attributes.len()),
            )
            .hint("intersect at most four attributes; beyond that the groups are too small to measure"));
        }
        let mut indices = Vec::new();
        for attribute in &attributes {
            let existing = requests.iter().position(|r| r.name == *attribute && r.role == "sensitive attribute");
            let index =
                existing.unwrap_or_else(|| push(&mut requests, attribute, Want::Category, "sensitive attribute"));
            indices.push(index);
        }
        let canonical_key = attributes.join(",");
        sensitive.push((canonical_key, attributes, indices));
    }
    Ok(Layout { requests, label: 0, prediction: 1, score, weight, sensitive })
}

/// Group ids of one sensitive spec.
#[derive(Debug, Default)]
struct Grouping {
    /// Group keys (dictionary codes, one per attribute) by id.
    keys: Vec<Vec<u32>>,
    index: FxHashMap<u64, u32>,
    /// Group id by dictionary code, for a single attribute.
    by_code: Vec<u32>,
}

impl Grouping {
    /// The group id of every row of `batch` (`u32::MAX` when a code is missing).
    fn assign(&mut self, batch: &Batch, columns: &[usize], ids: &mut Vec<u32>) -> Result<()> {
        ids.clear();
        if let [column] = columns {
            self.assign_single(batch.columns[*column].codes(), ids);
            return Ok(());
        }
        for row in 0..batch.rows {
            let mut key: u64 = 0;
            let mut missing = false;
            for (position, &column) in columns.iter().enumerate() {
                let code = batch.columns[column].codes()[row];
                if code == MISSING {
                    missing = true;
                    break;
                }
                if code >= 0xffff {
                    return Err(Error::new(
                        ErrorKind::DataInvalid,
                        "a sensitive attribute has more than 65,534 distinct values",
                    )
                    .hint("a sensitive attribute is a category (sex, race, age band); check that the right column is named"));
                }
                key |= u64::from(code) << (16 * position);
            }
            if missing {
                ids.push(u32::MAX);
                continue;
            }
            let next = self.keys.len() as u32;
            let id = *self.index.entry(key).or_insert(next);
            if id == next {
                self.keys.push(columns.iter().enumerate().map(|(p, _)| ((key >> (16 * p)) & 0xffff) as u32).collect());
            }
            ids.push(id);
        }
        Ok(())
    }
}

impl Grouping {
    /// A single attribute: the group id of a code, from a table.
    fn assign_single(&mut self, codes: &[u32], ids: &mut Vec<u32>) {
        for &code in codes {
            if code == MISSING {
                ids.push(u32::MAX);
                continue;
            }
            let slot = code as usize;
            if self.by_code.len() <= slot {
                self.by_code.resize(slot + 1, u32::MAX);
            }
            if self.by_code[slot] == u32::MAX {
                self.by_code[slot] = self.keys.len() as u32;
                self.keys.push(vec![code]);
            }
            ids.push(self.by_code[slot]);
        }
    }
}

/// The task's accumulators: overall and one per group of each sensitive spec.
enum Accumulators {
    Binary {
        labels: BinaryLabels,
        overall: Counts,
        groups: Vec<Vec<Counts>>,
        scores: Option<Scores>,
    },
    Multiclass {
        classes: Vec<String>,
        class_of: HashMap<String, usize>,
        overall: Confusion,
        groups: Vec<Vec<Confusion>>,
    },
    Regression {
        overall: Errors,
        groups: Vec<Vec<Errors>>,
    },
}

/// Per label/prediction column: the class of each dictionary code, filled as codes appear.
#[derive(Default)]
struct ClassCache {
    label: Vec<usize>,
    prediction: Vec<usize>,
}

fn measure(spec: &Spec, path: &Path, display_path: &str) -> Result<Measured> {
    let layout = layout(spec)?;
    let digest = spawn_digest(path);
    let mut table = Table::open(path, &layout.requests)?;
    let mut accumulators = match spec.task {
        Task::BinaryClassification => Accumulators::Binary {
            labels: BinaryLabels::new(spec.positive_label.as_deref()),
            overall: Counts::default(),
            groups: vec![Vec::new(); layout.sensitive.len()],
            scores: layout.score.map(|_| Scores::default()),
        },
        Task::MulticlassClassification => Accumulators::Multiclass {
            classes: Vec::new(),
            class_of: HashMap::new(),
            overall: Confusion::default(),
            groups: vec![Vec::new(); layout.sensitive.len()],
        },
        _ => Accumulators::Regression { overall: Errors::default(), groups: vec![Vec::new(); layout.sensitive.len()] },
    };
    let mut bootstrap = spec
        .bootstrap
        .as_ref()
        .filter(|_| spec.task == Task::BinaryClassification)
        .map(|b| bootstrap::Bootstrap::new(b, layout.sensitive.len()));
    let mut groupings: Vec<Grouping> = layout.sensitive.iter().map(|_| Grouping::default()).collect();
    let mut group_ids: Vec<Vec<u32>> = vec![Vec::new(); layout.sensitive.len()];
    let mut alignment = Alignment::default();
    let alignment_columns: Vec<usize> = std::iter::once(layout.label)
        .chain(layout.sensitive.iter().flat_map(|(_, _, columns)| columns.iter().copied()))
        .collect();
    let mut cache = ClassCache::default();
    let mut progress = Progress::new(spec.progress, table.total_rows());
    let mut batch = table.new_batch();
    let mut kept: u64 = 0;
    let mut dropped: u64 = 0;
    let mut row_ids: Vec<u32> = Vec::new();
    while table.next_batch(&mut batch)? {
        for (grouping, ((_, _, columns), ids)) in groupings.iter_mut().zip(layout.sensitive.iter().zip(&mut group_ids))
        {
            grouping.assign(&batch, columns, ids)?;
        }
        if spec.baseline.is_some() {
            alignment.add_batch(&table, &batch, &alignment_columns);
        }
        let weights = layout.weight.map(|w| batch.columns[w].numbers());
        let scores_column = layout.score.map(|s| batch.columns[s].numbers());
        update_class_cache(&mut accumulators, &mut cache, &table, &layout, &batch)?;
        for row in 0..batch.rows {
            let weight = weights.map_or(1.0, |w| w[row]);
            let score = scores_column.map(|s| s[row]);
            let ids_missing = group_ids.iter().any(|ids| ids[row] == u32::MAX);
            let missing = ids_missing || weight.is_nan() || score.is_some_and(f64::is_nan) || {
                match &batch.columns[layout.label] {
                    table::Values::Codes(codes) => {
                        codes[row] == MISSING || batch.columns[layout.prediction].codes()[row] == MISSING
                    }
                    table::Values::Numbers(numbers) => {
                        numbers[row].is_nan() || batch.columns[layout.prediction].numbers()[row].is_nan()
                    }
                }
            };
            if missing {
                dropped += 1;
                continue;
            }
            let data_row = batch.first_row + row as u64;
            check_weight(path, spec, weight, data_row)?;
            if let Some(score) = score {
                check_score(path, spec, score, data_row)?;
            }
            kept += 1;
            row_ids.clear();
            row_ids.extend(group_ids.iter().map(|ids| ids[row]));
            match &mut accumulators {
                Accumulators::Binary { overall, groups, scores, .. } => {
                    let truth = cache.label[batch.columns[layout.label].codes()[row] as usize] == 1;
                    let predicted = cache.prediction[batch.columns[layout.prediction].codes()[row] as usize] == 1;
                    overall.add(truth, predicted, weight);
                    for (spec_groups, &id) in groups.iter_mut().zip(&row_ids) {
                        grow(spec_groups, id).add(truth, predicted, weight);
                    }
                    if let (Some(scores), Some(score)) = (scores, score) {
                        scores.add(truth, score, weight);
                    }
                    if let Some(bootstrap) = &mut bootstrap {
                        bootstrap.add(truth, predicted, weight, &row_ids);
                    }
                }
                Accumulators::Multiclass { overall, groups, .. } => {
                    let truth = cache.label[batch.columns[layout.label].codes()[row] as usize];
                    let predicted = cache.prediction[batch.columns[layout.prediction].codes()[row] as usize];
                    overall.add(truth, predicted, weight);
                    for (spec_groups, &id) in groups.iter_mut().zip(&row_ids) {
                        grow(spec_groups, id).add(truth, predicted, weight);
                    }
                }
                Accumulators::Regression { overall, groups } => {
                    let truth = batch.columns[layout.label].numbers()[row];
                    let predicted = batch.columns[layout.prediction].numbers()[row];
                    check_finite(path, &layout, truth, predicted, data_row)?;
                    overall.add(truth, predicted, weight);
                    for (spec_groups, &id) in groups.iter_mut().zip(&row_ids) {
                        grow(spec_groups, id).add(truth, predicted, weight);
                    }
                }
            }
        }
        progress.update(table.rows_read());
    }
    progress.finish();
    alignment.finish();
    if dropped > 0 && !spec.drop_missing {
        return Err(missing_cells(path, &layout, &table));
    }
    if kept == 0 {
        let why = if table.rows_read() == 0 { "the file has no data rows" } else { "every row has a missing cell" };
        return Err(Error::new(ErrorKind::DataInvalid, format!("{}: no rows to evaluate: {why}", path.display()))
            .hint("hand in the model's predictions on the whole held-out test set"));
    }
    let digest = digest.join().map_err(|_| Error::new(ErrorKind::Io, "the digest thread failed"))??;
    let mut evaluation = Evaluation {
        test_set: Some(TestSet {
            path: display_path.to_string(),
            digest,
            rows: kept,
            format: Some(table.format.as_str().to_string()),
            dropped_rows: (dropped > 0).then_some(dropped),
            rows_read: Some(table.rows_read()),
            non_finite: layout
                .requests
                .iter()
                .zip(&table.non_finite)
                .filter(|(_, &count)| count > 0)
                .map(|(request, &count)| (request.name.clone(), count))
                .collect(),
        }),
        ..Evaluation::default()
    };
    let weighted = layout.weight.is_some();
    let names: Vec<Vec<String>> = groupings
        .iter()
        .zip(&layout.sensitive)
        .map(|(grouping, (_, _, columns))| group_names(grouping, columns, &table))
        .collect();
    match accumulators {
        Accumulators::Binary { labels, overall, groups, scores } => {
            check_positive_label(path, spec, &labels)?;
            let (negative, positive) = labels.names();
            let mut metrics = overall.metrics();
            if let Some(scores) = scores {
                metrics.extend(scores.metrics(spec.scores == ScoreKind::Probability));
            }
            let overall_metrics = metrics.clone();
            record(metrics, &mut evaluation.metrics, &mut evaluation.reasons);
            evaluation.confusion_matrix = Some(ConfusionMatrix {
                labels: vec![negative, positive],
                matrix: vec![vec![overall.tn, overall.fp], vec![overall.fn_, overall.tp]],
            });
            let mut fairness = BTreeMap::new();
            for (((key, attributes, columns), groups), names) in layout.sensitive.iter().zip(&groups).zip(&names) {
                let entry = binary_fairness(attributes, groups, names, &overall_metrics, spec.to_overall, weighted);
                let entry = with_empty_intersections(entry, columns, names, &table, key);
                fairness.insert(key.clone(), entry);
            }
            if let Some(bootstrap) = bootstrap {
                let keys: Vec<String> = layout.sensitive.iter().map(|(key, ..)| key.clone()).collect();
                evaluation.intervals = Some(bootstrap.intervals(&keys));
            }
            evaluation.fairness = (!fairness.is_empty()).then_some(fairness);
        }
        Accumulators::Multiclass { classes, overall, groups, .. } => {
            let mut sorted = classes.clone();
            labels::sort_classes(&mut sorted);
            let order: Vec<usize> = sorted.iter().filter_map(|class| classes.iter().position(|c| c == class)).collect();
            let overall_metrics = overall.metrics(&order);
            record(overall_metrics.clone(), &mut evaluation.metrics, &mut evaluation.reasons);
            evaluation.confusion_matrix =
                Some(ConfusionMatrix { labels: sorted.clone(), matrix: overall.matrix(&order) });
            evaluation.classes = Some(class_table(&overall, &order, &sorted));
            let mut fairness = BTreeMap::new();
            for (((key, attributes, columns), groups), names) in layout.sensitive.iter().zip(&groups).zip(&names) {
                let stats = |confusion: &Confusion| {
                    let metrics = confusion.metrics(&order);
                    metrics.into_iter().filter(|m| m.name == "accuracy" || m.name == "f1_macro").collect::<Vec<_>>()
                };
                let entry = generic_fairness(
                    attributes,
                    groups.iter().map(|c| (c.rows, c.weight(), stats(c))).collect(),
                    names,
                    &overall_metrics,
                    &["accuracy", "f1_macro"],
                    spec.to_overall,
                    weighted,
                );
                let entry = with_empty_intersections(entry, columns, names, &table, key);
                fairness.insert(key.clone(), entry);
            }
            evaluation.fairness = (!fairness.is_empty()).then_some(fairness);
        }
        Accumulators::Regression { overall, groups } => {
            let overall_metrics = overall.metrics(true);
            record(overall_metrics.clone(), &mut evaluation.metrics, &mut evaluation.reasons);
            let mut fairness = BTreeMap::new();
            for (((key, attributes, columns), groups), names) in layout.sensitive.iter().zip(&groups).zip(&names) {
                let entry = generic_fairness(
                    attributes,
                    groups.iter().map(|e| (e.rows, e.weight(), e.metrics(false))).collect(),
                    names,
                    &overall_metrics,
                    &["mae", "rmse", "mean_error"],
                    spec.to_overall,
                    weighted,
                );
                let entry = with_empty_intersections(entry, columns, names, &table, key);
                fairness.insert(key.clone(), entry);
            }
            evaluation.fairness = (!fairness.is_empty()).then_some(fairness);
        }
    }
    Ok(Measured { evaluation, alignment })
}

fn grow<T: Default>(items: &mut Vec<T>, id: u32) -> &mut T {
    let index = id as usize;
    if items.len() <= index {
        items.resize_with(index + 1, T::default);
    }
    &mut items[index]
}

/// Classifies the label and prediction dictionary codes that appeared in this batch.
fn update_class_cache(
    accumulators: &mut Accumulators,
    cache: &mut ClassCache,
    table: &Table,
    layout: &Layout,
    batch: &Batch,
) -> Result<()> {
    for (column, classes) in [(layout.label, &mut cache.label), (layout.prediction, &mut cache.prediction)] {
        let dictionary = table.dictionary(column);
        let role = &layout.requests[column];
        for value in &dictionary.values()[classes.len()..] {
            let class = match accumulators {
                Accumulators::Binary { labels, .. } => match labels.classify(value) {
                    Ok(positive) => usize::from(positive),
                    Err(error) => return Err(label_error(table.path(), role, value, error, batch)),
                },
                Accumulators::Multiclass { classes: names, class_of, .. } => {
                    let canonical = labels::canonical(value);
                    let next = names.len();
                    let class = *class_of.entry(canonical.clone()).or_insert(next);
                    if class == next {
                        names.push(canonical);
                    }
                    class
                }
                Accumulators::Regression { .. } => 0,
            };
            classes.push(class);
        }
    }
    Ok(())
}

fn label_error(path: &Path, column: &ColumnRequest, value: &str, error: LabelError, batch: &Batch) -> Error {
    let rows = format!("data rows {}–{}", batch.first_row + 1, batch.first_row + batch.rows as u64);
    match error {
        LabelError::TooMany(labels) => Error::new(
            ErrorKind::DataInvalid,
            format!(
                "{}: the {} column `{}` has a third label `{value}` (in {rows}); a binary model has two, and the labels seen are {}",
                path.display(),
                column.role,
                column.name,
                labels.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
            ),
        )
        .hint("fix the labels, or set model.task = \"multiclass_classification\" if the model has more than two classes"),
        LabelError::Ambiguous(label) => Error::new(
            ErrorKind::DataInvalid,
            format!(
                "{}: the {} column `{}` holds `{label}`, so the positive class cannot be inferred (only {{0,1}}, {{-1,1}} and {{false,true}} are)",
                path.display(),
                column.role,
                column.name
            ),
        )
        .hint("name the positive class: --pos-label VALUE, or positive_label in modelgate.toml [evaluation]"),
    }
}

fn check_positive_label(path: &Path, spec: &Spec, labels: &BinaryLabels) -> Result<()> {
    let Some(positive) = &spec.positive_label else { return Ok(()) };
    if !labels.positive_seen() && labels.seen_count() >= 2 {
        return Err(Error::new(
            ErrorKind::DataInvalid,
            format!("{}: no label or prediction is the positive label `{positive}`", path.display()),
        )
        .hint("check the spelling of the positive label against the label column"));
    }
    Ok(())
}

fn check_weight(path: &Path, spec: &Spec, weight: f64, row: u64) -> Result<()> {
    if weight.is_finite() && weight >= 0.0 {
        return Ok(());
    }
    let name = spec.columns.weight.as_deref().unwrap_or("weight");
    Err(Error::new(
        ErrorKind::DataInvalid,
        format!(
            "{}: data row {}: sample weight `{name}` is {weight}; weights must be finite and not negative",
            path.display(),
            row + 1
        ),
    )
    .hint("fix the weight column, or drop the --weight setting"))
}

fn check_score(path: &Path, spec: &Spec, score: f64, row: u64) -> Result<()> {
    let name = spec.columns.score.as_deref().unwrap_or("score");
    if !score.is_finite() {
        return Err(Error::new(
            ErrorKind::DataInvalid,
            format!("{}: data row {}: score `{name}` is {score}, not a finite number", path.display(), row + 1),
        )
        .hint("scores must be finite numbers"));
    }
    if spec.scores == ScoreKind::Probability && !(0.0..=1.0).contains(&score) {
        return Err(Error::new(
            ErrorKind::DataInvalid,
            format!(
                "{}: data row {}: score `{name}` is {score}, outside [0, 1], but scores are declared as probabilities",
                path.display(),
                row + 1
            ),
        )
        .hint("hand in the probability of the positive class, or declare the scores as decision scores (--scores decision, scores = \"decision\")"));
    }
    Ok(())
}

fn check_finite(path: &Path, layout: &Layout, truth: f64, predicted: f64, row: u64) -> Result<()> {
    for (value, request) in [(truth, &layout.requests[layout.label]), (predicted, &layout.requests[layout.prediction])]
    {
        if !value.is_finite() {
            return Err(Error::new(
                ErrorKind::DataInvalid,
                format!("{}: data row {}: the {} `{}` is {value}", path.display(), row + 1, request.role, request.name),
            )
            .hint("regression labels and predictions must be finite numbers"));
        }
    }
    Ok(())
}

fn missing_cells(path: &Path, layout: &Layout, table: &Table) -> Error {
    let counts: Vec<String> = layout
        .requests
        .iter()
        .zip(table.missing.iter().zip(&table.non_finite))
        .filter(|(_, (&missing, &non_finite))| missing + non_finite > 0)
        .map(|(request, (missing, non_finite))| match non_finite {
            0 => format!("{} `{}`: {missing}", request.role, request.name),
            _ => format!("{} `{}`: {missing} missing, {non_finite} NaN", request.role, request.name),
        })
        .collect();
    Error::new(
        ErrorKind::DataInvalid,
        format!(
            "{}: cells are missing (empty, NA, NaN, null, …): {}",
            path.display(),
            counts.join(", ")
        ),
    )
    .hint("fill them in, or leave those rows out with --drop-missing (drop_missing = true in [evaluation]); the number dropped is reported in test_set.dropped_rows")
}

/// Group names: the attribute values, joined with `,` for an intersection.
fn group_names(grouping: &Grouping, columns: &[usize], table: &Table) -> Vec<String> {
    grouping
        .keys
        .iter()
        .map(|key| {
            key.iter()
                .zip(columns)
                .map(|(&code, &column)| table.dictionary(column).value(code))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// Adds every empty combination of an intersection's values as a group with count 0.
fn with_empty_intersections(
    mut entry: FairnessAttribute,
    columns: &[usize],
    names: &[String],
    table: &Table,
    key: &str,
) -> FairnessAttribute {
    if columns.len() < 2 {
        return entry;
    }
    // The values each attribute takes among the groups that have rows.
    let mut values: Vec<Vec<&str>> = vec![Vec::new(); columns.len()];
    for name in names {
        for (position, part) in split_group(name, columns, table).into_iter().enumerate() {
            if !values[position].contains(&part) {
                values[position].push(part);
            }
        }
    }
    let combinations: usize = values.iter().map(Vec::len).product();
    if combinations > 10_000 {
        entry
            .reasons
            .insert("empty_groups".into(), format!("{key} has {combinations} combinations; empty ones are not listed"));
        return entry;
    }
    let mut combination = vec![0usize; columns.len()];
    loop {
        let name = combination.iter().enumerate().map(|(p, &i)| values[p][i]).collect::<Vec<_>>().join(",");
        entry.groups.entry(name).or_insert_with(|| GroupStats {
            count: 0,
            reasons: BTreeMap::from([(
                "count".to_string(),
                "empty intersection: no test rows have these values; left out of the aggregates".to_string(),
            )]),
            ..GroupStats::default()
        });
        // Next combination, like an odometer.
        let mut position = columns.len();
        loop {
            if position == 0 {
                return entry;
            }
            position -= 1;
            combination[position] += 1;
            if combination[position] < values[position].len() {
                break;
            }
            combination[position] = 0;
        }
    }
}

/// The attribute values of a group name. Values are looked up in the dictionaries so a
/// value that itself contains a comma is not split.
fn split_group<'a>(name: &str, columns: &[usize], table: &'a Table) -> Vec<&'a str> {
    let mut rest = name;
    let mut parts = Vec::with_capacity(columns.len());
    for (position, &column) in columns.iter().enumerate() {
        let last = position + 1 == columns.len();
        let value = table
            .dictionary(column)
            .values()
            .iter()
            .filter(|value| if last { rest == value.as_str() } else { rest.starts_with(&format!("{value},")) })
            .max_by_key(|value| value.len())
            .map(String::as_str)
            .unwrap_or("");
        rest = rest.get(value.len() + 1..).unwrap_or("");
        parts.push(value);
    }
    parts
}

fn binary_fairness(
    attributes: &[String],
    groups: &[Counts],
    names: &[String],
    overall: &[Metric],
    to_overall: bool,
    weighted: bool,
) -> FairnessAttribute {
    let mut entry = FairnessAttribute { attributes: attributes.to_vec(), ..FairnessAttribute::default() };
    let mut rates: Vec<(&str, Vec<Metric>)> = Vec::new();
    for (name, counts) in names.iter().zip(groups) {
        let metrics = counts.metrics();
        let mut stats = GroupStats {
            count: counts.rows,
            weight: weighted.then(|| counts.weight()),
            positives: Some(counts.positives),
            negatives: Some(counts.negatives()),
            ..GroupStats::default()
        };
        record(metrics.clone(), &mut stats.metrics, &mut stats.reasons);
        entry.groups.insert(name.clone(), stats);
        rates.push((name, metrics));
    }
    let values = |metric: &str| -> Vec<GroupValue> {
        rates
            .iter()
            .map(|(group, metrics)| GroupValue {
                group,
                value: metrics.iter().find(|m| m.name == metric).and_then(|m| m.value),
            })
            .collect()
    };
    let overall_value = |metric: &str| overall.iter().find(|m| m.name == metric).and_then(|m| m.value);
    let (selection, tpr, fpr) = (values("selection_rate"), values("tpr"), values("fpr"));
    let mut aggregates = Aggregates { entry: &mut entry, to_overall: None };
    for overall_method in [false, true] {
        if overall_method && !to_overall {
            continue;
        }
        // `metric` is the key in the overall metrics; `label` names it in reasons.
        let diff = |metric: &str, label: &str, groups: &[GroupValue]| {
            if overall_method {
                fairness::difference_to_overall(label, groups, overall_value(metric))
            } else {
                fairness::difference(label, groups)
            }
        };
        let ratio = |metric: &str, label: &str, groups: &[GroupValue]| {
            if overall_method {
                fairness::ratio_to_overall(label, groups, overall_value(metric))
            } else {
                fairness::ratio(label, groups)
            }
        };
        let dp_difference = diff("selection_rate", "selection rate", &selection);
        let dp_ratio = ratio("selection_rate", "selection rate", &selection);
        let tpr_difference = diff("tpr", "true-positive rate", &tpr);
        let fpr_difference = diff("fpr", "false-positive rate", &fpr);
        let tpr_ratio = ratio("tpr", "true-positive rate", &tpr);
        let fpr_ratio = ratio("fpr", "false-positive rate", &fpr);
        let results: [(&str, Disparity); 8] = [
            ("demographic_parity_difference", dp_difference),
            ("demographic_parity_ratio", dp_ratio.clone()),
            ("equalized_odds_difference", fairness::equalized_odds(&tpr_difference, &fpr_difference, true, false)),
            ("equalized_odds_difference_mean", fairness::equalized_odds(&tpr_difference, &fpr_difference, true, true)),
            ("equalized_odds_ratio", fairness::equalized_odds(&tpr_ratio, &fpr_ratio, false, false)),
            ("equalized_odds_ratio_mean", fairness::equalized_odds(&tpr_ratio, &fpr_ratio, false, true)),
            ("equal_opportunity_difference", tpr_difference.clone()),
            ("equal_opportunity_ratio", tpr_ratio.clone()),
        ];
        for (name, disparity) in &results {
            aggregates.record(name, disparity, overall_method);
        }
        if !overall_method {
            aggregates.record("four_fifths_ratio", &dp_ratio, false);
        }
    }
    let to_overall_map = aggregates.to_overall.take();
    entry.to_overall = to_overall_map;
    entry.four_fifths_passed = entry.four_fifths_ratio.map(|ratio| ratio >= 0.8);
    entry
}

/// Fairness for multiclass and regression: per group the task's metrics, and the
/// between-group difference and ratio of each metric in `aggregated`.
fn generic_fairness(
    attributes: &[String],
    groups: Vec<(u64, f64, Vec<Metric>)>,
    names: &[String],
    overall: &[Metric],
    aggregated: &[&str],
    to_overall: bool,
    weighted: bool,
) -> FairnessAttribute {
    let mut entry = FairnessAttribute { attributes: attributes.to_vec(), ..FairnessAttribute::default() };
    for (name, (rows, weight, metrics)) in names.iter().zip(&groups) {
        let mut stats = GroupStats { count: *rows, weight: weighted.then_some(*weight), ..GroupStats::default() };
        record(metrics.clone(), &mut stats.metrics, &mut stats.reasons);
        entry.groups.insert(name.clone(), stats);
    }
    let mut aggregates = Aggregates { entry: &mut entry, to_overall: None };
    for &metric in aggregated {
        let values: Vec<GroupValue> = names
            .iter()
            .zip(&groups)
            .map(|(group, (_, _, metrics))| GroupValue {
                group,
                value: metrics.iter().find(|m| m.name == metric).and_then(|m| m.value),
            })
            .collect();
        let overall_value = overall.iter().find(|m| m.name == metric).and_then(|m| m.value);
        aggregates.record(&format!("{metric}_difference"), &fairness::difference(metric, &values), false);
        aggregates.record(&format!("{metric}_ratio"), &fairness::ratio(metric, &values), false);
        if to_overall {
            let d = fairness::difference_to_overall(metric, &values, overall_value);
            let r = fairness::ratio_to_overall(metric, &values, overall_value);
            aggregates.record(&format!("{metric}_difference"), &d, true);
            aggregates.record(&format!("{metric}_ratio"), &r, true);
        }
    }
    let to_overall_map = aggregates.to_overall.take();
    entry.to_overall = to_overall_map;
    entry
}

fn class_table(confusion: &Confusion, order: &[usize], names: &[String]) -> BTreeMap<String, MetricMap> {
    order
        .iter()
        .zip(names)
        .map(|(&class, name)| {
            let scores = confusion.class_scores(class);
            let defined = |value: f64, ok: bool| ok.then_some(value);
            let metrics = MetricMap::from([
                ("precision".to_string(), defined(scores.precision, scores.predicted > 0.0)),
                ("recall".to_string(), defined(scores.recall, scores.support > 0.0)),
                ("f1".to_string(), defined(scores.f1, scores.predicted + scores.support > 0.0)),
                ("support".to_string(), Some(scores.support)),
            ]);
            (name.clone(), metrics)
        })
        .collect()
}

/// SHA-256 of the whole file, computed on another thread while the table is parsed.
fn spawn_digest(path: &Path) -> std::thread::JoinHandle<Result<String>> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        use sha2::{Digest, Sha256};
        let mut file = crate::input::open(&path)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(|source| Error::read(&path, source))?;
        Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
    })
}

/// A progress bar on stderr, shown only on a terminal and only once a second has passed.
struct Progress {
    enabled: bool,
    started: Instant,
    total: Option<u64>,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(enabled: bool, total: Option<u64>) -> Progress {
        Progress { enabled: enabled && std::io::stderr().is_terminal(), started: Instant::now(), total, bar: None }
    }

    fn update(&mut self, rows: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() > Duration::from_secs(1) {
            let bar = match self.total {
                Some(total) => indicatif::ProgressBar::new(total).with_style(
                    indicatif::ProgressStyle::with_template("{spinner} {human_pos}/{human_len} rows {wide_bar} {eta}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                ),
                None => indicatif::ProgressBar::new_spinner().with_style(
                    indicatif::ProgressStyle::with_template("{spinner} {human_pos} rows ({per_sec})")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
                ),
            };
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(rows);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
