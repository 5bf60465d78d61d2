#!/usr/bin/env bash
# Console benchmark (issue #9), not in CI: server time to render the alert
# queue, the dashboard and an incident page with 100,000 alerts and 1,000
# incidents stored (target: under 50 ms each).
#
#   bench/console.sh                         # 100,000 alerts, 1,000 incidents, 100,000 indicators
#   ALERTS=200000 INCIDENTS=2000 INDICATORS=500000 bench/console.sh
#
# Seeds a temporary SQLite data directory (crates/vigil-store/examples/
# console_seed.rs), starts the release `vigil serve`, signs in with curl and
# requests each page RUNS times (after one warm-up), printing the median and
# the 95th percentile of the time to the first byte and the whole answer.
# Check the load average first: on a busy machine the times stretch.
#
# 2026-11-27 (session 5), release build, SQLite, load average 0.7 on 2
# cores, medians (p95): dashboard 4.3 ms (10.4; was 44.4 (68.1) before the
# complete hours of the 24-hour chart were counted once), queue open/newest
# 4.3 ms (7.5), queue all/severity 3.7 ms (10.1), queue high + text 23.8 ms
# (29.7), queue rule/oldest 11.6 ms (15.2), incident page 2.6 ms (5.4),
# incidents list 4.0 ms (7.6).
#
# 2026-11-27 (session 6), same build settings, 100,000 indicators seeded
# too, load average 1.6 on 2 cores, medians (p95): dashboard 3.8 ms (8.9),
# queue 2.3–14.9 ms, incident page 2.0 ms (7.5), alert page 4.4 ms (5.3),
# indicator search by feed 2.4 ms (3.5), by value prefix 16.8 ms (26.7),
# intel feeds with counts 17.1 ms (27.6; was 0.36 s per 100k indicators
# before the feed index of migration 40030), rules 1.1, vulns 1.2,
# settings 1.5, threat register 17.2 ms (21.3) and ATT&CK coverage 20.5 ms
# (23.4) — both 870 and 845 ms before: they read every indicator and
# grouped every alert of the window by its tag text.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}
ALERTS=${ALERTS:-100000}
INCIDENTS=${INCIDENTS:-1000}
INDICATORS=${INDICATORS:-100000}
RUNS=${RUNS:-30}
PORT=${PORT:-18490}
PW="bench password 1234"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
cargo build --release -q -p vigil --bin vigil
cargo build --release -q -p vigil-store --example console_seed
DATA=$(mktemp -d)
SERVER=
cleanup() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi; wait 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
"$CARGO_TARGET_DIR/release/examples/console_seed" "$DATA/data" "$ALERTS" "$INCIDENTS" "$PW" "$INDICATORS" | tee "$DATA/seed.log"
ALERT=$(sed -n 's/^alert: //p' "$DATA/seed.log")
VIGIL_LOG=warn "$CARGO_TARGET_DIR/release/vigil" --data-dir "$DATA/data" serve --listen "127.0.0.1:$PORT" > "$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
JAR="$DATA/jar"
# The sign-in form's pre-session token (cookie + field), then sign in.
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="login_csrf" value="\([^"]*\)".*/\1/p')
curl -s -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "username=bench" --data-urlencode "password=$PW" \
  --data-urlencode "login_csrf=$TOKEN" "http://127.0.0.1:$PORT/login"
INC=$(( INCIDENTS / 2 ))
measure() { # measure NAME PATH
  local name=$1 path=$2
  curl -s -o /dev/null -b "$JAR" "http://127.0.0.1:$PORT$path"   # warm-up
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -b "$JAR" "http://127.0.0.1:$PORT$path")
  [ "$code" = 200 ] || { echo "$name: HTTP $code" >&2; exit 1; }
  for _ in $(seq 1 "$RUNS"); do
    curl -s -o /dev/null -b "$JAR" -w '%{time_starttransfer} %{time_total}\n' "http://127.0.0.1:$PORT$path"
  done | sort -n | awk -v name="$name" -v n="$RUNS" '
    { ttfb[NR] = $1 * 1000; total[NR] = $2 * 1000 }
    END {
      m = int((n + 1) / 2); p = int(n * 0.95); if (p < 1) p = 1
      printf "%-34s median %6.1f ms  p95 %6.1f ms  (first byte; whole answer median %.1f ms)\n", name, ttfb[m], ttfb[p], total[m]
    }'
}
echo "== $ALERTS alerts, $INCIDENTS incidents, $INDICATORS indicators, $RUNS requests per page"
measure "dashboard /"                       "/"
measure "alert queue (open, newest)"        "/alerts"
measure "alert queue (all, severity sort)"  "/alerts?status=all&sort=severity"
measure "alert queue (high, text filter)"   "/alerts?status=all&severity=high&q=host-42"
measure "alert queue (rule, oldest)"        "/alerts?status=all&rule=bench-rule-7&sort=oldest"
measure "incident page INC-$INC"            "/incidents/$INC"
measure "incidents list"                    "/incidents"
measure "alert page"                        "/alerts/$ALERT"
measure "indicator search (feed, active)"   "/intel?feed=bench-feed-3&state=active"
measure "indicator search (value prefix)"   "/intel?q=10.1.&match=prefix"
measure "intel feeds (counts per feed)"     "/intel/feeds"
measure "rules"                             "/rules"
measure "vulnerabilities"                   "/vulns"
measure "threat register"                   "/threats"
measure "ATT&CK coverage"                   "/coverage"
measure "settings"                          "/settings"
