#!/bin/sh
# The end-to-end test's stand-in for Fedora Cloud, built from Debian's
# archive (the mirror this machine's apt uses) and cached outside the clone
# in $E2E_CACHE (run.sh sets it: ~/.cache/sbx-build-tests/e2e-KEY, keyed by
# this script's contents):
#
#   base.qcow2         a bootable disk: GPT with a BIOS boot partition and
#                      an ext4 root (label 'sbxroot'), GRUB on the serial
#                      console; Debian 13 "trixie" with systemd,
#                      NetworkManager, nftables, podman 5 (Quadlet),
#                      openssh, netcat-openbsd, curl, dig, nmap, waypipe.
#                      Made through guestfish, never loop-mounted.
#   images/*.tar       OCI archives made from one debootstrapped tree with
#                      tinyproxy and dnsmasq (no registry is reachable),
#                      which run.sh serves from its own registry on
#                      127.0.0.1 for the product to pull, build and bake:
#                      - docker.io/library/alpine:3.22, the stand-in for
#                        the base of overlays/proxy/.../tinyproxy/
#                        Containerfile: tinyproxy is in it and 'apk' is a
#                        no-op, so the build's RUN step works offline;
#                      - localhost/sbx-dns:latest, the Pi-hole stand-in
#                        (dnsmasq with /etc/pihole/dnsmasq.conf, forwarding
#                        nothing).
#                      base.qcow2 holds no container image: the bake puts
#                      them there.
#
# Usage: tests/e2e/build-base.sh [--boot-test]
# Each stage is skipped when its output exists; delete $E2E_CACHE to
# rebuild.  Stage times go to $E2E_CACHE/times.log.  Needs root,
# debootstrap, guestfish, qemu-system-x86_64, python3 and Debian's archive.
set -eu
cd "$(dirname "$0")/../.."
. tests/lib/cache.sh
E2E_CACHE=${E2E_CACHE:-$(test_cache e2e tests/e2e/build-base.sh)}
MIRROR=$(debian_mirror)
SUITE=trixie
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}

# What the VMs need.  Fedora Cloud ships most of this; the recipes add
# podman and nftables, which are here already because the bake has no
# package mirror for a stand-in.  curl, dig, nmap and python3 are the
# probes' tools.
VM_PKGS=linux-image-amd64,systemd,systemd-sysv,udev,dbus,kmod,\
network-manager,nftables,iptables,openssh-server,openssh-client,\
netcat-openbsd,podman,netavark,aardvark-dns,conmon,crun,\
curl,ca-certificates,iproute2,iputils-ping,bind9-dnsutils,nmap,\
python3-minimal,passwd,sudo,procps,less,e2fsprogs,waypipe,git,\
grub-pc-bin,grub2-common,initramfs-tools,zstd
CT_PKGS="tinyproxy dnsmasq-base"

log() { echo "build-base: $*" >&2; }
# stage NAME CMD...: runs CMD, records its wall time.
stage() {
	name=$1
	shift
	log "$name"
	t0=$(date +%s)
	"$@"
	echo "$name $(($(date +%s) - t0)) s" >>"$E2E_CACHE/times.log"
	log "$name: $(($(date +%s) - t0)) s"
}

vm_rootfs() {
	rm -rf "$E2E_CACHE/vm-rootfs.tmp"
	debootstrap --variant=minbase --include="$VM_PKGS" "$SUITE" \
		"$E2E_CACHE/vm-rootfs.tmp" "$MIRROR" \
		>"$E2E_CACHE/debootstrap-vm.log" 2>&1 || {
		log "debootstrap failed, see $E2E_CACHE/debootstrap-vm.log"
		return 1
	}
	mv "$E2E_CACHE/vm-rootfs.tmp" "$E2E_CACHE/vm-rootfs"
}

ct_rootfs() {
	d=$E2E_CACHE/ct-rootfs.tmp
	rm -rf "$d"
	# debootstrap --include cannot order tinyproxy's dependencies in a
	# minbase tree; apt in the new tree can.
	{
		debootstrap --variant=minbase "$SUITE" "$d" "$MIRROR" &&
			chroot "$d" apt-get -q update &&
			chroot "$d" env DEBIAN_FRONTEND=noninteractive \
				apt-get -q -y --no-install-recommends install \
				$CT_PKGS
	} >"$E2E_CACHE/debootstrap-ct.log" 2>&1 || {
		log "container tree failed, see $E2E_CACHE/debootstrap-ct.log"
		return 1
	}
	chroot "$d" apt-get clean
	rm -rf "$d"/var/lib/apt/lists/*
	chroot "$d" id tinyproxy >/dev/null
	# The overlay's Containerfile runs 'apk add tinyproxy' on Alpine:
	# tinyproxy is here already, and apk is a stand-in that says so.
	cat >"$d/sbin/apk" <<'EOS'
#!/bin/sh
# sbx e2e stand-in for Alpine's apk: this Debian tree has the packages.
echo "apk (sbx e2e stand-in): $*: already in the image"
EOS
	chmod 0755 "$d/sbin/apk"
	mv "$d" "$E2E_CACHE/ct-rootfs"
}

# The tree as a cloud image would ship it: boots on the serial console,
# DHCP left to the recipe (NetworkManager keyfiles), no passwords.
vm_tree() {
	d=$E2E_CACHE/vm-tree
	rm -rf "$d"
	cp -a "$E2E_CACHE/vm-rootfs" "$d"
	printf 'LABEL=sbxroot / ext4 defaults 0 1\n' >"$d/etc/fstab"
	printf 'localhost\n' >"$d/etc/hostname"
	# Fedora has 'wheel'; the recipes name it.
	chroot "$d" groupadd -r wheel
	# No DNS from the uplink's DHCP: a lookup in the proxy VM would leave
	# through QEMU to the host's resolver.  The proxies use the DNS
	# container; the dev VM has no DNS by design.
	mkdir -p "$d/etc/NetworkManager/conf.d"
	printf '[main]\ndns=none\n' \
		>"$d/etc/NetworkManager/conf.d/90-sbx-e2e-no-dns.conf"
	rm -f "$d/etc/resolv.conf"
	printf '# sbx e2e stand-in: no resolver\n' >"$d/etc/resolv.conf"
	# Nothing that reaches out on its own (APT's daily timers).
	for u in apt-daily.timer apt-daily-upgrade.timer; do
		ln -sf /dev/null "$d/etc/systemd/system/$u"
	done
	: >"$d/etc/machine-id"
	rm -f "$d/var/lib/dbus/machine-id"
	cat >"$d/etc/default/grub" <<'EOF'
GRUB_DEFAULT=0
GRUB_TIMEOUT=0
GRUB_DISTRIBUTOR="Debian (sbx e2e stand-in)"
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0,115200 systemd.show_status=1"
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB_DISABLE_OS_PROBER=true
EOF
	rm -rf "$d"/var/cache/apt/archives/*.deb "$d"/var/lib/apt/lists/*
	tar -C "$d" -cf "$E2E_CACHE/vm-tree.tar" .
	rm -rf "$d"
}

vm_disk() {
	out=$E2E_CACHE/base.qcow2
	rm -f "$out.tmp"
	qemu-img create -q -f qcow2 "$out.tmp" 4G
	guestfish --rw -a "$out.tmp" <<EOF
run
part-init /dev/sda gpt
part-add /dev/sda p 2048 4095
part-set-gpt-type /dev/sda 1 21686148-6449-6E6F-744E-656564454649
part-add /dev/sda p 4096 -34
mkfs ext4 /dev/sda2 label:sbxroot
mount /dev/sda2 /
tar-in $E2E_CACHE/vm-tree.tar /
command "grub-install --target=i386-pc --boot-directory=/boot /dev/sda"
command "grub-mkconfig -o /boot/grub/grub.cfg"
umount-all
EOF
	rm -f "$E2E_CACHE/vm-tree.tar"
	mv "$out.tmp" "$out"
}

# oci_archive TREE NAME ENTRYPOINT USER OUT: a one-layer OCI image archive
# (what 'podman import' + 'podman save --format oci-archive' give), named
# NAME through the ref.name annotation.
oci_archive() {
	python3 - "$@" <<'EOF'
import gzip, hashlib, io, json, os, subprocess, sys, tarfile
tree, name, entry, user, out = sys.argv[1:6]
layer = subprocess.run(["tar", "-C", tree, "--numeric-owner", "-cf", "-",
                        "."], check=True, stdout=subprocess.PIPE).stdout
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
gz = gzip.compress(layer, compresslevel=1, mtime=0)
def blob(b):
    return "sha256:" + hashlib.sha256(b).hexdigest(), b
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Entrypoint": json.loads(entry), "User": user,
               "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                       "/usr/bin:/sbin:/bin"]},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "sbx e2e build-base.sh"}],
}).encode()
cdig, _ = blob(config)
ldig, _ = blob(gz)
manifest = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": cdig, "size": len(config)},
    "layers": [{"mediaType":
                "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": ldig, "size": len(gz)}],
}).encode()
mdig, _ = blob(manifest)
index = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{"mediaType":
                   "application/vnd.oci.image.manifest.v1+json",
                   "digest": mdig, "size": len(manifest),
                   "annotations": {"org.opencontainers.image.ref.name":
                                   name}}],
}).encode()
with tarfile.open(out + ".tmp", "w") as t:
    def add(path, data):
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    add("index.json", index)
    for d, b in ((cdig, config), (ldig, gz), (mdig, manifest)):
        add("blobs/sha256/" + d.split(":")[1], b)
os.rename(out + ".tmp", out)
EOF
}

ct_images() {
	rm -rf "$E2E_CACHE/images"
	mkdir -p "$E2E_CACHE/images"
	oci_archive "$E2E_CACHE/ct-rootfs" docker.io/library/alpine:3.22 \
		'["/bin/sh"]' root "$E2E_CACHE/images/alpine.tar"
	echo docker.io/library/alpine:3.22 >"$E2E_CACHE/images/alpine.name"
	oci_archive "$E2E_CACHE/ct-rootfs" localhost/sbx-dns:latest \
		'["/usr/sbin/dnsmasq", "-k", "--no-resolv", "--no-hosts", "--log-queries", "--log-facility=-", "--conf-file=/etc/pihole/dnsmasq.conf", "--user=root"]' \
		root "$E2E_CACHE/images/sbx-dns.tar"
	echo localhost/sbx-dns:latest >"$E2E_CACHE/images/sbx-dns.name"
}

# Boots base.qcow2 (throw-away snapshot) headless under TCG to a login
# prompt on the serial console.
boot_test() {
	logf=$E2E_CACHE/boot-test.log
	rm -f "$logf"
	qemu-system-x86_64 -accel tcg -machine q35 -m 2048 -smp 2 \
		-nographic -no-reboot -snapshot \
		-drive file="$E2E_CACHE/base.qcow2",if=virtio,format=qcow2 \
		-nic none -serial file:"$logf" -monitor none -display none &
	qpid=$!
	i=0
	while [ $i -lt 300 ]; do
		if grep -q 'login:' "$logf" 2>/dev/null; then
			kill "$qpid"
			wait "$qpid" 2>/dev/null || :
			log "booted to a login prompt in $i s"
			return 0
		fi
		kill -0 "$qpid" 2>/dev/null || break
		sleep 1
		i=$((i + 1))
	done
	kill "$qpid" 2>/dev/null || :
	log "no login prompt after $i s, see $logf"
	return 1
}

mkdir -p "$E2E_CACHE"
[ -d "$E2E_CACHE/vm-rootfs" ] || stage vm-debootstrap vm_rootfs
[ -d "$E2E_CACHE/ct-rootfs" ] || stage ct-debootstrap ct_rootfs
[ -f "$E2E_CACHE/images/sbx-dns.name" ] || stage ct-images ct_images
if [ ! -f "$E2E_CACHE/base.qcow2" ]; then
	stage vm-tree vm_tree
	stage vm-disk vm_disk
fi
if [ "${1-}" = --boot-test ]; then
	stage boot-test boot_test
fi
log "ready: $E2E_CACHE/base.qcow2, $E2E_CACHE/images/"
