#!/bin/sh
# Container images at build time (issue 12) against a real registry on
# 127.0.0.1 (tests/lib/registry.sh: docker-registry, TLS with a CA made
# here), serving images made here: a Pi-hole stand-in and the base of the
# tinyproxy Containerfile.  'lock' pins them to manifest digests, --update
# moves a pin, an '@sha256:' in the recipe wins, 'fetch' pulls them and
# builds the Containerfile (its RUN really runs), an offline fetch in a
# namespace without network (unshare -n) with the registry stopped uses
# the cache alone, a missing image is named with its recipe line, and a
# tampered cache blob is refused.  The bake of these images into a guest
# is tests/image/ (check-image).
set -u
SKIP_NAME=check-images
. tests/lib/skip.sh
. tests/lib/registry.sh
fail() {
	echo "check-images: FAIL: $*" >&2
	[ -s "$work/out" ] && sed 's/^/  | /' "$work/out" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (buildah's builds here are rootful)"
need docker-registry skopeo buildah openssl curl python3 unshare tar gzip
[ -x /bin/busybox ] || skip "no /bin/busybox (busybox-static, make test-deps)"
[ -x ./sbx-build ] || fail "run from the top of the tree after make"
unshare -n true 2>/dev/null || cannot "unshare -n does not work here"
top=$PWD
work=$(mktemp -d /tmp/sbx-images-XXXXXX)
trap 'registry_stop; rm -rf "$work"' EXIT INT TERM
registry_start "$work/reg" || fail "the registry did not start"
export HOME="$REGISTRY_HOME"
registry_busybox "$REGISTRY/sbx-test/base:1" etc/base-release=1 >/dev/null ||
	fail "cannot push the base image"
registry_busybox "$REGISTRY/sbx-test/dns:1" etc/standin=pihole-1 >/dev/null ||
	fail "cannot push the Pi-hole stand-in"
digest_of() {
	skopeo inspect --format '{{.Digest}}' "docker://$1"
}
base1=$(digest_of "$REGISTRY/sbx-test/base:1") || fail "skopeo inspect base"
dns1=$(digest_of "$REGISTRY/sbx-test/dns:1") || fail "skopeo inspect dns"

# The product's recipes, with a local base and the test's images.
p=$work/proj
mkdir -p "$p/images" && cp -r recipes overlays "$p/" || fail "copy recipes"
# fetch checks that a local base is there (issue 20); this one never boots.
head -c 1024 /dev/zero >"$p/images/base.qcow2"
cat >"$p/recipes/bases.yaml" <<EOB
bases:
  fedora-44:
    distro: fedora
    path: images/base.qcow2
EOB
sed -i "s#docker.io/pihole/pihole:2025.08.0#$REGISTRY/sbx-test/dns:1#" \
	"$p/recipes/proxy.yaml"
cf=$p/overlays/proxy/etc/sbx/containers/tinyproxy/Containerfile
printf '%s\n' "# A test stand-in for the tinyproxy image." \
	"FROM $REGISTRY/sbx-test/base:1" \
	"RUN echo ran-at-build-time > /built-marker" \
	'CMD ["/bin/cat", "/built-marker"]' >"$cf"
c=$work/cache
sbx() { (cd "$p" && "$top/sbx-build" "$@") >"$work/out" 2>&1; }
pinned() { # REF: its digest in sbx.lock
	awk -v r="  $1:" '$0 == r { getline; print $2; exit }' "$p/sbx.lock"
}

sbx lock --cache "$c" || fail "lock"
[ "$(pinned "$REGISTRY/sbx-test/dns:1")" = "$dns1" ] ||
	fail "lock did not pin the stand-in to $dns1"
[ "$(pinned "$REGISTRY/sbx-test/base:1")" = "$base1" ] ||
	fail "lock did not pin the Containerfile's FROM to $base1"
[ ! -e "$c/containers" ] || fail "lock fetched images"
echo "ok - lock pins the service image and the Containerfile's FROM"

sbx fetch --cache "$c" || fail "fetch"
built=$(pinned localhost/sbx-tinyproxy:latest)
case $built in sha256:*) ;; *) fail "no built image in sbx.lock" ;; esac
grep -q "context: sha256:" "$p/sbx.lock" || fail "no build context pin"
bdir=$c/containers/sha256-${built#sha256:}
[ -f "$bdir/manifest.json" ] || fail "the built image is not in the cache"
[ "sha256:$(sha256sum <"$bdir/manifest.json" | cut -d' ' -f1)" = "$built" ] ||
	fail "the cached manifest is not the pinned digest"
ran=
for l in "$bdir"/*; do
	ran=$(tar -xzOf "$l" built-marker 2>/dev/null) && [ -n "$ran" ] && break
done
[ "$ran" = ran-at-build-time ] ||
	fail "the Containerfile's RUN left no /built-marker in the image"
echo "ok - fetch pulls, builds (RUN ran at build time) and pins the build"

# A new push under the same tag: the pin holds until lock --update.
registry_busybox "$REGISTRY/sbx-test/dns:1" etc/standin=pihole-2 >/dev/null ||
	fail "cannot push the second stand-in"
dns2=$(digest_of "$REGISTRY/sbx-test/dns:1")
[ "$dns2" != "$dns1" ] || fail "the second push has the first's digest"
sbx lock --cache "$c" || fail "lock (again)"
[ "$(pinned "$REGISTRY/sbx-test/dns:1")" = "$dns1" ] ||
	fail "a plain lock moved a pin"
sbx lock --update --cache "$c" || fail "lock --update"
[ "$(pinned "$REGISTRY/sbx-test/dns:1")" = "$dns2" ] ||
	fail "lock --update did not move the pin to $dns2"
echo "ok - lock --update moves a tag's pin"

# The recipe's own digest wins over the tag's.
sed -i "s#$REGISTRY/sbx-test/dns:1#$REGISTRY/sbx-test/dns:1@$dns1#" \
	"$p/recipes/proxy.yaml"
sbx fetch --cache "$c" || fail "fetch with a digest in the recipe"
grep -q "container image '$REGISTRY/sbx-test/dns:1': $dns1" "$work/out" ||
	fail "the recipe's digest did not win"
echo "ok - an @sha256: in the recipe wins"

# lock forgets the pins no VM wants any more (the recipe now pins the
# stand-in itself) and keeps the FROM's and the built image's.
printf '  %s:\n    digest: %s\n' "$REGISTRY/sbx-test/gone:1" "$dns1" \
	>>"$p/sbx.lock"
sbx lock --cache "$c" || fail "lock after the recipe pinned the stand-in"
[ -z "$(pinned "$REGISTRY/sbx-test/dns:1")" ] ||
	fail "lock kept the pin of a reference no recipe uses"
[ -z "$(pinned "$REGISTRY/sbx-test/gone:1")" ] ||
	fail "lock kept the pin of an image no recipe names"
grep -q "container image '$REGISTRY/sbx-test/gone:1': no VM uses it" \
	"$work/out" || fail "lock did not say which pin it removed"
[ "$(pinned "$REGISTRY/sbx-test/base:1")" = "$base1" ] ||
	fail "lock forgot the Containerfile's FROM"
[ "$(pinned localhost/sbx-tinyproxy:latest)" = "$built" ] ||
	fail "lock forgot the built image"
echo "ok - lock forgets the pins no VM uses, keeps FROMs and builds"

# Offline, no network at all, registry stopped: the cache alone.
registry_stop
(cd "$p" && unshare -n "$top/sbx-build" fetch --offline --cache "$c") \
	>"$work/out" 2>&1 || fail "offline fetch from the cache"
grep -q "container image 'localhost/sbx-tinyproxy:latest': $built" \
	"$work/out" || fail "the offline fetch did not reuse the built image"
echo "ok - offline (unshare -n, registry stopped): the cache alone"

# A missing image is named with the recipe line that wants it.
mv "$c/containers/sha256-${dns1#sha256:}" "$work/saved"
(cd "$p" && unshare -n "$top/sbx-build" fetch --offline --cache "$c") \
	>"$work/out" 2>&1 && fail "offline fetch without the image worked"
line=$(grep -n "sbx-test/dns:1@" "$p/recipes/proxy.yaml" | cut -d: -f1)
grep -q "recipes/proxy.yaml:$((line - 1)):.*sbx-test/dns.*not in the cache" \
	"$work/out" || fail "the missing image is not named with its line"
mv "$work/saved" "$c/containers/sha256-${dns1#sha256:}"
echo "ok - a missing image is named with its recipe line"

# A tampered blob is refused, never used.
d=$c/containers/sha256-${dns1#sha256:}
blob=$(ls -S "$d" | head -n 1)
printf 'x' >>"$d/$blob"
(cd "$p" && unshare -n "$top/sbx-build" fetch --offline --cache "$c") \
	>"$work/out" 2>&1 && fail "a tampered blob was accepted"
grep -q "does not match its digest.*altered" "$work/out" ||
	fail "the tampered blob's error does not say so"
echo "ok - a tampered cache blob is refused"

# A changed Containerfile offline: it cannot be built, and says which.
echo "RUN true" >>"$cf"
truncate -s -1 "$d/$blob"
(cd "$p" && unshare -n "$top/sbx-build" fetch --offline --cache "$c") \
	>"$work/out" 2>&1 && fail "an offline fetch built a changed context"
grep -q "sbx-tinyproxy.*not in the cache and the build is offline" \
	"$work/out" || fail "the unbuilt image is not named"
echo "ok - a changed build context needs an online build"
