#!/bin/sh
# The proxy VM's firewall unit with the real nft, in a fresh network
# namespace (unshare -n): a netavark-like table (podman's NAT and port
# forwarding) must survive every command our units run.  The commands are
# taken from the rendered sbx-firewall.service (ExecStart, ExecReload,
# ExecStop), the nftables.service drop-in and nftables.conf; only the
# ruleset path points into the rendered tree.
set -u
SKIP_NAME=check-firewall
. tests/lib/skip.sh
fail() { echo "check-firewall: FAIL: $*" >&2; exit 1; }

if [ "${SBX_IN_NETNS:-}" != 1 ]; then
	need nft unshare
	[ -x ./sbx-build ] || fail "run from the top of the tree after make"
	[ "$(id -u)" = 0 ] || skip "needs root for 'unshare -n'"
	unshare -n true 2>/dev/null || skip "cannot create a network namespace"
	SBX_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi

work=$(mktemp -d /tmp/sbx-firewall-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
./sbx-build render proxy "$work/tree" >/dev/null ||
	fail "sbx-build render proxy"
t=$work/tree
unit=$t/etc/systemd/system/sbx-firewall.service
dropin=$t/etc/systemd/system/nftables.service.d/50-sbx.conf
[ -f "$unit" ] || fail "no sbx-firewall.service: the ruleset would be" \
	"loaded by nftables.service, whose reload and stop flush every table"
[ -L "$t/etc/systemd/system/multi-user.target.wants/sbx-firewall.service" ] ||
	fail "sbx-firewall.service is not enabled"
for f in "$t/etc/nftables/sbx.nft" "$t/etc/sysconfig/nftables.conf" "$dropin"; do
	[ -f "$f" ] || fail "no ${f#"$t"}"
	if grep -q '^[^#]*flush' "$f"; then
		fail "${f#"$t"} flushes: that removes netavark's tables too"
	fi
done

# The value of KEY= lines (all of them), with '-' dropped and the guest's
# ruleset path pointing into the rendered tree.
cmds() {
	sed -n "s/^$1=-\{0,1\}//p" "$2" |
		sed "s|/etc/nftables/sbx.nft|$t/etc/nftables/sbx.nft|g"
}
# run WHAT KEY FILE: each command line of KEY, as systemd would (our
# lines quote the way sh does); podman lines need podman, not here.
run() {
	cmds "$2" "$3" >"$work/cmds"
	[ -s "$work/cmds" ] || fail "$1: no $2= in ${3#"$t"}"
	while IFS= read -r line; do
		case $line in
		nft\ *) ;;
		podman\ *) continue ;;
		*) fail "$1: unexpected command '$line'" ;;
		esac
		eval "$line" || fail "$1: '$line' failed"
	done <"$work/cmds"
}
has() { nft list table "$@" >/dev/null 2>&1; }
survives() {
	has inet netavark || fail "after $1 netavark's table is gone"
	nft list chain inet netavark nat-port-forward | grep -q 'dnat' ||
		fail "after $1 netavark's port forward is gone"
}
ours() {
	has inet sbx || fail "after $1 table inet sbx is missing"
	has bridge sbx || fail "after $1 table bridge sbx is missing"
}
noours() {
	if has inet sbx || has bridge sbx; then fail "after $1 our tables remain"; fi
}

# What netavark (1.4+, nftables driver) keeps: its own table, with NAT
# and the DNAT of a published port.
nft -f - <<'EOF' || fail "cannot load the netavark-like table"
table inet netavark {
	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.0.21.0/24 ip daddr != 10.0.21.0/24 masquerade
	}
	chain nat-port-forward {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 192.168.76.11 tcp dport 8443 dnat ip to 10.0.21.3:8888
	}
}
EOF
survives "loading it"

run "start" ExecStart "$unit"
ours "start"; survives "start"
# A reload twice: the file replaces our tables, it never adds a second copy.
run "reload" ExecReload "$unit"
run "reload" ExecReload "$unit"
ours "reload"; survives "reload"
[ "$(nft list tables | grep -c 'inet sbx')" -eq 1 ] ||
	fail "reload left two copies of table inet sbx"
run "stop" ExecStop "$unit"
noours "stop"; survives "stop"
run "a second stop" ExecStop "$unit"
survives "a second stop"

# nftables.service reading our nftables.conf (start) loads nothing and
# flushes nothing; after its own flush (stop), the drop-in puts our
# tables back.
nft -f "$t/etc/sysconfig/nftables.conf" ||
	fail "nft rejects the rendered nftables.conf"
survives "nftables.service start"
nft flush ruleset
run "nftables.service stop (drop-in)" ExecStopPost "$dropin"
ours "nftables.service stop (drop-in)"
echo "ok - netavark's table survives sbx-firewall start, reload and stop"
