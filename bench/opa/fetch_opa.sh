#!/usr/bin/env bash
# Fetch OPA's Go engine (as a C shared library) from PyPI for the conformance
# checks and benchmarks in bench/opa/.
#
# The package opa-golib-python-bindings 0.4.4 ships libopabridge.so (OPA v1.20.2
# built with `go build -buildmode=c-shared`) plus a small ctypes wrapper.  Its
# metadata says Requires-Python >=3.14, so pip will not install it into the
# machine's Python 3.11; we only *download* the wheel (py3-none-manylinux_2_34)
# and unzip it.  opa_engine.py loads the .so with Python 3.11's ctypes.
#
# Idempotent: if the cache dir is already complete, nothing is downloaded.
# Prints the cache dir (and nothing else) on stdout; progress goes to stderr.
#
#   bench/opa/fetch_opa.sh            # -> ~/.cache/modelgate/opa-golib-0.4.4
#   OPA_GOLIB_DIR=/tmp/x bench/opa/fetch_opa.sh
#
# Never commit the wheel or the .so.
set -euo pipefail

PKG=opa-golib-python-bindings
VERSION=0.4.4
WHEEL=opa_golib_python_bindings-${VERSION}-py3-none-manylinux_2_34_x86_64.whl
WHEEL_SHA256=d411c901e14b8c7c3023e23e4a944f4cf429c1d31baf80e959e57d11efbfd24a
SO_REL=opa_bindings/libopabridge.so

die() { echo "fetch_opa.sh: error: $*" >&2; exit 1; }
log() { echo "fetch_opa.sh: $*" >&2; }

CACHE_HOME=${HOME:-/tmp}
DIR=${OPA_GOLIB_DIR:-$CACHE_HOME/.cache/modelgate/opa-golib-$VERSION}
STAMP="$DIR/.complete"

if [[ -f "$STAMP" && -f "$DIR/$SO_REL" ]] && grep -qx "$WHEEL_SHA256" "$STAMP" 2>/dev/null; then
    echo "$DIR"
    exit 0
fi

# --- preconditions --------------------------------------------------------
[[ "$(uname -s)" == Linux ]] || die "only Linux is supported (the wheel is manylinux_2_34_x86_64)"
[[ "$(uname -m)" == x86_64 ]] || die "only x86_64 is supported (the wheel is manylinux_2_34_x86_64), this is $(uname -m)"
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set PYTHON=/path/to/python3)"
"$PY" -m pip --version >/dev/null 2>&1 || die "'$PY -m pip' does not work; install pip"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}') || true
if [[ -n "${glibc:-}" ]]; then
    "$PY" - "$glibc" <<'EOF' || die "glibc $glibc is too old: libopabridge.so needs glibc >= 2.34"
import sys
major, minor = (int(x) for x in sys.argv[1].split(".")[:2])
sys.exit(0 if (major, minor) >= (2, 34) else 1)
EOF
fi

# --- download into a temp dir next to the target, then rename -------------
parent=$(dirname "$DIR")
mkdir -p "$parent" || die "cannot create $parent"
tmp=$(mktemp -d "$parent/.opa-golib-fetch.XXXXXX") || die "cannot create a temp dir in $parent"
trap 'rm -rf "$tmp"' EXIT

log "downloading $PKG==$VERSION from PyPI (wheel only, no install)"
if ! "$PY" -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.14 --platform manylinux_2_34_x86_64 \
        "$PKG==$VERSION" -d "$tmp/dl" >&2; then
    die "pip download of $PKG==$VERSION failed (is PyPI reachable? see pip output above)"
fi
[[ -f "$tmp/dl/$WHEEL" ]] || die "pip did not produce $WHEEL (got: $(ls "$tmp/dl" 2>/dev/null | tr '\n' ' '))"

# Verify the wheel hash, unpack, and verify every file against the wheel's RECORD.
"$PY" - "$tmp/dl/$WHEEL" "$WHEEL_SHA256" "$tmp/unpacked" <<'EOF' || die "verification/unpacking of $WHEEL failed"
import base64, csv, hashlib, io, sys, zipfile
wheel, want, dest = sys.argv[1:4]
h = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
if h != want:
    sys.exit(f"sha256 mismatch for {wheel}: got {h}, expected {want}")
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest)
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    for row in csv.reader(io.StringIO(z.read(record).decode())):
        if len(row) < 2 or not row[1]:
            continue
        algo, _, digest = row[1].partition("=")
        got = base64.urlsafe_b64encode(hashlib.new(algo, z.read(row[0])).digest()).rstrip(b"=").decode()
        if got != digest:
            sys.exit(f"RECORD hash mismatch for {row[0]}")
EOF
[[ -f "$tmp/unpacked/$SO_REL" ]] || die "$SO_REL missing from the wheel"
echo "$WHEEL_SHA256" > "$tmp/unpacked/.complete"

rm -rf "$DIR"
mv "$tmp/unpacked" "$DIR" || die "cannot move the unpacked wheel to $DIR"
log "unpacked into $DIR"
echo "$DIR"
