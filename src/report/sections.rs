//! Text renderings of the evidence sections and tool results that single commands print
//! (`fairness`, `drift`, `data validate|scan|lineage`, `deps`, `scan`, `verify`,
//! `loadtest`): each
//! writes to an `io::Write` and computes nothing.

/// The evaluation section (`modelgate fairness`): per-group tables.
pub mod fairness {
    use std::fmt::Write as _;

    use crate::evidence::{Evaluation, FairnessAttribute, MetricMap};

    pub fn write(evaluation: &Evaluation, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(evaluation).as_bytes())
    }

    /// The evaluation as tables a person reads in a terminal or a CI log.
    fn render(evaluation: &Evaluation) -> String {
        let mut out = String::new();
        if let Some(test_set) = &evaluation.test_set {
            let format = test_set.format.as_deref().unwrap_or("table");
            let dropped =
                test_set.dropped_rows.map(|n| format!(", {n} rows with missing cells left out")).unwrap_or_default();
            let _ = writeln!(out, "Test set {} ({} rows, {format}{dropped})", test_set.path, test_set.rows);
            let _ = writeln!(out, "  {}", test_set.digest);
        }
        let _ = writeln!(out, "\nOverall");
        metric_lines(&mut out, &evaluation.metrics, &evaluation.reasons, "  ");
        if let Some(matrix) = &evaluation.confusion_matrix {
            let _ = writeln!(out, "\nConfusion matrix (rows: true label, columns: predicted)");
            let width = matrix.labels.iter().map(String::len).max().unwrap_or(0).max(8);
            let _ = write!(out, "  {:width$}", "");
            for label in &matrix.labels {
                let _ = write!(out, " {label:>width$}");
            }
            out.push('\n');
            for (label, row) in matrix.labels.iter().zip(&matrix.matrix) {
                let _ = write!(out, "  {label:width$}");
                for cell in row {
                    let _ = write!(out, " {:>width$}", number(Some(*cell)));
                }
                out.push('\n');
            }
        }
        if let Some(classes) = &evaluation.classes {
            let _ = writeln!(out, "\nPer class");
            let rows: Vec<(String, &MetricMap)> =
                classes.iter().map(|(name, metrics)| (name.clone(), metrics)).collect();
            table(&mut out, "class", &rows, &["precision", "recall", "f1", "support"]);
        }
        for (key, entry) in evaluation.fairness.iter().flatten() {
            fairness_section(&mut out, key, entry);
        }
        if let Some(intervals) = &evaluation.intervals {
            let _ = writeln!(
                out,
                "\nBootstrap {:.0}% intervals ({} replicates, seed {})",
                intervals.level * 100.0,
                intervals.replicates,
                intervals.seed
            );
            for (name, interval) in &intervals.metrics {
                let _ = writeln!(out, "  {name:32} [{}, {}]", number(interval.lower), number(interval.upper));
            }
            for (key, aggregates) in &intervals.fairness {
                for (name, interval) in aggregates {
                    let label = format!("{key}: {name}");
                    let _ = writeln!(out, "  {label:32} [{}, {}]", number(interval.lower), number(interval.upper));
                }
            }
        }
        if let Some(baseline) = &evaluation.baseline {
            let _ = writeln!(out, "\nAgainst the baseline (candidate − baseline)");
            for (name, delta) in &baseline.deltas {
                let reference = baseline.metrics.get(name).copied().flatten();
                let candidate = evaluation.metrics.get(name).copied().flatten();
                let _ = writeln!(
                    out,
                    "  {name:20} {:>10} → {:>10}   {:>+10}",
                    number(reference),
                    number(candidate),
                    delta.map(|d| format!("{d:+.4}")).unwrap_or_else(|| "-".into())
                );
            }
        }
        out
    }

    fn fairness_section(out: &mut String, key: &str, entry: &FairnessAttribute) {
        let _ = writeln!(out, "\nFairness by {key} ({} groups)", entry.groups.len());
        let columns: &[&str] = if entry.groups.values().any(|g| g.metrics.contains_key("selection_rate")) {
            &["selection_rate", "tpr", "fpr", "accuracy"]
        } else if entry.groups.values().any(|g| g.metrics.contains_key("mae")) {
            &["mae", "rmse", "mean_error"]
        } else {
            &["accuracy", "f1_macro"]
        };
        let rows: Vec<(String, MetricMap)> = entry
            .groups
            .iter()
            .map(|(name, stats)| {
                let mut metrics = stats.metrics.clone();
                metrics.insert("count".into(), Some(stats.count as f64));
                if let Some(positives) = stats.positives {
                    metrics.insert("positives".into(), Some(positives as f64));
                }
                (name.clone(), metrics)
            })
            .collect();
        let mut shown = vec!["count"];
        if rows.iter().any(|(_, m)| m.contains_key("positives")) {
            shown.push("positives");
        }
        shown.extend_from_slice(columns);
        let borrowed: Vec<(String, &MetricMap)> = rows.iter().map(|(name, metrics)| (name.clone(), metrics)).collect();
        table(out, "group", &borrowed, &shown);
        let aggregates = [
            ("demographic parity difference", entry.demographic_parity_difference, "demographic_parity_difference"),
            ("demographic parity ratio", entry.demographic_parity_ratio, "demographic_parity_ratio"),
            ("equalized odds difference", entry.equalized_odds_difference, "equalized_odds_difference"),
            ("equalized odds ratio", entry.equalized_odds_ratio, "equalized_odds_ratio"),
            ("equal opportunity difference", entry.equal_opportunity_difference, "equal_opportunity_difference"),
            ("equal opportunity ratio", entry.equal_opportunity_ratio, "equal_opportunity_ratio"),
        ];
        let binary = entry.groups.values().any(|g| g.positives.is_some());
        if binary {
            for (label, value, field) in aggregates {
                aggregate_line(out, label, value, entry, field);
            }
            if let (Some(ratio), Some(passed)) = (entry.four_fifths_ratio, entry.four_fifths_passed) {
                let verdict = if passed { "passes" } else { "FAILS" };
                let _ =
                    writeln!(out, "  {:32} {} ({verdict} the 0.8 threshold)", "four-fifths rule", number(Some(ratio)));
            }
        }
        for (name, value) in &entry.metrics {
            aggregate_line(out, &name.replace('_', " "), *value, entry, name);
        }
        for (name, groups) in &entry.excluded {
            let _ = writeln!(out, "  note: {name} leaves out {} (undefined rate)", groups.join(", "));
        }
    }

    fn aggregate_line(out: &mut String, label: &str, value: Option<f64>, entry: &FairnessAttribute, field: &str) {
        let reason = entry.reasons.get(field).map(|r| format!("  ({r})")).unwrap_or_default();
        let _ = writeln!(out, "  {label:32} {}{reason}", number(value));
    }

    fn table(out: &mut String, first: &str, rows: &[(String, &MetricMap)], columns: &[&str]) {
        let name_width = rows.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0).max(first.len());
        let _ = write!(out, "  {first:name_width$}");
        for column in columns {
            let _ = write!(out, " {column:>14}");
        }
        out.push('\n');
        for (name, metrics) in rows {
            let _ = write!(out, "  {name:name_width$}");
            for column in columns {
                let _ = write!(out, " {:>14}", number(metrics.get(*column).copied().flatten()));
            }
            out.push('\n');
        }
    }

    fn metric_lines(
        out: &mut String,
        metrics: &MetricMap,
        reasons: &std::collections::BTreeMap<String, String>,
        indent: &str,
    ) {
        for (name, value) in metrics {
            let reason = reasons.get(name).map(|r| format!("  ({r})")).unwrap_or_default();
            let _ = writeln!(out, "{indent}{name:20} {}{reason}", number(*value));
        }
    }

    /// Integers as integers, other numbers to four decimals, `-` for undefined.
    fn number(value: Option<f64>) -> String {
        match value {
            None => "-".into(),
            Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
            Some(v) => format!("{v:.4}"),
        }
    }
}

/// The drift section (`modelgate drift`): per feature.
pub mod drift {
    use std::fmt::Write as _;

    use crate::evidence::Drift;

    pub fn write(drift: &Drift, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(drift).as_bytes())
    }

    /// The drift report as a table a person reads in a terminal or a CI log.
    fn render(drift: &Drift) -> String {
        let mut out = String::new();
        let reference = drift.reference_path.as_deref().unwrap_or("reference");
        let current = drift.current_path.as_deref().unwrap_or("current");
        let _ = writeln!(out, "Reference {reference} ({} rows)", drift.reference_rows);
        let _ = writeln!(out, "Current   {current} ({} rows)", drift.current_rows);
        let _ = writeln!(out, "Method    {}\n", drift.method.as_deref().unwrap_or("auto"));
        let width = drift.features.keys().map(|name| name.chars().count()).max().unwrap_or(0).max(6);
        let _ = writeln!(
            out,
            "  {:width$}  {:11}  {:13}  {:>12}  {:>12}  {:>9}  {:>9}  {:>10}  drifted",
            "column", "type", "method", "score", "p-value", "threshold", "missing", "not finite"
        );
        for (name, feature) in &drift.features {
            let missing = feature.reference_missing.unwrap_or(0) + feature.current_missing.unwrap_or(0);
            let non_finite = feature.reference_non_finite.unwrap_or(0) + feature.current_non_finite.unwrap_or(0);
            let _ = writeln!(
                out,
                "  {name:width$}  {:11}  {:13}  {:>12}  {:>12}  {:>9}  {:>9}  {:>10}  {}",
                feature.column_type.as_deref().unwrap_or("-"),
                feature.method,
                number(Some(feature.score)),
                number(feature.p_value),
                number(Some(feature.threshold)),
                missing,
                non_finite,
                if feature.drifted { "DRIFTED" } else { "no" }
            );
        }
        if !drift.skipped_columns.is_empty() {
            let _ = writeln!(out, "\n  not compared (dates, binary or nested): {}", drift.skipped_columns.join(", "));
        }
        let drifted = drift.drifted_count.unwrap_or(0);
        let share = drift.drift_share.unwrap_or(crate::data::drift::DEFAULT_DRIFT_SHARE);
        let verdict = if drift.dataset_drift == Some(true) { "DATASET DRIFT" } else { "no dataset drift" };
        let _ = writeln!(
            out,
            "\n{drifted} of {} columns drifted ({:.1}%; the dataset drifts at {:.1}%): {verdict}",
            drift.features.len(),
            drift.drifted_share * 100.0,
            share * 100.0
        );
        out
    }

    /// Four significant decimals, scientific for small values, `-` for none.
    fn number(value: Option<f64>) -> String {
        match value {
            None => "-".into(),
            Some(v) if v != 0.0 && v.abs() < 1e-4 => format!("{v:.3e}"),
            Some(v) => format!("{v:.4}"),
        }
    }
}

/// A table checked against its schema (`modelgate data validate`).
pub mod schema {
    use std::fmt::Write as _;

    use crate::evidence::SchemaCheck;

    pub fn write(check: &SchemaCheck, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(check).as_bytes())
    }

    /// The check as a report a person reads in a terminal or a CI log.
    fn render(check: &SchemaCheck) -> String {
        let mut out = String::new();
        let source = check.source.as_deref().unwrap_or("table-schema");
        let schema = check.schema_path.as_deref().unwrap_or("-");
        let _ = writeln!(out, "Table {} ({} rows) against {schema} ({source})", check.table_path, check.rows);
        if !check.fields.is_empty() {
            let width = check.fields.iter().map(|f| f.name.chars().count()).max().unwrap_or(0).max(5);
            let _ = writeln!(out, "\n  {:width$}  {:10}  {:>9}  checks", "field", "type", "null rate");
            for field in &check.fields {
                let rate = field.null_rate.map_or_else(|| "-".to_string(), |rate| format!("{:.2}%", rate * 100.0));
                let checks: Vec<String> = field
                    .checks
                    .iter()
                    .map(|name| if field.failed.contains(name) { format!("{name} FAILED") } else { name.clone() })
                    .collect();
                let _ =
                    writeln!(out, "  {:width$}  {:10}  {rate:>9}  {}", field.name, field.field_type, checks.join(", "));
            }
        }
        if check.violations.is_empty() {
            let _ = writeln!(out, "\nValid: no violations.");
            return out;
        }
        let _ = writeln!(out, "\n{} violations", check.violations.len());
        for violation in &check.violations {
            let message = violation.message.as_deref().unwrap_or_default();
            let _ = writeln!(out, "  {} [{}] {message}", violation.field, violation.check);
            if !violation.examples.is_empty() {
                let examples: Vec<String> = violation
                    .examples
                    .iter()
                    .map(|example| format!("row {}: {:?}", example.row, example.value))
                    .collect();
                let _ = writeln!(out, "      e.g. {}", examples.join("; "));
            }
        }
        out
    }
}

/// A prohibited-data scan (`modelgate data scan`).
pub mod prohibited {
    use std::fmt::Write as _;

    use crate::evidence::ProhibitedScan;

    pub fn write(scan: &ProhibitedScan, max_fraction: f64, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(scan, max_fraction).as_bytes())
    }

    /// The scan as a table a person reads; it names columns and categories, never values.
    fn render(scan: &ProhibitedScan, max_fraction: f64) -> String {
        let mut out = String::new();
        let total = scan.total_rows.map(|rows| format!(" of {rows}")).unwrap_or_default();
        let how = match (scan.full_scan, scan.seed) {
            (Some(true), _) => "full scan".to_string(),
            (_, Some(seed)) => format!("sample, seed {seed}"),
            _ => "sample".to_string(),
        };
        let _ = writeln!(out, "Prohibited data scan of {} ({} rows{total}, {how})", scan.table_path, scan.sampled_rows);
        let _ = writeln!(out, "  {} columns scanned, {} detectors", scan.columns.len(), scan.detectors.len());
        if !scan.columns_name_only.is_empty() {
            let _ = writeln!(out, "  names only (values not scannable): {}", scan.columns_name_only.join(", "));
        }
        if scan.detections.is_empty() {
            let _ = writeln!(out, "\nNothing detected.");
            return out;
        }
        let width = scan.detections.iter().map(|d| d.column.len()).max().unwrap_or(6).max(6);
        let category_width = scan.detections.iter().map(|d| d.category.len()).max().unwrap_or(8).max(8);
        let _ = writeln!(
            out,
            "\n  {:width$}  {:category_width$}  {:>8}  {:>17}  matched on",
            "column", "category", "share", "values"
        );
        for detection in &scan.detections {
            let counts = match (detection.matched, detection.non_null) {
                (Some(matched), Some(non_null)) => format!("{matched}/{non_null}"),
                _ => String::new(),
            };
            let flag = if detection.match_fraction > max_fraction { "  over limit" } else { "" };
            let free_text = if detection.free_text == Some(true) { ", in free text" } else { "" };
            let _ = writeln!(
                out,
                "  {:width$}  {:category_width$}  {:>7.2}%  {counts:>17}  {}{free_text}{flag}",
                detection.column,
                detection.category,
                detection.match_fraction * 100.0,
                detection.matched_on
            );
        }
        let over = scan.detections.iter().filter(|d| d.match_fraction > max_fraction).count();
        let _ = writeln!(
            out,
            "\n{} detections, {over} over the limit of {}% of values",
            scan.detections.len(),
            max_fraction * 100.0
        );
        out
    }
}

/// Training-data lineage (`modelgate data lineage`).
pub mod lineage {
    use std::fmt::Write as _;

    use crate::evidence::Lineage;

    pub fn write(lineage: &Lineage, missing: &[&str], out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(lineage, missing).as_bytes())
    }

    fn render(lineage: &Lineage, missing: &[&str]) -> String {
        let mut out = String::new();
        let training = lineage.training_data.as_deref().unwrap_or("the training file");
        let source = lineage.path.as_deref().unwrap_or(&lineage.source);
        let _ = writeln!(out, "Lineage of {training} ({} {source})", lineage.source);
        for (number, step) in lineage.stages.iter().enumerate() {
            let _ = writeln!(out, "  {}. {}", number + 1, step.name);
            if let Some(command) = &step.command {
                let _ = writeln!(out, "       $ {command}");
            }
            if !step.inputs.is_empty() {
                let _ = writeln!(out, "       reads  {}", step.inputs.join(", "));
            }
            if !step.outputs.is_empty() {
                let _ = writeln!(out, "       writes {}", step.outputs.join(", "));
            }
        }
        let freshness = lineage.freshness.as_deref().unwrap_or("unknown");
        let digest = match (&lineage.recorded_digest, &lineage.actual_digest) {
            (Some(recorded), Some(actual)) if recorded == actual => format!(" ({actual})"),
            (Some(recorded), Some(actual)) => format!(" (recorded {recorded}, file {actual})"),
            (Some(recorded), None) => format!(" (recorded {recorded}; the file's digest cannot be compared)"),
            _ => " (the lineage records no digest for it)".to_string(),
        };
        let _ = writeln!(out, "\nTraining file: {freshness}{digest}");
        for finding in &lineage.findings {
            let _ = writeln!(out, "  stale: {finding}");
        }
        for step in missing {
            let _ = writeln!(out, "  missing required step: {step}");
        }
        out
    }
}

/// A dependency audit (`modelgate deps`).
pub mod dependencies {
    use std::fmt::Write as _;

    use crate::evidence::Dependencies;

    pub fn write(dependencies: &Dependencies, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(dependencies).as_bytes())
    }

    fn render(dependencies: &Dependencies) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", dependencies.source);
        for vulnerability in &dependencies.vulnerabilities {
            let fixed = vulnerability
                .fixed_version
                .as_deref()
                .map_or("no fix".to_string(), |fixed| format!("fixed in {fixed}"));
            let summary = vulnerability.summary.as_deref().map(|summary| format!(": {summary}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "VULNERABLE  {} {}  {} [{}] {fixed}{summary}",
                vulnerability.package,
                vulnerability.version,
                vulnerability.id,
                vulnerability.severity.as_str()
            );
        }
        for requirement in &dependencies.unpinned {
            let _ = writeln!(out, "UNPINNED    {requirement}: no single version, so it cannot be checked");
        }
        for package in &dependencies.not_audited {
            let _ = writeln!(out, "not audited {package}: not a PyPI package");
        }
        let _ = writeln!(
            out,
            "\n{} requirements, {} vulnerabilities, {} unpinned, {} not audited",
            dependencies.packages,
            dependencies.vulnerabilities.len(),
            dependencies.unpinned.len(),
            dependencies.not_audited.len()
        );
        out
    }
}

/// A model-file scan (`modelgate scan`).
pub mod artifacts {
    use std::fmt::Write as _;

    use crate::evidence::Artifacts;

    pub fn write(artifacts: &Artifacts, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(artifacts).as_bytes())
    }

    fn render(artifacts: &Artifacts) -> String {
        let mut out = String::new();
        for file in &artifacts.files {
            let verdict = if file.safe { "safe" } else { "UNSAFE" };
            let code = if file.executable_serialization { ", can run code when loaded" } else { "" };
            let _ = writeln!(out, "{verdict:6}  {} ({}, {} bytes{code})", file.path, file.format, file.size);
            for finding in &file.findings {
                let at = finding.offset.map(|offset| format!(" at byte {offset}")).unwrap_or_default();
                let global = finding.global.as_deref().map(|global| format!(" {global}")).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "          [{}] {}{global}{at}: {}",
                    finding.severity.as_str(),
                    finding.kind,
                    finding.why
                );
            }
        }
        let unsafe_files = artifacts.files.iter().filter(|file| !file.safe).count();
        let _ = writeln!(out, "\n{} files, {unsafe_files} unsafe", artifacts.files.len());
        out
    }
}

/// A signature verification (`modelgate verify`).
pub mod signature {
    use std::fmt::Write as _;

    use crate::artifacts::signing::Verification;

    pub fn write(outcome: &Verification, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(outcome).as_bytes())
    }

    fn render(outcome: &Verification) -> String {
        let mut out = String::new();
        let passed = outcome.verified && outcome.extra_files.is_empty();
        let _ = writeln!(
            out,
            "{}  {}",
            if passed { "verified" } else { "NOT VERIFIED" },
            outcome.signer.as_deref().unwrap_or("(unknown signer)")
        );
        let _ = writeln!(out, "signature: {}", outcome.signature);
        if outcome.authentic {
            let _ = writeln!(out, "signed files: {}", outcome.signed_files.len());
        }
        for (label, files) in [
            ("modified since signing", &outcome.modified_files),
            ("missing", &outcome.missing_files),
            ("not covered by the signature", &outcome.extra_files),
        ] {
            for file in files {
                let _ = writeln!(out, "  {label}: {file}");
            }
        }
        if let Some(error) = &outcome.error {
            let _ = writeln!(out, "why: {error}");
        }
        out
    }
}

/// A load test's result (`modelgate loadtest`).
pub mod serving {
    use crate::serving::Outcome;

    pub fn write(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(render(outcome).as_bytes())
    }

    /// The compact text report.
    fn render(outcome: &Outcome) -> String {
        let serving = &outcome.serving;
        let requests = serving.requests.unwrap_or(0);
        let failed: u64 = outcome.errors.values().sum();
        let mut text = format!("POST {}\n", outcome.target);
        text.push_str(&format!(
            "requests     {requests} in {} s at concurrency {}\n",
            number(serving.duration_s),
            serving.concurrency.unwrap_or(0)
        ));
        text.push_str(&format!("throughput   {} successful requests/s\n", number(serving.throughput_rps)));
        let causes: Vec<String> = outcome.errors.iter().map(|(cause, count)| format!("{cause} ×{count}")).collect();
        let rate = serving.error_rate.map_or("-".to_string(), |rate| format!("{:.2}%", rate * 100.0));
        let causes = if causes.is_empty() { String::new() } else { format!(": {}", causes.join(", ")) };
        text.push_str(&format!("errors       {failed} ({rate}){causes}\n"));
        let latency = &serving.latency_ms;
        text.push_str(&format!(
            "latency ms   {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
            "p50", "p90", "p95", "p99", "mean", "max"
        ));
        let values = [latency.p50, latency.p90, latency.p95, latency.p99, latency.mean, latency.max].map(number);
        text.push_str(&format!(
            "             {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n",
            values[0], values[1], values[2], values[3], values[4], values[5]
        ));
        text
    }

    fn number(value: Option<f64>) -> String {
        value.map_or("-".to_string(), |value| format!("{value:.3}"))
    }
}
