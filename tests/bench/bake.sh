#!/bin/sh
# Benchmark (prints figures; not a timed test): 'sbx-build all' on the
# bake fixtures versus virt-customize doing the same file-level changes to
# the same fixtures, under the same accelerator (BENCH_ACCEL, default tcg).
# Packages are left out of both (no network), so the figures compare the
# appliance work itself: sbx-build launches one appliance for every VM,
# virt-customize one per image.
#
# sbx-build runs four times: a first 'all' (nothing kept: it inspects the
# bases), 'all --force' (a rebuild: the inspection kept from the first),
# 'all' with nothing changed (then twenty times more without -v),
# and 'all' after one byte of the dev VM's overlay changed.  Printed: wall
# times, the ratio sbx-build / virt-customize (target <= 0.5), appliance
# launches, the '-v' phase table of each bake and the peak resident memory
# of sbx-build and of its largest child (the appliance's qemu).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/image/lib-fixtures.sh
make -s sbx-build || exit 1
fixtures_build || exit 1
ACCEL=${BENCH_ACCEL:-tcg}
W=$PWD/tests/work/bench-bake
P=$W/proj
rm -rf "$W" && mkdir -p "$P" || exit 1
cp -a tests/fixtures/bake/recipes tests/fixtures/bake/overlays "$P/"
ln -s "$FIX_CACHE" "$P/images"
# Same work for both: no packages.
sed -i '/^packages:/d' "$P"/recipes/*.yaml
# No container images either (they need a registry).
sed -i '/^services:/,/^$/d' "$P"/recipes/*.yaml
export XDG_CACHE_HOME=$W/xdg
[ "$ACCEL" = tcg ] && export LIBGUESTFS_BACKEND_SETTINGS=force_tcg

# sbx LOG ARGS...: seconds of one 'sbx-build -v ARGS', its log in $W/LOG.
sbx() {
	log=$1
	shift
	s=$(date +%s.%N)
	./sbx-build -v -C "$P" "$@" --accel "$ACCEL" >"$W/$log" 2>&1 ||
		{ cat "$W/$log" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
launches() { sed -n 's/.*appliance launches: \([0-9]*\).*/\1/p' "$W/$1"; }
rss() { sed -n 's/.*peak resident memory: //p' "$W/$1"; }
# The phase table: from the "phase" header to the "total" row.
table() { sed -n '/^phase /,/^total /p' "$W/$1"; }

cold=$(sbx cold.log all) || exit 1
warm=$(sbx warm.log all --force) || exit 1
noop=$(sbx noop.log all) || exit 1
# The no-change 'all' without -v, twenty times in a row: the mean
# (one interval, so the clock's own cost is spread over the twenty).
s=$(date +%s%N)
for _ in $(seq 20); do
	./sbx-build -C "$P" all --accel "$ACCEL" >/dev/null 2>&1 || exit 1
done
noop20=$((($(date +%s%N) - s) / 20 / 100000))
printf 'X' | dd of="$P/overlays/dev/etc/dev-overlay.txt" bs=1 seek=0 \
	conv=notrunc 2>/dev/null
one=$(sbx one.log all) || exit 1

# virt-customize: the same changes, from each VM's plan.
vc_args() { # VM
	./sbx-build -C "$P" plan "$1" | awk -v ov="$P/overlays/$1" '
	$1 == "file" && NF >= 6 && $0 ~ /sha256/ {
		# Parents first: sbx-build creates them too.
		d = $4; sub(/\/[^\/]*$/, "", d)
		if (d != "") print "--mkdir " d
		print "--touch " $4; print "--chmod " $2 ":" $4
	}
	$1 == "dir" { print "--mkdir " $4; print "--chmod " $2 ":" $4 }
	$1 == "symlink" { print "--link " $4 ":" $2 }
	$1 == "step" && $3 == "hostname" { print "--hostname " $4 }
	'
}
vc=0
n=0
for vm in dev proxy; do
	base=$FIX_DEBIAN
	[ $vm = proxy ] && base=$FIX_FEDORA
	img=$W/vc-$vm.qcow2
	qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$img" 3G
	# shellcheck disable=SC2046
	set -- $(vc_args $vm)
	s=$(date +%s.%N)
	virt-customize -q -a "$img" "$@" \
		--copy-in "$P/overlays/$vm/etc:/" \
		--run-command "useradd -m bench-$vm || true" \
		--write /etc/cloud/cloud-init.disabled: \
		--truncate /etc/machine-id \
		--write /etc/machine-id:uninitialized \
		$([ $vm = proxy ] && echo --selinux-relabel) \
		>"$W/vc-$vm.log" 2>&1 || { cat "$W/vc-$vm.log"; exit 1; }
	e=$(date +%s.%N)
	vc=$(echo "$vc + $e - $s" | bc)
	n=$((n + 1))
done
ratio() { echo "scale=2; $1 / $2" | bc; }
echo "accelerator:        $ACCEL"
echo "virt-customize:     ${vc} s, appliance launches: $n"
echo "sbx-build all:      ${cold} s (bases inspected), launches: $(launches cold.log)," \
	"ratio to virt-customize: $(ratio "$cold" "$vc")"
echo "sbx-build all -f:   ${warm} s (inspection kept), launches: $(launches warm.log)," \
	"ratio to virt-customize: $(ratio "$warm" "$vc")"
echo "one VM changed:     ${one} s, launches: $(launches one.log)," \
	"ratio to a full all: $(ratio "$one" "$warm") (to the first: $(ratio "$one" "$cold"))"
echo "nothing changed:    $(echo "$noop * 1000 / 1" | bc) ms with -v, launches: $(launches noop.log);" \
	"without -v: $(echo "scale=1; $noop20 / 10" | bc) ms" \
	"(mean of 20 in a row; target <= 20)"
echo "peak memory (first all): $(rss cold.log)"
for l in cold warm one; do
	echo "phases ($l, seconds):"
	table $l.log
done
