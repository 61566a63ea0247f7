#!/bin/sh
# A build killed with SIGKILL (issue 20) leaves out/.VM.qcow2.tmp-PID;
# the next build of that VM removes it — and only temporaries whose
# process is gone: one of a live process stays.               [2 launches]
#
# 1. 'build dev' is killed (kill -9) once its temporary image exists,
#    while the appliance launches: the temporary is left, its PID dead.
# 2. The next 'build dev' succeeds, writes out/dev.qcow2, and removes the
#    stale temporary; a temporary named after a live process is kept.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/image/lib-fixtures.sh
fixtures_setup guestfish virt-make-fs debootstrap qemu-img

W=$PWD/tests/work/kill-test
P=$W/proj
rm -rf "$W" && mkdir -p "$P" || exit 1
cp -a tests/fixtures/bake/recipes tests/fixtures/bake/overlays "$P/"
# No packages: nothing needs the network.
sed -i '/^packages:/d' "$P/recipes/dev.yaml"
ln -s "$FIX_CACHE" "$P/images"
XDG_CACHE_HOME=$W/xdg SBX_KVM_TIMEOUT=${SBX_KVM_TIMEOUT:-30}
export XDG_CACHE_HOME SBX_KVM_TIMEOUT

fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }
show() { sed 's/^/#   /' "$1"; }
is() { # NAME COMMAND...
	n=$1
	shift
	if "$@"; then ok "$n"; else bad "$n"; fi
}

# --- 1. kill -9 while the appliance launches ------------------------------
./sbx-build -C "$P" build dev --accel tcg >"$W/killed.log" 2>&1 &
pid=$!
tmpf=$P/out/.dev.qcow2.tmp-$pid
i=0
while [ ! -e "$tmpf" ] && [ $i -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e "$tmpf" ]; then
	kill -KILL "$pid"
	wait "$pid"
	echo "# killed sbx-build (pid $pid) after $((i / 10)) s"
	ok "the build wrote its temporary image before it was killed"
else
	wait "$pid"
	show "$W/killed.log"
	bad "no temporary image '$tmpf' appeared"
fi
kill -0 "$pid" 2>/dev/null && bad "pid $pid still runs"
is "kill -9 left '$(basename "$tmpf")'" test -e "$tmpf"
[ -e "$P/out/dev.qcow2" ] && bad "a killed build left out/dev.qcow2"
# libguestfs's recovery process stops the orphaned appliance; give it time.
sleep 3

# A temporary of a live process (another build of dev still running).
sleep 600 &
live=$!
: >"$P/out/.dev.qcow2.tmp-$live"

# --- 2. the next build ----------------------------------------------------
./sbx-build -v -C "$P" build dev --accel tcg >"$W/next.log" 2>&1
st=$?
show "$W/next.log"
is "the next build succeeds (exit $st)" test $st -eq 0
is "out/dev.qcow2 written" test -f "$P/out/dev.qcow2"
is "the stale temporary is gone" test ! -e "$tmpf"
is "the temporary of a live process is kept" \
	test -e "$P/out/.dev.qcow2.tmp-$live"
left=$(find "$P/out" -maxdepth 1 -name '.dev.qcow2.tmp-*' | wc -l)
is "one temporary left (the live one): $left" test "$left" -eq 1
kill "$live" 2>/dev/null
wait "$live" 2>/dev/null

[ $fails -eq 0 ] || { echo "kill: $fails failure(s)"; exit 1; }
rm -rf "$W"
echo "kill: ok"
