#!/bin/sh
# fetch-onnxruntime.sh downloads the linux-x64 onnxruntime shared library
# (libonnxruntime.so.1, version 1.30.0) that ships inside the npm package
# onnxruntime-node, into third_party/onnxruntime/ of this repository (git-ignored).
# It is idempotent: when the library is already there it does nothing.
#
# The onnxruntime backend (runtime/ort) finds the library through, in order:
# the ONNXRUNTIME_LIB environment variable, the --ort-lib flag of the tools,
# then this cached copy.
#
# fetch-onnxruntime.sh --cuda fetches, instead, the GPU build: onnxruntime
# 1.29.0's core library from the npm package com.github.asus4.onnxruntime
# and its CUDA execution provider (libonnxruntime_providers_cuda.so and
# libonnxruntime_providers_shared.so, built with it) from
# com.github.asus4.onnxruntime.linux-x64-gpu, both 0.4.9 (MIT, Microsoft's
# binaries), into third_party/onnxruntime-cuda/. It checks that core and
# provider are of one onnxruntime version, and prints where they are. The
# CPU path and CI do not need it; the CUDA provider needs CUDA 13 and cuDNN 9
# on the machine that runs it (see README.md, "CUDA").
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)

need_linux_npm() {
	case "$(uname -s)-$(uname -m)" in
	Linux-x86_64) ;;
	*)
		echo "fetch-onnxruntime.sh: only linux-x64 is packaged here; download onnxruntime for $(uname -s)-$(uname -m) and set $1" >&2
		exit 1
		;;
	esac
	command -v npm >/dev/null 2>&1 || {
		echo "fetch-onnxruntime.sh: npm not found; install Node.js/npm, or download onnxruntime yourself and set $1" >&2
		exit 1
	}
}

# has_version FILE VERSION: whether FILE holds VERSION as a NUL-terminated
# string (onnxruntime's ORT_VERSION, compiled into the core and each provider).
has_version() {
	tr '\000' '\n' <"$1" | grep -qx "$2"
}

if [ "${1:-}" = "--cuda" ]; then
	PKG=${ORT_CUDA_PACKAGE_VERSION:-0.4.9}
	VERSION=${ORT_CUDA_VERSION:-1.29.0}
	DEST="$ROOT/third_party/onnxruntime-cuda"
	STAMP="$DEST/VERSION"
	FILES="libonnxruntime.so libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so"
	ok=1
	for f in $FILES; do [ -f "$DEST/$f" ] || ok=0; done
	if [ $ok = 1 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ]; then
		echo "onnxruntime $VERSION (CUDA) already in $DEST"
		echo "ONNXRUNTIME_CUDA_LIB=$DEST/libonnxruntime.so"
		exit 0
	fi
	need_linux_npm ONNXRUNTIME_CUDA_LIB
	mkdir -p "$DEST"
	TMP=$(mktemp -d "$DEST/.fetch.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT INT TERM
	echo "fetch-onnxruntime.sh: downloading com.github.asus4.onnxruntime@$PKG and com.github.asus4.onnxruntime.linux-x64-gpu@$PKG (about 330 MB)" >&2
	(cd "$TMP" && npm pack --silent --cache "$TMP/.npm-cache" \
		"com.github.asus4.onnxruntime@$PKG" "com.github.asus4.onnxruntime.linux-x64-gpu@$PKG" >/dev/null)
	mkdir "$TMP/core" "$TMP/gpu"
	X=package/Plugins/Linux/x64
	tar --no-same-owner -xzf "$TMP/com.github.asus4.onnxruntime-$PKG.tgz" -C "$TMP/core" package/package.json "$X/libonnxruntime.so"
	tar --no-same-owner -xzf "$TMP/com.github.asus4.onnxruntime.linux-x64-gpu-$PKG.tgz" -C "$TMP/gpu" package/package.json \
		"$X/libonnxruntime_providers_shared.so" "$X/libonnxruntime_providers_cuda.so"
	rm -f "$TMP"/*.tgz
	# The pairing: the GPU package depends on exactly this core package, and
	# the core and the CUDA provider were built from one onnxruntime version.
	grep -q "\"com.github.asus4.onnxruntime\": \"$PKG\"" "$TMP/gpu/package/package.json" || {
		echo "fetch-onnxruntime.sh: com.github.asus4.onnxruntime.linux-x64-gpu@$PKG does not depend on com.github.asus4.onnxruntime@$PKG" >&2
		exit 1
	}
	has_version "$TMP/core/$X/libonnxruntime.so" "$VERSION" || {
		echo "fetch-onnxruntime.sh: the core library of com.github.asus4.onnxruntime@$PKG is not onnxruntime $VERSION" >&2
		exit 1
	}
	has_version "$TMP/gpu/$X/libonnxruntime_providers_cuda.so" "$VERSION" || {
		echo "fetch-onnxruntime.sh: the CUDA provider of com.github.asus4.onnxruntime.linux-x64-gpu@$PKG is not onnxruntime $VERSION" >&2
		exit 1
	}
	# The core finds its providers beside itself.
	for f in $FILES; do
		if [ -f "$TMP/core/$X/$f" ]; then src="$TMP/core/$X/$f"; else src="$TMP/gpu/$X/$f"; fi
		chmod 0755 "$src"
		mv "$src" "$DEST/$f.tmp"
		mv "$DEST/$f.tmp" "$DEST/$f"
	done
	echo "$VERSION" >"$STAMP"
	echo "onnxruntime $VERSION (CUDA provider, for CUDA 13 and cuDNN 9) installed in $DEST:"
	for f in $FILES; do echo "  $DEST/$f"; done
	echo "ONNXRUNTIME_CUDA_LIB=$DEST/libonnxruntime.so"
	exit 0
fi

VERSION=${ORT_VERSION:-1.30.0}
DEST="$ROOT/third_party/onnxruntime"
LIB="$DEST/libonnxruntime.so.1"
STAMP="$DEST/VERSION"

if [ -f "$LIB" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ]; then
	echo "onnxruntime $VERSION already in $LIB"
	exit 0
fi

need_linux_npm ONNXRUNTIME_LIB

mkdir -p "$DEST"
TMP=$(mktemp -d "$DEST/.fetch.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# npm pack only downloads the tarball (no install scripts run); its cache is
# kept inside the repository's third_party folder too.
(cd "$TMP" && npm pack --silent --cache "$DEST/.npm-cache" "onnxruntime-node@$VERSION" >/dev/null)
TGZ=$(ls "$TMP"/onnxruntime-node-*.tgz)
tar -xzf "$TGZ" -C "$TMP" package/bin/napi-v6/linux/x64/
SRC="$TMP/package/bin/napi-v6/linux/x64/libonnxruntime.so.1"
[ -f "$SRC" ] || {
	echo "fetch-onnxruntime.sh: $TGZ has no bin/napi-v6/linux/x64/libonnxruntime.so.1" >&2
	exit 1
}
cp "$SRC" "$LIB.tmp"
mv "$LIB.tmp" "$LIB"
echo "$VERSION" >"$STAMP"
rm -rf "$DEST/.npm-cache"
echo "onnxruntime $VERSION installed in $LIB"
