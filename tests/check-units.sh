#!/bin/sh
# The rendered systemd units through 'systemd-analyze verify' (the
# Quadlet files: tests/check-quadlet.sh).
# The ExecStart= paths point into the rendered tree for the check, since
# the scripts exist only there (a /bin/sh -c wrapper stays the host's).
# Debian 12's systemd (252) does not know
# ImportCredential= (systemd >= 254, Fedora 44 ships 258): that one
# warning is expected, any other message fails.
set -u
SKIP_NAME=check-units
. tests/lib/skip.sh
fail() { echo "check-units: FAIL: $*" >&2; exit 1; }

need systemd-analyze
[ -x ./sbx-build ] || fail "run from the top of the tree after make"
work=$(mktemp -d /tmp/sbx-units-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

n=0
for vm in proxy dev; do
	./sbx-build render "$vm" "$work/$vm" || fail "sbx-build render $vm"
	for u in "$work/$vm"/etc/systemd/system/*.service; do
		[ -e "$u" ] || continue
		t=$work/$(basename "$u")
		sed -e "s|^ExecStart=/|ExecStart=$work/$vm/|" \
			-e "s|^ExecStart=$work/$vm/bin/sh |ExecStart=/bin/sh |" \
			"$u" >"$t"
		out=$(systemd-analyze verify "$t" 2>&1)
		st=$?
		rest=$(printf '%s\n' "$out" |
			grep -v "Unknown key 'ImportCredential'" | grep -v '^$')
		if [ $st -ne 0 ] || [ -n "$rest" ]; then
			printf '%s\n' "$out" >&2
			fail "systemd-analyze verify $vm:${u#"$work/$vm"}"
		fi
		echo "ok - $vm:${u#"$work/$vm"}"
		n=$((n + 1))
	done
done
[ $n -ge 2 ] || fail "no unit was checked"
