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
# efficientnet_b0 (SiLU, squeeze-and-excitation) and googlenet, exported
# from torchvision with random weights (scripts/export-torchvision.py).
if [ -f "$OUT/efficientnet_b0.onnx" ] && [ -f "$OUT/googlenet.onnx" ] || /usr/bin/python3 scripts/export-torchvision.py >/dev/null; then
  bin/onnxbench "$OUT/efficientnet_b0.onnx" --backend go,ort --batch 1,8 --threads 2 --time "$T" --no-progress
  bin/onnxbench "$OUT/googlenet.onnx" --backend go,ort --batch 1,8 --threads 2 --time "$T" --no-progress
else
  echo "(python3-torch not installed: no efficientnet_b0 or googlenet to measure)"
fi
echo "== CPU time per inference on one thread (perf stat task-clock, 25 minus 5 timed runs; steadier than latency on a shared machine)"
if command -v perf >/dev/null && perf stat -e task-clock true 2>/dev/null; then
  cpu_ms() { perf stat -x, -e task-clock bin/onnxbench "$1" --backend "$2" --batch "$3" --threads 1 --iters "$4" --warmup 2 --no-progress 2>&1 >/dev/null | awk -F, '/task-clock/{print $1}'; }
  for spec in "$FIX/resnet18/model.onnx 1" "$FIX/mobilenet_v2/model.onnx 1" "$FIX/mnist_cnn/model.onnx 256" "$OUT/efficientnet_b0.onnx 1" "$OUT/googlenet.onnx 1"; do
    set -- $spec
    [ -f "$1" ] || continue
    for be in go ort; do
      a=$(cpu_ms "$1" $be "$2" 5); b=$(cpu_ms "$1" $be "$2" 25)
      awk -v m="$1" -v be=$be -v n="$2" -v a="$a" -v b="$b" 'BEGIN{printf "%-44s batch %-4s %-4s %8.2f CPU ms per inference\n", m, n, be, (b-a)/20}'
    done
  done
fi

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
