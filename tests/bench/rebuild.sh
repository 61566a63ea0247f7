#!/bin/sh
# Benchmark (prints figures; not a timed test): on the bake fixtures under
# BENCH_ACCEL (default tcg), a full 'sbx-build all' (both VMs, packages
# from Debian's archive and the stub dnf), then a rebuild with nothing
# changed, then a rebuild after one byte of the dev VM's overlay changed
# (offline: the pinned packages come from the cache).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/image/lib-fixtures.sh
make -s sbx-build || exit 1
fixtures_build || exit 1
command -v bc >/dev/null || { echo "skip: bc is not installed"; exit 77; }
ACCEL=${BENCH_ACCEL:-tcg}
W=$PWD/tests/work/bench-rebuild
P=$W/proj
rm -rf "$W" && mkdir -p "$P" || exit 1
cp -a tests/fixtures/bake/recipes tests/fixtures/bake/overlays "$P/"
ln -s "$FIX_CACHE" "$P/images"
export XDG_CACHE_HOME=$W/xdg SBX_KVM_TIMEOUT=${SBX_KVM_TIMEOUT:-30}

run() { # LOG ARGS...
	log=$1
	shift
	s=$(date +%s.%N)
	./sbx-build -v -C "$P" "$@" >"$W/$log" 2>&1 ||
		{ cat "$W/$log"; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
launches() { sed -n 's/.*appliance launches: \([0-9]*\).*/\1/p' "$W/$1"; }

full=$(run full.log all --accel "$ACCEL")
noop=$(run noop.log all --accel "$ACCEL")
printf 'X' | dd of="$P/overlays/dev/etc/dev-overlay.txt" bs=1 seek=0 \
	conv=notrunc 2>/dev/null
one=$(run one.log all --offline --accel "$ACCEL")
echo "accelerator:                  $ACCEL"
echo "full build (2 VMs):           ${full} s, launches: $(launches full.log)"
echo "no-change rebuild:            ${noop} s, launches: $(launches noop.log)"
echo "one VM changed (dev only):    ${one} s, launches: $(launches one.log)"
