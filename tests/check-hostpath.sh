#!/bin/sh
# Host paths from recipes, command lines and out/ (issue 19): templates and
# overlays stay beneath the project, render writes only under DIR and
# follows no symlink there, clean removes only what sbx-build wrote and
# never through a link, pack -o never replaces a non-regular file.
set -u
cd "$(dirname "$0")/.." || exit 1
SBX=$PWD/sbx-build
FIX=$PWD/tests/fixtures/hostpath
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v qemu-img >/dev/null || { echo "qemu-img is missing"; exit 77; }

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# expect STATUS STDERR-PATTERN -- ARGS...
expect() {
	want=$1 pattern=$2
	shift 3
	"$SBX" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "sbx-build $*: exit $got, expected $want"
		sed 's/^/  /' "$tmp/err"
	elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
		fail "sbx-build $*: stderr lacks '$pattern'"
		sed 's/^/  /' "$tmp/err"
	fi
}

# A fresh project in $tmp/p: templates/motd, overlays/box/etc/issue.
project() {
	rm -rf "$tmp/p"
	cp -r "$FIX" "$tmp/p"
	mkdir -p "$tmp/p/templates" "$tmp/p/overlays/box/etc" "$tmp/p/images"
	echo hi >"$tmp/p/templates/motd"
	echo issue >"$tmp/p/overlays/box/etc/issue"
	qemu-img create -q -f qcow2 "$tmp/p/images/base.qcow2" 8M
}
set_template() {
	sed -i "s#template: .*#template: $1#" "$tmp/p/recipes/box.yaml"
}

echo "SECRET-OUTSIDE" >"$tmp/secret"
mkdir -p "$tmp/outside/etc"
echo "SECRET-OUTSIDE" >"$tmp/outside/etc/issue"

# ---- templates -----------------------------------------------------------
project
expect 0 '' -- -C "$tmp/p" render box "$tmp/ok"
[ "$(cat "$tmp/ok/etc/motd" 2>/dev/null)" = hi ] || fail "template not rendered"
for t in ../secret "$tmp/secret" templates/../../secret; do
	project
	set_template "$t"
	# Refused where the recipe is read; prepare.c's openat2 is the
	# second wall (the symlink cases below reach it).
	expect 1 "box.yaml:11:15: 'template' must be a path relative to the project directory" \
		-- -C "$tmp/p" render box "$tmp/r-$$"
	expect 1 "'template' must be a path relative" -- -C "$tmp/p" plan box
	grep -rqs SECRET-OUTSIDE "$tmp/r-$$" && fail "template '$t' was read"
	rm -rf "$tmp/r-$$"
done
# check plans every VM, so it refuses what plan would: a template that
# does not exist, or one linked out of the project.
project
expect 0 '' -- -C "$tmp/p" check
set_template templates/nope
expect 1 "box.yaml:10:5: template 'templates/nope' cannot be read" -- -C "$tmp/p" check
project
ln -sf "$tmp/secret" "$tmp/p/templates/motd"
expect 1 "template 'templates/motd' leaves the project directory" -- -C "$tmp/p" check
project
ln -sf "$tmp/secret" "$tmp/p/templates/motd"
expect 1 "template 'templates/motd' leaves the project directory" \
	-- -C "$tmp/p" render box "$tmp/r1"
grep -rqs SECRET-OUTSIDE "$tmp/r1" && fail "symlinked template was read"
project
ln -s ../../secret "$tmp/p/templates/up"
set_template templates/up
expect 1 "leaves the project directory" -- -C "$tmp/p" plan box
# A symlink that stays inside the project is fine.
project
mv "$tmp/p/templates/motd" "$tmp/p/templates/real"
ln -s real "$tmp/p/templates/motd"
expect 0 '' -- -C "$tmp/p" plan box
project
rm "$tmp/p/templates/motd"
mkfifo "$tmp/p/templates/motd"
expect 1 "template 'templates/motd' is not a regular file" \
	-- -C "$tmp/p" plan box
project
head -c 1100000 /dev/zero | tr '\0' a >"$tmp/p/templates/motd"
expect 1 "larger than 1 MiB" -- -C "$tmp/p" plan box

# ---- overlays ------------------------------------------------------------
project
rm -rf "$tmp/p/overlays/box"
ln -s "$tmp/outside" "$tmp/p/overlays/box"
expect 1 "overlay 'overlays/box': leaves the project directory" \
	-- -C "$tmp/p" check
expect 1 "leaves the project directory" -- -C "$tmp/p" plan box
grep -qs SECRET "$tmp/out" && fail "plan listed a file outside the project"
project
ln -s ../etc "$tmp/p/overlays/box/etc/loop"
expect 1 "symlink to the directory '../etc'" -- -C "$tmp/p" check
project
ln -s /etc "$tmp/p/overlays/box/etc/abs"
expect 1 "symlink to the directory '/etc'" -- -C "$tmp/p" check
project
ln -s issue "$tmp/p/overlays/box/etc/issue.net"
ln -s /usr/lib/os-release "$tmp/p/overlays/box/etc/os-release"
expect 0 '' -- -C "$tmp/p" check

# ---- render VM DIR -------------------------------------------------------
project
mkdir "$tmp/full"
echo mine >"$tmp/full/keep"
expect 1 "'$tmp/full' is not empty; use --force" \
	-- -C "$tmp/p" render box "$tmp/full"
[ "$(ls "$tmp/full")" = keep ] || fail "render wrote into a non-empty DIR"
expect 1 "'/' is not empty; use --force" -- -C "$tmp/p" render box /
expect 0 '' -- -C "$tmp/p" render --force box "$tmp/full"
[ "$(cat "$tmp/full/keep")" = mine ] || fail "render --force lost 'keep'"
[ "$(cat "$tmp/full/etc/motd")" = hi ] || fail "render --force wrote no motd"
expect 0 '' -- -C "$tmp/p" render --force box "$tmp/full"
# A planted symlink inside DIR is never followed.
mkdir "$tmp/victim" "$tmp/planted"
echo untouched >"$tmp/victim/hostname"
ln -s "$tmp/victim" "$tmp/planted/etc"
expect 1 "'$tmp/planted/etc': a symbolic link" \
	-- -C "$tmp/p" render --force box "$tmp/planted"
[ "$(ls "$tmp/victim")" = hostname ] || fail "render wrote into the victim"
[ "$(cat "$tmp/victim/hostname")" = untouched ] || fail "victim changed"
mkdir -p "$tmp/planted2/etc"
ln -s "$tmp/victim/hostname" "$tmp/planted2/etc/hostname"
expect 1 "'$tmp/planted2/etc/hostname': a symbolic link" \
	-- -C "$tmp/p" render --force box "$tmp/planted2"
[ "$(cat "$tmp/victim/hostname")" = untouched ] || fail "victim changed"

# ---- clean ---------------------------------------------------------------
project
expect 0 '' -- -C "$tmp/p" scripts
[ -f "$tmp/p/out/.sbx-outputs" ] || fail "scripts recorded nothing"
touch "$tmp/p/out/box.qcow2" "$tmp/p/out/box.manifest" \
	"$tmp/p/out/box-seed.iso" "$tmp/p/out/notes.txt" "$tmp/p/out/other.xml"
mkdir -p "$tmp/p/out/secrets" "$tmp/p/out/mine"
echo pw >"$tmp/p/out/secrets/password"
ln -s "$tmp/victim" "$tmp/p/out/link"
expect 0 "keeping '$tmp/p/out/notes.txt': not written by sbx-build" \
	-- -v -C "$tmp/p" clean
left=$(cd "$tmp/p/out" && ls -A | tr '\n' ' ')
[ "$left" = ".sbx-outputs link mine notes.txt other.xml secrets " ] ||
	fail "clean left '$left'"
expect 0 '' -- -C "$tmp/p" clean --all
left=$(cd "$tmp/p/out" && ls -A | tr '\n' ' ')
[ "$left" = ".sbx-outputs link mine notes.txt other.xml " ] ||
	fail "clean --all left '$left'"
[ "$(cat "$tmp/victim/hostname")" = untouched ] || fail "victim changed"
rm -rf "$tmp/p/out"
ln -s "$tmp/victim" "$tmp/p/out"
expect 1 "'$tmp/p/out' is a symbolic link; not cleaning through it" \
	-- -C "$tmp/p" clean --all
[ "$(ls "$tmp/victim")" = hostname ] || fail "clean deleted through out/"

# ---- pack -o -------------------------------------------------------------
project
mkdir "$tmp/p/out"
mkfifo "$tmp/fifo"
expect 1 "'$tmp/fifo' exists and is not a regular file" \
	-- -C "$tmp/p" pack -o "$tmp/fifo"
[ -p "$tmp/fifo" ] || fail "pack replaced the fifo"
ln -s /dev/null "$tmp/devlink"
expect 1 "'$tmp/devlink' exists and is not a regular file" \
	-- -C "$tmp/p" pack -o "$tmp/devlink"
[ -L "$tmp/devlink" ] || fail "pack replaced the link to /dev/null"
mkdir "$tmp/adir"
expect 1 "'$tmp/adir' exists and is not a regular file" \
	-- -C "$tmp/p" pack -o "$tmp/adir"
ls "$tmp" | grep -q 'tmp-\|work-' && fail "pack left a temporary file"

[ "$fails" -eq 0 ] || exit 1
echo "check-hostpath: ok"
