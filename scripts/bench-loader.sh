#!/bin/sh
# The data loader against torchvision's DataLoader on the same folder of
# 224x224 JPEGs, same pipeline (RandomResizedCrop(224), RandomHorizontalFlip,
# ToTensor, Normalize), batch 64, shuffled, the same number of workers,
# alternating runs side by side. Usage: scripts/bench-loader.sh [WORKERS] [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
workers=${1:-2}
rounds=${2:-3}
dir=${BENCH_LOADER_DIR:-out/bench-loader-jpeg}
py=/usr/bin/python3
if [ ! -d "$dir" ]; then
	$py scripts/bench_loader_torch.py make "$dir" 640
fi
go test -c -o out/data.test ./data
grep -m1 'model name' /proc/cpuinfo
echo "folder $dir: $(find "$dir" -name '*.jpg' | wc -l) JPEGs; workers $workers"
for r in $(seq "$rounds"); do
	g=$(DATA_BENCH_DIR=$dir DATA_BENCH_WORKERS=$workers out/data.test -test.run '^$' -test.bench 'LoaderJPEG$' -test.benchtime 3x |
		awk '/images\/s/ { for (i = 1; i <= NF; i++) if ($(i+1) == "images/s") print $i }')
	t=$($py scripts/bench_loader_torch.py time "$dir" "$workers" 3)
	echo "round $r: onnxprune data.Loader $g images/s, torchvision DataLoader $t images/s, ratio $(echo "$g $t" | awk '{printf "%.2f", $1/$2}')"
done
