//! Builds the fleet stores the scale benchmark reads (bench/audit/reevaluate.sh): `COUNT`
//! allowed decisions, each deployed, in an SQLite file. Run through cargo so that it is
//! built like the other benches: `cargo bench --bench fleet_store -- COUNT PATH`.

mod common;

fn main() {
    common::quiet_backtraces();
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| arg != "--bench").collect();
    let [count, path] = args.as_slice() else {
        eprintln!("usage: cargo bench --bench fleet_store -- COUNT PATH");
        std::process::exit(2);
    };
    let count: usize = count.replace(['_', ','], "").parse().expect("COUNT is a number");
    let started = std::time::Instant::now();
    common::fleet_store(std::path::Path::new(path), count);
    eprintln!("{path}: {count} deployed models ({:.1} s)", started.elapsed().as_secs_f64());
}
