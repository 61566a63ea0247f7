#!/bin/sh
# Inspection (issue 14), on real libguestfs under TCG, in four bakes of both
# VMs (no packages, no services) and one guestfish launch:
#
# 1. A first build on a fresh cache inspects both bases quickly (blkid,
#    /etc/os-release, /etc/fstab: inspquick.h) and keeps each result under
#    the cache directory's inspect/.                           [1 launch]
#    A kept result whose partition no longer matches is not used.
#                                                               [1 launch]
# 2. guestfish runs libguestfs's own inspection on both bases: the kept
#    results say what it says (system, product, version, root, mounts).
#    Then it changes both bases: Debian's /etc/debian_version (libguestfs
#    reports it as Debian's product name) and its /etc/os-release made a
#    FIFO (a hostile image: reading it would block the appliance); an
#    /etc/os-release in the Fedora-shaped base's home subvolume (a second
#    system on that drive for the quick inspection; not a root to
#    libguestfs, which finds no /bin or /etc/fstab there). [1 guestfish]
# 3. The next build inspects both again, nothing kept is used: the quick
#    inspection gives up on both, saying why, and libguestfs finds Debian
#    with its new version and the Fedora root; both builds succeed.
#                                                               [1 launch]
# 4. The changed Debian base also holds a FIFO as a unit file the recipe
#    then enables: the bake fails naming it instead of blocking, and out/
#    is left as it was.                                         [1 launch]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/image/lib-fixtures.sh
fixtures_setup guestfish virt-make-fs debootstrap qemu-img

W=$PWD/tests/work/inspect-test
P=$W/proj
rm -rf "$W" && mkdir -p "$P/images" || exit 1
cp -a tests/fixtures/bake/recipes tests/fixtures/bake/overlays "$P/"
sed -i '/^packages:/d' "$P"/recipes/*.yaml
sed -i '/^services:/,/^$/d' "$P"/recipes/*.yaml
# The bases: local qcow2 files over the fixtures, so this test may change
# them.
qemu-img create -q -f qcow2 -F qcow2 -b "$FIX_DEBIAN" \
	"$P/images/debian.qcow2" || exit 1
qemu-img create -q -f qcow2 -F qcow2 -b "$FIX_FEDORA" \
	"$P/images/fedora.qcow2" || exit 1
export XDG_CACHE_HOME=$W/xdg SBX_KVM_TIMEOUT=${SBX_KVM_TIMEOUT:-30}
K=$XDG_CACHE_HOME/sbx-build/inspect

fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { # NAME COMMAND...
	n=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$n"; else bad "$n"; fi
}
show() { sed 's/^/#   /' "$1"; }
kept() { ls "$K" 2>/dev/null; }
# The kept result of a distro, by its 'distro' line.
kept_of() { grep -l "^distro $1\$" "$K"/* 2>/dev/null | head -1; }
# A kept result in libguestfs's terms: drive-relative names on DEV.
as_gfs() { # FILE DEV
	sed -n -e "s|@|$2|g" -e 's/^product /product: /p' \
		-e 's/^major /major: /p' -e 's/^root /root: /p' \
		-e 's/^mount \([^ ]*\) \(.*\)/mount: \1 \2/p' "$1" | sort
}

# --- 1. first build --------------------------------------------------------
./sbx-build -v -C "$P" all --accel tcg >"$W/1.log" 2>&1
st=$?
show "$W/1.log"
check "first build succeeds" test $st -eq 0
check "both bases are inspected quickly" \
	grep -q '^\[image\] inspect: quick: ' "$W/1.log"
check "two results are kept" test "$(kept | wc -l)" = 2
deb1=$(kept_of debian)
fed1=$(kept_of fedora)
check "the kept results name each base's system" \
	test -n "$deb1" -a -n "$fed1"

# --- 1b. a kept result that no longer matches its drive --------------------
# Same base, so the same key, but the kept Debian result names another
# partition: the one blkid that checks it refuses it, the quick inspection
# runs for that drive, and the right result replaces the forged one.
sed -i 's/^partnum 1$/partnum 3/' "$deb1"
check "the kept Debian result is forged" grep -q '^partnum 3$' "$deb1"
./sbx-build -v -C "$P" all --force --accel tcg >"$W/1b.log" 2>&1
st=$?
show "$W/1b.log"
check "a kept result naming another partition is not used" sh -c \
	"test $st -eq 0 && grep -q '^\[proxy\] inspect: kept' '$W/1b.log' &&
	 ! grep -q '^\[dev\] inspect: kept' '$W/1b.log' &&
	 grep -q '^\[image\] inspect: quick: ' '$W/1b.log'"
check "and the right one replaces it" grep -q '^partnum 1$' "$deb1"

# --- 2. libguestfs's view, then the bases change ---------------------------
# One appliance driven by guestfish --remote, so the roots inspect-os
# gives are the names asked about (libguestfs may name a btrfs subvolume
# after the kernel's name of its disk: fsname.h).
gf() { guestfish --remote -- "$@"; }
eval "$(LIBGUESTFS_BACKEND_SETTINGS=force_tcg guestfish --listen --rw \
	-a "$P/images/debian.qcow2" -a "$P/images/fedora.qcow2")"
{
	gf run && roots=$(gf inspect-os) &&
		for r in $roots; do
			echo "== $r"
			gf inspect-get-product-name "$r"
			gf inspect-get-major-version "$r"
			gf inspect-get-mountpoints "$r"
		done &&
		gf mount /dev/sda1 / &&
		gf write /etc/debian_version "12.99
" &&
		gf rm-f /etc/os-release && gf mkfifo 0644 /etc/os-release &&
		gf mkdir-p /etc/systemd/system &&
		gf mkfifo 0644 /etc/systemd/system/hostile.service &&
		gf umount-all &&
		gf mount-options subvol=home /dev/sdb2 / &&
		gf mkdir /etc &&
		gf write /etc/os-release 'ID=fedora
VERSION_ID=44
PRETTY_NAME="Fedora in a home"
' &&
		gf umount-all
} >"$W/gfs.log" 2>&1 || bad "guestfish could inspect and change the bases"
gf exit >/dev/null 2>&1
show "$W/gfs.log"
# guestfish's answers in the kept results' terms, for the root whose name
# matches PATTERN; a btrfs subvolume's device named as on drive 2.
gfs_view() { # PATTERN
	awk -v p="$1" '
	/^== / { on = ($2 ~ p); n = 0; if (on) print "root: " $2; next }
	on && n == 0 { print "product: " $0; n++; next }
	on && n == 1 { print "major: " $0; n++; next }
	on { print "mount: " $0 }
	' "$W/gfs.log" | sed -e 's/^mount: \([^:]*\): /mount: \1 /' \
		-e 's|btrfsvol:/dev/sd[a-z]2/|btrfsvol:/dev/sdb2/|g' | sort
}
gfs_view '^/dev/' >"$W/deb.want"
gfs_view '^btrfsvol:' >"$W/fed.want"
as_gfs "$deb1" /dev/sda >"$W/deb.got" 2>/dev/null
as_gfs "$fed1" /dev/sdb >"$W/fed.got" 2>/dev/null
check "libguestfs's inspection answered for both bases" sh -c \
	"grep -q '^mount: / ' '$W/deb.want' && grep -q '^mount: /home ' '$W/fed.want'"
if cmp -s "$W/deb.want" "$W/deb.got" && cmp -s "$W/fed.want" "$W/fed.got"
then
	ok "the quick results are libguestfs's: product, version, root, mounts"
else
	bad "the quick results are libguestfs's: product, version, root, mounts"
	diff "$W/deb.want" "$W/deb.got" | sed 's/^/#   /'
	diff "$W/fed.want" "$W/fed.got" | sed 's/^/#   /'
fi

# --- 3. the changed bases --------------------------------------------------
./sbx-build -v -C "$P" all --force --accel tcg >"$W/2.log" 2>&1
st=$?
show "$W/2.log"
check "build on the changed bases succeeds" test $st -eq 0
check "the changed bases are inspected again, nothing kept used" sh -c \
	"grep -q '^\[image\] inspect: ' '$W/2.log' &&
	 ! grep -q 'inspect: kept' '$W/2.log'"
check "the quick inspection gives up on a FIFO and on two systems, and says why" \
	grep -q "^\[image\] inspect: libguestfs inspection (the quick one gave up: dev: '/etc/os-release' is not a regular text file of at most 1 MiB; proxy: more than one system on the drive)" "$W/2.log"
check "the bake sees Debian's changed version" \
	grep -q '^\[dev\] grow: debian 12.99 ' "$W/2.log"
check "libguestfs found the Fedora-shaped system" \
	grep -q '^\[proxy\] grow: fedora Fedora Linux 44 (Cloud Edition) btrfs' "$W/2.log"
check "new results are kept beside the old ones" sh -c \
	"test \$(ls '$K' | wc -l) = 4 && test -f '$deb1' -a -f '$fed1' &&
	 grep -q '^product 12.99' \$(ls -t '$K'/* | head -2)"
check "libguestfs's result on the changed base has its root, not the home" \
	sh -c "grep -q '^root btrfsvol:@2/root\$' \$(ls -t '$K'/* | head -2 | xargs grep -l '^distro fedora')"

# --- 4. a unit file that is a FIFO ----------------------------------------
# The changed Debian base also holds a FIFO where a unit file would be;
# the recipe now enables it.  Reading it would block the appliance: the
# bake refuses it, names it, and leaves out/ as it was.
snap() { (cd "$P/out" && ls -A && sha256sum ./*.qcow2); }
snap >"$W/before"
sed -i 's/^units: \[sbx-dev.service\]$/units: [sbx-dev.service, hostile.service]/' \
	"$P/recipes/dev.yaml"
timeout 900 ./sbx-build -v -C "$P" all --accel tcg >"$W/3.log" 2>&1
st=$?
show "$W/3.log"
snap >"$W/after"
check "a FIFO unit file fails the bake (no hang)" sh -c \
	"test $st -ne 0 -a $st -ne 124"
check "and the error names it" grep -q \
	"cannot read '/etc/systemd/system/hostile.service': '/etc/systemd/system/hostile.service' is not a regular file" \
	"$W/3.log"
check "out/ unchanged" cmp -s "$W/before" "$W/after"

echo "# $fails failed"
[ $fails -eq 0 ]
