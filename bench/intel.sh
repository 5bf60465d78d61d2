#!/usr/bin/env bash
# Threat-intel benchmark (issue #5 acceptance), every figure from this one
# run on this machine. Not in CI.
#
#   bench/intel.sh                    # VIGIL_TESTDATA defaults to ../shared/data
#   MIN_SECS=10 bench/intel.sh        # longer matching runs
#
# crates/vigil/examples/intel_bench.rs, release build, one matching thread:
#   (a) 1,000,000 indicators of mixed types (IPv4/IPv6/CIDR, domains, URLs,
#       MD5/SHA-1/SHA-256, file names; 17-odd of them values that occur in
#       the corpus so runs have real hits): load time — normalise + merge
#       into the indicator set, then build the match index (wall and CPU);
#   (b) memory of the match index per indicator: RSS delta around building
#       it alone, and its own heap accounting (target ≤ 200 bytes);
#   (c) matching throughput on EVTX-derived events ($DATA/evtx, every
#       record, mapped as `vigil hunt` does) and syslog events
#       ($DATA/logs/loghub/{OpenSSH,Linux}, parsed and sshd-enriched as the
#       listeners do): observable lookups per CPU second of the matching
#       thread (target ≥ 1,000,000 per core), events per CPU second.
# The machine is shared: the load average is printed first, and CPU time
# beside wall time throughout (wall times stretch on a busy machine; CPU
# time does much less).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MIN_SECS=${MIN_SECS:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}
DATA=${VIGIL_TESTDATA:-$ROOT/../shared/data}
TIME=/usr/bin/time

for d in "$DATA/evtx" "$DATA/logs/loghub/OpenSSH"; do
  [ -d "$d" ] || { echo "missing $d (set VIGIL_TESTDATA to the shared data folder)" >&2; exit 1; }
done

read -r L1 L5 _ </proc/loadavg
CPUS=$(nproc)
echo "machine: $CPUS CPUs, load average $L1 (1 min) $L5 (5 min)"
if awk -v l="$L1" -v c="$CPUS" 'BEGIN { exit !(l > c * 0.5) }'; then
  echo "WARNING: load average $L1 on $CPUS CPUs: wall times are unreliable, compare CPU times" >&2
fi

echo "building the benchmark (release)…" >&2
cargo build --release --quiet -p vigil --example intel_bench
BIN=$CARGO_TARGET_DIR/release/examples/intel_bench

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -x "$TIME" ]; then
  "$TIME" -v "$BIN" "$DATA" "$MIN_SECS" 2>"$TMP/time"
  awk -F': ' '
    /User time/ { u = $2 } /System time/ { s = $2 }
    /Elapsed/ { e = $2 } /Maximum resident/ { m = $2 }
    END { printf "process: %.2fs user + %.2fs system CPU, %s wall, peak RSS %.0f MiB (1M indicator records + index + corpus)\n", u, s, e, m / 1024 }
  ' "$TMP/time"
else
  "$BIN" "$DATA" "$MIN_SECS"
fi
read -r L1 L5 _ </proc/loadavg
echo "load average after: $L1 (1 min) $L5 (5 min)"
