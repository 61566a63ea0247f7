#!/bin/sh
# The kept inspection (issue 14) never outlives its base, on real
# libguestfs under TCG, in two bakes of the dev VM (no packages) and one
# guestfish launch:
#
# 1. A first build on a fresh cache inspects the base and keeps the result
#    under the cache directory's inspect/.                      [1 launch]
# 2. The base changes (guestfish rewrites its /etc/debian_version, which
#    libguestfs reports as Debian's product name): the next build inspects
#    again, finds the new version and keeps a new result; the old one is
#    never used.                                    [1 + 1 guestfish]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/image/lib-fixtures.sh
fixtures_setup guestfish virt-make-fs debootstrap qemu-img

W=$PWD/tests/work/inspect-test
P=$W/proj
rm -rf "$W" && mkdir -p "$P/images" || exit 1
cp -a tests/fixtures/bake/recipes tests/fixtures/bake/overlays "$P/"
sed -i '/^packages:/d' "$P"/recipes/*.yaml
# The base: a local qcow2 over the fixture, so this test may change it.
qemu-img create -q -f qcow2 -F qcow2 -b "$FIX_DEBIAN" \
	"$P/images/debian.qcow2" || exit 1
export XDG_CACHE_HOME=$W/xdg SBX_KVM_TIMEOUT=${SBX_KVM_TIMEOUT:-30}

fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { # NAME COMMAND...
	n=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$n"; else bad "$n"; fi
}
show() { sed 's/^/#   /' "$1"; }
kept() { ls "$XDG_CACHE_HOME/sbx-build/inspect/" 2>/dev/null; }

# --- 1. first build --------------------------------------------------------
./sbx-build -v -C "$P" build dev --accel tcg >"$W/1.log" 2>&1
st=$?
show "$W/1.log"
check "first build succeeds" test $st -eq 0
check "first build inspects" \
	grep -q '^\[image\] inspect: libguestfs inspection' "$W/1.log"
check "the result is kept, one file" test "$(kept | wc -l)" = 1
check "the kept result names the base's system" \
	grep -q '^distro debian$' "$XDG_CACHE_HOME/sbx-build/inspect/$(kept)"
first=$(kept)

# --- 2. the base changes ---------------------------------------------------
LIBGUESTFS_BACKEND_SETTINGS=force_tcg guestfish --rw \
	-a "$P/images/debian.qcow2" -i write /etc/debian_version '12.99
' >"$W/alter.log" 2>&1 || bad "guestfish could change the base"
./sbx-build -v -C "$P" build dev --force --accel tcg >"$W/2.log" 2>&1
st=$?
show "$W/2.log"
check "build on the changed base succeeds" test $st -eq 0
check "the changed base is inspected again, nothing kept used" sh -c \
	"grep -q '^\[image\] inspect: libguestfs inspection' '$W/2.log' &&
	 ! grep -q 'inspect: kept' '$W/2.log'"
check "the bake sees the changed system" \
	grep -q '^\[dev\] grow: debian 12.99 ' "$W/2.log"
check "a new result is kept beside the old one" sh -c \
	"test \$(ls '$XDG_CACHE_HOME/sbx-build/inspect/' | wc -l) = 2 &&
	 grep -q '^product 12.99' \$(ls -t '$XDG_CACHE_HOME'/sbx-build/inspect/* | head -1) &&
	 test -f '$XDG_CACHE_HOME/sbx-build/inspect/$first'"

echo "# $fails failed"
[ $fails -eq 0 ]
