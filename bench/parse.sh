#!/usr/bin/env bash
# Parse + ECS-normalise throughput of vigil-ingest next to `jq -c .` and
# `wc -l` over the same NDJSON file, in one run.
#
#   bench/parse.sh            # VIGIL_TESTDATA defaults to ../shared/data
#   TARGET_MB=200 RUNS=5 bench/parse.sh
#
# The NDJSON is every EVTX-derived event under $VIGIL_TESTDATA/sigma/regression
# (one compact document per line), repeated to at least TARGET_MB megabytes in
# a temporary folder. Each tool runs RUNS times; the best wall time counts.
# Vigil runs single-threaded (examples/parse_file.rs: LineReader chunks →
# parse_lines, like `vigil ingest`). A loghub syslog file is measured too.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_MB=${TARGET_MB:-50}
RUNS=${RUNS:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}
DATA=${VIGIL_TESTDATA:-$ROOT/../shared/data}

if ! command -v jq >/dev/null; then
  echo "jq is not installed; install it with: apt-get install jq" >&2
  exit 1
fi
if ! command -v bc >/dev/null; then
  echo "bc is not installed; install it with: apt-get install bc" >&2
  exit 1
fi
if [ ! -d "$DATA/sigma/regression" ]; then
  echo "no test data at $DATA (set VIGIL_TESTDATA to the shared data folder)" >&2
  exit 1
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "building the release example…" >&2
cargo build --release --quiet -p vigil-ingest --example parse_file

# One compact JSON document per line; `jq -c .` also splits files holding
# several documents back to back.
find "$DATA/sigma/regression" -name '*.json' -print0 | sort -z | xargs -0 jq -c . >"$TMP/base.ndjson"
: >"$TMP/events.ndjson"
while [ "$(stat -c %s "$TMP/events.ndjson")" -lt $((TARGET_MB * 1000 * 1000)) ]; do
  cat "$TMP/base.ndjson" >>"$TMP/events.ndjson"
done
FILE=$TMP/events.ndjson
BYTES=$(stat -c %s "$FILE")
LINES=$(wc -l <"$FILE")

SYSLOG_SRC=$DATA/logs/loghub/Linux/Linux_2k.log
: >"$TMP/syslog.log"
while [ "$(stat -c %s "$TMP/syslog.log")" -lt $((TARGET_MB * 1000 * 1000 / 5)) ]; do
  cat "$SYSLOG_SRC" >>"$TMP/syslog.log"
done

# best_wall CMD… → best wall seconds over RUNS runs (output discarded)
best_wall() {
  local best="" t0 t1 dt
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$dt < $best" | bc -l)" = 1 ]; then best=$dt; fi
  done
  echo "$best"
}

# vigil_best FILE FORMAT → the parse_file JSON line of the fastest run
vigil_best() {
  local best="" line s
  for _ in $(seq "$RUNS"); do
    line=$(cargo run --release --quiet -p vigil-ingest --example parse_file -- "$1" "$2")
    s=$(echo "$line" | jq -r .seconds)
    if [ -z "$best" ] || [ "$(echo "$s < $(echo "$best" | jq -r .seconds)" | bc -l)" = 1 ]; then best=$line; fi
  done
  echo "$best"
}

cat "$FILE" >/dev/null # warm the page cache
WC=$(best_wall wc -l "$FILE")
JQ=$(best_wall jq -c . "$FILE")
V=$(vigil_best "$FILE" json)
VS=$(echo "$V" | jq -r .seconds)
VE=$(echo "$V" | jq -r .events)
VERR=$(echo "$V" | jq -r .errors)
S=$(vigil_best "$TMP/syslog.log" syslog)

mb() { echo "scale=1; $BYTES / $1 / 1000000" | bc -l; }
eps() { echo "scale=0; $LINES / $1" | bc -l; }

echo
echo "input: $FILE"
echo "       $LINES events, $(echo "scale=1; $BYTES / 1000000" | bc -l) MB (EVTX-derived Sigma regression events × $((LINES / $(wc -l <"$TMP/base.ndjson"))))"
printf '%-34s %10s %14s %10s\n' tool seconds events/s MB/s
printf '%-34s %10.3f %14s %10s\n' "wc -l (floor)" "$WC" "$(eps "$WC")" "$(mb "$WC")"
printf '%-34s %10.3f %14s %10s\n' "jq -c . >/dev/null" "$JQ" "$(eps "$JQ")" "$(mb "$JQ")"
printf '%-34s %10.3f %14s %10s\n' "vigil parse+normalise (1 thread)" "$VS" "$(eps "$VS")" "$(mb "$VS")"
echo
echo "vigil events: $VE, errors: $VERR"
echo "vigil vs jq: $(echo "scale=2; $JQ / $VS" | bc -l)× faster"
echo "vigil vs wc -l: $(echo "scale=2; $VS / $WC" | bc -l)× slower"
echo
echo "syslog (loghub Linux_2k.log repeated, $(echo "$S" | jq -r .bytes) bytes):"
echo "  $(echo "$S" | jq -r '"\(.events) events, \(.errors) errors, \(.seconds | tostring | .[0:6]) s, \(.events_per_second) events/s, \(.mb_per_second) MB/s"')"
