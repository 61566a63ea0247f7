#!/bin/sh
# SBX_QEMU for the e2e test: runs qemu-system-x86_64 with the run script's
# arguments, changing one thing: the uplink's user network is 198.18.0.0/24
# (RFC 2544 benchmarking range) instead of QEMU's default 10.0.2.0/24.
#
# Why: the proxy VM's firewall drops what its containers send to private
# addresses, and QEMU's 10.0.2.0/24 is private, so with the default network
# tinyproxy could reach no test server at all.  198.18.0.0/24 is not in the
# firewall's private set, and QEMU still maps its host alias, 198.18.0.2, to
# the host's 127.0.0.1, where the test's servers listen: the proxy VM sees
# an "internet" address, and nothing leaves the machine.
#
# Every command line is appended to $E2E_QEMU_LOG when that is set.
set -eu
qemu=${E2E_REAL_QEMU:-qemu-system-x86_64}
n=$#
i=0
while [ "$i" -lt "$n" ]; do
	a=$1
	shift
	case $a in
	user,id=uplink*)
		a="$a,net=198.18.0.0/24,host=198.18.0.2,dns=198.18.0.3"
		a="$a,dhcpstart=198.18.0.15"
		;;
	esac
	set -- "$@" "$a"
	i=$((i + 1))
done
if [ -n "${E2E_QEMU_LOG:-}" ]; then
	printf '%s\n' "$qemu $*" >>"$E2E_QEMU_LOG"
fi
exec "$qemu" "$@"
