#!/usr/bin/env bash
# Regenerates test/fixtures/onnx/ (see its README.md): Custodia encodes the NSL-KDD 20%
# fixture, scikit-learn trains a random forest on it, the onnx package writes it as ONNX,
# and Custodia adds the normal records' reference row to its sidecar (add-reference.mjs).
# Needs `npm run build` first, and Debian's python3-sklearn and python3-onnx
# (apt-get install -y python3-sklearn python3-onnx). Deterministic: a rerun with the same
# package versions writes the same bytes.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/../../test/fixtures/onnx"
tmp=$(mktemp -t custodia-nsl-kdd-encoded-XXXXXX.csv)
trap 'rm -f "$tmp"' EXIT
node "$here/encode-nsl-kdd.mjs" > "$tmp"
"${CUSTODIA_PYTHON:-/usr/bin/python3}" "$here/make-nsl-kdd-onnx.py" "$tmp" "$out"
for sidecar in "$out"/nsl-kdd-random-forest.onnx.json "$out"/nsl-kdd-random-forest-classes.onnx.json; do
  node "$here/add-reference.mjs" "$sidecar"
done
