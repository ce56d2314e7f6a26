//! Criterion benchmarks of the audit store: recording one decision with a durable commit,
//! re-evaluating 10,000 deployed models (store reads included), and queries on a store
//! of a million decisions.
//!
//! The stores are built once under target/bench-audit/ and reused: `fleet-10k.db` (10,000
//! allowed decisions, each deployed) and `decisions-1m.db` (1,000,000 decisions over a
//! year, 250 models, three environments). `bench/audit/run.sh` times the whole
//! `modelgate reevaluate` command on a copy of the first.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use serde_json::Map;

use modelgate::audit::lifecycle;
use modelgate::audit::record::decision_draft;
use modelgate::audit::{self, Access, Draft, Entry, EntryKind, Filter, Store};
use modelgate::evidence::Evidence;
use modelgate::policy::Gate;
use modelgate::report::Report;

fn gate() -> Gate {
    common::quiet_backtraces();
    Gate::load(&common::root().join("policies"), Duration::from_secs(5)).expect("policies load")
}

fn bench_dir() -> PathBuf {
    let dir = common::root().join("target/bench-audit");
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

/// A decision draft for `evidence` judged by `gate`, with a fresh id.
fn draft(gate: &mut Gate, evidence: &Evidence, files: bool) -> (Draft, Report) {
    let report = gate.report(evidence, None);
    let files = files.then(|| gate.files.as_slice());
    let draft = decision_draft(EntryKind::Decision, &report, Some(evidence), files, Map::new()).expect("draft");
    (draft, report)
}

fn file(path: &Path) -> audit::Address {
    audit::Address::File(path.to_path_buf())
}

/// The PostgreSQL server of `MODELGATE_BENCH_POSTGRES` (default: the local test server).
fn postgres_server() -> String {
    std::env::var("MODELGATE_BENCH_POSTGRES").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string())
}

fn drop_schema(schema: &str) {
    let mut client = postgres::Client::connect(&postgres_server(), postgres::NoTls).expect("PostgreSQL for the bench");
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).expect("drop schema");
}

/// Recording one decision with a durable commit, into a new SQLite file and into a new
/// schema of the PostgreSQL server over loopback TCP.
fn record_one(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    record_one_into(c, "sqlite", &file(&dir.path().join("audit.db")));
    let schema = "modelgate_bench_record";
    drop_schema(schema);
    let address = audit::Address::parse(&format!("{}?sslmode=disable&schema={schema}", postgres_server()))
        .expect("PostgreSQL address");
    record_one_into(c, "postgres", &address);
    drop_schema(schema);
}

fn record_one_into(c: &mut Criterion, backend: &str, address: &audit::Address) {
    let mut gate = gate();
    let mut store = audit::open(address, Access::Create).expect("store");
    let base = common::examples().remove(0);
    let (first, report) = draft(&mut gate, &base, true);
    store.append(vec![first]).expect("first");
    let mut counter = 0u64;
    let mut group = c.benchmark_group("record");
    group.bench_function(format!("decision-durable-commit/{backend}"), |b| {
        b.iter_batched(
            || {
                // A distinct evidence document each time, so its blob is really written.
                counter += 1;
                let mut evidence = base.clone();
                evidence.collected_at = format!("2026-12-01T09:{:02}:{:02}Z", (counter / 60) % 60, counter % 60);
                evidence.model.version = format!("2.4.{counter}");
                let mut report = report.clone();
                report.decision_id = uuid::Uuid::now_v7().to_string();
                report.evidence_digest = None;
                (evidence, report)
            },
            |(evidence, report)| {
                let draft = decision_draft(
                    EntryKind::Decision,
                    &report,
                    Some(&evidence),
                    Some(gate.files.as_slice()),
                    Map::new(),
                )
                .expect("draft");
                store.append(vec![draft]).expect("append")
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn reevaluate(c: &mut Criterion) {
    let gate = gate();
    let path = bench_dir().join("fleet-10k.db");
    common::fleet_store(&path, 10_000);
    let store = audit::open(&file(&path), Access::ReadOnly).expect("store");
    let now = chrono::Utc::now();
    let mut group = c.benchmark_group("reevaluate");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    // The store's part: deployments, their decisions and latest judgements, and 10,000
    // evidence documents read, decompressed and parsed. The evaluations themselves
    // (10,000 of the built-in library) are timed once here and by bench/audit/run.sh
    // with the whole command.
    group.bench_function("read-10k-deployed", |b| b.iter(|| lifecycle::read_deployed(store.as_ref()).expect("read")));
    let started = std::time::Instant::now();
    let judgements = lifecycle::judge(store.as_ref(), &gate, now).expect("judge");
    println!("reevaluate/judge-10k-deployed (one run): {:.2} s", started.elapsed().as_secs_f64());
    drop(store);
    group.bench_function("record-10k-reevaluations", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let copy = dir.path().join("audit.db");
                std::fs::copy(&path, &copy).expect("copy");
                (dir, copy, judgements.clone())
            },
            |(dir, copy, mut judgements)| {
                let mut store = audit::open(&file(&copy), Access::ReadWrite).expect("store");
                lifecycle::record(store.as_mut(), &gate, &mut judgements, now).expect("record");
                drop(store);
                dir
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

const MILLION: usize = 1_000_000;

/// A million decisions over a year: 250 models, three environments, a deployment every
/// 100 decisions; 1,000 distinct evidence documents.
fn million_store(path: &Path, gate: &mut Gate) {
    if path.exists() {
        return;
    }
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut store = audit::open(&file(&partial), Access::Create).expect("store");
    let documents = common::fleet(1_000);
    let templates: Vec<Draft> =
        documents.iter().enumerate().map(|(index, evidence)| draft(gate, evidence, index == 0).0).collect();
    let start = chrono::DateTime::parse_from_rfc3339("2025-12-01T00:00:00Z").expect("time").with_timezone(&chrono::Utc);
    let step = chrono::Duration::seconds(31);
    for chunk in 0..MILLION / 10_000 {
        let mut drafts = Vec::with_capacity(10_100);
        for offset in 0..10_000 {
            let index = chunk * 10_000 + offset;
            let template = &templates[index % templates.len()];
            let mut entry = template.entry.clone();
            entry.id = uuid::Uuid::now_v7().to_string();
            entry.time = (start + step * index as i32).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            entry.model = format!("model-{}", index % 250);
            // Blobs and the bundle go in with the first use of each template only.
            let blobs = if index < templates.len() { template.blobs.clone() } else { Vec::new() };
            let bundle = if index == 0 { template.bundle.clone() } else { None };
            if index % 100 == 0 {
                let mut deployment =
                    Entry::new(EntryKind::Deploy, &entry.model, &entry.version, entry.environment.as_deref());
                deployment.time = entry.time.clone();
                deployment.details = serde_json::json!({"decision_id": entry.id, "action": "deploy"});
                drafts.push(Draft { entry: entry.clone(), blobs, bundle });
                drafts.push(Draft { entry: deployment, blobs: Vec::new(), bundle: None });
            } else {
                drafts.push(Draft { entry, blobs, bundle });
            }
        }
        store.append(drafts).expect("append");
    }
    drop(store);
    std::fs::rename(&partial, path).expect("rename");
}

fn queries(c: &mut Criterion) {
    let mut gate = gate();
    let path = bench_dir().join("decisions-1m.db");
    million_store(&path, &mut gate);
    let store = audit::open(&file(&path), Access::ReadOnly).expect("store");
    let mut group = c.benchmark_group("query-1m");
    let collect = |store: &dyn Store, filter: &Filter| {
        let mut count = 0;
        store
            .scan(filter, &mut |_| {
                count += 1;
                Ok(true)
            })
            .expect("scan");
        count
    };
    group.bench_function("log-model-newest-50", |b| {
        let filter =
            Filter { model: Some("model-17".into()), limit: Some(50), newest_first: true, ..Filter::default() };
        b.iter(|| collect(store.as_ref(), &filter))
    });
    group.bench_function("log-deny-in-production-one-day", |b| {
        let filter = Filter {
            environment: Some("production".into()),
            decision: Some("deny".into()),
            since: Some("2026-06-01T00:00:00.000000Z".into()),
            until: Some("2026-06-01T23:59:59.999999Z".into()),
            ..Filter::default()
        };
        b.iter(|| collect(store.as_ref(), &filter))
    });
    group.bench_function("at-production-mid-year", |b| {
        b.iter(|| store.deployments_at(Some("2026-06-01T12:00:00.000000Z"), Some("production"), None).expect("at"))
    });
    let mut some_id = String::new();
    store
        .scan(&Filter { limit: Some(1), newest_first: true, ..Filter::default() }, &mut |record| {
            some_id = record.entry.id;
            Ok(false)
        })
        .expect("scan");
    group.bench_function("show-by-id", |b| b.iter(|| store.get(&some_id).expect("get")));
    group.finish();
}

/// The dashboard's pages on the million-decision store: the server time of each page (the
/// page function over the store; the HTTP layer adds well under a millisecond).
fn dashboard(c: &mut Criterion) {
    use modelgate::server::ui;
    let mut gate = gate();
    let path = bench_dir().join("decisions-1m.db");
    million_store(&path, &mut gate);
    let store = audit::open(&file(&path), Access::ReadOnly).expect("store");
    let key_path = bench_dir().join("dashboard-key.pem");
    if !key_path.exists() {
        modelgate::server::generate_key(&key_path).expect("a key");
    }
    let key = modelgate::artifacts::signing::keys::SigningKey::read(&key_path).expect("key").verifying_key();
    let mut newest = String::new();
    store
        .scan(
            &Filter { limit: Some(1), newest_first: true, kinds: vec![EntryKind::Decision], ..Filter::default() },
            &mut |record| {
                newest = record.entry.id;
                Ok(false)
            },
        )
        .expect("scan");
    let mut group = c.benchmark_group("dashboard-1m");
    group.sample_size(10);
    group
        .bench_function("fleet", |b| b.iter(|| ui::fleet(store.as_ref(), &ui::FleetFilter::default()).expect("fleet")));
    group.bench_function("fleet-production-non-compliant", |b| {
        let filter = ui::FleetFilter {
            environment: Some("production".into()),
            state: Some("non-compliant".into()),
            ..ui::FleetFilter::default()
        };
        b.iter(|| ui::fleet(store.as_ref(), &filter).expect("fleet"))
    });
    group.bench_function("model", |b| b.iter(|| ui::model(store.as_ref(), "model-17").expect("model")));
    group.bench_function("decision", |b| b.iter(|| ui::decision(store.as_ref(), &newest).expect("decision")));
    group.bench_function("bundles", |b| {
        b.iter(|| {
            ui::bundles(store.as_ref(), &ui::BundlesQuery::default()).map_err(|error| error.message).expect("bundles")
        })
    });
    group.bench_function("audit-production-now", |b| {
        let query = ui::AuditPageQuery { environment: Some("production".into()), ..ui::AuditPageQuery::default() };
        b.iter(|| ui::audit_page(store.as_ref(), &key, &query, &ui::Verifications::default()).expect("audit"))
    });
    group.finish();
}

criterion_group!(benches, record_one, reevaluate, queries, dashboard);
criterion_main!(benches);
