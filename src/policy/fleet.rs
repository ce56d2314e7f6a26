//! Judging many evidence documents at once (a fleet re-check, a policy change's impact),
//! on every core: each worker gets its own clone of the compiled engine.

use std::num::NonZeroUsize;

use super::Gate;
use crate::decision::Report;
use crate::error::{Error, ErrorKind};
use crate::evidence::Evidence;

/// Evaluates every document, in order, on up to `threads` workers (all cores when `None`),
/// with exceptions judged on `today`. Each document gets its own report; an error is that
/// document's `error` report.
pub fn evaluate_all(
    gate: &Gate,
    documents: &[Evidence],
    threads: Option<NonZeroUsize>,
    today: chrono::NaiveDate,
) -> Vec<Report> {
    judge_all(gate, documents, threads, |gate, evidence| gate.report_at(evidence, None, today), |_| panicked())
}

/// Runs `judge` on every item, in order, on up to `threads` workers (all cores when
/// `None`), each with its own clone of `gate`. The items of a worker that panics get
/// `failed`'s answer, so that none is left unjudged.
pub fn judge_all<T: Sync, R: Send>(
    gate: &Gate,
    items: &[T],
    threads: Option<NonZeroUsize>,
    judge: impl Fn(&mut Gate, &T) -> R + Sync,
    failed: impl Fn(&T) -> R,
) -> Vec<R> {
    let threads = threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get)
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    let judge = &judge;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|slice| {
                let mut gate = gate.clone();
                let worker = scope.spawn(move || slice.iter().map(|item| judge(&mut gate, item)).collect::<Vec<_>>());
                (slice, worker)
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|(slice, worker)| match worker.join() {
                Ok(answers) => answers,
                Err(_) => slice.iter().map(&failed).collect(),
            })
            .collect()
    })
}

/// The report of a document whose worker panicked.
pub fn panicked() -> Report {
    Report::from_error(&Error::new(ErrorKind::PolicyEvaluation, "the evaluation worker panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_results_match_one_by_one_in_order() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut gate =
            Gate::load(&root.join("tests/fixtures/policies/minimal"), std::time::Duration::from_secs(5)).expect("gate");
        let text = std::fs::read_to_string(root.join("tests/fixtures/examples/credit-scoring.json")).expect("fixture");
        let base = crate::evidence::parse("fixture", &text).expect("evidence");
        let documents: Vec<Evidence> = (0..9)
            .map(|index| {
                let mut evidence = base.clone();
                let accuracy = 0.86 + 0.01 * f64::from(index);
                if let Some(evaluation) = evidence.evaluation.as_mut() {
                    evaluation.metrics.insert("accuracy".into(), Some(accuracy));
                }
                evidence.model.version = format!("1.{index}");
                evidence
            })
            .collect();
        let fleet = evaluate_all(&gate, &documents, NonZeroUsize::new(2), crate::policy::today().expect("today"));
        assert_eq!(fleet.len(), documents.len());
        for (report, evidence) in fleet.iter().zip(&documents) {
            let single = gate.report(evidence, None);
            assert_eq!(report.decision, single.decision, "{}", evidence.model.version);
            assert_eq!(report.model.as_ref().map(|m| m.version.clone()), Some(evidence.model.version.clone()));
        }
        // Accuracy 0.86..0.94 against a 0.9 floor: both outcomes occur.
        assert!(fleet.iter().any(|r| r.decision == crate::decision::Decision::Deny));
        assert!(fleet.iter().any(|r| r.decision == crate::decision::Decision::Allow));
    }
}
