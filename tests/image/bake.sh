#!/bin/sh
# The bake, end to end on real libguestfs (TCG here), batched into four
# appliance launches:
#
# 1. 'sbx-build -v all' with the default accelerator bakes both fixture
#    VMs (a Fedora-shaped btrfs image and a Debian ext4 image) in ONE
#    launch, after KVM failed where nested KVM is broken; one Debian
#    package really installs from the archive through the appliance.
# 2. One guestfish launch reads both images back and compares every file
#    of the plan (content digest, owner, mode, SELinux label on the
#    Fedora-shaped one), the overlay, users, units, hostname, cloud-init,
#    machine-id, the grown root, the subvolumes, the package caches.
# 3. An offline rebuild (no network at all: unshare -n; --force, as nothing
#    changed) installs the pinned packages from the cache and then fails at the test hook SBX_TEST_FAIL_AT=
#    shutdown: out/ is left exactly as it was, with no temporary file.
#    The proxy's container image (a stand-in pushed to a registry on
#    127.0.0.1 that the test starts, tests/lib/registry.sh) is pinned and
#    baked by the first build; the offline one takes it from the cache with
#    the registry stopped.
# 4. SIGINT during a build: the same.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/image/lib-fixtures.sh
fixtures_setup guestfish virt-make-fs debootstrap qemu-img unshare \
	docker-registry skopeo buildah openssl curl python3
. tests/lib/registry.sh

W=$PWD/tests/work/bake-test
P=$W/proj
rm -rf "$W" && mkdir -p "$P" || exit 1
cp -a tests/fixtures/bake/recipes tests/fixtures/bake/overlays "$P/"
ln -s "$FIX_CACHE" "$P/images"
# Overlay files on both sides of the 1 MiB a file may take in one message
# (image-fs.c): larger ones are transferred and hashed in the appliance.
# An empty one.  And the unit file the units step reads back from the
# guest made 1.3 MiB of comments before its [Install] section: read in
# two messages, or its WantedBy link is missing.
U=$P/overlays/proxy/etc/systemd/system/sbx-test.service
head -c 1048576 /dev/urandom >"$P/overlays/proxy/opt/tool/mib.bin" &&
	head -c 1572864 /dev/urandom >"$P/overlays/proxy/opt/tool/big.bin" &&
	: >"$P/overlays/proxy/opt/tool/empty" &&
	awk '/^\[Install\]$/ { for (i = 0; i < 25000; i++)
		printf "# padding line %05d of a unit larger than one message\n", i }
		{ print }' tests/fixtures/bake/overlays/proxy/etc/systemd/system/sbx-test.service >"$U" ||
	exit 1
[ "$(wc -c <"$U")" -gt 1310720 ] || { echo "not ok - the unit is not 1.3 MiB"; exit 1; }
registry_start "$W/registry" || exit 1
trap 'registry_stop' EXIT
export HOME="$REGISTRY_HOME"
STANDIN=$REGISTRY/sbx-test/pihole:1
registry_busybox "$STANDIN" etc/standin=pihole >/dev/null || exit 1
sed -i "s#docker.io/pihole/pihole:2025.08.0#$STANDIN#" "$P/recipes/proxy.yaml"
export XDG_CACHE_HOME=$W/xdg SBX_KVM_TIMEOUT=${SBX_KVM_TIMEOUT:-30}
PKG=$XDG_CACHE_HOME/sbx-build/packages
# A package already in the cache is handed to dnf (copy-in).
mkdir -p "$PKG/fedora/var/cache/libdnf5/seed" &&
	echo seed >"$PKG/fedora/var/cache/libdnf5/seed/seed-1-1.noarch.rpm"

fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { # NAME COMMAND...
	n=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$n"; else bad "$n"; fi
}
has() { grep -q -- "$2" "$1"; }
t() { date +%s; }

# --- 1. one launch, both VMs -------------------------------------------
s=$(t)
./sbx-build -v -C "$P" all >"$W/all.log" 2>&1
st=$?
echo "# sbx-build all: exit $st in $(($(t) - s)) s"
sed 's/^/#   /' "$W/all.log"
[ $st -eq 0 ] && ok "sbx-build all succeeds" || bad "sbx-build all succeeds"
check "exactly one appliance came up" has "$W/all.log" "launches: 1 "
if grep -q "attempts: 2" "$W/all.log"; then
	check "KVM failure fell back to TCG with a warning" \
		has "$W/all.log" "did not come up with KVM"
fi
for vm in dev proxy; do
	check "out/$vm.qcow2 exists" test -f "$P/out/$vm.qcow2"
done
check "no temporary file in out/" sh -c "! ls -A '$P/out' | grep -q tmp"
qemu-img info --output=json "$P/out/proxy.qcow2" >"$W/info.json"
check "backing file is the base's absolute path" \
	grep -q "\"backing-filename\": \"$(realpath "$FIX_FEDORA")\"" \
	"$W/info.json"
check "backing format qcow2" grep -q '"backing-filename-format": "qcow2"' \
	"$W/info.json"
check "virtual size from the recipe (3G)" \
	grep -q '"virtual-size": 3221225472' "$W/info.json"
check "apt kept the downloaded package in the cache" \
	sh -c "ls '$PKG'/debian/var/cache/apt/archives/hello_*.deb"
check "dnf's kept cache copied out" test -f \
	"$PKG/fedora/var/cache/libdnf5/fixture-repo/packages/podman-1.0-1.fc44.x86_64.rpm"
IMG=$(awk -v r="  $STANDIN:" '$0 == r { getline; print $2 }' "$P/sbx.lock")
check "sbx.lock pins the container image" test -n "$IMG"
check "the images step baked it" has "$W/all.log" \
	"^\[proxy\] images: $STANDIN@${IMG%"${IMG#???????????????????}"}"
check "sbx.lock pins the package file apt downloaded" \
	grep -q 'file: /var/cache/apt/archives/hello_.*_amd64.deb' "$P/sbx.lock"
check "sbx.lock pins the rpm files dnf kept" \
	grep -q 'file: /var/cache/libdnf5/fixture-repo/packages/podman-1.0-1.fc44.x86_64.rpm' \
	"$P/sbx.lock"
check "out/VM.manifest and out/VM.inputs written" test -s "$P/out/dev.manifest" \
	-a -s "$P/out/proxy.manifest" -a -s "$P/out/dev.inputs" \
	-a -s "$P/out/proxy.inputs"

# --- 2. read everything back in one guestfish launch ----------------------
# The plan (placeholder secrets: digests are compared for the fixture's own
# files only) turned into guestfish commands whose output names each path.
gen() { # VM
	./sbx-build -C "$P" plan "$1" | awk '
	$1 == "file" || $1 == "dir" {
		print "echo @@ " $1 " " $4 " " $2 " " $3
		print "-lstatns " $4
		if ($1 == "file") print "-checksum sha256 " $4
		print "-lgetxattr " $4 " security.selinux"
		# The label ends in a NUL and no newline.
		print "echo"
	}
	$1 == "symlink" {
		print "echo @@ symlink " $2 " " $4
		print "-readlink " $2
	}'
}
{
	echo "run"
	echo "mount-ro /dev/sda1 /"
	echo "echo @@ vm dev"
	echo "cat /etc/passwd"
	echo "cat /etc/group"
	gen dev
	cat <<'EOF'
echo @@ extra
cat /etc/hostname
cat /etc/machine-id
is-file /etc/cloud/cloud-init.disabled
readlink /etc/systemd/system/multi-user.target.wants/sbx-dev.service
readlink /etc/systemd/system/sbx-dev-alias.service
is-file /usr/bin/hello
-is-file /.autorelabel
-is-file /usr/sbin/policy-rc.d
statvfs /
cat /etc/shadow
umount-all
mount-options ro,subvol=root /dev/sdb2 /
mount-options ro,subvol=home /dev/sdb2 /home
mount-options ro,subvol=var /dev/sdb2 /var
echo @@ vm proxy
cat /etc/passwd
cat /etc/group
EOF
	gen proxy
	cat <<'EOF'
echo @@ extra
cat /etc/hostname
cat /etc/machine-id
readlink /etc/systemd/system/multi-user.target.wants/sbx-test.service
-is-file /.autorelabel
cat /etc/shadow
cat /var/log/dnf-stub.log
lstatns /home/sbx
lstatns /home/sbx/.config
statvfs /
checksum sha256 /var/lib/sbx/images/pihole/manifest.json
echo == overlay sums
checksum sha256 /etc/sbx/overlay.txt
checksum sha256 /opt/tool/mib.bin
checksum sha256 /opt/tool/big.bin
checksum sha256 /opt/tool/empty
echo == end
part-list /dev/sdb
blockdev-getsize64 /dev/sdb
umount-all
echo @@ subvolumes
mount-options ro,subvol=var /dev/sdb2 /
cat /lib/sbx/state
umount-all
mount-options ro,subvol=home /dev/sdb2 /
cat /sbx/.config/note
EOF
} >"$W/readback.gf"
s=$(t)
# Under TCG like the fixtures: a KVM launch hangs where nested KVM is
# broken, and guestfish has no fallback.
LIBGUESTFS_BACKEND_SETTINGS=$FIX_GFS_SETTINGS \
	guestfish --ro -a "$P/out/dev.qcow2" -a "$P/out/proxy.qcow2" \
	<"$W/readback.gf" >"$W/readback.raw" 2>"$W/readback.err"
echo "# read-back: exit $? in $(($(t) - s)) s"
tr -d '\000' <"$W/readback.raw" >"$W/readback.out"
R=$W/readback.out

# The digests: the plan prints the first 16 hex digits.
for vm in dev proxy; do
	./sbx-build -C "$P" plan $vm |
		sed -n 's/^  file .* \(\/[^ ]*\) (.*sha256:\([0-9a-f]*\))$/\1 \2/p' |
		while read -r path sum; do
			echo "$vm $path $sum"
		done
done >"$W/sums"
# Every plan entry: mode, owner and group (names through the guest's own
# passwd/group), digest of the fixture's own files, SELinux label on proxy.
awk -v fixture='^/etc/sbx/|^/home/sbx/|^/var/lib/sbx/|^/etc/hostname$' \
	-f /dev/stdin "$W/sums" "$R" >"$W/entries.tap" <<'AWK'
function flush(   m, og) {
	if (kind == "") return
	if (kind == "symlink") {
		if (got_link != want_target) bad("symlink " path " -> '" got_link "'")
		else nok++
	} else {
		m = sprintf("%04o", mode % 4096)
		split(owner, og, ":")
		if (mode < 0) bad(path " missing")
		else if (m != want_mode) bad(path " mode " m " want " want_mode)
		else if (uid != uids[og[1]]) bad(path " uid " uid " want " og[1])
		else if (gid != gids[og[2]]) bad(path " gid " gid " want " og[2])
		# Overlay files: the plan prints no digest for them.
		else if (kind == "file" && path ~ fixture && want_sum != "" &&
			 substr(sum, 1, 16) != want_sum)
			bad(path " sha256 " sum " want " want_sum)
		else if (vm == "proxy" && label == "")
			bad(path " has no SELinux label")
		else nok++
	}
	kind = ""
}
function bad(m) { print "not ok - " vm ": " m; nbad++ }
FNR == NR { sums[$1 " " $2] = $3; next }
$1 == "@@" {
	flush()
	if ($2 == "vm") { vm = $3; section = "passwd"; split("", uids); split("", gids) }
	else if ($2 == "extra" || $2 == "subvolumes") section = $2
	else if ($2 == "symlink") { kind = "symlink"; path = $3; want_target = $4; got_link = "" }
	else {
		kind = $2; path = $3; want_mode = $4; owner = $5
		sum = ""; label = ""; mode = uid = gid = -1
		want_sum = sums[vm " " path]
	}
	next
}
# passwd and group lines only: "st_mode: 33152" is not one.
section == "passwd" && /^[a-z_][a-z0-9_-]*:[^:]*:[0-9]+:/ {
	n = split($0, f, ":")
	if (n >= 7) uids[f[1]] = f[3]
	else gids[f[1]] = f[3]
	next
}
kind == "symlink" { got_link = $0; next }
kind != "" && /^st_mode: / { mode = $2 }
kind != "" && /^st_uid: / { uid = $2 }
kind != "" && /^st_gid: / { gid = $2 }
kind == "file" && /^[0-9a-f]+$/ && length($0) == 64 { sum = $0 }
kind != "" && /_u:object_r:/ { label = $0 }
END {
	flush()
	if (nbad == 0) print "ok - every plan entry (" nok ") has its content, owner, mode and label"
	exit nbad > 0
}
AWK
[ $? -eq 0 ] || fails=$((fails + 1))
cat "$W/entries.tap"

# The "extra" section of each VM in the read-back output.
dv() { awk '/^@@ vm dev$/ { v = 1 } /^@@ vm proxy$/ { v = 0 } v' "$R" |
	awk '/^@@ extra$/ { on = 1; next } /^@@ / { on = 0 } on'; }
px() { awk '/^@@ vm proxy$/ { v = 1 } v' "$R" |
	awk '/^@@ extra$/ { on = 1; next } /^@@ / { on = 0 } on'; }
dv >"$W/dev.extra"
px >"$W/proxy.extra"
check "dev: the recipe's own /etc/hostname wins over the rendered one" \
	has "$W/dev.extra" '^sbx-dev-own$'
check "dev: machine-id uninitialized" has "$W/dev.extra" '^uninitialized$'
check "dev: unit enabled (WantedBy)" has "$W/dev.extra" \
	'^/etc/systemd/system/sbx-dev.service$'
check "dev: 'hello' installed from Debian's archive" \
	sh -c "grep -c '^true$' '$W/dev.extra' | grep -q 2"
check "dev: no /.autorelabel, no policy-rc.d left" \
	sh -c "test \$(grep -c '^false$' '$W/dev.extra') -eq 2"
check "dev: user dev locked" has "$W/dev.extra" '^dev:!'
check "proxy: hostname" has "$W/proxy.extra" '^sbx-proxy-test$'
check "proxy: machine-id uninitialized" has "$W/proxy.extra" '^uninitialized$'
check "proxy: unit enabled" has "$W/proxy.extra" \
	'^/etc/systemd/system/sbx-test.service$'
check "proxy: random password hashed (yescrypt)" has "$W/proxy.extra" \
	'^sbx:\$y\$'
check "proxy: svc locked" has "$W/proxy.extra" '^svc:!'
check "proxy: dnf asked with keepcache" has "$W/proxy.extra" \
	'--setopt=keepcache=1 --setopt=install_weak_deps=False install podman nftables'
check "proxy: cached package handed to dnf" has "$W/proxy.extra" \
	'^cache: .*seed-1-1.noarch.rpm'
check "proxy: labelled by setfiles (no /.autorelabel)" \
	sh -c "grep -q '^false$' '$W/proxy.extra'"
check "proxy: written paths carry their file_contexts label" \
	grep -q 'system_u:object_r:sbx_etc_t:s0' "$R"
check "proxy: home file labelled user_home_t" \
	grep -q 'unconfined_u:object_r:user_home_t:s0' "$R"
check "proxy: the pinned image in /var/lib/sbx/images/pihole" \
	has "$W/proxy.extra" "^${IMG#sha256:}$"
check "var subvolume holds /var/lib/sbx/state" has "$R" '^on the var subvolume$'
check "home subvolume holds /home/sbx/.config/note" has "$R" \
	'^on the home subvolume$'
# The overlay's files as the guest holds them, and as out/proxy.manifest
# records them: the host's bytes, whichever way they travelled.
want=$(cd "$P/overlays/proxy" && sha256sum etc/sbx/overlay.txt \
	opt/tool/mib.bin opt/tool/big.bin opt/tool/empty | cut -d' ' -f1)
check "proxy: overlay files of 13 B, 1 MiB, 1.5 MiB and 0 B arrive whole" \
	test "$(awk '/^== overlay sums$/ { on = 1; next } /^== end$/ { on = 0 } on' \
		"$R")" = "$want"
mansum() { # PATH: its sha256 in out/proxy.manifest
	awk -v p="$1" '$1 == "-" && $2 == "path:" { on = $3 == p; next }
		on && $1 == "sha256:" { print $2 }' "$P/out/proxy.manifest"
}
check "proxy: the manifest hashes them as they are" \
	test "$(mansum /etc/sbx/overlay.txt; mansum /opt/tool/mib.bin
		mansum /opt/tool/big.bin; mansum /opt/tool/empty)" = "$want"
# Grown root: the btrfs spans (almost) the 3 GiB disk, ext4 the 2 GiB one.
fsbytes() { # FILE
	awk '/^bsize: / { b = $2 } /^blocks: / { n = $2 } END { print b * n }' "$1"
}
check "proxy: btrfs grown to the disk (> 2.8 GiB)" \
	test "$(fsbytes "$W/proxy.extra")" -gt 3006477107
check "dev: ext4 grown to the disk (> 1.8 GiB)" \
	test "$(fsbytes "$W/dev.extra")" -gt 1932735283

# --- 3. offline rebuild from the cache, failing at the last moment ---------
snap() { (cd "$P/out" && ls -A && sha256sum ./*.qcow2 ./*.inputs ./*.manifest); }
snap >"$W/before"
registry_stop
s=$(t)
SBX_TEST_FAIL_AT=shutdown unshare -n ./sbx-build -C "$P" all --offline \
	--force --accel tcg >"$W/fail.log" 2>&1
st=$?
echo "# failing offline rebuild: exit $st in $(($(t) - s)) s"
sed 's/^/#   /' "$W/fail.log"
check "failure injected at shutdown: exit 1" test $st -eq 1
check "offline: packages installed from the cache" \
	has "$W/fail.log" '^\[dev\] packages: hello'
check "offline: the container image from the cache" \
	has "$W/fail.log" "^\[proxy\] images: $STANDIN@"
check "the hook, not something else, failed" has "$W/fail.log" \
	"SBX_TEST_FAIL_AT=shutdown"
snap >"$W/after"
check "out/ unchanged, no temporary file" cmp "$W/before" "$W/after"

# --- 4. SIGINT -------------------------------------------------------------
s=$(t)
./sbx-build -C "$P" build --accel tcg --offline --force proxy \
	>"$W/int.log" 2>&1 &
pid=$!
i=0
while ! grep -q "launch:" "$W/int.log" && [ $i -lt 300 ]; do
	sleep 1
	i=$((i + 1))
done
kill -INT $pid
wait $pid
st=$?
echo "# interrupted build: exit $st in $(($(t) - s)) s"
sed 's/^/#   /' "$W/int.log"
check "SIGINT: exit 1, says interrupted" sh -c \
	"test $st -eq 1 && grep -q interrupted '$W/int.log'"
snap >"$W/after"
check "SIGINT: out/ unchanged, no temporary file" cmp "$W/before" "$W/after"

echo "# $fails failed"
[ $fails -eq 0 ]
