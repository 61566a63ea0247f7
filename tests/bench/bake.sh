#!/bin/sh
# Benchmark (prints figures; not a timed test): 'sbx-build all' on the
# bake fixtures versus virt-customize doing the same file-level changes to
# the same fixtures, under the same accelerator (BENCH_ACCEL, default tcg).
# Packages are left out of both (no network), so the figures compare the
# appliance work itself: sbx-build launches one appliance for every VM,
# virt-customize one per image.
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
export XDG_CACHE_HOME=$W/xdg
[ "$ACCEL" = tcg ] && export LIBGUESTFS_BACKEND_SETTINGS=force_tcg

s=$(date +%s.%N)
./sbx-build -v -C "$P" all --accel "$ACCEL" >"$W/sbx.log" 2>&1 ||
	{ cat "$W/sbx.log"; exit 1; }
e=$(date +%s.%N)
sbx=$(echo "$e - $s" | bc)
sbx_launches=$(sed -n 's/.*launches: \([0-9]*\).*/\1/p' "$W/sbx.log")

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
echo "accelerator:    $ACCEL"
echo "sbx-build all:  ${sbx} s, appliance launches: $sbx_launches"
echo "virt-customize: ${vc} s, appliance launches: $n"
echo "ratio (virt-customize / sbx-build): $(echo "scale=2; $vc / $sbx" | bc)"
