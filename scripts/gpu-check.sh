#!/usr/bin/env bash
# gpu-check.sh: the CUDA checks and CPU-against-GPU measurements of issue 12,
# in one call on a machine with an NVIDIA GPU and no network.
#
#   scripts/gpu-check.sh --pack   here (Go, network): builds what the GPU
#                                 machine needs into out/gpu-check/ (tools and
#                                 the runtime/ort test binary, pure-Go BLAS so
#                                 that no OpenBLAS is needed there; the CPU
#                                 onnxruntime; the small fixtures; the MNIST
#                                 test set), under 64 MiB, and prints it.
#   scripts/gpu-check.sh          there: finds the Python environment with
#                                 PyTorch and NVIDIA's pip libraries, a GPU
#                                 build of onnxruntime if there is one, runs
#                                 everything below and writes the results to
#                                 out/gpu-check/results/gpu-check-<time>.txt,
#                                 whose path it prints last.
#
# Measured there, each step bounded by a timeout (GPU_CHECK_STEP, default
# 240 s), all fp32 with TF32 off on both sides:
#   - the CUDA libraries loaded by preloading alone, the GPU named by the
#     driver (TestGPUEnvironment);
#   - with a GPU build of onnxruntime: the backend suite on cuda:0 against
#     PyTorch's fixtures, onnxbench --device cpu,cuda on resnet18,
#     mobilenet_v2, vgg16 at batch 1, 8, 64; dense against 30% structured
#     (shrunk) and 90% unstructured resnet18 on the GPU; IOBinding against
#     plain runs; onnxeval of the MNIST fixtures on cpu and cuda;
#   - PyTorch on the same GPU for the same models and batches (inputs on the
#     device, and with the host copies).
#
# Environment: GPU_PYTHON (the python with torch), ONNXRUNTIME_CUDA_LIB (a
# GPU build's libonnxruntime.so; else the onnxruntime-gpu wheel of that
# Python is looked for), GPU_CHECK_QUICK=1 (batch 1 and 8 only).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACK="$ROOT/out/gpu-check"

if [ "${1:-}" = "--pack" ]; then
	set -e
	cd "$ROOT"
	rm -rf "$PACK"
	mkdir -p "$PACK/bin" "$PACK/lib" "$PACK/shared/fixtures" "$PACK/mnist"
	echo "gpu-check: building the tools and the runtime/ort test binary (-tags purego)" >&2
	go build -tags purego -o "$PACK/bin/" ./cmd/...
	go test -c -tags purego -o "$PACK/bin/ort.test" ./runtime/ort
	tar -C "$PACK" -cJf "$PACK/bin.tar.xz" bin
	rm -rf "$PACK/bin"
	CPU_LIB=$(ls third_party/onnxruntime/libonnxruntime.so.1)
	xz -c "$CPU_LIB" >"$PACK/lib/libonnxruntime.so.1.xz"
	SHARED=${ONNXPRUNE_SHARED:-$ROOT/../shared}
	for f in mnist_cnn mnist_cnn_global50 mnist_cnn_train_step mnist_resnet8 tutorial_cnn_cifar; do
		cp -r "$SHARED/fixtures/$f" "$PACK/shared/fixtures/"
	done
	MNIST=$(scripts/fetch-mnist.sh | tail -1)
	for f in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
		cp "$MNIST/$f".gz "$PACK/mnist/" 2>/dev/null || cp "$MNIST/$f" "$PACK/mnist/"
	done
	git rev-parse HEAD >"$PACK/COMMIT"
	du -sh "$PACK" >&2
	echo "gpu-check: packed $PACK; run on the GPU machine: scripts/gpu-check.sh (carry out/gpu-check)"
	exit 0
fi

STEP=${GPU_CHECK_STEP:-240}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RES="$PACK/results"
mkdir -p "$RES" "$PACK/models"
RESULT="$RES/gpu-check-$STAMP.txt"
exec > >(tee "$RESULT") 2>&1

say() { printf '\n== %s\n' "$*"; }
step() { # step NAME CMD...: runs with a timeout, reports the exit status
	local name=$1
	shift
	say "$name"
	echo "\$ $*"
	timeout "$STEP" "$@"
	local rc=$?
	echo "-- $name: exit $rc"
	return $rc
}

say "machine"
date -u
echo "commit: $(cat "$PACK/COMMIT" 2>/dev/null || git -C "$ROOT" rev-parse HEAD 2>/dev/null)"
grep -m1 'model name' /proc/cpuinfo
echo "cores: $(nproc)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "nvidia-smi: not found"

# The tools: carried (--pack), else built here when Go is there.
BIN="$PACK/bin"
if [ -f "$PACK/bin.tar.xz" ]; then
	tar -C "$PACK" -xJf "$PACK/bin.tar.xz"
elif command -v go >/dev/null; then
	(cd "$ROOT" && go build -tags purego -o "$BIN/" ./cmd/... && go test -c -tags purego -o "$BIN/ort.test" ./runtime/ort)
fi
if ! "$BIN/onnxbench" --help >/dev/null 2>&1; then
	echo "gpu-check: no working tools in $BIN (run scripts/gpu-check.sh --pack on a machine with Go, and carry out/gpu-check)"
	echo "results: $RESULT"
	exit 1
fi
CPU_LIB="$PACK/lib/libonnxruntime.so.1"
[ -f "$CPU_LIB" ] || { [ -f "$CPU_LIB.xz" ] && xz -dc "$CPU_LIB.xz" >"$CPU_LIB"; }

# The Python environment with PyTorch on CUDA, and its NVIDIA libraries.
PY=""
for p in ${GPU_PYTHON:-} python3 /usr/bin/python3 /opt/conda/bin/python3 /usr/local/bin/python3 python; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
		PY=$(command -v "$p")
		break
	fi
done
say "python"
if [ -n "$PY" ]; then
	"$PY" -c 'import sys, torch; print(sys.executable, "torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.get_device_name(0))'
	NV_DIRS=$("$PY" - <<'EOF'
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
print(":".join(sorted(d for r in roots for d in glob.glob(os.path.join(r, "*", "lib")))))
EOF
)
	SITE=$("$PY" -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null || true)
	echo "nvidia library folders: ${NV_DIRS:-none}"
else
	echo "no python with torch on CUDA found (set GPU_PYTHON)"
	NV_DIRS=""
	SITE=""
fi

# A GPU build of onnxruntime: given, or the onnxruntime-gpu wheel's.
GPU_LIB=${ONNXRUNTIME_CUDA_LIB:-}
if [ -z "$GPU_LIB" ] && [ -n "$PY" ]; then
	CAPI=$("$PY" -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))' 2>/dev/null || true)
	if [ -n "$CAPI" ] && [ -f "$CAPI/libonnxruntime_providers_cuda.so" ]; then
		for c in "$CAPI"/libonnxruntime.so*; do [ -f "$c" ] && GPU_LIB=$c && break; done
		echo "onnxruntime wheel: $CAPI ($(ls "$CAPI" | tr '\n' ' '))"
	fi
fi
say "onnxruntime GPU build"
if [ -n "$GPU_LIB" ]; then
	echo "$GPU_LIB"
else
	echo "none found: the onnxruntime CUDA steps are skipped (set ONNXRUNTIME_CUDA_LIB to the libonnxruntime.so of a GPU build, its providers beside it)"
fi

export ONNXPRUNE_SHARED="$PACK/shared"
export ONNXRUNTIME_CUDA_PYTHON="${SITE:-}"

# 1. CUDA by preloading alone: no nvidia folder on LD_LIBRARY_PATH.
if [ -n "$SITE" ]; then
	step "CUDA libraries by preloading, the GPU from the driver" \
		env ORT_CUDA_TEST=1 "$BIN/ort.test" -test.run '^TestGPUEnvironment$' -test.v
fi

# The tools from here on find the CUDA libraries on LD_LIBRARY_PATH.
export LD_LIBRARY_PATH="${NV_DIRS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

say "models"
M="$PACK/models"
for a in resnet18 mobilenet_v2 vgg16; do
	[ -f "$M/$a.onnx" ] || "$BIN/onnxzoo" "$a" --bn fold -o "$M/$a.onnx"
done
"$BIN/onnxprune" --structured l1 --amount 0.3 --mode shrink -o "$M/resnet18.s30.onnx" "$M/resnet18.onnx" --force | tail -2
"$BIN/onnxprune" --amount 0.9 --scope global -o "$M/resnet18.g90.onnx" "$M/resnet18.onnx" --force | tail -2

BATCHES="1,8,64"
[ "${GPU_CHECK_QUICK:-}" = 1 ] && BATCHES="1,8"

# One short CUDA run first: when the GPU build cannot run, its error is
# recorded once and the device time goes to the CPU side and PyTorch.
if [ -n "$GPU_LIB" ]; then
	if ! step "probe: one run of resnet18 on cuda" env ONNXRUNTIME_CUDA_LIB="$GPU_LIB" \
		"$BIN/onnxbench" "$M/resnet18.onnx" --backend ort --device cuda --batch 1 --iters 1 --warmup 0 --no-progress; then
		echo "the GPU build $GPU_LIB cannot run on CUDA here: the onnxruntime CUDA steps are skipped"
		GPU_LIB=""
	fi
fi

if [ -n "$GPU_LIB" ]; then
	export ONNXRUNTIME_CUDA_LIB="$GPU_LIB"
	step "backend suite on cuda:0 against PyTorch's fixtures" \
		env ORT_CUDA_TEST=1 "$BIN/ort.test" -test.run '^TestCUDASuite$' -test.short -test.v
	for b in 1 64; do
		step "IOBinding against plain runs, resnet18 batch $b" \
			env ORT_CUDA_TEST=1 ORT_CUDA_TEST_MODEL="$M/resnet18.onnx" ORT_CUDA_TEST_BATCH=$b \
			"$BIN/ort.test" -test.run '^TestCUDABinding$' -test.v
	done
	# One library per process: the GPU build runs the CPU sessions too.
	if "$BIN/onnxbench" --help 2>&1 | grep -q 'cpu,cuda'; then
		DEVICES=("cpu,cuda")
	else
		DEVICES=(cpu cuda)
	fi
	for a in resnet18 mobilenet_v2 vgg16; do
		for d in "${DEVICES[@]}"; do
			step "onnxbench $a --device $d" env ONNXRUNTIME_LIB="$GPU_LIB" \
				"$BIN/onnxbench" "$M/$a.onnx" --backend ort --device "$d" --batch "$BATCHES" --time 2s --no-progress
		done
	done
	step "onnxbench resnet18 on cuda with the inputs bound (IOBinding)" \
		"$BIN/onnxbench" "$M/resnet18.onnx" --backend ort --device cuda --io-binding --batch "$BATCHES" --time 2s --no-progress
	step "onnxbench resnet18 on cuda, CUDA found by --cuda-python alone (no LD_LIBRARY_PATH)" \
		env LD_LIBRARY_PATH= "$BIN/onnxbench" "$M/resnet18.onnx" --backend ort --device cuda --cuda-python "$SITE" --batch 1 --time 1s --no-progress --json
	for a in resnet18 resnet18.s30 resnet18.g90; do
		step "onnxbench $a on cuda (dense, 30% structured shrunk, 90% unstructured)" \
			"$BIN/onnxbench" "$M/$a.onnx" --backend ort --device cuda --batch "$BATCHES" --time 2s --no-progress
	done
	for f in mnist_cnn mnist_cnn_global50 mnist_resnet8; do
		for d in cpu cuda; do
			step "onnxeval $f on $d" env ONNXRUNTIME_LIB="$GPU_LIB" \
				"$BIN/onnxeval" "$ONNXPRUNE_SHARED/fixtures/$f/model.onnx" --dataset mnist --data "$PACK/mnist" --backend ort --device "$d" --json
		done
	done
	say "onnxeval correct counts (PyTorch: mnist_cnn 9857, mnist_cnn_global50 9848, mnist_resnet8 9787)"
	grep -E '^\$ .*onnxeval|"correct"' "$RESULT" | sed 's/^\$ .*fixtures\///'
else
	# Without a GPU build, the CPU side still runs (onnxruntime 1.30.0 CPU), and
	# asking for CUDA shows the error a user gets.
	step "onnxbench --device cuda without a GPU build (the error)" env ONNXRUNTIME_LIB="$CPU_LIB" \
		"$BIN/onnxbench" "$M/resnet18.onnx" --backend ort --device cuda --batch 1 --no-progress
	for a in resnet18 mobilenet_v2 vgg16; do
		step "onnxbench $a --device cpu (onnxruntime 1.30.0 CPU)" env ONNXRUNTIME_LIB="$CPU_LIB" \
			"$BIN/onnxbench" "$M/$a.onnx" --backend ort --device cpu --batch "$BATCHES" --time 2s --no-progress
	done
fi

if [ -n "$PY" ]; then
	step "PyTorch on the same GPU (fp32, TF32 off, cudnn.benchmark on)" "$PY" - "$BATCHES" <<'EOF'
import sys, time, statistics, torch, torchvision
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.benchmark = True  # like onnxruntime's exhaustive cuDNN search
batches = [int(b) for b in sys.argv[1].split(",")]
dev = torch.device("cuda:0")
print("gpu", torch.cuda.get_device_name(0), "torch", torch.__version__)
print("%-13s %5s %14s %14s %12s" % ("model", "batch", "p50 ms (dev)", "p50 ms (host)", "items/s"))
for name in ["resnet18", "mobilenet_v2", "vgg16"]:
    m = getattr(torchvision.models, name)(weights=None).eval().to(dev)
    for b in batches:
        x = torch.rand(b, 3, 224, 224)
        xd = x.to(dev)
        def dev_run():
            m(xd)
            torch.cuda.synchronize()
        def host_run():
            m(x.to(dev)).cpu()
        res = []
        with torch.inference_mode():
            for f in (dev_run, host_run):
                for _ in range(5):
                    f()
                ts = []
                t_end = time.perf_counter() + 2.0
                while time.perf_counter() < t_end or len(ts) < 5:
                    t0 = time.perf_counter()
                    f()
                    ts.append(time.perf_counter() - t0)
                res.append(statistics.median(ts) * 1e3)
        print("%-13s %5d %14.3f %14.3f %12.1f" % (name, b, res[0], res[1], b / res[0] * 1e3))
    del m
    torch.cuda.empty_cache()
EOF
fi

say "done"
echo "results: $RESULT"
# On the device tool's machine, what is written under $OUT comes back.
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
	sleep 1
	cp "$RESULT" "$OUT/"
	echo "copied to $OUT/$(basename "$RESULT")"
fi
