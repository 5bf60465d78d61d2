#!/usr/bin/env bash
# Sustained Splunk HEC ingest on loopback against a release `vigil serve`
# (SQLite, fresh data directory): events/s, server CPU, and a check that
# every acknowledged event is stored (nothing lost). Not run in CI.
#
#   bench/hec.sh                         # 60 s, 4 senders, 5000 events/request
#   DURATION=20 SENDERS=2 PER_REQUEST=10000 GZIP=1 bench/hec.sh
#
# Each sender is a loop of `curl --data-binary @body` to
# /services/collector/event with a Vector-shaped body (event objects back
# to back, `time`, `host`, `sourcetype`, `fields`); a request counts only
# when it answered {"code":0}. At the end the server's
# vigil_hec_events_total{outcome="accepted"} and the stored row count must
# equal requests × PER_REQUEST.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
SENDERS=${SENDERS:-4}
PER_REQUEST=${PER_REQUEST:-5000}
GZIP=${GZIP:-0}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}

echo "building the release binary…" >&2
cargo build --release --quiet -p vigil
BIN=$CARGO_TARGET_DIR/release/vigil

TMP=$(mktemp -d)
LOG=$TMP/serve.log
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --data-dir "$TMP/data" serve --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
TOKEN=$(sed -n 's/^Admin token (shown once; store it now): //p' "$LOG")
[ -n "$TOKEN" ] || { cat "$LOG"; exit 1; }
URL=http://127.0.0.1:$PORT

python3 - "$PER_REQUEST" >"$TMP/body" <<'EOF'
import json, sys
n = int(sys.argv[1])
out = []
for i in range(n):
    out.append(json.dumps({
        "time": 1764230000 + i / 1000,
        "host": f"web-{i % 50:02d}",
        "source": "/var/log/nginx/access.log",
        "sourcetype": "nginx:access",
        "index": "main",
        "fields": {"env": "prod", "dc": "fra1"},
        "event": {
            "message": f'10.0.{i % 256}.{i % 199} - - "GET /api/items/{i} HTTP/1.1" 200 {512 + i % 4096}',
            "source_type": "file",
            "user": {"name": "root" if i % 1000 == 0 else f"user{i % 977}"},
            "http": {"response": {"status_code": 200}},
        },
    }, separators=(",", ":")))
sys.stdout.write("".join(out))
EOF
HEADERS=(-H "Authorization: Splunk $TOKEN" -H "Content-Type: application/json")
if [ "$GZIP" = 1 ]; then
  gzip -c "$TMP/body" >"$TMP/body.gz" && mv "$TMP/body.gz" "$TMP/body"
  HEADERS+=(-H "Content-Encoding: gzip")
fi
echo "body: $(stat -c %s "$TMP/body") bytes, $PER_REQUEST events; $SENDERS senders for ${DURATION}s" >&2

cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICKS=$(getconf CLK_TCK)
CPU0=$(cpu)
T0=$(date +%s.%N)
END=$(( $(date +%s) + DURATION ))
for s in $(seq 1 "$SENDERS"); do
  (
    ok=0
    while [ "$(date +%s)" -lt "$END" ]; do
      if curl -fsS "${HEADERS[@]}" --data-binary @"$TMP/body" "$URL/services/collector/event" | grep -q '"code":0'; then
        ok=$((ok + 1))
      fi
    done
    echo $ok >"$TMP/sender.$s"
  ) &
done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
T1=$(date +%s.%N)
CPU1=$(cpu)

REQS=$(cat "$TMP"/sender.* | paste -sd+ | bc)
SENT=$((REQS * PER_REQUEST))
ACCEPTED=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/metrics" |
  sed -n 's/^vigil_hec_events_total{endpoint="event",outcome="accepted"} //p')
kill -TERM $PID; wait $PID || true
STORED=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from events').fetchone()[0])" "$TMP/data/vigil.db")
WALL=$(echo "$T1 - $T0" | bc)
echo "requests acknowledged: $REQS"
echo "events acknowledged:   $SENT"
echo "events accepted (metric): ${ACCEPTED:-?}"
echo "events stored:         $STORED"
printf 'throughput:            %.0f events/s over %.1f s\n' "$(echo "$SENT / $WALL" | bc -l)" "$WALL"
printf 'server CPU:            %.0f%% of one core (%s cores)\n' \
  "$(echo "($CPU1 - $CPU0) / $TICKS / $WALL * 100" | bc -l)" "$(nproc)"
if [ "$STORED" -lt "$SENT" ]; then echo "LOST: $((SENT - STORED)) acknowledged events" >&2; exit 1; fi
