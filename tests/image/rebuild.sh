#!/bin/sh
# Offline, reproducible and incremental rebuilds (issue 7), on real
# libguestfs under TCG, in six appliance launches:
#
# 1. An online 'sbx-build all' (project A) bakes both fixture VMs, pins
#    every package file in sbx.lock and writes out/VM.manifest and
#    out/VM.inputs.                                              [1 launch]
# 2. A rebuild with nothing changed launches no appliance, takes well
#    under a second and loads no module (libguestfs, libcurl,
#    libarchive: builder/module.h).                             [0 launches]
#    2b. Memory and CPUs changed: run-dev.sh is rewritten, the image is
#    up to date (issue 15).                                     [0 launches]
# 3. Project A moves aside; project B, at the same path (rendered files
#    name their recipe by the path sbx-build was given), has the same
#    recipes, sbx.lock and secrets and no image.  Offline under 'unshare
#    -n' with a cold cache: fails before any launch, naming every missing
#    package file and the proxy's container image (served in step 1 by a
#    registry on 127.0.0.1 the test starts, then stopped).       [0 launches]
# 4. The same offline build with the warm cache succeeds, and its
#    manifests equal A's for both VMs (an offline rebuild from the lock
#    gives the content of the online build), with the inspection of both
#    bases kept from step 1 instead of inspecting again.         [1 launch]
# 5. One byte of dev's overlay changed: the offline rebuild rebuilds dev
#    only; dev's inputs digest and manifest change at exactly that path,
#    proxy's stay.                                               [1 launch]
# 6. 'verify' accepts the untouched proxy image; a file the build wrote,
#    altered behind the tool's back with guestfish, makes 'verify' name it
#    and exit 1.                                                [3 launches]
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/image/lib-fixtures.sh
fixtures_setup guestfish virt-make-fs debootstrap qemu-img unshare bc \
	docker-registry skopeo buildah openssl curl python3
. tests/lib/registry.sh

W=$PWD/tests/work/rebuild-test
A=$W/proj
B=$W/proj
O=$W/online
rm -rf "$W" && mkdir -p "$A" || exit 1
cp -a tests/fixtures/bake/recipes tests/fixtures/bake/overlays "$A/"
ln -s "$FIX_CACHE" "$A/images"
registry_start "$W/registry" || exit 1
trap 'registry_stop' EXIT
export HOME="$REGISTRY_HOME"
STANDIN=$REGISTRY/sbx-test/pihole:1
registry_busybox "$STANDIN" etc/standin=pihole >/dev/null || exit 1
sed -i "s#docker.io/pihole/pihole:2025.08.0#$STANDIN#" "$A/recipes/proxy.yaml"
export XDG_CACHE_HOME=$W/xdg SBX_KVM_TIMEOUT=${SBX_KVM_TIMEOUT:-30}
unset SOURCE_DATE_EPOCH

fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { # NAME COMMAND...
	n=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$n"; else bad "$n"; fi
}
has() { grep -q -- "$2" "$1"; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
launches() { sed -n 's/.*appliance launches: \([0-9]*\).*/\1/p' "$1"; }
show() { sed 's/^/#   /' "$1"; }
# One line per manifest entry: "PATH field field ...".
entries() {
	awk '/^ *- path: / { if (l != "") print l; l = $3; next }
	     l != "" && /^ +[a-z0-9]+:/ { l = l " " $1 $2 }
	     END { if (l != "") print l }' "$1"
}

# --- 1. online build ------------------------------------------------------
s=$(now)
./sbx-build -v -C "$A" all --accel tcg >"$W/a.log" 2>&1
st=$?
full=$(since "$s")
echo "# online build (both VMs): exit $st in $full s"
show "$W/a.log"
check "online build succeeds" test $st -eq 0
check "sbx.lock pins hello's .deb with its sha256" \
	grep -q 'file: /var/cache/apt/archives/hello_' "$A/sbx.lock"
check "sbx.lock says which package list the pins were made for" \
	grep -q 'for: .podman nftables.' "$A/sbx.lock"
check "manifests list the written paths with digests" \
	grep -q 'path: /etc/sbx/dev.conf' "$A/out/dev.manifest"
check "first build inspects the bases (quickly: both are Fedora- and Debian-shaped)" \
	grep -q '^\[image\] inspect: quick: ' "$W/a.log"
check "/etc/shadow listed, content excluded" \
	sh -c "grep -A7 'path: /etc/shadow' '$A/out/proxy.manifest' |
	       grep -q 'sha256: excluded'"

# --- 2. nothing changed ---------------------------------------------------
s=$(now)
./sbx-build -v -C "$A" all --accel tcg >"$W/noop.log" 2>&1
st=$?
noop=$(since "$s")
echo "# no-change rebuild: exit $st in $noop s"
show "$W/noop.log"
check "no-change rebuild succeeds" test $st -eq 0
check "no-change rebuild launches no appliance" \
	test "$(launches "$W/noop.log")" = 0
check "both VMs reported up to date" sh -c \
	"grep -q 'dev.qcow2 is up to date' '$W/noop.log' &&
	 grep -q 'proxy.qcow2 is up to date' '$W/noop.log'"
check "no-change rebuild under a second" \
	test "$(echo "$noop < 1" | bc)" = 1
# The modules (builder/module.h): with nothing to build, sbx-build loads
# neither the libguestfs module nor libguestfs (nor libcurl, libarchive).
LD_DEBUG=files LD_DEBUG_OUTPUT=$W/noop-ld ./sbx-build -C "$A" all \
	--accel tcg >/dev/null 2>&1
check "no-change rebuild loads no module and none of their libraries" \
	sh -c "cat '$W'/noop-ld.* | grep -q 'file=libyaml' &&
	       ! cat '$W'/noop-ld.* |
	       grep -E 'file=(libguestfs|libcurl|libarchive|[^ ]*sbx-build-)'"

# --- 2b. run-time settings only (issue 15) ----------------------------------
# Memory and CPUs change the run script, not the image: no launch.
cp "$A/out/run-dev.sh" "$W/run-dev.before"
cp "$A/recipes/dev.yaml" "$W/dev.yaml.orig"
printf 'memory: 3G\ncpus: 3\n' >>"$A/recipes/dev.yaml"
./sbx-build -v -C "$A" build dev --accel tcg >"$W/mem.log" 2>&1
st=$?
echo "# memory and cpus changed: exit $st"
show "$W/mem.log"
check "memory/cpus change: build succeeds" test $st -eq 0
check "memory/cpus change: no appliance launched" \
	test "$(launches "$W/mem.log")" = 0
check "memory/cpus change: dev reported up to date" \
	grep -q 'dev.qcow2 is up to date' "$W/mem.log"
check "memory/cpus change: run-dev.sh says -m 3072 -smp 3" \
	grep -q -- '-m 3072 -smp 3' "$A/out/run-dev.sh"
check "memory/cpus change: run-dev.sh rewritten" \
	sh -c "! cmp -s '$W/run-dev.before' '$A/out/run-dev.sh'"
cp "$W/dev.yaml.orig" "$A/recipes/dev.yaml"
./sbx-build -C "$A" build dev --accel tcg >/dev/null 2>&1

# --- 3. offline, cold cache -----------------------------------------------
registry_stop
mv "$A" "$O" && mkdir -p "$B" || exit 1
A=$O
cp -a "$A/recipes" "$A/overlays" "$A/sbx.lock" "$B/"
ln -s "$FIX_CACHE" "$B/images"
mkdir -p "$B/out" && cp -a "$A/out/secrets" "$B/out/"
s=$(now)
XDG_CACHE_HOME=$W/cold unshare -n ./sbx-build -v -C "$B" all --offline \
	--accel tcg >"$W/cold.log" 2>&1
st=$?
echo "# offline build, cold cache: exit $st in $(since "$s") s"
show "$W/cold.log"
check "cold cache: fails" test $st -eq 1
check "cold cache: names dev's missing hello .deb" \
	grep -q "missing '.*/cold/sbx-build/packages/debian/var/cache/apt/archives/hello_" \
	"$W/cold.log"
check "cold cache: names proxy's missing podman .rpm" \
	grep -q "missing '.*podman-1.0-1.fc44.x86_64.rpm'" "$W/cold.log"
check "cold cache: names proxy's missing container image" \
	grep -q "recipes/proxy.yaml:[0-9]*:[0-9]*: container image '$STANDIN'.*not in the cache" \
	"$W/cold.log"
check "cold cache: points at the recipe" \
	grep -q "recipes/dev.yaml:[0-9]*:[0-9]*: [0-9]* pinned package file" \
	"$W/cold.log"
check "cold cache: no image, no launch" \
	sh -c "! ls '$B/out' | grep -q qcow2"

# --- 4. offline, warm cache -----------------------------------------------
s=$(now)
unshare -n ./sbx-build -v -C "$B" all --offline --accel tcg \
	>"$W/b.log" 2>&1
st=$?
echo "# offline build (both VMs), warm cache: exit $st in $(since "$s") s"
show "$W/b.log"
check "offline build under unshare -n succeeds" test $st -eq 0
check "offline build: one launch" test "$(launches "$W/b.log")" = 1
check "offline build: both inspections kept, none run" sh -c \
	"grep -q '^\[dev\] inspect: kept' '$W/b.log' &&
	 grep -q '^\[proxy\] inspect: kept' '$W/b.log' &&
	 ! grep -q '^\[image\] inspect' '$W/b.log'"
for vm in dev proxy; do
	check "$vm: offline manifest equals the online one" \
		cmp "$A/out/$vm.manifest" "$B/out/$vm.manifest"
	check "$vm: same inputs digest" cmp "$A/out/$vm.inputs" \
		"$B/out/$vm.inputs"
done
check "sbx.lock unchanged by the pinned build" cmp "$A/sbx.lock" "$B/sbx.lock"

# --- 5. one overlay byte --------------------------------------------------
cp "$B/out/dev.manifest" "$W/dev.before"
cp "$B/out/dev.inputs" "$W/dev.inputs.before"
cp "$B/out/proxy.inputs" "$W/proxy.inputs.before"
sha256sum "$B/out/proxy.qcow2" >"$W/proxy.sum"
printf 'X' | dd of="$B/overlays/dev/etc/dev-overlay.txt" bs=1 seek=0 \
	conv=notrunc 2>/dev/null
s=$(now)
unshare -n ./sbx-build -v -C "$B" all --offline --accel tcg \
	>"$W/one.log" 2>&1
st=$?
one=$(since "$s")
echo "# offline rebuild after one overlay byte: exit $st in $one s"
show "$W/one.log"
check "one-VM rebuild succeeds" test $st -eq 0
check "proxy not rebuilt" sh -c \
	"grep -q 'proxy.qcow2 is up to date' '$W/one.log' &&
	 sha256sum -c '$W/proxy.sum'"
check "dev rebuilt, alone on the appliance" \
	grep -q 'launch: 1 drive,' "$W/one.log"
check "dev's inputs digest changed" sh -c \
	"! cmp -s '$W/dev.inputs.before' '$B/out/dev.inputs'"
check "proxy's inputs digest unchanged" cmp "$W/proxy.inputs.before" \
	"$B/out/proxy.inputs"
entries "$W/dev.before" >"$W/dev.before.e"
entries "$B/out/dev.manifest" >"$W/dev.after.e"
diff "$W/dev.before.e" "$W/dev.after.e" | sed -n 's/^[<>] \([^ ]*\).*/\1/p' |
	sort -u >"$W/dev.changed"
echo "# manifest entries changed: $(tr '\n' ' ' <"$W/dev.changed")"
check "dev's manifest changed at exactly the changed file" \
	test "$(cat "$W/dev.changed")" = /etc/dev-overlay.txt
check "dev's manifest digest changed" sh -c \
	"test \"\$(grep '^digest:' '$W/dev.before')\" != \
	      \"\$(grep '^digest:' '$B/out/dev.manifest')\""

# --- 6. verify ------------------------------------------------------------
s=$(now)
./sbx-build -C "$B" verify --accel tcg "$B/out/proxy.qcow2" \
	>"$W/verify-ok.log" 2>&1
st=$?
echo "# verify (untouched proxy): exit $st in $(since "$s") s"
show "$W/verify-ok.log"
check "verify: untouched image matches" test $st -eq 0
LIBGUESTFS_BACKEND_SETTINGS=force_tcg guestfish --rw -a "$B/out/dev.qcow2" \
	-i write /etc/sbx/dev.conf "dev = false" >"$W/alter.log" 2>&1 ||
	bad "guestfish could alter the image"
s=$(now)
./sbx-build -C "$B" verify --accel tcg "$B/out/dev.qcow2" \
	>"$W/verify-bad.log" 2>&1
st=$?
echo "# verify (altered dev): exit $st in $(since "$s") s"
show "$W/verify-bad.log"
check "verify: altered image exits 1" test $st -eq 1
check "verify: names the altered file and what changed" \
	grep -q '^changed /etc/sbx/dev.conf:.*content' "$W/verify-bad.log"
check "verify: nothing else reported" \
	test "$(grep -c '^changed\|^missing\|^unexpected' "$W/verify-bad.log")" = 1

echo "# full build $full s; no-change rebuild $noop s; one VM changed $one s"
echo "# $fails failed"
[ $fails -eq 0 ]
