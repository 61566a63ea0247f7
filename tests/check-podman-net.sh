#!/bin/sh
# The rendered podman network (.network Quadlet file), created by the real
# podman with the options Quadlet turns its keys into (Subnet= --subnet,
# Gateway= --gateway, IPRange= --ip-range): podman accepts the values, and
# the lease range it keeps for containers without a static IP holds none
# of the static addresses the .container files ask for (IP=).  Without
# that, a tinyproxy container restarting before Pi-hole takes Pi-hole's
# address.
#
# Everything podman writes goes into a temporary --root, --runroot and
# --network-config-dir; no container runs, no interface is created.
set -u
SKIP_NAME=check-podman-net
. tests/lib/skip.sh
fail() { echo "check-podman-net: FAIL: $*" >&2; exit 1; }

need podman
[ -x ./sbx-build ] || fail "run from the top of the tree after make"
work=$(mktemp -d /tmp/sbx-podman-net-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
./sbx-build render proxy "$work/tree" >/dev/null ||
	fail "sbx-build render proxy"
q=$work/tree/etc/containers/systemd

pm() {
	podman --root "$work/root" --runroot "$work/run" \
		--tmpdir "$work/tmp" --network-config-dir "$work/net" \
		--events-backend none "$@"
}
# A.B.C.D -> a number, for comparisons.
ipnum() {
	echo "$1" | awk -F. '{ printf "%d\n", (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
}
key() { sed -n "s/^$1=//p" "$2"; }

n=0
for f in "$q"/*.network; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	name=$(basename "$f" .network)
	subnet=$(key Subnet "$f") gw=$(key Gateway "$f") range=$(key IPRange "$f")
	[ -n "$subnet" ] || fail "$name.network has no Subnet="
	[ -n "$range" ] ||
		fail "$name.network has no IPRange=: podman's dynamic addresses" \
			"may take a static IP= of the subnet"
	set -- network create --subnet "$subnet" --ip-range "$range"
	[ -n "$gw" ] && set -- "$@" --gateway "$gw"
	out=$(pm "$@" "$name" 2>&1) ||
		fail "podman network create rejects $name.network: $out"
	js=$(pm network inspect "$name") || fail "podman network inspect $name"
	start=$(printf '%s\n' "$js" | sed -n 's/.*"start_ip": "\(.*\)".*/\1/p')
	end=$(printf '%s\n' "$js" | sed -n 's/.*"end_ip": "\(.*\)".*/\1/p')
	[ -n "$start" ] && [ -n "$end" ] ||
		fail "podman keeps no lease range for $name: $js"
	lo=$(ipnum "$start") hi=$(ipnum "$end")
	net=$(ipnum "${subnet%/*}") bits=${subnet#*/}
	size=$((1 << (32 - bits)))
	statics=0
	for c in "$q"/*.container; do
		[ "$(key Network "$c")" = "$name.network" ] || continue
		ip=$(key IP "$c")
		[ -n "$ip" ] || continue
		statics=$((statics + 1))
		x=$(ipnum "$ip")
		[ "$x" -gt "$net" ] && [ "$x" -lt $((net + size - 1)) ] ||
			fail "$(basename "$c"): IP=$ip is not a host of $subnet"
		if [ "$x" -ge "$lo" ] && [ "$x" -le "$hi" ]; then
			fail "$(basename "$c"): IP=$ip is in podman's lease" \
				"range $start-$end of $name"
		fi
	done
	[ "$statics" -gt 0 ] ||
		fail "no .container has a static IP= on $name (Pi-hole has one)"
	echo "ok - $name.network: podman leases $start-$end, $statics static" \
		"address(es) outside"
done
[ "$n" -gt 0 ] || fail "no .network rendered for the proxy VM"
