#!/usr/bin/env bash
# Vulnerability-management benchmark (issue #6 acceptance), every figure
# from this one run on this machine. Not in CI.
#
#   bench/vuln.sh                 # VIGIL_TESTDATA defaults to ../shared/data
#   RUNS=9 bench/vuln.sh
#   SKIP_E2E=1 bench/vuln.sh      # only the in-process figures
#
# (a) In process (crates/vigil-vuln/examples/vuln_bench.rs, one thread):
#     OSV import time and records/s for the real records in
#     $VIGIL_TESTDATA/osv (read + parse JSON/YAML + index) and for 100,000
#     synthetic records derived from them with a fixed seed (JSON parse +
#     index); matching throughput (components/s) of a 5,000-component SBOM
#     against all real records and against the 100,000 — target: under one
#     second of CPU on one core; peak RSS.
# (b) End to end, the release `vigil` binary on a fresh data directory
#     (SQLite): `vigil vulns import osv` of the real records, then of the
#     100,000 synthetic ones (store + reload + index + re-match), then
#     `vigil sbom import` of the 5,000-component SBOM against them (load
#     the 100,000 stored records, index, match, reconcile, prioritise,
#     save); wall, user+sys CPU and peak RSS of each via /usr/bin/time -v.
# CPU time is reported beside wall time throughout; the load average is
# printed first (the machine is shared: wall times stretch under load).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}
export VIGIL_TESTDATA=${VIGIL_TESTDATA:-$ROOT/../shared/data}
export RUNS=${RUNS:-5}
TIME=/usr/bin/time
[ -d "$VIGIL_TESTDATA/osv" ] || { echo "missing $VIGIL_TESTDATA/osv (set VIGIL_TESTDATA to the shared data folder)" >&2; exit 1; }
[ -x "$TIME" ] || { echo "$TIME is missing; install it with: apt-get install time" >&2; exit 1; }

read -r L1 L5 L15 _ </proc/loadavg
echo "machine: $(nproc) CPUs, load average $L1 $L5 $L15 (1, 5, 15 min)"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "building the release example and binary…" >&2
cargo build --release --quiet -p vigil-vuln --example vuln_bench
[ -n "${SKIP_E2E:-}" ] || cargo build --release --quiet -p vigil --bin vigil
BENCH=$CARGO_TARGET_DIR/release/examples/vuln_bench
VIGIL=$CARGO_TARGET_DIR/release/vigil

echo "=== (a) in process"
if [ -n "${SKIP_E2E:-}" ]; then "$BENCH"; else "$BENCH" --write "$TMP/syn"; fi

[ -n "${SKIP_E2E:-}" ] && exit 0

# run LABEL CMD… → one line: wall, user+sys CPU, peak RSS
run() {
  local label=$1; shift
  "$TIME" -v -o "$TMP/time.txt" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" || {
    echo "$label failed:" >&2; cat "$TMP/err.txt" >&2; exit 1; }
  awk -v label="$label" -F': ' '
    /Elapsed \(wall clock\)/ { wall = $2 }
    /User time/ { user = $2 }
    /System time/ { sys = $2 }
    /Maximum resident set size/ { rss = $2 }
    END { printf "%s: wall %s, CPU %.2f s (user %.2f + sys %.2f), peak RSS %.0f MiB\n", label, wall, user + sys, user, sys, rss / 1024 }
  ' "$TMP/time.txt"
  sed 's/^/    /' "$TMP/out.txt"
}

echo "=== (b) end to end (release vigil, SQLite)"
N_REAL=$(find "$VIGIL_TESTDATA/osv" -path '*schema*' -prune -o \( -name '*.json' -o -name '*.yaml' \) -print | wc -l)
run "vigil vulns import osv (real, $N_REAL files)" \
  "$VIGIL" --data-dir "$TMP/real" vulns import osv "$VIGIL_TESTDATA/osv" -q
run "vigil vulns import osv (synthetic, 100000 files)" \
  "$VIGIL" --data-dir "$TMP/syn-data" vulns import osv "$TMP/syn/osv" -q
run "vigil sbom import (5000 components vs 100000 stored records)" \
  "$VIGIL" --data-dir "$TMP/syn-data" sbom import "$TMP/syn/sbom.cdx.json" --asset bench
run "vigil sbom import again (same SBOM: reconcile, nothing new)" \
  "$VIGIL" --data-dir "$TMP/syn-data" sbom import "$TMP/syn/sbom.cdx.json" --asset bench
read -r L1 L5 L15 _ </proc/loadavg
echo "load average after: $L1 $L5 $L15"
