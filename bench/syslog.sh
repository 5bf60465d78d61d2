#!/usr/bin/env bash
# Sustained syslog ingest on loopback against a release `vigil serve`
# (SQLite, fresh data directory) with a TCP and a UDP listener: events/s,
# server CPU, drops counted by Vigil and by the kernel (/proc/net/udp), and
# a check that every byte TCP delivered ends up stored (nothing lost).
# Not run in CI.
#
#   bench/syslog.sh                        # tcp then udp, 60 s each, 4 senders
#   DURATION=20 SENDERS=2 PROTOCOLS=tcp bench/syslog.sh
#   UDP_RATE=50000 bench/syslog.sh         # pace UDP senders (datagrams/s each; 0 = flat out)
#
# Senders are Python processes (one per connection) writing RFC 5424 lines,
# newline-framed over TCP (sendall of 1,000-line buffers, so TCP
# back-pressure paces them) and one datagram per message over UDP.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
SENDERS=${SENDERS:-4}
PROTOCOLS=${PROTOCOLS:-"tcp udp"}
UDP_RATE=${UDP_RATE:-0}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil-target}
command -v bc >/dev/null || { echo "bc is not installed; install it with: apt-get install bc" >&2; exit 1; }

echo "building the release binary…" >&2
cargo build --release --quiet -p vigil
BIN=$CARGO_TARGET_DIR/release/vigil

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat >/tmp/vigil-syslog-sender.py <<'PY'
import socket, sys, time
proto, port, seconds, sender, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def line(i):
    return (f'<134>1 2026-11-27T10:00:00.{i % 1000000:06d}Z web-{sender:02d} nginx {1000 + sender} ACCESS '
            f'[req@32473 id="{i}"] 10.0.{i % 256}.{i % 199} GET /api/items/{i} 200 {512 + i % 4096}\n')
sent = 0
end = time.monotonic() + seconds
if proto == "tcp":
    s = socket.create_connection(("127.0.0.1", port))
    while time.monotonic() < end:
        buf = "".join(line(sent + k) for k in range(1000)).encode()
        s.sendall(buf)
        sent += 1000
    s.close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    msgs = [line(k).rstrip("\n").encode() for k in range(1000)]
    start = time.monotonic()
    while time.monotonic() < end:
        for m in msgs:
            s.sendto(m, ("127.0.0.1", port))
        sent += 1000
        if rate:
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
print(sent)
PY

udp_kernel_drops() { # sum of the drops column of /proc/net/udp rows on port $1
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && $2 ~ p"$" { d += $NF } END { print d + 0 }' /proc/net/udp
}

for PROTO in $PROTOCOLS; do
  TMP=$(mktemp -d)
  LP=$(free_port)
  HP=$(free_port)
  cat >"$TMP/vigil.toml" <<TOML
[[listeners.syslog]]
name = "bench"
protocol = "$PROTO"
listen = "127.0.0.1:$LP"
TOML
  "$BIN" --data-dir "$TMP/data" --config "$TMP/vigil.toml" serve --listen "127.0.0.1:$HP" >"$TMP/serve.log" 2>&1 &
  PID=$!
  trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
  for _ in $(seq 1 100); do grep -q "listening on" "$TMP/serve.log" && break; sleep 0.1; done
  TOKEN=$(sed -n 's/^Admin token (shown once; store it now): //p' "$TMP/serve.log")
  [ -n "$TOKEN" ] || { cat "$TMP/serve.log"; exit 1; }
  echo "== $PROTO: $SENDERS senders for ${DURATION}s" >&2

  cpu() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
  TICKS=$(getconf CLK_TCK)
  KD0=$(udp_kernel_drops "$LP")
  CPU0=$(cpu)
  T0=$(date +%s.%N)
  for s in $(seq 1 "$SENDERS"); do
    python3 /tmp/vigil-syslog-sender.py "$PROTO" "$LP" "$DURATION" "$s" "$UDP_RATE" >"$TMP/sent.$s" &
  done
  wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
  SENT=$(cat "$TMP"/sent.* | paste -sd+ | bc)
  # Wait until the pipeline stops committing (queues drained); the end
  # time is the last moment the committed count grew.
  ingested() { curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HP/metrics" |
    sed -n 's/^vigil_events_ingested_total //p'; }
  LAST=$(ingested); T1=$(date +%s.%N); CPU1=$(cpu); STILL=0
  while [ "$STILL" -lt 10 ]; do
    sleep 0.1
    NOW=$(ingested)
    if [ "$NOW" != "$LAST" ]; then LAST=$NOW; T1=$(date +%s.%N); CPU1=$(cpu); STILL=0; else STILL=$((STILL + 1)); fi
  done
  KD1=$(udp_kernel_drops "$LP")
  M=$(curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HP/metrics")
  metric() { echo "$M" | sed -n "s/^vigil_listener_$1_total{[^}]*} //p" | head -1; }
  RECEIVED=$(metric received)
  DROPPED=$(metric dropped)
  KDROPPED=$(metric kernel_dropped)
  REJECTED=$(metric rejected)
  kill -TERM $PID; wait $PID || true
  trap - EXIT
  STORED=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from events').fetchone()[0])" "$TMP/data/vigil.db")
  WALL=$(echo "$T1 - $T0" | bc)
  echo "sent:                  $SENT"
  echo "received (metric):     ${RECEIVED:-?}"
  echo "rejected (metric):     ${REJECTED:-0}"
  echo "dropped by Vigil:      ${DROPPED:-0}"
  echo "dropped by the kernel: $((KD1 - KD0)) (/proc/net/udp; Vigil's mirror vigil_listener_kernel_dropped_total: ${KDROPPED:-0})"
  echo "stored:                $STORED"
  printf 'throughput:            %.0f stored events/s over %.1f s (first send to last commit)\n' "$(echo "$STORED / $WALL" | bc -l)" "$WALL"
  printf 'server CPU:            %.0f%% of one core (%s cores)\n' \
    "$(echo "($CPU1 - $CPU0) / $TICKS / $WALL * 100" | bc -l)" "$(nproc)"
  if [ "$PROTO" = tcp ] && [ "$STORED" -lt "$SENT" ]; then
    echo "LOST: $((SENT - STORED)) TCP events" >&2
    rm -rf "$TMP"
    exit 1
  fi
  if [ "$PROTO" = udp ]; then
    ACCOUNTED=$(( STORED + ${DROPPED:-0} + KD1 - KD0 + ${REJECTED:-0} ))
    echo "udp accounted:         $ACCOUNTED of $SENT (stored + Vigil drops + kernel drops + rejects)"
  fi
  rm -rf "$TMP"
done
