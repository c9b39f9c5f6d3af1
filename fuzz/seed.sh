#!/usr/bin/env bash
# Seeds each fuzz target's corpus (fuzz/corpus/TARGET, not committed) from the project's
# committed fixtures and the hostile-input generator (tests/hostile/gen_hostile.py, when a
# Python with onnx and numpy is given as $PYTHON).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
mkdir -p "$corpus"/{onnx_import,onnx_run,npy_npz,qdq_lower,v2_request}
copy() { # copy DEST FILES... (by content hash, so seeding twice adds nothing)
    local dest=$1; shift
    for f in "$@"; do cp "$f" "$corpus/$dest/$(sha1sum "$f" | cut -c1-16)"; done
}
mapfile -t models < <(find tests/fixtures crates -name '*.onnx' -size -64k | sort)
copy onnx_import "${models[@]}"
copy onnx_run "${models[@]}"
mapfile -t qdq < <(printf '%s\n' "${models[@]}" | grep -iE 'qdq|quant')
copy qdq_lower "${qdq[@]}"
mapfile -t arrays < <(find tests/fixtures crates \( -name '*.npy' -o -name '*.npz' \) -size -64k | sort)
copy npy_npz "${arrays[@]}"
copy v2_request tests/fixtures/fuzz/v2_request/*
if [ -n "${PYTHON:-}" ]; then
    hostile=$(mktemp -d)
    "$PYTHON" tests/hostile/gen_hostile.py "$hostile" >/dev/null
    mapfile -t hm < <(find "$hostile" -name '*.onnx' -size -64k)
    copy onnx_import "${hm[@]}"
    copy onnx_run "${hm[@]}"
    mapfile -t ha < <(find "$hostile" \( -name '*.npy' -o -name '*.npz' \) -size -64k)
    copy npy_npz "${ha[@]}"
    rm -rf "$hostile"
fi
for t in "$corpus"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
