//! Criterion benchmarks of the document reader: `docs::read::read` on each model-card
//! fixture (Hugging Face README.md shapes and a Model Card Toolkit JSON), and on a corpus
//! of 500 cards (copies of those four in a temporary folder, read one after another).
//! `bench/docs/peer.py` does the same work with huggingface_hub; `bench/docs/run.sh` runs both.

use std::hint::black_box;
use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use modelgate::docs::read::{read, ReadOptions};
use modelgate::docs::Kind;

/// The model-card fixtures, in the order `bench/docs/peer.py` reports them.
const CARDS: [&str; 4] = ["hf-template-untouched.md", "hf-filled.md", "hf-trainer-autogen.md", "mct.json"];

/// Cards in the corpus benchmark (the peer uses the same number).
const CORPUS: usize = 500;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs").join(name)
}

fn options() -> ReadOptions {
    // A fixed day, and no `git log` per document: the figure is the reader's.
    ReadOptions { today: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"), git_dates: false }
}

fn single(c: &mut Criterion) {
    let options = options();
    let mut group = c.benchmark_group("read");
    for name in CARDS {
        let path = fixture(name);
        let shown = path.display().to_string();
        read(Kind::ModelCard, &path, &shown, &options).expect("the fixture reads");
        group.bench_function(name, |b| {
            b.iter(|| black_box(read(Kind::ModelCard, black_box(&path), &shown, &options).expect("reads")))
        });
    }
    group.finish();
}

fn corpus(c: &mut Criterion) {
    let options = options();
    let folder = tempfile::tempdir().expect("temporary folder");
    let paths: Vec<(PathBuf, String)> = (0..CORPUS)
        .map(|index| {
            let name = CARDS[index % CARDS.len()];
            let (stem, extension) = name.rsplit_once('.').expect("extension");
            let path = folder.path().join(format!("{index:03}-{stem}.{extension}"));
            std::fs::copy(fixture(name), &path).expect("copy");
            let shown = path.display().to_string();
            (path, shown)
        })
        .collect();
    let mut group = c.benchmark_group("corpus");
    group.sample_size(20).throughput(Throughput::Elements(CORPUS as u64));
    group.bench_function("500-cards", |b| {
        b.iter(|| {
            for (path, shown) in &paths {
                black_box(read(Kind::ModelCard, path, shown, &options).expect("reads"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, single, corpus);
criterion_main!(benches);
