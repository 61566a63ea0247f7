#!/bin/sh
# The command line: exit codes (0 ok, 1 failure, 2 usage), usage lines on
# stderr, a failed write to stdout, and 'plan' against reviewed golden
# files (SBX_UPDATE_GOLDEN=1 rewrites them; review the diff).
set -u
cd "$(dirname "$0")/.." || exit 1
SBX=./sbx-build
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS STDERR-PATTERN -- ARGS...
expect() {
	want=$1 pattern=$2
	shift 3
	"$SBX" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: sbx-build $*: exit $got, expected $want"
		sed 's/^/  /' "$tmp/err"
		fails=$((fails + 1))
	elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
		echo "FAIL: sbx-build $*: stderr lacks '$pattern'"
		sed 's/^/  /' "$tmp/err"
		fails=$((fails + 1))
	fi
}

expect 2 'usage: sbx-build' --
expect 2 "'frobnicate' is not a command" -- frobnicate
expect 2 'unrecognized option' -- --bogus check
expect 2 'usage: sbx-build plan VM' -- plan
expect 2 'too many operands' -- plan proxy dev
expect 2 'usage: sbx-build check' -- check --bogus
expect 1 "no VM named 'nosuch'" -- plan nosuch
expect 0 '' -- --version
expect 0 '' -- check
expect 0 '' -- help
expect 0 '' -- help plan
expect 2 "'nope' is not a command" -- help nope
expect 1 "unknown key 'pakages'" -- -C tests/fixtures/recipes/unknown-key check
expect 1 "cannot read recipes in '/nonexistent/recipes'" -- -C /nonexistent check
# Options go anywhere among the operands (GNU style); '--' ends them.
expect 2 "unrecognized option '--bogus'" -- plan proxy --bogus
expect 1 "no VM named 'nosuch'" -- build nosuch --force
"$SBX" build nosuch --force 2>&1 | grep -q -- "'--force'" &&
	{ echo "FAIL: build took '--force' for a VM name"; fails=$((fails + 1)); }
expect 0 '' -- render proxy "$tmp/r-after" --force
[ -f "$tmp/r-after/etc/hostname" ] ||
	{ echo "FAIL: render VM DIR --force wrote nothing"; fails=$((fails + 1)); }
expect 0 '' -- plan -- proxy

# scripts says what it wrote, and -q silences it.
mkdir -p "$tmp/sp" && cp -r recipes "$tmp/sp/"
expect 0 "wrote '$tmp/sp/out/run-dev.sh' and '$tmp/sp/out/dev.xml'" -- \
	-C "$tmp/sp" scripts
grep -q "wrote '$tmp/sp/out/run-all.sh'" "$tmp/err" ||
	{ echo "FAIL: scripts did not say it wrote run-all.sh"; fails=$((fails + 1)); }
expect 0 '' -- -q -C "$tmp/sp" scripts dev
[ -s "$tmp/err" ] && { echo "FAIL: -q scripts printed '$(cat "$tmp/err")'"; fails=$((fails + 1)); }
expect 0 '' -- -q check
[ -s "$tmp/out" ] && { echo "FAIL: -q check printed '$(cat "$tmp/out")'"; fails=$((fails + 1)); }

# The commands that need a network or an appliance, up to where they
# would (issue 13: their argument handling and error paths).  A project
# copy and its own cache: nothing here reads the user's cache or sbx.lock,
# and nothing leaves 127.0.0.1 (file:// URLs, --offline).
bp=$tmp/bp
mkdir -p "$bp" && cp -r recipes "$bp/"
printf 'not a disk\n' >"$bp/img.qcow2"
sum=$(sha256sum "$bp/img.qcow2" | cut -d' ' -f1)
sed -i "s/checksum: sha256:[0-9a-f]*/checksum: sha256:$sum/" "$bp/recipes/bases.yaml"
printf '[{"version": "44", "arch": "x86_64", "variant": "Cloud", "subvariant": "Cloud_Base", "link": "https://h.invalid/x.qcow2", "sha256": "00"}]\n' >"$bp/rel.json"
export XDG_CACHE_HOME="$tmp/xdg-cache"
expect 2 'usage: sbx-build verify' -- verify
expect 2 "--accel must be 'kvm' or 'tcg', not 'foo'" -- verify --accel foo x.qcow2
expect 2 'unrecognized option' -- verify --bogus x.qcow2
expect 1 "cannot read '$tmp/nosuch.manifest'" -- verify "$tmp/nosuch.qcow2"
printf 'garbage\n' >"$tmp/bad.manifest"
expect 1 "'paths' missing or not a list" -- verify --manifest "$tmp/bad.manifest" x.qcow2
expect 2 'usage: sbx-build build' -- build
expect 2 "--accel must be 'kvm' or 'tcg', not 'foo'" -- build --accel foo dev
SOURCE_DATE_EPOCH=abc expect 1 "SOURCE_DATE_EPOCH must be seconds since 1970, not 'abc'" -- build dev
# Offline with an empty cache: every missing input named, nothing built.
expect 1 "cannot get base 'fedora-44'" -- -C "$bp" build --offline proxy dev
grep -q "sbx.lock pins no package file for VM 'dev'" "$tmp/err" ||
	{ echo "FAIL: build --offline did not name dev's missing pins"; fails=$((fails + 1)); }
grep -q "recipes/proxy.yaml:[0-9]*:[0-9]*: container image 'docker.io/pihole/pihole:2025.08.0' is not pinned" "$tmp/err" ||
	{ echo "FAIL: build --offline did not name the proxy's unpinned image"; fails=$((fails + 1)); }
grep -q "nothing in '$bp/out' was changed" "$tmp/err" ||
	{ echo "FAIL: build --offline did not say nothing changed"; fails=$((fails + 1)); }
[ -e "$bp/out/dev.qcow2" ] && { echo "FAIL: build --offline made an image"; fails=$((fails + 1)); }
expect 2 'unrecognized option' -- fetch --bogus
expect 2 '--from imports one image: name exactly one BASE' -- fetch --from x
expect 1 "no base named 'nosuch'" -- -C "$bp" fetch --offline nosuch
expect 1 "cannot fetch base 'debian-13' offline" -- -C "$bp" fetch --offline debian-13
expect 1 "cannot open '$tmp/nosuch.qcow2'" -- -C "$bp" fetch --offline --from "$tmp/nosuch.qcow2" fedora-44
expect 1 'checksum mismatch' -- -C "$bp" fetch --offline --from "$tmp/bad.manifest" fedora-44
# The pinned file imported, then found in the cache.
expect 0 '' -- -C "$bp" fetch --offline --from "$bp/img.qcow2" fedora-44
[ -f "$XDG_CACHE_HOME/sbx-build/sha256/$sum/Fedora-Cloud-Base-Generic-44-1.7.x86_64.qcow2" ] ||
	{ echo "FAIL: fetch --from did not fill the cache"; ls -R "$XDG_CACHE_HOME"; fails=$((fails + 1)); }
expect 0 '' -- -C "$bp" fetch --offline fedora-44
expect 1 "is not in the cache '$tmp/c2'" -- -C "$bp" fetch --offline --cache "$tmp/c2" fedora-44
expect 2 'unrecognized option' -- lock --bogus
expect 2 "--release wants a Fedora release number, not 'abc'" -- lock --release abc
expect 1 "no downloadable base named 'nosuch'" -- -C "$bp" lock nosuch
expect 1 'lists no Cloud Base image for Fedora 41' -- -C "$bp" lock \
	--releases-url "file://$bp/rel.json" --release 41 fedora-44
[ -e "$bp/sbx.lock" ] && { echo "FAIL: a failed lock wrote sbx.lock"; fails=$((fails + 1)); }
expect 2 'usage: sbx-build seed' -- seed
expect 1 "no VM named 'nosuch'" -- seed nosuch
# seed is host-side (xorriso, from make test-deps): the ISO, private.
expect 0 "wrote '$bp/out/proxy-seed.iso'" -- -C "$bp" seed proxy
[ "$(stat -c %a "$bp/out/proxy-seed.iso" 2>/dev/null)" = 600 ] ||
	{ echo "FAIL: seed did not write a 0600 ISO"; fails=$((fails + 1)); }
rm "$bp/out/proxy-seed.iso" && mkdir "$bp/out/proxy-seed.iso"
expect 1 "cannot rename '.*' to '$bp/out/proxy-seed.iso'" -- -C "$bp" seed proxy
unset XDG_CACHE_HOME

# Every command of the table answers 'help CMD' and is in --help.
for c in all build check clean fetch help lock pack plan pull push render scripts seed unpack verify; do
	expect 0 '' -- help "$c"
	"$SBX" --help | grep -q "^  $c " ||
		{ echo "FAIL: --help lacks '$c'"; fails=$((fails + 1)); }
done

# README, --help and the man page name the same commands.
for c in $("$SBX" --help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
	grep -q "^| \`$c" README.md ||
		{ echo "FAIL: README.md lacks command '$c'"; fails=$((fails + 1)); }
	grep -Eq "^\.B[IR]* \"?$c( |\"|\$)" doc/sbx-build.1 ||
		{ echo "FAIL: doc/sbx-build.1 lacks command '$c'"; fails=$((fails + 1)); }
done

# make install honours DESTDIR and PREFIX.
make -s install DESTDIR="$tmp/dest" PREFIX=/opt/sbx >/dev/null 2>&1 ||
	{ echo "FAIL: make install"; fails=$((fails + 1)); }
for f in bin/sbx-build share/man/man1/sbx-build.1 \
	share/bash-completion/completions/sbx-build share/sbx-build/recipes/dev.yaml; do
	[ -e "$tmp/dest/opt/sbx/$f" ] ||
		{ echo "FAIL: make install did not install $f"; fails=$((fails + 1)); }
done

# A full disk must not look like success.
if [ -w /dev/full ]; then
	"$SBX" help >/dev/full 2>"$tmp/err"
	st=$?
	if [ "$st" -ne 1 ] || ! grep -q 'cannot write to standard output' "$tmp/err"; then
		echo "FAIL: help >/dev/full exited $st"
		fails=$((fails + 1))
	fi
fi

# plan of each default VM matches its reviewed golden file.
for vm in proxy dev; do
	golden=tests/fixtures/plan/$vm.plan
	"$SBX" plan "$vm" >"$tmp/$vm.plan" 2>"$tmp/err" ||
		{ echo "FAIL: plan $vm"; cat "$tmp/err"; fails=$((fails + 1)); continue; }
	if [ "${SBX_UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$tmp/$vm.plan" "$golden"
	elif ! diff -u "$golden" "$tmp/$vm.plan"; then
		echo "FAIL: plan $vm differs from $golden"
		fails=$((fails + 1))
	fi
done

[ "$fails" -eq 0 ] || { echo "check-cli: $fails failure(s)"; exit 1; }
echo "check-cli: ok"
