#!/usr/bin/env bash
# Re-measures the numbers in README.md on this machine: the Go engine against
# onnxruntime (onnxbench), structured pruning's effect on size, MACs and
# latency, and global pruning of VGG-16 against torch.nn.utils.prune (when
# Debian's python3-torch is installed). Run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out}
FIX=${FIXTURES:-../shared/fixtures}
T=${BENCH_TIME:-5s}
mkdir -p "$OUT"
make -s build
echo "== onnxbench: Go engine against onnxruntime, 2 threads"
bin/onnxbench "$FIX/resnet18/model.onnx" --backend go,ort --batch 1,8 --threads 2 --time "$T" --no-progress
bin/onnxbench "$FIX/mobilenet_v2/model.onnx" --backend go,ort --batch 1,8 --threads 2 --time "$T" --no-progress
bin/onnxbench "$FIX/mnist_cnn/model.onnx" --backend go,ort --batch 256 --threads 2 --time "$T" --no-progress

echo "== structured pruning, l1, amount 0.3, shrink"
for m in resnet18 mobilenet_v2; do
  bin/onnxprune --structured l1 --amount 0.3 --force -o "$OUT/$m.s30.onnx" "$FIX/$m/model.onnx" >/dev/null
  bin/onnxprune --structured l1 --amount 0.3 --round-to 8 --force -o "$OUT/$m.s30r8.onnx" "$FIX/$m/model.onnx" >/dev/null
  for f in "$FIX/$m/model.onnx" "$OUT/$m.s30.onnx" "$OUT/$m.s30r8.onnx"; do
    bin/onnxmem "$f" --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%-40s params %12d  MACs %14d" % (sys.argv[1], r["params"]["count"], r["macs"]))' "$f"
    bin/onnxbench "$f" --backend go,ort --batch 1 --threads 2 --time "$T" --no-progress | tail -2
  done
done

echo "== global pruning of VGG-16 (amount 0.5)"
[ -f "$OUT/vgg16.onnx" ] || bin/onnxzoo vgg16 -o "$OUT/vgg16.onnx" >/dev/null
go run ./prune/testdata/vgg16bench time "$OUT/vgg16.onnx" 0.5 | head -1
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  go run ./prune/testdata/vgg16bench dump "$OUT/vgg16.onnx" "$OUT/vgg16.raw" >/dev/null
  /usr/bin/python3 prune/testdata/vgg16bench/torch_global.py "$OUT/vgg16.raw" 0.5 | grep -E "^torch|global_unstructured|^global"
  rm -f "$OUT/vgg16.raw" "$OUT/vgg16.raw.json"
else
  echo "(python3-torch not installed: apt-get install python3-torch for the comparison)"
fi
echo "== onnxmem against reading the file once"
OUT="$OUT" scripts/bench-onnxmem.sh
