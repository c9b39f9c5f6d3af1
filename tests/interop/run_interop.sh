#!/usr/bin/env bash
# Interop with a real v2 peer: Triton's Python HTTP client (tritonclient, pinned) against
# `burnish serve` on loopback. Called by .ci/run after the tests. An install failure prints
# "skipped: why" and exits 0; a failed check exits 1. Every process is stopped by its id.
set -uo pipefail
cd "$(dirname "$0")/../.."

TRITONCLIENT=2.41.0
NUMPY='numpy<2'
BIN=target/debug/burnish
VENV=target/interop-venv

skip() { echo "interop: skipped: $*"; exit 0; }

[ -x "$BIN" ] || skip "$BIN is not built (run cargo test first)"
command -v python3 >/dev/null || skip "no python3"
if [ ! -x "$VENV/bin/python" ]; then
    timeout 120 python3 -m venv "$VENV" >/dev/null 2>&1 || skip "python3 -m venv failed"
fi
if ! "$VENV/bin/python" -c "import tritonclient.http, numpy" 2>/dev/null; then
    timeout 300 "$VENV/bin/pip" install -q "tritonclient[http]==$TRITONCLIENT" "$NUMPY" \
        >"$VENV.pip.log" 2>&1 || skip "pip install tritonclient[http]==$TRITONCLIENT failed (see $VENV.pip.log)"
fi

OUT=$(mktemp)
"$BIN" serve tests/fixtures/models/digits_cnn.onnx --http 127.0.0.1:0 --max-batch 4 >"$OUT" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -f "$OUT"' EXIT
ADDR=
for _ in $(seq 1 100); do
    ADDR=$(awk '/^http /{print $2; exit}' "$OUT")
    [ -n "$ADDR" ] && break
    kill -0 $PID 2>/dev/null || break
    sleep 0.1
done
[ -n "$ADDR" ] || { echo "interop: burnish serve did not start:"; cat "$OUT"; exit 1; }

timeout 120 "$VENV/bin/python" tests/interop/tritonclient_check.py "$ADDR" \
    tests/fixtures/models/digits_cnn.inputs.npz tests/fixtures/models/digits_cnn.outputs.npz
STATUS=$?
[ $STATUS -eq 0 ] && echo "interop: tritonclient $TRITONCLIENT against burnish serve: ok"
exit $STATUS
