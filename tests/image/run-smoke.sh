#!/bin/sh
# The run scripts' smoke test: a small bootable image of the test suite's
# own (syslinux on FAT, the host's kernel, an initramfs whose static /init
# prints a marker on the serial console and powers off) is started through
# a generated run-smoke.sh, accelerator probe included, and the marker
# must appear in out/logs/smoke.log.  The image is cached in tests/cache/.
# Needs: qemu-system-x86, qemu-utils, syslinux, mtools, dosfstools, cpio,
# a C compiler with static libc, a readable /boot/vmlinuz-*.  Exit 77 when
# something is missing.
set -eu
top=$(pwd)
fix=$top/tests/fixtures/runscript/smoke
cache=$top/tests/cache/smoke
SKIP_NAME=run-smoke
. tests/lib/skip.sh
need qemu-system-x86_64 qemu-img syslinux mcopy mkfs.vfat cpio cc
kernel=''
for k in /boot/vmlinuz-*; do
	if [ -r "$k" ]; then kernel=$k; fi
done
[ -n "$kernel" ] || skip "no readable /boot/vmlinuz-*"
[ -x ./sbx-build ] || { echo "run-smoke: run 'make' first" >&2; exit 1; }

image=$cache/smoke-$(basename "$kernel").qcow2
if [ ! -f "$image" ]; then
	echo "run-smoke: building $image"
	mkdir -p "$cache"
	b=$(mktemp -d "$cache/build.XXXXXX")
	cat >"$b/init.c" <<'C'
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>
int main(void)
{
	static const char m[] = "\nSBX-SMOKE-OK: init ran\n";
	int fd;

	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	fd = open("/dev/ttyS0", O_WRONLY | O_NOCTTY);
	if (write(fd >= 0 ? fd : 1, m, sizeof(m) - 1) < 0)
		return 1;
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
C
	sed -i '1i #include <sys/stat.h>' "$b/init.c"
	cc -static -Os -o "$b/init" "$b/init.c" ||
		skip "cannot link a static program (libc6-dev)"
	(cd "$b" && echo init | cpio -o -H newc --quiet | gzip >initrd)
	printf '%s\n' 'DEFAULT smoke' 'LABEL smoke' '  KERNEL vmlinuz' \
		'  INITRD initrd' \
		'  APPEND console=ttyS0 rdinit=/init panic=-1 quiet' \
		>"$b/syslinux.cfg"
	mkfs.vfat -C -n SBXSMOKE "$b/fat.img" 32768 >/dev/null
	mcopy -i "$b/fat.img" "$kernel" ::vmlinuz
	mcopy -i "$b/fat.img" "$b/initrd" "$b/syslinux.cfg" ::
	syslinux --install "$b/fat.img"
	qemu-img convert -f raw -O qcow2 "$b/fat.img" "$b/smoke.qcow2"
	mv "$b/smoke.qcow2" "$image"
	rm -rf "$b"
fi

w=$(mktemp -d /tmp/sbx-smoke.XXXXXX)
trap 'rm -rf "$w"' EXIT
cp -R "$fix/recipes" "$w/"
if ./sbx-build help 2>&1 | grep -q '^ *scripts'; then
	./sbx-build -C "$w" scripts smoke
else
	# Until 'sbx-build scripts' is in the command table: the same call.
	cat >"$w/gen.c" <<'C'
#include <stdio.h>
#include "outputs.h"
#include "recipe.h"
int main(int argc, char **argv)
{
	struct recipe_set *set;
	struct diag_list *d;

	(void)argc;
	if (recipe_set_load(argv[1], &set, &d) < 0) {
		diag_print(d, stderr);
		return 1;
	}
	return outputs_write_vm(set, recipe_find_vm(set, "smoke"),
				argv[2]) < 0;
}
C
	libs=$(pkg-config --libs libguestfs yaml-0.1 libcurl libarchive \
		libcrypto libxcrypt)
	objs=''
	for o in builder/*.o; do
		case $o in builder/main.o) ;; *) objs="$objs $o" ;; esac
	done
	# shellcheck disable=SC2086 # word lists
	cc -D_GNU_SOURCE -Ibuilder -o "$w/gen" "$w/gen.c" $objs $libs
	"$w/gen" "$w" "$w/out"
fi
qemu-img create -q -f qcow2 -F qcow2 -b "$image" "$w/out/smoke.qcow2"
[ -e /dev/vhost-vsock ] || export SBX_VSOCK=off
start=$(date +%s)
st=0
env -u SBX_ACCEL XDG_RUNTIME_DIR="$w" HOME="$w" \
	timeout 180 sh "$w/out/run-smoke.sh" </dev/null >"$w/console" \
	2>"$w/stderr" || st=$?
cat "$w/stderr" >&2
echo "run-smoke: run-smoke.sh exited $st after $(($(date +%s) - start))s"
if [ "$st" -ne 0 ] || ! grep -q 'SBX-SMOKE-OK' "$w/out/logs/smoke.log"; then
	echo "run-smoke: FAIL: no marker in out/logs/smoke.log:" >&2
	tail -n 20 "$w/out/logs/smoke.log" >&2 || :
	exit 1
fi
grep -q 'SBX-SMOKE-OK' "$w/console" ||
	{ echo "run-smoke: FAIL: the console did not show it" >&2; exit 1; }
echo "run-smoke: ok: the guest's serial output is in out/logs/smoke.log"
