#!/usr/bin/env bash
# End-to-end benchmark: pullscan's summary against ripgrep on the same files,
# in the same run, with alternating runs; fails when pullscan's classified
# counts differ from the generator's truth. Writes a dated record under
# benches/records/. A benchmark, not a test: run it by hand.
#
#   benches/e2e.sh                 # 1 GiB inputs, 5 runs each
#   SIZE=64M RUNS=3 benches/e2e.sh # a quick look
#   CASES=200K benches/e2e.sh      # only the cases whose name matches
#
# The 200 KB case takes RUNS_SMALL runs (default 21): it lasts tens of
# milliseconds, where one scheduling hiccup moves a median of three.
#
# Needs: python3, ripgrep 14+ (`cargo install ripgrep`), GNU time
# (/usr/bin/time, Debian package `time`), gzip. Inputs are generated with
# ../shared/bench/make-log.py into $BENCH_DIR (default /tmp/bench) and kept
# there between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1G}
RUNS=${RUNS:-5}
RUNS_SMALL=${RUNS_SMALL:-21}
CASES=${CASES:-.}
BENCH_DIR=${BENCH_DIR:-/tmp/bench}
SHARED=${SHARED:-../shared/bench}
GEN="$SHARED/make-log.py"
SIGS="$SHARED/signatures.txt"
PULLSCAN=target/release/pullscan

for tool in python3 rg gzip /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "e2e: missing $tool" >&2; exit 2; }
done
[ -f "$GEN" ] || { echo "e2e: $GEN not found (set SHARED=)" >&2; exit 2; }
cargo build --release -q
mkdir -p "$BENCH_DIR" benches/records

gen() { # name flavour extra-args...
  local name=$1 flavour=$2; shift 2
  local out="$BENCH_DIR/$name" truth="$BENCH_DIR/$name.truth.json"
  if [ ! -s "$out" ] || [ ! -s "$truth" ]; then
    python3 "$GEN" --flavour "$flavour" --size "$SIZE" --truth "$truth" -o "$out" "$@" >&2
  fi
}
gen "syslog-$SIZE.log" syslog --seed 1
gen "syslog5-$SIZE.log" syslog --seed 2 --error-fraction 0.05
gen "export-$SIZE.csv" csv --seed 3
gen "journal-$SIZE.log" journal --seed 4
if [ ! -s "$BENCH_DIR/syslog-$SIZE.log.gz" ]; then
  gzip -c -1 "$BENCH_DIR/syslog-$SIZE.log" > "$BENCH_DIR/syslog-$SIZE.log.gz"
fi
if [ ! -s "$BENCH_DIR/small.log" ]; then
  python3 "$GEN" --flavour syslog --size 200K --seed 5 -o "$BENCH_DIR/small.log" \
    --truth "$BENCH_DIR/small.log.truth.json" >&2
fi
cp "$BENCH_DIR/syslog-$SIZE.log.truth.json" "$BENCH_DIR/syslog-$SIZE.log.gz.truth.json"

stamp=$(date -u +%Y-%m-%d)
machine="$(nproc)cpu-$(uname -m)"
record="benches/records/$stamp-$machine.csv"
[ -f "$record" ] || echo "date,machine,case,tool,runs,median_s,min_s,max_s,ratio,peak_rss_kb,truth" > "$record"

# time_one OUTFILE CMD... : wall seconds (ns clock) and peak RSS (KB) of one run
time_one() {
  local out=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$BENCH_DIR/.time" "$@" > "$out" 2>/dev/null || true
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 ))e-6 $(tail -n 1 "$BENCH_DIR/.time")"
}

# check_truth PULLSCAN_JSON TRUTH_JSON : per-cause line counts must match
check_truth() {
  python3 - "$1" "$2" <<'PY'
import json, sys
out, truth = (json.load(open(p)) for p in sys.argv[1:3])
got = {c["cause"]: c["lines"] for c in out["causes"]}
want = truth["errors_by_cause"]
diff = {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
if diff:
    print("truth mismatch:", diff, file=sys.stderr)
    sys.exit(1)
PY
}

stats() { # seconds... -> median min max
  python3 -c 'import sys,statistics as s; v=sorted(map(float,sys.argv[1:])); print(f"{s.median(v):.3f} {v[0]:.3f} {v[-1]:.3f}")' "$@"
}

fail=0
bench() { # case input pullscan-args rg-args [runs]
  local case=$1 input=$2 pargs=$3 rargs=$4 runs=${5:-$RUNS}
  [[ $case =~ $CASES ]] || return 0
  local pt=() rt=() pmem=0 rmem=0
  for _ in $(seq "$runs"); do
    read -r s m < <(time_one "$BENCH_DIR/.out.json" $PULLSCAN -o json $pargs "$input")
    pt+=("$s"); pmem=$(( m > pmem ? m : pmem ))
    read -r s m < <(time_one /dev/null rg $rargs -f "$SIGS" "$input")
    rt+=("$s"); rmem=$(( m > rmem ? m : rmem ))
  done
  local truth=ok
  check_truth "$BENCH_DIR/.out.json" "$input.truth.json" || { truth=MISMATCH; fail=1; }
  read -r pmed pmin pmax < <(stats "${pt[@]}")
  read -r rmed rmin rmax < <(stats "${rt[@]}")
  local ratio
  ratio=$(python3 -c "print(f'{$pmed/max($rmed, 1e-9):.2f}')")
  printf '%-22s pullscan %7.3fs (%s-%s) %7d KB | rg %7.3fs (%s-%s) | ratio %s | truth %s\n' \
    "$case" "$pmed" "$pmin" "$pmax" "$pmem" "$rmed" "$rmin" "$rmax" "$ratio" "$truth"
  echo "$stamp,$machine,$case,pullscan $pargs,$runs,$pmed,$pmin,$pmax,$ratio,$pmem,$truth" >> "$record"
  echo "$stamp,$machine,$case,rg $rargs,$runs,$rmed,$rmin,$rmax,,$rmem," >> "$record"
}

bench "syslog-$SIZE"        "$BENCH_DIR/syslog-$SIZE.log"     ""     "-c"
bench "syslog-$SIZE -j1"    "$BENCH_DIR/syslog-$SIZE.log"     "-j 1" "-c"
bench "syslog-5%-$SIZE"     "$BENCH_DIR/syslog5-$SIZE.log"    ""     "-c"
bench "syslog-$SIZE.gz"     "$BENCH_DIR/syslog-$SIZE.log.gz"  ""     "-z -c"
bench "csv-$SIZE"           "$BENCH_DIR/export-$SIZE.csv"     ""     "-c"
bench "journal-json-$SIZE"  "$BENCH_DIR/journal-$SIZE.log"    ""     "-c"
bench "200K"                "$BENCH_DIR/small.log"            ""     "-c"   "$RUNS_SMALL"

echo "record: $record"
exit $fail
