#!/usr/bin/env bash
# Response benchmarks (issue #7), every figure from this one run. Not in CI.
#
#   bench/respond.sh            # 50,000 alerts through the store
#   ALERTS=200000 bench/respond.sh
#
# (1) alerts/s through commit_detections on SQLite with aggregation off
#     (baseline) and on (1 h window, 500 rule × entity keys), same run;
#     then the related-alerts entity index catching up with the baseline's
#     change feed (alerts/s indexed; outside the commit);
# (2) playbook triggering: one alert matched against 100 alert-trigger
#     playbooks (criterion, alerts/s);
# (3) step latency without network: a 20-step run driven through the state
#     machine with its JSON round trip between steps (criterion, steps/s).
# Check the load average first: on a busy machine wall times stretch.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}
ALERTS=${ALERTS:-50000}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "== (1) aggregation through the store"
cargo run --release -q -p vigil-store --example aggregate_rate "$ALERTS"
echo "== (2)+(3) engine"
cargo bench -q -p vigil-respond --bench engine -- --warm-up-time 2 --measurement-time 5 2>&1 \
  | grep -E '^respond/|time:|thrpt:'
