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

# render writes the overlay's files too, byte for byte, root-owned in
# .owners; an overlay file replaces the rendered file of its path.
expect 0 '' -- render proxy "$tmp/r-ov"
cmp -s overlays/proxy/etc/sbx/containers/tinyproxy/Containerfile \
	"$tmp/r-ov/etc/sbx/containers/tinyproxy/Containerfile" ||
	{ echo "FAIL: render proxy lacks the overlay's Containerfile"; fails=$((fails + 1)); }
grep -q '^0644 root:root file /etc/sbx/containers/tinyproxy/Containerfile$' "$tmp/r-ov/.owners" ||
	{ echo "FAIL: .owners lacks the overlay's Containerfile"; fails=$((fails + 1)); }
mkdir -p "$tmp/ovp/overlays/dev/etc" && cp -r recipes "$tmp/ovp/"
echo overlay-host >"$tmp/ovp/overlays/dev/etc/hostname"
expect 0 '' -- -C "$tmp/ovp" render dev "$tmp/r-ov2"
[ "$(cat "$tmp/r-ov2/etc/hostname")" = overlay-host ] ||
	{ echo "FAIL: the overlay's /etc/hostname did not win in render"; fails=$((fails + 1)); }
[ "$(grep -c ' /etc/hostname$' "$tmp/r-ov2/.owners")" = 1 ] ||
	{ echo "FAIL: .owners lists /etc/hostname other than once"; fails=$((fails + 1)); }

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
expect 1 "no base named 'nosuch'" -- -C "$bp" lock nosuch
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

# Every command, from the table (--help lists it): 'help CMD' and
# 'CMD --help' print the same help, with its options, what it writes and
# an example; each option in that help is in the usage line; an unknown
# option before or after the operands, or a missing operand, is a usage
# error (exit 2, the command's usage line); after '--' nothing is an option.
cmds=$("$SBX" --help | sed -n 's/^  \([a-z]*\) .*/\1/p')
[ "$(echo "$cmds" | wc -w)" -ge 16 ] || { echo "FAIL: --help lists $(echo $cmds)"; fails=$((fails + 1)); }
for c in $cmds; do
	expect 0 '' -- help "$c"
	cp "$tmp/out" "$tmp/help-$c"
	expect 0 '' -- "$c" --help
	cmp -s "$tmp/out" "$tmp/help-$c" ||
		{ echo "FAIL: '$c --help' differs from 'help $c'"; fails=$((fails + 1)); }
	for part in "^usage: sbx-build $c" '^writes:' '^example:' "^  sbx-build.* $c"; do
		grep -q "$part" "$tmp/help-$c" ||
			{ echo "FAIL: help $c lacks '$part'"; fails=$((fails + 1)); }
	done
	usage=$(sed -n 1p "$tmp/help-$c")
	sed -n '/^options:/,/^$/s/^  \(\(-.\), \)\{0,1\}\(--[a-z-]*\).*/\3 \2/p' \
		"$tmp/help-$c" >"$tmp/opts"
	while read -r long short; do
		[ "$long" = --help ] && continue
		case "$usage" in *"$long"* | *"${short:-$long}"*) ;; *)
			echo "FAIL: help $c: option $long is not in '$usage'"
			fails=$((fails + 1)) ;; esac
	done <"$tmp/opts"
	expect 2 "usage: sbx-build $c" -- "$c" --bogus
	grep -q "unrecognized option '--bogus'" "$tmp/err" ||
		{ echo "FAIL: $c --bogus: $(head -1 "$tmp/err")"; fails=$((fails + 1)); }
	expect 2 "usage: sbx-build $c" -- "$c" a b c --bogus
	# No abbreviations: '--al' is not --all or --allow-http.
	expect 2 "unrecognized option '--al'" -- "$c" --al
	# A command that takes no such option refuses it (exit 2) before
	# doing anything.
	for o in --offline --force --accel=kvm --secrets --all; do
		grep -q "^  \(-., \)\{0,1\}${o%%=*}\b" "$tmp/help-$c" && continue
		expect 2 "unrecognized option '$o'" -- "$c" "$o"
	done
done
expect 2 'missing operand' -- build
expect 2 'usage: sbx-build render' -- render proxy
expect 1 "no VM named '--force'" -- plan -- --force
expect 2 'too many operands' -- check -- x
expect 2 "usage: sbx-build help" -- help --markdown plan

# fetch and lock act on the bases the VMs use, and treat a local base
# alike: fetch checks it (exit 0, or 1 naming the file), lock says it is
# not pinned.  The unused bases point at a closed local port: touching
# one fails.
lp=$tmp/localbase
mkdir -p "$lp/images" && cp -r recipes "$lp/"
sed -i 's#https://[^ ]*#https://127.0.0.1:9/x#' "$lp/recipes/bases.yaml"
head -c 1024 /dev/zero >"$lp/images/mine.qcow2"
printf '  mine:\n    distro: fedora\n    path: images/mine.qcow2\n    checksum: sha256:%s\n' \
	"$(sha256sum "$lp/images/mine.qcow2" | cut -c1-64)" >>"$lp/recipes/bases.yaml"
sed -i 's/^base: .*/base: mine/' "$lp/recipes/dev.yaml" "$lp/recipes/proxy.yaml"
# (fetch without BASE also fetches container images, from the network)
expect 0 "base 'mine' is the local file '.*', matching its checksum" -- -C "$lp" fetch --offline mine
expect 0 "local file" -- -C "$lp" fetch mine
# (lock without BASE also pins container images, from the network)
expect 0 "base 'mine' is the local file 'images/mine.qcow2': not pinned" -- -C "$lp" lock mine
[ -e "$lp/sbx.lock" ] && { echo "FAIL: lock of a local base wrote sbx.lock"; fails=$((fails + 1)); }
expect 1 "cannot lock base 'fedora-44'" -- -C "$lp" lock fedora-44
expect 1 "no base named 'nosuch'" -- -C "$lp" lock nosuch
expect 2 "'mine' is the local file 'images/mine.qcow2'; --from is for a downloaded base" -- \
	-C "$lp" fetch --from /dev/null mine
printf 'x' | dd of="$lp/images/mine.qcow2" conv=notrunc 2>/dev/null
expect 1 "base 'mine': '.*mine.qcow2' has sha256:.*, not the recipe's" -- -C "$lp" fetch --offline mine
rm "$lp/images/mine.qcow2"
expect 1 "base 'mine' is the local file '.*mine.qcow2': No such file" -- -C "$lp" fetch mine

# Each error once: two VMs on one missing base name it once (offline and
# with an empty cache, nothing starts an appliance), and no failing
# command repeats a line.
ep=$tmp/errs
mkdir -p "$ep/cache" && cp -r recipes "$ep/"
once() {
	if [ -n "$(sort "$tmp/err" | uniq -d)" ]; then
		echo "FAIL: sbx-build $*: a line printed twice:"
		sort "$tmp/err" | uniq -d | sed 's/^/  /'
		fails=$((fails + 1))
	fi
}
# (an empty cache of our own: a cached base would start a real build)
saved_cache=${XDG_CACHE_HOME-unset}
XDG_CACHE_HOME=$ep/cache
export XDG_CACHE_HOME
expect 1 "is not in the cache '$ep/cache/sbx-build'" -- -C "$ep" all --offline
[ "$(grep -c "cannot get base 'fedora-44'" "$tmp/err")" = 1 ] ||
	{ echo "FAIL: all --offline: the base error is not printed once"; fails=$((fails + 1)); }
once all --offline
expect 1 "cannot get base 'fedora-44'" -- -C "$ep" build --offline proxy dev
once build --offline proxy dev
expect 1 "cannot fetch base 'fedora-44' offline" -- -C "$ep" fetch --offline
once fetch --offline
if [ "$saved_cache" = unset ]; then unset XDG_CACHE_HOME; else XDG_CACHE_HOME=$saved_cache; fi
expect 1 "unknown key 'pakages'" -- -C tests/fixtures/recipes/unknown-key check
once check

# README, the man page and the completion are what the table prints.
scripts/gen-docs --check >"$tmp/gen" 2>&1 ||
	{ echo "FAIL: scripts/gen-docs --check:"; cat "$tmp/gen"; fails=$((fails + 1)); }
for c in $cmds; do
	grep -q "^| \`$c" README.md ||
		{ echo "FAIL: README.md lacks command '$c'"; fails=$((fails + 1)); }
	grep -Eq "^\.B[IR]* \"?$c( |\"|\$)" doc/sbx-build.1 ||
		{ echo "FAIL: doc/sbx-build.1 lacks command '$c'"; fails=$((fails + 1)); }
done
grep -q '^| `lock` | `--releases-url URL`' README.md ||
	{ echo "FAIL: README lacks lock --releases-url"; fails=$((fails + 1)); }
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck -s bash contrib/sbx-build.bash ||
		{ echo "FAIL: shellcheck contrib/sbx-build.bash"; fails=$((fails + 1)); }
fi

# The completion itself, run by bash with bash-completion: a command's
# options are exactly those its help lists; VM names where a VM goes, and
# never after --accel.
bc=/usr/share/bash-completion/bash_completion
if [ -r "$bc" ]; then
	# complete WORD...: what the completion offers for the last word.
	complete() {
		bash -c '. "$1"; . contrib/sbx-build.bash; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
			COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_sbx_build sbx-build "${COMP_WORDS[COMP_CWORD]}" \
				"${COMP_WORDS[COMP_CWORD - 1]}"
			printf "%s\n" "${COMPREPLY[@]}"' sh "$bc" sbx-build "$@" |
			sort | tr '\n' ' ' | sed 's/ $//'
	}
	# compl_is WANT WORD...
	compl_is() {
		want=$1
		shift
		got=$(complete "$@")
		[ "$got" = "$want" ] ||
			{ echo "FAIL: completion of '$*': '$got', expected '$want'"; fails=$((fails + 1)); }
	}
	for c in $cmds; do
		want=$(sed -n '/^options:/,/^$/s/^  \(-\(.\), \)\{0,1\}\(--[a-z-]*\).*/-\2 \3/p' \
			"$tmp/help-$c" | tr ' ' '\n' | grep -v '^-$' | sort | tr '\n' ' ' | sed 's/ $//')
		compl_is "$want" "$c" -
	done
	compl_is 'dev proxy' build ''
	compl_is 'dev proxy' build --force ''
	compl_is 'kvm tcg' build --accel ''
	compl_is 'kvm tcg' verify --accel ''
	compl_is '' plan dev ''
	compl_is 'dev proxy' render ''
	compl_is '--force --help --secrets -f -s' render -
	compl_is 'debian-13 fedora-44' fetch ''
	compl_is '' lock --release ''
	compl_is 'fetch' help fe
	compl_is 'check' ch
	compl_is '' nosuch ''
	compl_is 'check clean' -C . c
elif [ "${SBX_TEST_STRICT:-0}" = 1 ]; then
	echo "FAIL: no $bc (make test-deps)"
	fails=$((fails + 1))
else
	echo "check-cli: completion not run: no $bc (make test-deps)"
fi

# images/, where the README suggests local bases go, is not committed.
if git rev-parse --git-dir >/dev/null 2>&1; then
	git check-ignore -q images/my.qcow2 ||
		{ echo "FAIL: images/ is not in .gitignore"; fails=$((fails + 1)); }
fi

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
