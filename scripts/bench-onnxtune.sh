#!/bin/sh
# The onnxtune measurements of the README (long runs, minutes; not tests):
#   1. MNIST from scratch: the zoo's tutorial-cnn-mnist, 3 epochs, SGD 0.01
#      momentum 0.9, batch 64 (PyTorch: 98.57%, fixtures/mnist_cnn/meta.json)
#   2. fine-tuning mnist_cnn pruned globally to 0.9, 1 epoch, same optimizer
#      (PyTorch: 98.31%, fixtures/mnist_cnn/pruning.json)
#   3. mnist_cnn to 95% global sparsity: gradual (cubic) over 3 epochs
#      against one-shot (onnxprune 0.95, then the same 3 epochs)
#   4. training images/s against PyTorch (scripts/torch-train-bench.py),
#      same threads and batch, alternating runs side by side
#   6. the same against PyTorch on mnist_resnet8 (BatchNorm in training
#      mode, model_bn.onnx), batch 128, one thread, 1,280 images
#   5. transfer learning: tutorial-cnn-mnist with 5 classes trained 2 epochs
#      on digits 0-4, then a new head for digits 5-9 (1 epoch), features
#      frozen and not; test accuracy on the 5-9 test images and time
# Usage: scripts/bench-onnxtune.sh [what...]   (default: all of 1 2 3 4 5 6)
set -eu
cd "$(dirname "$0")/.."
F=../shared/fixtures
mkdir -p bin out/tune
go build -o bin/ ./cmd/onnxtune ./cmd/onnxprune ./cmd/onnxzoo ./cmd/onnxeval
grep -m1 'model name' /proc/cpuinfo
acc() { # model: test accuracy with onnxeval
	bin/onnxeval "$1" --dataset mnist --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f%%" % (100*d["accuracy"]))'
}
sparsity() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.6f" % d["sparsity"])' "$1"
}
what=${*:-1 2 3 4 5 6}
for w in $what; do
	case $w in
	1)
		bin/onnxzoo tutorial-cnn-mnist --seed 0 -o out/tune/scratch.init.onnx >/dev/null
		bin/onnxtune out/tune/scratch.init.onnx --epochs 3 --batch 64 --optimizer sgd --lr 0.01 --momentum 0.9 \
			--threads 2 -q -o out/tune/scratch.onnx --json >out/tune/scratch.json
		echo "1. from scratch, 3 epochs: test accuracy $(acc out/tune/scratch.onnx) (PyTorch 98.57%)"
		;;
	2)
		rm -f out/tune/g90.onnx; bin/onnxprune --amount 0.9 --scope global -o out/tune/g90.onnx $F/mnist_cnn/model.onnx >/dev/null
		bin/onnxtune out/tune/g90.onnx --epochs 1 --batch 64 --lr 0.01 --momentum 0.9 --threads 2 -q \
			-o out/tune/g90.ft.onnx --json >out/tune/g90.json
		echo "2. fine-tune global 0.9, 1 epoch: test accuracy $(acc out/tune/g90.ft.onnx) (before $(acc out/tune/g90.onnx); PyTorch 98.31%), sparsity $(sparsity out/tune/g90.json)"
		;;
	3)
		bin/onnxtune $F/mnist_cnn/model.onnx --epochs 3 --lr 0.01 --momentum 0.9 --threads 2 -q \
			--prune-to 0.95 --prune-schedule cubic --prune-start 0 --prune-end 2 --prune-every 50 \
			-o out/tune/gradual95.onnx --json >out/tune/gradual95.json
		rm -f out/tune/g95.onnx; bin/onnxprune --amount 0.95 --scope global -o out/tune/g95.onnx $F/mnist_cnn/model.onnx >/dev/null
		bin/onnxtune out/tune/g95.onnx --epochs 3 --lr 0.01 --momentum 0.9 --threads 2 -q \
			-o out/tune/oneshot95.onnx --json >out/tune/oneshot95.json
		echo "3. 95% global: gradual cubic over epochs 0-2 $(acc out/tune/gradual95.onnx) (sparsity $(sparsity out/tune/gradual95.json)); one-shot then 3 epochs $(acc out/tune/oneshot95.onnx) (sparsity $(sparsity out/tune/oneshot95.json); before fine-tuning $(acc out/tune/g95.onnx))"
		;;
	4)
		D=$(scripts/fetch-mnist.sh 2>/dev/null | tail -1)
		for threads in 1 2; do
			for rep in 1 2 3; do
				/usr/bin/python3 scripts/torch-train-bench.py "$D" $threads 64 19200
				bin/onnxtune $F/mnist_cnn/model.onnx --limit 19200 --batch 64 --lr 0.01 --momentum 0.9 --threads $threads -q \
					-o out/tune/speed.onnx --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("onnxtune threads %s batch 64: %.0f images/s" % (sys.argv[1], d["epochs"][0]["train_images_per_s"]))' $threads
			done
		done
		;;
	6)
		D=$(scripts/fetch-mnist.sh 2>/dev/null | tail -1)
		for rep in 1 2 3; do
			/usr/bin/python3 scripts/torch-train-bench.py "$D" 1 128 1280 resnet8
			bin/onnxtune $F/mnist_resnet8/model_bn.onnx --limit 1280 --batch 128 --lr 0.01 --momentum 0.9 --threads 1 -q \
				--checkpoint-dir none -o out/tune/speed8.onnx --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("onnxtune resnet8 threads 1 batch 128: %.0f images/s" % d["epochs"][0]["train_images_per_s"])'
		done
		;;
	5)
		bin/onnxzoo tutorial-cnn-mnist --seed 0 --classes 5 -o out/tune/tl.init.onnx >/dev/null
		bin/onnxtune out/tune/tl.init.onnx --labels 0,1,2,3,4 --epochs 2 --lr 0.01 --momentum 0.9 --threads 2 -q \
			--val-test -o out/tune/tl04.onnx --json >out/tune/tl04.json
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["epochs"][-1]; print("5. digits 0-4 from scratch, 2 epochs: test accuracy %.2f%% (%.1f s)" % (100*e["val_accuracy"], d["seconds"]))' out/tune/tl04.json
		for mode in frozen full; do
			extra=""
			[ $mode = frozen ] && extra=--freeze-features
			bin/onnxtune out/tune/tl04.onnx --labels 5,6,7,8,9 --classes 5 $extra --epochs 1 --lr 0.01 --momentum 0.9 \
				--threads 2 -q --val-test -o out/tune/tl59.$mode.onnx --json >out/tune/tl59.$mode.json
			python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["epochs"][-1]; print("   digits 5-9, new head, features %s, 1 epoch: test accuracy %.2f%%, %.1f s (%.0f images/s)" % (sys.argv[2], 100*e["val_accuracy"], e["seconds"], e["train_images_per_s"]))' out/tune/tl59.$mode.json $mode
		done
		;;
	esac
done
