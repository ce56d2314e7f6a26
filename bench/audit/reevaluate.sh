#!/usr/bin/env bash
# `modelgate reevaluate` at fleet scale on both backends: wall time and peak RSS of the
# whole command (process start, policy load, store reads, COUNT evaluations, COUNT records),
# medians of REPEAT runs, each on a fresh copy of the same fleet store.
#   SQLite:     a copy of target/bench-audit/fleet-COUNT.db
#   PostgreSQL: that store moved into a new schema with `modelgate audit copy` (timed too)
# Usage: bench/audit/reevaluate.sh [COUNT] [REPEAT]
# MODELGATE_BENCH_POSTGRES names the server (default: postgres://root@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-10000}"
repeat="${2:-3}"
server="${MODELGATE_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test}"
schema=modelgate_bench_reevaluate
mkdir -p target/bench-audit
fleet="target/bench-audit/fleet-$count.db"

cargo bench --quiet --bench fleet_store -- "$count" "$fleet"
cargo build --release --quiet
bin=target/release/modelgate

work=$(mktemp -d)
drop_schema() { psql -q "$server" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; }
trap 'rm -rf "$work"; drop_schema' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for backend in sqlite postgres; do
    : >"$work/times"
    for _ in $(seq "$repeat"); do
        if [ "$backend" = sqlite ]; then
            cp "$fleet" "$work/audit.db"
            rm -f "$work/audit.db-wal" "$work/audit.db-shm"
            store="$work/audit.db"
        else
            drop_schema
            store="$server?sslmode=disable&schema=$schema"
            /usr/bin/time -f "%e %M" -o "$work/copy" "$bin" audit copy --from "$fleet" --to "$store" >/dev/null
            read -r copy_s copy_kb <"$work/copy"
            echo "$copy_s $copy_kb" >>"$work/copies"
        fi
        status=0
        /usr/bin/time -f "%e %M" -o "$work/time" "$bin" reevaluate --policies policies --store "$store" \
            --no-notify --format json --output "$work/out.json" || status=$?
        [ "$status" -le 1 ] || { echo "reevaluate failed ($status) on $backend" >&2; exit 2; }
        tail -n 1 "$work/time" >>"$work/times"   # the line before says "Command exited with non-zero status 1"
    done
    seconds=$(cut -d' ' -f1 "$work/times" | median)
    rss_kb=$(cut -d' ' -f2 "$work/times" | median)
    printf 'reevaluate %s deployed models, %-8s median %7.2f s, peak RSS %6.0f MiB (runs: %s)\n' \
        "$count" "$backend:" "$seconds" "$(echo "$rss_kb / 1024" | bc -l)" "$(tr '\n' ' ' <"$work/times" | sed 's/ $//')"
done
copy_s=$(cut -d' ' -f1 "$work/copies" | median)
copy_kb=$(cut -d' ' -f2 "$work/copies" | median)
printf 'audit copy of the %s-model store, SQLite to PostgreSQL: median %.2f s, peak RSS %.0f MiB\n' \
    "$count" "$copy_s" "$(echo "$copy_kb / 1024" | bc -l)"
# The summary is at the end of the streamed report (which is gigabytes at 100,000 models).
printf '  summary of the last run: %s\n' "$(tail -c 4096 "$work/out.json" | tr -d ' \n' | grep -o '"summary":{[^}]*}')"
