#!/usr/bin/env bash
# Times onnxmem on the zoo's VGG-16 (a 553 MB file) against reading the file
# once (cat file >/dev/null), both with the file in the page cache, and prints
# the ratio and onnxmem's peak resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out}
mkdir -p "$out" bin
go build -o bin/ ./cmd/onnxmem ./cmd/onnxzoo
[ -f "$out/vgg16.onnx" ] || bin/onnxzoo vgg16 -o "$out/vgg16.onnx" >/dev/null
f="$out/vgg16.onnx"
cat "$f" >/dev/null # warm the page cache
best() { # best of 5 wall-clock seconds of "$@"
  local b=999
  for _ in 1 2 3 4 5; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{print ($1 < b) ? $1 : b}')
  done
  echo "$b"
}
tcat=$(best cat "$f")
tmem=$(best bin/onnxmem "$f")
rss=""
if [ -x /usr/bin/time ]; then
  rss=$(/usr/bin/time -f %M bin/onnxmem "$f" 2>&1 >/dev/null | tail -1)
fi
size=$(stat -c %s "$f")
printf 'file %s: %d bytes\ncat:     %.3f s\nonnxmem: %.3f s\nratio onnxmem/cat: %.2f\n' "$f" "$size" "$tcat" "$tmem" "$(echo "$tmem / $tcat" | bc -l)"
[ -n "$rss" ] && printf 'onnxmem peak RSS: %d KiB (file: %d KiB)\n' "$rss" $((size / 1024))
exit 0
