//! Criterion benchmarks: one warm evaluation of the built-in library, and a fleet run
//! of 10,000 varied evidence documents on every core.

mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use modelgate::policy::{fleet, Gate};

/// The binary's allocator, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn single(c: &mut Criterion) {
    common::quiet_backtraces();
    let mut gate = Gate::load(&common::root().join("policies"), Duration::from_secs(5)).expect("policies load");
    let examples = common::examples();
    let mut group = c.benchmark_group("evaluate");
    for (name, evidence) in ["credit-scoring", "credit-scoring-blocked"].iter().zip(&examples) {
        group.bench_function(*name, |b| b.iter(|| gate.evaluate(evidence, None).expect("evaluates")));
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let root = common::root().join("policies");
    c.bench_function("load-and-compile", |b| {
        b.iter(|| Gate::load(&root, Duration::from_secs(5)).expect("policies load"))
    });
}

fn fleet_run(c: &mut Criterion) {
    common::quiet_backtraces();
    let gate = Gate::load(&common::root().join("policies"), Duration::from_secs(5)).expect("policies load");
    let documents = common::fleet(10_000);
    let today = modelgate::policy::today().expect("today");
    let mut group = c.benchmark_group("fleet");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("10k-documents-all-cores", |b| {
        b.iter_batched(|| (), |()| fleet::evaluate_all(&gate, &documents, None, today), BatchSize::PerIteration)
    });
    group.finish();
}

criterion_group!(benches, single, compile, fleet_run);
criterion_main!(benches);
