#!/usr/bin/env bash
# The README's onnxsweep speed figure: a 20-amount x 2-method sweep of
# mnist_cnn on the 10,000 MNIST test images without fine-tuning, onnxsweep
# against the same sweep in PyTorch (scripts/bench-sweep-torch.py), on the
# same number of threads, side by side, ROUNDS times (default 3). Both sides
# check that they found the same correct counts.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
rounds=${ROUNDS:-3}
model=${ONNXPRUNE_SHARED:-../shared}/fixtures/mnist_cnn/model.onnx
mnist=${MNIST_DIR:-$(scripts/fetch-mnist.sh 2>/dev/null | tail -1)}
go build -o bin/ ./cmd/onnxsweep
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
grep -m1 'model name' /proc/cpuinfo
echo "threads $threads; onnxsweep: $((threads)) points at a time on 1 kernel thread each; PyTorch: torch.set_num_threads($threads)"
for r in $(seq "$rounds"); do
  t0=$(date +%s.%N)
  GOMAXPROCS=$threads bin/onnxsweep "$model" --dataset mnist --amounts 0:0.95:0.05 --methods global,local \
    --latency none --jobs "$threads" --out "$out/go$r" --json >"$out/go$r.json"
  t1=$(date +%s.%N)
  /usr/bin/python3 scripts/bench-sweep-torch.py "$model" "$mnist" --threads "$threads" >"$out/torch$r.json"
  t2=$(date +%s.%N)
  /usr/bin/python3 - "$out/go$r.json" "$out/torch$r.json" "$t0" "$t1" "$t2" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
t0, t1, t2 = map(float, sys.argv[3:6])
gc = [(p["method"], round(p["amount"], 6), p["correct"]) for p in g["points"]]
tc = [(p["method"], round(p["amount"], 6), p["correct"]) for p in t["points"]]
same = "same correct counts at all %d points" % len(gc) if gc == tc else "DIFFERENT correct counts"
print(f"onnxsweep {t1 - t0:.2f} s (whole command); PyTorch {t2 - t1:.2f} s whole, {t['sweep_seconds']:.2f} s sweep loop "
      f"(+{t['load_seconds']:.2f} s load); ratio {(t2 - t1) / (t1 - t0):.2f}x; {same}")
EOF
done
