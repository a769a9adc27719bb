#!/usr/bin/env bash
# onnxsweep's part of `make demo`: the MNIST sweep of the README (global and
# local, 20 amounts, without and with one epoch of fine-tuning: about 80
# points, minutes on 2 cores), the layer sensitivity with a plan for 80%
# sparsity, report.html, and a headless-Chromium screenshot of it. Writes out/sweep/
# and copies the curves and the screenshot to docs/onnxsweep/ (DOCS=0 to
# skip the copy).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${ONNXPRUNE_SHARED:-../shared}/fixtures/mnist_cnn/model.onnx
if [ ! -f "$model" ]; then
  echo "sweep-demo: $model is absent: skipped" >&2
  exit 0
fi
mkdir -p bin out
go build -o bin/ ./cmd/onnxsweep
dir=out/sweep
set -x
bin/onnxsweep sensitivity "$model" --dataset mnist --levels 0.05:0.95:0.05 --limit 2000 --target 0.8 --out "$dir"
bin/onnxsweep "$model" --dataset mnist --amounts 0:0.95:0.05 --methods global,local --finetune-epochs 1 --latency go --out "$dir" --fresh --report
set +x
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
  profile=$(mktemp -d)
  "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
    --disable-component-update --disable-sync --user-data-dir="$profile" --window-size=1200,2200 \
    --screenshot="$dir/report.png" "file://$PWD/$dir/report.html" 2>/dev/null
  rm -rf "$profile"
  echo "sweep-demo: screenshot $dir/report.png" >&2
fi
if [ "${DOCS:-1}" = 1 ]; then
  mkdir -p docs/onnxsweep
  cp "$dir/accuracy.png" "$dir/sensitivity.png" docs/onnxsweep/
  [ -f "$dir/report.png" ] && cp "$dir/report.png" docs/onnxsweep/
fi
