#!/usr/bin/env bash
# Starts `vigil serve` on a fresh data directory and runs schemathesis against
# its OpenAPI document: bounded examples per operation, fixed seed, time cap.
# Fails on any 5xx or any response that breaks the schema.
set -euo pipefail
ST=${1:?usage: schemathesis.sh PATH-TO-SCHEMATHESIS}
BIN=${CARGO_TARGET_DIR:?}/debug/vigil
cargo build -q --locked -p vigil
DATA=$(mktemp -d)
LOG=$DATA/serve.log
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$LOG" && break
  sleep 0.1
done
TOKEN=$(sed -n 's/^Admin token (shown once; store it now): //p' "$LOG")
[ -n "$TOKEN" ] || { cat "$LOG"; echo "no admin token printed" >&2; exit 1; }
BASE=http://127.0.0.1:$PORT
curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/openapi.json" -o "$DATA/openapi.json"
# Seed some data so read operations have something to return.
printf '{"user":{"name":"root"},"host":{"name":"h1"}}\n{"bad json\n' |
  curl -fsS -H "Authorization: Bearer $TOKEN" --data-binary @- "$BASE/api/v1/ingest" >/dev/null
timeout 600 "$ST" run "$DATA/openapi.json" \
  --url "$BASE" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --max-examples 25 --seed 20261127 --max-time 240 --workers 1 \
  --request-timeout 30 --no-shrink --warnings off
