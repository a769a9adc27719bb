#!/bin/sh
# fetch-onnxruntime.sh downloads the linux-x64 onnxruntime shared library
# (libonnxruntime.so.1, version 1.30.0) that ships inside the npm package
# onnxruntime-node, into third_party/onnxruntime/ of this repository (git-ignored).
# It is idempotent: when the library is already there it does nothing.
#
# The onnxruntime backend (runtime/ort) finds the library through, in order:
# the ONNXRUNTIME_LIB environment variable, the --ort-lib flag of the tools,
# then this cached copy.
set -eu

VERSION=${ORT_VERSION:-1.30.0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST="$ROOT/third_party/onnxruntime"
LIB="$DEST/libonnxruntime.so.1"
STAMP="$DEST/VERSION"

if [ -f "$LIB" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ]; then
	echo "onnxruntime $VERSION already in $LIB"
	exit 0
fi

case "$(uname -s)-$(uname -m)" in
Linux-x86_64) ;;
*)
	echo "fetch-onnxruntime.sh: only linux-x64 is packaged here; download onnxruntime for $(uname -s)-$(uname -m) and set ONNXRUNTIME_LIB" >&2
	exit 1
	;;
esac
command -v npm >/dev/null 2>&1 || {
	echo "fetch-onnxruntime.sh: npm not found; install Node.js/npm, or download onnxruntime $VERSION yourself and set ONNXRUNTIME_LIB" >&2
	exit 1
}

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
