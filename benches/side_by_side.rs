//! One number per engine for `bench/compare_opa.sh`: the median and p95 time of one
//! warm evaluation, printed as JSON in the same shape as bench/opa/bench_opa.py.
//!
//! cargo bench --bench side_by_side -- EVIDENCE.json POLICY_DIR [ITERATIONS] [FLEET_SIZE]
//!
//! FLEET_SIZE (default 10000, 0 to skip) varied documents are then judged on all cores.

mod common;

use std::time::{Duration, Instant};

use modelgate::policy::Gate;

fn main() {
    common::quiet_backtraces();
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
    let evidence = args
        .first()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| common::root().join("tests/fixtures/examples/credit-scoring-blocked.json"));
    let policies = args.get(1).map(std::path::PathBuf::from).unwrap_or_else(|| common::root().join("policies"));
    let iterations: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let document = common::load(&evidence);
    let mut gate = Gate::load(&policies, Duration::from_secs(5)).expect("policies load");
    for _ in 0..iterations / 10 {
        gate.evaluate(&document, None).expect("evaluates");
    }
    let mut samples: Vec<f64> = (0..iterations)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(gate.evaluate(&document, None).expect("evaluates"));
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let fleet_size: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let fleet = common::fleet(fleet_size);
    let started = Instant::now();
    let reports =
        modelgate::policy::fleet::evaluate_all(&gate, &fleet, None, modelgate::policy::today().expect("today"));
    let fleet_seconds = started.elapsed().as_secs_f64();
    assert_eq!(reports.len(), fleet.len());
    let denied = reports.iter().filter(|report| report.decision == modelgate::report::Decision::Deny).count();
    let errors = reports.iter().filter(|report| report.decision == modelgate::report::Decision::Error).count();
    println!(
        "{}",
        serde_json::json!({
            "engine": "modelgate (regorus)",
            "median_us": samples[samples.len() / 2],
            "p95_us": samples[samples.len() * 95 / 100],
            "iterations": iterations,
            "includes": "evidence to Rego input conversion, evaluation of every deny/warn/catalog rule, exceptions and the decision (not report rendering)",
            "fleet_size": fleet_size,
            "fleet_seconds": fleet_seconds,
            "fleet_denied": denied,
            "fleet_errors": errors,
            "fleet_threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        })
    );
}
