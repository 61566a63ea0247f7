#!/bin/sh
# clean and the VMs' state (issue 15): while a VM of the project runs
# (a real QEMU started by the generated run script, its CPUs stopped with
# -S so it costs nothing), 'clean' refuses and removes nothing, the pid
# file included, in both run directories (out/run and XDG_RUNTIME_DIR);
# once it stopped, clean removes the image but keeps out/state/ unless
# --state.  A pid file whose process is not that VM does not block.
set -u
cd "$(dirname "$0")/.." || exit 1
SKIP_NAME=check-clean
. tests/lib/skip.sh
need qemu-system-x86_64 qemu-img
SBX=$PWD/sbx-build
tmp=$(mktemp -d)
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
cleanup() {
	for f in "$tmp"/p/out/run/*.pid "$tmp"/xdg/sbx-build/*/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

cat >"$tmp/qemu" <<'SH'
#!/bin/sh
exec qemu-system-x86_64 "$@" -S
SH
chmod +x "$tmp/qemu"
cp -r tests/fixtures/hostpath "$tmp/p"
mkdir -p "$tmp/p/templates" "$tmp/p/overlays/box/etc" "$tmp/xdg"
chmod 0700 "$tmp/xdg"
echo hi >"$tmp/p/templates/motd"
out=$tmp/p/out

# round XDG: one start, clean refused, stop, clean.
round() {
	"$SBX" -q -C "$tmp/p" scripts >/dev/null 2>&1 || fail "scripts failed"
	qemu-img create -q -f qcow2 "$out/box.qcow2" 16M
	env XDG_RUNTIME_DIR="$1" SBX_QEMU="$tmp/qemu" SBX_ACCEL=tcg \
		SBX_VSOCK=off SBX_SSH_KEY=/dev/null \
		"$out/run-box.sh" --daemon >"$tmp/run.log" 2>&1 ||
		{ fail "run-box.sh --daemon (XDG '$1')"; cat "$tmp/run.log"; }
	XDG_RUNTIME_DIR="$1" "$SBX" -C "$tmp/p" clean --all --state \
		>"$tmp/clean.log" 2>&1
	st=$?
	[ "$st" = 1 ] || fail "clean while box runs: exit $st, expected 1"
	grep -q "VM 'box' is running (pid [0-9]*): stop it first" \
		"$tmp/clean.log" || { fail "clean: no refusal"; cat "$tmp/clean.log"; }
	for f in box.qcow2 state/box.qcow2 run-box.sh; do
		[ -f "$out/$f" ] || fail "clean removed out/$f of a running VM"
	done
	XDG_RUNTIME_DIR="$1" "$out/run-box.sh" --status >/dev/null 2>&1 ||
		fail "after the refused clean, --status does not say running"
	XDG_RUNTIME_DIR="$1" SBX_STOP_TIMEOUT=1 "$out/run-box.sh" --stop \
		>/dev/null 2>&1
	"$SBX" -C "$tmp/p" clean >"$tmp/clean.log" 2>&1 ||
		{ fail "clean after stop"; cat "$tmp/clean.log"; }
	[ ! -f "$out/box.qcow2" ] || fail "clean kept the image"
	[ -f "$out/state/box.qcow2" ] || fail "clean without --state removed the state"
	grep -q "kept '$out/state'" "$tmp/clean.log" || fail "clean: state not named"
}
round ''
# A stale pid file, and one naming another process: no refusal.
echo 999999 >"$out/run/box.pid"
sleep 30 &
echo $! >"$out/run/other.pid"
round "$tmp/xdg"
kill "$(cat "$out/run/other.pid")" 2>/dev/null
"$SBX" -C "$tmp/p" clean --state >"$tmp/clean.log" 2>&1 ||
	fail "clean --state"
[ ! -e "$out/state" ] || fail "clean --state left $(ls "$out/state")"
[ "$fails" -eq 0 ] && echo "check-clean: ok"
[ "$fails" -eq 0 ]
