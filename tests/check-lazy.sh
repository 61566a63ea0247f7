#!/bin/sh
# The modules (issue 14, builder/module.h): sbx-build links none of
# libguestfs, libcurl, libarchive; each lives in its module, loaded the
# first time a command needs it.  Proven on the built files:
#  - sbx-build's NEEDED list has none of the three, each module has its one;
#  - commands that need none (--version, check, plan) load none of them
#    (LD_DEBUG=files: what the dynamic loader opened), so re-linking one
#    into sbx-build fails here;
#  - a command that needs one loads it (lock over file:// loads libcurl,
#    unpack libarchive, verify libguestfs) and fails further on, as it
#    would without the module split;
#  - sbx-build without its modules beside it (nothing installed in the
#    libexec directory) says which module is missing and where it looked;
#    a module from another build is refused by name.
# A no-change 'all' loading none of them is proven after a real bake, in
# tests/image/rebuild.sh; its time is in tests/bench/bake.sh.
set -u
cd "$(dirname "$0")/.." || exit 1
SKIP_NAME=check-lazy
. tests/lib/skip.sh
need readelf cc
[ -x sbx-build ] || skip "sbx-build not built (make sbx-build)"
SBX=$PWD/sbx-build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME="$tmp/xdg"
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
LIBS='libguestfs|libcurl|libarchive'

# --- the files ---------------------------------------------------------
needed "$SBX" | grep -E "^($LIBS)\." &&
	fail "sbx-build links a module's library (above)"
for m in guestfs:libguestfs curl:libcurl archive:libarchive; do
	so=sbx-build-${m%%:*}.so
	[ -f "$so" ] || { fail "$so not built"; continue; }
	needed "$so" | grep -q "^${m#*:}\." || fail "$so does not link ${m#*:}"
done

# loaded CMD...: the libraries and modules the loader opened for CMD.
loaded() {
	LD_DEBUG=files LD_DEBUG_OUTPUT=$tmp/ld "$@" >"$tmp/out" 2>&1
	st=$?
	cat "$tmp"/ld.* 2>/dev/null | sed -n 's/.*file=\([^ ]*\).*/\1/p' |
		sort -u
	rm -f "$tmp"/ld.*
	return $st
}

# --- commands that need no module --------------------------------------
for cmd in "--version" "-C tests/fixtures/bake check" \
	"-C tests/fixtures/bake plan dev"; do
	# shellcheck disable=SC2086
	got=$(loaded "$SBX" $cmd)
	echo "$got" | grep -q '^libyaml' ||
		fail "sbx-build $cmd: LD_DEBUG=files saw no libyaml (the check sees nothing)"
	echo "$got" | grep -E "^($LIBS)\.|sbx-build-" &&
		fail "sbx-build $cmd loaded a module or its library (above)"
done

# --- commands that need one load it ------------------------------------
bp=$tmp/bp
mkdir -p "$bp" && cp -r recipes "$bp/"
echo '[]' >"$bp/rel.json"
got=$(loaded "$SBX" -C "$bp" lock --releases-url "file://$bp/rel.json" \
	--release 41 fedora-44)
echo "$got" | grep -q '^libcurl\.' || fail "lock over file:// did not load libcurl"
grep -q 'lists no Cloud Base image for Fedora 41' "$tmp/out" ||
	{ cat "$tmp/out"; fail "lock over file:// did not read the releases"; }
echo "$got" | grep -E '^libguestfs\.' && fail "lock loaded libguestfs"
printf 'not a bundle\n' >"$tmp/bad.tar.zst"
got=$(loaded "$SBX" unpack -C "$tmp/u" "$tmp/bad.tar.zst")
echo "$got" | grep -q '^libarchive\.' || fail "unpack did not load libarchive"
grep -q 'truncated or corrupt' "$tmp/out" ||
	{ cat "$tmp/out"; fail "unpack did not read the bundle"; }
printf 'vm: dev\npaths: []\n' >"$tmp/m.manifest"
got=$(LIBGUESTFS_BACKEND=direct loaded "$SBX" verify \
	--manifest "$tmp/m.manifest" "$tmp/nosuch.qcow2")
echo "$got" | grep -q '^libguestfs\.' || fail "verify did not load libguestfs"
grep -q "nosuch.qcow2: No such file or directory" "$tmp/out" ||
	{ cat "$tmp/out"; fail "verify did not reach the appliance's launch"; }

# --- without the modules -----------------------------------------------
lib=$(strings "$SBX" | grep -m1 '/libexec/sbx-build$')
[ -n "$lib" ] || fail "no libexec directory compiled into sbx-build"
if ls "$lib"/sbx-build-*.so >/dev/null 2>&1; then
	cannot "modules installed in '$lib': sbx-build finds them there"
fi
mkdir "$tmp/alone" && cp "$SBX" "$tmp/alone/"
A=$tmp/alone/sbx-build
$A --version >/dev/null || fail "sbx-build alone does not start"
$A verify --manifest "$tmp/m.manifest" "$tmp/nosuch.qcow2" >"$tmp/out" 2>&1
grep -q "cannot find the module 'sbx-build-guestfs.so' next to the program ($tmp/alone) or in '$lib'" "$tmp/out" ||
	{ cat "$tmp/out"; fail "verify without its module did not say so"; }
$A unpack -C "$tmp/u" "$tmp/bad.tar.zst" >"$tmp/out" 2>&1
grep -q "cannot find the module 'sbx-build-archive.so'" "$tmp/out" ||
	{ cat "$tmp/out"; fail "unpack without its module did not say so"; }
$A -C "$bp" lock --releases-url "file://$bp/rel.json" --release 41 \
	fedora-44 >"$tmp/out" 2>&1
grep -q "cannot find the module 'sbx-build-curl.so'" "$tmp/out" ||
	{ cat "$tmp/out"; fail "lock without its module did not say so"; }
# A module of another build: same symbol, another version.
cat >"$tmp/old.c" <<'EOF'
const struct {
	const char *version;
	unsigned long abi;
	void *fn[3];
} sbx_archive_module = {"0.0.0-old", 1, {0}};
EOF
cc -shared -fPIC -o "$tmp/alone/sbx-build-archive.so" "$tmp/old.c" ||
	fail "cannot build the stand-in module"
$A unpack -C "$tmp/u" "$tmp/bad.tar.zst" >"$tmp/out" 2>&1
grep -q "module 'sbx-build-archive.so' is from another build of sbx-build (0.0.0-old" "$tmp/out" ||
	{ cat "$tmp/out"; fail "a module of another build was not refused"; }

[ $fails -eq 0 ] || exit 1
echo "check-lazy: ok (no module's library in sbx-build or in commands that need none; each loaded when needed)"
