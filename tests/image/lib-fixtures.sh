#!/bin/sh
# Fixture base images for the bake tests, built once and cached outside the
# clone (FIX_CACHE: ~/.cache/sbx-build-tests/image-KEY, keyed by this
# file's contents; see tests/lib/cache.sh).  Sourced by tests/image/*.sh:
#
#   . tests/image/lib-fixtures.sh
#   fixtures_build || exit $?   # sets FIX_DEBIAN, FIX_FEDORA
#
# - FIX_CACHE/rootfs/: debootstrap --variant=minbase of Debian 12, with
#   policycoreutils (a real setfiles) and passwd (useradd).
# - debian.qcow2: that tree, ext4 on GPT (virt-make-fs), 'LABEL=debroot'.
# - fedora.qcow2: GPT with a 1 MiB BIOS-boot-like partition and a btrfs
#   labelled 'fedora' with subvolumes root, home and var, made through
#   guestfish (never loop-mounted on the host), holding the same tree with
#   /etc/os-release ID=fedora, an SELinux config and file_contexts, and a
#   stub /usr/bin/dnf that records its arguments in /var/log/dnf-stub.log
#   and leaves a fake package in /var/cache/libdnf5.
# Delete FIX_CACHE to rebuild.  Needs root, debootstrap, guestfish,
# virt-make-fs and Debian's archive.
set -u
. tests/lib/cache.sh
FIX_CACHE=${FIX_CACHE:-$(test_cache image tests/image/lib-fixtures.sh)}
FIX_DEBIAN=$FIX_CACHE/debian.qcow2
FIX_FEDORA=$FIX_CACHE/fedora.qcow2
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
# Fixtures are built under TCG unless told otherwise (nested KVM may hang).
FIX_GFS_SETTINGS=${FIX_GFS_SETTINGS-force_tcg}

fix_log() { echo "fixtures: $*" >&2; }

fix_rootfs() {
	[ -d "$FIX_CACHE/rootfs" ] && return 0
	fix_log "debootstrap --variant=minbase bookworm (about a minute)"
	rm -rf "$FIX_CACHE/rootfs.tmp"
	debootstrap --variant=minbase --include=policycoreutils,passwd \
		bookworm "$FIX_CACHE/rootfs.tmp" "$(debian_mirror)" \
		>"$FIX_CACHE/debootstrap.log" 2>&1 || {
		fix_log "debootstrap failed, see $FIX_CACHE/debootstrap.log"
		return 1
	}
	mv "$FIX_CACHE/rootfs.tmp" "$FIX_CACHE/rootfs"
}

fix_debian() {
	[ -f "$FIX_DEBIAN" ] && return 0
	t=$FIX_CACHE/debian.tar
	fix_log "debian.qcow2 (virt-make-fs)"
	rm -rf "$FIX_CACHE/deb.tree" && cp -a "$FIX_CACHE/rootfs" \
		"$FIX_CACHE/deb.tree" || return 1
	rm -rf "$FIX_CACHE/deb.tree/etc/selinux"
	printf 'LABEL=debroot / ext4 defaults 0 1\n' \
		>"$FIX_CACHE/deb.tree/etc/fstab"
	tar -C "$FIX_CACHE/deb.tree" -cf "$t" . || return 1
	rm -rf "$FIX_CACHE/deb.tree"
	LIBGUESTFS_BACKEND_SETTINGS=$FIX_GFS_SETTINGS \
		virt-make-fs --format=qcow2 --type=ext4 --label=debroot \
		--partition=gpt --size=+256M "$t" "$FIX_DEBIAN.tmp" || return 1
	rm -f "$t"
	mv "$FIX_DEBIAN.tmp" "$FIX_DEBIAN"
}

fix_fedora_tree() {
	d=$1
	cp -a "$FIX_CACHE/rootfs" "$d" || return 1
	rm -f "$d/etc/os-release" "$d/usr/lib/os-release" "$d/etc/debian_version"
	cat >"$d/etc/os-release" <<'EOF'
NAME="Fedora Linux"
VERSION="44 (Cloud Edition)"
ID=fedora
VERSION_ID=44
PRETTY_NAME="Fedora Linux 44 (Cloud Edition)"
VARIANT_ID=cloud
EOF
	cp "$d/etc/os-release" "$d/usr/lib/os-release"
	printf 'Fedora release 44 (Forty Four)\n' >"$d/etc/fedora-release"
	printf 'Fedora release 44 (Forty Four)\n' >"$d/etc/redhat-release"
	cat >"$d/etc/fstab" <<'EOF'
LABEL=fedora / btrfs subvol=root,compress=zstd:1 0 0
LABEL=fedora /home btrfs subvol=home,compress=zstd:1 0 0
LABEL=fedora /var btrfs subvol=var,compress=zstd:1 0 0
EOF
	rm -rf "$d/etc/selinux"
	mkdir -p "$d/etc/selinux/targeted/contexts/files"
	printf 'SELINUX=enforcing\nSELINUXTYPE=targeted\n' \
		>"$d/etc/selinux/config"
	cat >"$d/etc/selinux/targeted/contexts/files/file_contexts" <<'EOF'
/.*	system_u:object_r:default_t:s0
/etc(/.*)?	system_u:object_r:etc_t:s0
/etc/hostname	--	system_u:object_r:hostname_etc_t:s0
/etc/machine-id	--	system_u:object_r:machineid_t:s0
/etc/sbx(/.*)?	system_u:object_r:sbx_etc_t:s0
/home	-d	system_u:object_r:home_root_t:s0
/home/[^/]+(/.*)?	unconfined_u:object_r:user_home_t:s0
/var(/.*)?	system_u:object_r:var_t:s0
/var/lib/sbx(/.*)?	system_u:object_r:sbx_var_lib_t:s0
/opt(/.*)?	system_u:object_r:usr_t:s0
/usr(/.*)?	system_u:object_r:usr_t:s0
/bin(/.*)?	system_u:object_r:bin_t:s0
/proc	-d	<<none>>
/sys	-d	<<none>>
/dev(/.*)?	<<none>>
EOF
	cat >"$d/usr/bin/dnf" <<'EOF'
#!/bin/sh
# Stub dnf of the Fedora-shaped bake fixture: records its arguments and
# "downloads" one fake package per name into the kept cache.
echo "$*" >>/var/log/dnf-stub.log
echo "cache: $(find /var/cache/libdnf5 -type f -printf '%f ' 2>/dev/null)" \
	>>/var/log/dnf-stub.log
c=/var/cache/libdnf5/fixture-repo/packages
case $1 in clean) rm -rf /var/cache/libdnf5/*; exit 0 ;; esac
mkdir -p "$c"
for a in "$@"; do
	case $a in
	-*|install) ;;
	*) [ -f "$c/$a-1.0-1.fc44.x86_64.rpm" ] ||
		echo "stub package $a" >"$c/$a-1.0-1.fc44.x86_64.rpm" ;;
	esac
done
EOF
	chmod 0755 "$d/usr/bin/dnf"
	chroot "$d" groupadd -r wheel
}

fix_fedora() {
	[ -f "$FIX_FEDORA" ] && return 0
	fix_log "fedora.qcow2 (btrfs root/home/var through guestfish)"
	tree=$FIX_CACHE/fed.tree
	t=$FIX_CACHE/fedora.tar
	rm -rf "$tree" && fix_fedora_tree "$tree" || return 1
	tar -C "$tree" -cf "$t" . || return 1
	rm -rf "$tree"
	rm -f "$FIX_FEDORA.tmp"
	qemu-img create -q -f qcow2 "$FIX_FEDORA.tmp" 1536M || return 1
	LIBGUESTFS_BACKEND_SETTINGS=$FIX_GFS_SETTINGS \
		guestfish --rw -a "$FIX_FEDORA.tmp" <<EOF || return 1
run
part-init /dev/sda gpt
part-add /dev/sda p 2048 4095
part-add /dev/sda p 4096 -34
mkfs-btrfs /dev/sda2 label:fedora
mount /dev/sda2 /
btrfs-subvolume-create /root
btrfs-subvolume-create /home
btrfs-subvolume-create /var
umount /
mount-options subvol=root /dev/sda2 /
mkdir /home
mkdir /var
mount-options subvol=home /dev/sda2 /home
mount-options subvol=var /dev/sda2 /var
tar-in $t /
umount-all
EOF
	rm -f "$t"
	mv "$FIX_FEDORA.tmp" "$FIX_FEDORA"
}

fixtures_build() {
	mkdir -p "$FIX_CACHE" || return 1
	fix_rootfs && fix_debian && fix_fedora
}

# fixtures_setup TOOL...: what every image test does first.  Skips (exit 77;
# a failure under SBX_TEST_STRICT=1) when not root or a tool is missing,
# then builds sbx-build and the fixture bases.
fixtures_setup() {
	SKIP_NAME=${SKIP_NAME:-$0}
	. tests/lib/skip.sh
	[ "$(id -u)" = 0 ] || skip "needs root (debootstrap)"
	need "$@"
	make -s sbx-build || exit 1
	fixtures_build || exit 1
}
