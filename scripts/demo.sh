#!/usr/bin/env bash
# The main job, end to end, on real models and real data. Installs what it
# needs on first use (scripts/setup.sh), builds the tools into bin/, and works
# in out/ (OUT=... to change). Every command onnxprune ships is run here.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out}
FIX=${FIXTURES:-../shared/fixtures}
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

scripts/setup.sh
make -s build

step "Every architecture of the zoo" bin/onnxzoo list
[ -f "$OUT/vgg16.onnx" ] || step "VGG-16 as an ONNX file (553 MB)" bin/onnxzoo vgg16 -o "$OUT/vgg16.onnx"
[ -f "$OUT/resnet18.onnx" ] || step "ResNet-18, BatchNorm folded as exporters do" bin/onnxzoo resnet18 --bn fold -o "$OUT/resnet18.onnx"
[ -f "$OUT/mobilenet_v2.onnx" ] || step "MobileNetV2, BatchNorm folded" bin/onnxzoo mobilenet_v2 --bn fold -o "$OUT/mobilenet_v2.onnx"

step "What VGG-16 costs" bin/onnxmem "$OUT/vgg16.onnx" --top 5
step "... training at batch 32 with Adam, in float16" bin/onnxmem "$OUT/vgg16.onnx" --batch 32 --dtype float16 --optimizer adam --top 0 --csv

step "Global magnitude pruning of half of VGG-16's weights" bin/onnxprune --amount 0.5 --scope global --force "$OUT/vgg16.onnx"
step "The pruned VGG-16 gives the same answers in the Go engine and in onnxruntime" \
  bin/onnxrun "$OUT/vgg16.pruned.onnx" --random --batch 2 --compare go,ort

step "Structured pruning: 30% of ResNet-18's channels removed" \
  bin/onnxprune --structured l1 --amount 0.3 --force -o "$OUT/resnet18.s30.onnx" "$OUT/resnet18.onnx"
step "... it is smaller" bin/onnxmem "$OUT/resnet18.s30.onnx" --top 3
step "... and faster (Go engine against onnxruntime, original then pruned)" \
  bin/onnxbench "$OUT/resnet18.onnx" --backend go,ort --batch 1 --time 2s
bin/onnxbench "$OUT/resnet18.s30.onnx" --backend go,ort --batch 1 --time 2s

if [ -d "$FIX" ]; then
  step "PyTorch's reference outputs, reproduced by both backends" \
    bin/onnxrun "$FIX/resnet18/model.onnx" --inputs "$FIX/resnet18/test_data_set_0" --compare go,ort --expect "$FIX/resnet18/test_data_set_0"
  printf '\n== ... and on every fixture model\n'
  for m in "$FIX"/*/model*.onnx; do
    d=$(dirname "$m")
    [ -d "$d/test_data_set_0" ] || continue
    bin/onnxrun "$m" --inputs "$d/test_data_set_0" --compare go,ort --expect "$d/test_data_set_0" >/dev/null
    echo "ok  $m: Go engine and onnxruntime both within tolerance of PyTorch"
  done
  step "A trained MNIST net on the 10,000 MNIST test images (PyTorch: 98.57%)" \
    bin/onnxeval "$FIX/mnist_cnn/model.onnx" --dataset mnist
  step "Pruned globally by 90%" bin/onnxprune --amount 0.9 --scope global --force -o "$OUT/mnist_cnn.g90.onnx" "$FIX/mnist_cnn/model.onnx"
  step "... its accuracy (PyTorch: 95.33%)" bin/onnxeval "$OUT/mnist_cnn.g90.onnx" --dataset mnist
  step "... and with sparse storage: a smaller file, same outputs in onnxruntime" \
    bin/onnxprune --amount 0.9 --scope global --sparse-format --force -o "$OUT/mnist_cnn.g90.sparse.onnx" "$FIX/mnist_cnn/model.onnx"
  ls -l "$OUT/mnist_cnn.g90.onnx" "$OUT/mnist_cnn.g90.sparse.onnx"
  bin/onnxbench "$FIX/mnist_cnn/model.onnx" --backend go,ort --batch 256 --time 2s
  step "Fine-tuning the 90%-pruned net for one epoch on the 60,000 training images, zeros kept (PyTorch: 98.31%)" \
    bin/onnxtune "$OUT/mnist_cnn.g90.onnx" --dataset mnist --epochs 1 --batch 64 --optimizer sgd --lr 0.01 --momentum 0.9 --val-test --checkpoint-dir none -o "$OUT/mnist_cnn.g90.ft.onnx"
  step "... its accuracy on the test images" bin/onnxeval "$OUT/mnist_cnn.g90.ft.onnx" --dataset mnist --top-k 5
  step "... the same in onnxruntime" bin/onnxeval "$OUT/mnist_cnn.g90.ft.onnx" --dataset mnist --backend ort
  step "A paddle2onnx model (weights in Constant nodes, symbolic height and width): cost, prune, run in both engines" \
    bin/onnxmem testdata/exporters/paddleocr/ch_ppocr_mobile_v2.0_cls_infer.onnx --input-shape x:1,3,48,192 --top 3
  bin/onnxprune --structured l1 --amount 0.3 --input-shape x:1,3,48,192 --force -o "$OUT/ppocr_cls.s30.onnx" testdata/exporters/paddleocr/ch_ppocr_mobile_v2.0_cls_infer.onnx
  bin/onnxrun "$OUT/ppocr_cls.s30.onnx" --random --input-shape x:4,3,48,192 --compare go,ort
  step "Accuracy against sparsity (global and local, 20 amounts), layer sensitivity, a plan for 80%, and the HTML report" \
    env DOCS=0 scripts/sweep-demo.sh
else
  echo "(no $FIX: the fixture steps are skipped)"
fi
echo; echo "demo: done; files in $OUT/"
