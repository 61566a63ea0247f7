#!/bin/sh
# make check-e2e: proves the isolation end to end.  Bakes the proxy VM and
# two dev VMs (dev, dev2) with ./sbx-build from the stand-in recipes
# (tests/e2e/recipes/, a Debian 13 stand-in for Fedora Cloud built by
# build-base.sh), boots all three headless under TCG through the generated
# out/run-proxy.sh, out/run-dev.sh and out/run-dev2.sh (each dev VM on a
# link of its own to the proxy VM), and tries every way out of both dev
# VMs (guest/probe.sh, run as root over the host-only channel, run-VM.sh
# ssh, its results copied back with scp: never the serial console).  dev
# runs every round, dev2 the isolation probes while dev waits.  The proxy VM
# boots with its uplink unplugged (QMP set_link): the first round shows
# its services up from the baked images alone; the host then plugs the
# uplink in for the full matrix.  The host
# side checks what arrived at its loopback servers (hostsrv.py), the
# tinyproxy log, the egress log (each request with its verdict and its
# client VM), and that another host user cannot reach the VMs' sockets.
#
# Prints a table (probe, expected, seen, detail) and "N passed, N failed".
# Exit 0 when every probe saw what it expected, 77 when this machine
# cannot run the test (says why), 1 otherwise.
#
# Environment: E2E_WORK (default tests/work/e2e), E2E_CACHE (the stand-in
# base, default ~/.cache/sbx-build-tests/e2e-KEY, see tests/lib/cache.sh), E2E_TIMEOUT (seconds for the dev VMs'
# probes, default 2400), E2E_KEEP=1 keeps the baked images.
# The VMs send nothing off the machine: the test's servers listen on
# 127.0.0.1, the proxy VM's only uplink is QEMU user networking
# (198.18.0.0/24, see qemu-net.sh; its DNS stand-in forwards nothing), the
# dev VMs' only NIC is their unix-socket link.  Only the stand-in base
# (debootstrap) and the bake's 'apt-get update' reach Debian's archive.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
W=${E2E_WORK:-$ROOT/tests/work/e2e}
P=$W/project
OUT=$P/out
TIMEOUT=${E2E_TIMEOUT:-2400}
. tests/lib/cache.sh
. tests/e2e/state.sh
. tests/e2e/egress.sh
OTHER=sbx-e2e-other
T_START=$(date +%s)

say() { echo "e2e: $*" >&2; }
SKIP_NAME=e2e
. tests/lib/skip.sh
now() { date +%s; }

[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, guestfish, useradd)"
need debootstrap guestfish qemu-system-x86_64 qemu-img openssl runuser \
	useradd ss docker-registry skopeo buildah curl
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no /usr/bin/python3"
[ -x ./sbx-build ] || {
	say "no ./sbx-build: make sbx-build"
	exit 1
}
for port in 22 53 80 443 7000; do
	if ss -Hlntu "sport = :$port" | grep -q 127.0.0.1:$port ||
		ss -Hlntu "sport = :$port" | grep -Eq '(\*|0\.0\.0\.0):'"$port"; then
		skip "port $port is taken on 127.0.0.1 (the test's servers need it)"
	fi
done

E2E_CACHE=${E2E_CACHE:-$(test_cache e2e tests/e2e/build-base.sh)} || exit 1
export E2E_CACHE
mkdir -p "$W"
rm -f "$W"/*.log "$W"/results
RES=$W/results
: >"$RES"
# row NAME EXPECTED SEEN DETAIL
row() { printf '%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" >>"$RES"; }

cleanup() {
	for v in dev dev2; do
		if [ -x "$OUT/run-$v.sh" ]; then
			SBX_STOP_TIMEOUT=20 "$OUT/run-$v.sh" --stop >/dev/null 2>&1
		fi
	done
	for p in ${PROBE_PIDS:-}; do kill "$p" 2>/dev/null; done
	if [ -x "$OUT/run-proxy.sh" ]; then
		SBX_STOP_TIMEOUT=60 "$OUT/run-proxy.sh" --stop >/dev/null 2>&1
	fi
	[ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2>/dev/null
	[ -n "${MADE_USER:-}" ] && userdel "$OTHER" 2>/dev/null
	command -v registry_stop >/dev/null 2>&1 && registry_stop
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The stand-in base (cached).
t0=$(now)
say "stand-in base ($E2E_CACHE; first run: about 6 minutes)"
sh tests/e2e/build-base.sh >"$W/build-base.log" 2>&1 || {
	tail -20 "$W/build-base.log" >&2
	say "the stand-in base failed, see $W/build-base.log"
	exit 1
}
T_BASE=$(($(now) - t0))

# 2. The project: the stand-in recipes, the product's overlays, the probes.
TOKEN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
TOKEN2=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
rm -rf "$P"
mkdir -p "$P/recipes" "$P/e2e"
cp tests/e2e/recipes/*.yaml "$P/recipes/"
cp -a overlays "$P/overlays"
ln -s "$E2E_CACHE/base.qcow2" "$P/base.qcow2"
sed "s/@TOKEN@/$TOKEN/" tests/e2e/guest/probe.sh >"$P/e2e/probe.sh"

# The container images come the product's way: a registry on 127.0.0.1
# (tests/lib/registry.sh) serves the stand-in images; 'sbx-build all'
# pins them in sbx.lock, pulls the DNS stand-in, builds the overlay's
# tinyproxy Containerfile (its RUN step runs here, on the build host) and
# bakes both into the proxy VM.  Nothing loads them at boot but the
# product's Quadlet .image units.
. tests/lib/registry.sh
registry_start "$W/registry" || {
	say "the test's registry did not start"
	exit 1
}
for n in alpine:library/alpine:3.22 sbx-dns:sbx-test/sbx-dns:latest; do
	HOME=$REGISTRY_HOME skopeo copy -q \
		"oci-archive:$E2E_CACHE/images/${n%%:*}.tar" \
		"docker://$REGISTRY/${n#*:}" || {
		say "cannot push the stand-in image ${n%%:*}"
		exit 1
	}
done
sed -i "s#localhost/sbx-dns:latest#$REGISTRY/sbx-test/sbx-dns:latest#" \
	"$P/recipes/proxy.yaml"
sed -i "s#^FROM docker.io/library/alpine:3.22#FROM $REGISTRY/library/alpine:3.22#" \
	"$P/overlays/proxy/etc/sbx/containers/tinyproxy/Containerfile"

# 3. The bake: the product's own command.
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}
t0=$(now)
say "sbx-build all (one libguestfs appliance, TCG)"
# HOME only for containers' trust of the test's CA; the cache stays put.
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
if ! HOME=$REGISTRY_HOME ./sbx-build -C "$P" --no-progress all --accel tcg \
	>"$W/bake.log" 2>&1; then
	if grep -q 'not available yet' "$W/bake.log"; then
		skip "$(cat "$W/bake.log")"
	fi
	tail -30 "$W/bake.log" >&2
	say "sbx-build all failed, see $W/bake.log"
	exit 1
fi
T_BAKE=$(($(now) - t0))
registry_stop
if [ ! -e "$OUT/run-proxy.sh" ]; then
	# Until 'all' writes them itself.
	say "sbx-build all wrote no run scripts: sbx-build scripts"
	./sbx-build -C "$P" scripts >>"$W/bake.log" 2>&1 || {
		tail -5 "$W/bake.log" >&2
		exit 1
	}
fi
for f in run-proxy.sh run-dev.sh run-dev2.sh proxy.qcow2 dev.qcow2 dev2.qcow2; do
	[ -e "$OUT/$f" ] || {
		say "sbx-build all made no out/$f"
		exit 1
	}
done

# 4. The outside world, on 127.0.0.1 only.
"$PY" tests/e2e/hostsrv.py "$W/hits.log" "$W/srv" >"$W/hostsrv.log" 2>&1 &
SRV_PID=$!
i=0
until grep -q ready "$W/hostsrv.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 30 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
		cat "$W/hostsrv.log" >&2
		say "the test's servers did not start"
		exit 1
	fi
	sleep 1
done

# 5. Boot: the generated run scripts, headless, TCG, no vsock here.
export SBX_ACCEL=tcg SBX_VSOCK=off
export SBX_QEMU=$ROOT/tests/e2e/qemu-net.sh E2E_QEMU_LOG=$W/qemu-argv.log
unset XDG_RUNTIME_DIR
rm -rf "$OUT/logs"
t0=$(now)
say "booting the proxy VM, then the dev VMs dev and dev2 (TCG)"
state_mark_image
"$OUT/run-proxy.sh" --daemon >"$W/run-proxy.log" 2>&1 || {
	cat "$W/run-proxy.log" >&2
	say "run-proxy.sh --daemon failed"
	exit 1
}
# The proxy VM boots with its uplink unplugged: its link is set down
# through QMP while the firmware still runs, and plugged in again when the
# dev VM's probes say the offline round is done (E2E-OFFLINE-DONE).
qmp_link() { # up|down: the proxy VM's uplink
	"$PY" - "$OUT/run/proxy.qmp" "$1" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())
up = sys.argv[2] == "up"
for cmd in ({"execute": "qmp_capabilities"},
            {"execute": "set_link",
             "arguments": {"name": "uplink", "up": up}}):
    f.write(json.dumps(cmd) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r:
            break
    if "error" in r:
        sys.exit("set_link: " + r["error"].get("desc", "failed"))
EOF
}
if qmp_link down 2>"$W/qmp.log"; then
	row uplink-unplugged-at-boot pass pass "set_link uplink off via QMP"
else
	row uplink-unplugged-at-boot pass blocked "$(head -c 100 "$W/qmp.log")"
fi
UPLINK=down
for v in dev dev2; do
	"$OUT/run-$v.sh" --daemon >"$W/run-$v.log" 2>&1 || {
		cat "$W/run-$v.log" >&2
		say "run-$v.sh --daemon failed"
		exit 1
	}
done

# 6. The host side, while both run.  Another unprivileged user must not
# reach the internal link (nor QMP): the run directory is 0700.
rundir=$OUT/run
if ! id "$OTHER" >/dev/null 2>&1; then
	useradd -M -r -s /usr/sbin/nologin "$OTHER" && MADE_USER=1
fi
sock_try() { # SOCKET: "pass" when OTHER can connect
	runuser -u "$OTHER" -- "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("blocked", e.strerror)
else:
    print("pass connected")' "$1" 2>&1
}
# out/ may be 0700 itself: open it for the test so that only the run
# directory's own mode stands in the way.
outmode=$(stat -c %a "$OUT")
chmod o+x "$OUT"
for v in dev dev2; do
	link=$rundir/link-$v.sock n=host-other-user-link-socket
	[ "$v" = dev ] || n=$n-$v
	if [ -S "$link" ]; then
		r=$(sock_try "$link")
		row "$n" blocked "${r%% *}" \
			"$(stat -c '%a %U' "$rundir") $link; ${r#* }"
	else
		row "$n" blocked missing "no socket $link"
	fi
done
qmp=$(ls "$rundir"/*.qmp 2>/dev/null | head -n 1)
if [ -n "$qmp" ]; then
	r=$(sock_try "$qmp")
	row host-other-user-qmp-socket blocked "${r%% *}" "$qmp; ${r#* }"
fi
chmod "$outmode" "$OUT"
# No TCP listener of the VMs' QEMUs on anything but 127.0.0.1.
pids=$(cat "$rundir"/*.pid 2>/dev/null | tr '\n' ' ')
l=''
for p in $pids; do
	l="$l$(ss -Hltnp | grep "pid=$p," | awk '{print $4}' | tr '\n' ' ')"
done
bad=$(printf '%s\n' $l | grep -v '^127\.0\.0\.1:' | tr '\n' ' ')
if [ -n "$pids" ] && [ -z "$bad" ]; then st=blocked; else st=pass; fi
row host-qemu-tcp-listeners blocked "$st" "listening: ${l:-none}"

# 7. The probes, over the host-only channel: run-VM.sh ssh runs them as
# root (sudo -n, a line the e2e recipes bake), their output streams back
# (the host reads dev's E2E-OFFLINE-DONE there), scp copies the results.
# dev starts at once (the offline round); dev2 once the uplink is in, and
# dev waits for the flag 'others-done' before the proxy VM's restarts.
probe_start() { # VM MODE OTHER TOKEN: the probes in the background
	(
		# The channel answers once the guest's sshd is up.
		i=0
		until timeout 600 "$OUT/run-$1.sh" ssh -o BatchMode=yes true; do
			i=$((i + 1))
			[ "$i" -lt 5 ] || exit 1
			"$OUT/run-$1.sh" --status >/dev/null 2>&1 || exit 1
			sleep 10
		done
		echo "E2E-HOST channel up after $(($(date +%s) - t0)) s"
		exec "$OUT/run-$1.sh" ssh -o BatchMode=yes \
			-o ServerAliveInterval=30 sudo -n \
			/usr/local/libexec/sbx-e2e-probe "$2" "$3" "$4"
	) >"$W/probe-$1.out" 2>&1 &
	PROBE_PIDS="${PROBE_PIDS:-} $!"
	eval "PROBE_$1=\$!"
}
probe_results() { # VM PREFIX: copy the results back (scp), one row each
	cfg=$("$OUT/run-$1.sh" --ssh-config)
	rm -f "$W/results-$1"
	timeout 120 scp -q -F "$cfg" -o BatchMode=yes \
		"sbx-$1:/var/tmp/sbx-e2e-results" "$W/results-$1" \
		2>"$W/scp-$1.err"
	n=$(grep -c '^E2E-PROBE|' "$W/results-$1" 2>/dev/null || :)
	if [ "${n:-0}" -gt 0 ]; then st=pass; else st=blocked; fi
	row "${2}channel-probe-results-scp" pass "$st" \
		"${n:-0} result(s) copied from $1 with scp -F (run-$1.sh --ssh-config) $(tail -n 1 "$W/scp-$1.err" 2>/dev/null)"
	grep -ao 'E2E-PROBE|.*' "$W/results-$1" 2>/dev/null |
		awk -F'|' '!seen[$2]++' |
		while IFS='|' read -r _ n e s d; do row "$2$n" "$e" "$s" "$d"; done
	if ! grep -q 'E2E-END' "$W/results-$1" 2>/dev/null; then
		row "${2}probes-finished" pass blocked "no E2E-END in $W/results-$1"
	fi
	ssh -F "$cfg" -O exit "sbx-$1" >/dev/null 2>&1
}
say "the probes in dev and dev2 over run-VM.sh ssh (up to $TIMEOUT s; $W/probe-*.out)"
DEVOUT=$W/probe-dev.out
PROBE_dev2='' DEV2_DONE='' T_PROXY_UP=''
probe_start dev full 192.168.76.22 "$TOKEN"
t_end=$(($(now) + TIMEOUT))
while :; do
	if [ -z "$T_PROXY_UP" ] && grep -q 'E2E-INFO proxies waited' \
		"$DEVOUT" 2>/dev/null; then
		T_PROXY_UP=$(($(now) - t0))
		say "proxy ready after $T_PROXY_UP s (QEMU start to both proxies answering, uplink unplugged)"
	fi
	if [ "$UPLINK" = down ] && grep -q 'E2E-OFFLINE-DONE' "$DEVOUT" \
		2>/dev/null; then
		UPLINK=up
		qmp_link up 2>>"$W/qmp.log" || say "cannot plug the uplink in"
		say "offline round done after $(($(now) - t0)) s; uplink plugged in; dev2's probes start"
		probe_start dev2 isolation 192.168.76.21 "$TOKEN2"
	fi
	if [ -n "$PROBE_dev2" ] && [ -z "$DEV2_DONE" ] &&
		! kill -0 "$PROBE_dev2" 2>/dev/null; then
		DEV2_DONE=$(now)
		say "dev2's probes done after $((DEV2_DONE - t0)) s"
		probe_results dev2 dev2-
		SBX_STOP_TIMEOUT=30 "$OUT/run-dev2.sh" --stop >/dev/null 2>&1
		curl -sS -m 10 -o /dev/null http://127.0.0.1/e2e-flag-set/others-done ||
			say "cannot set the flag others-done"
	fi
	kill -0 "$PROBE_dev" 2>/dev/null || break
	if grep -aq 'Kernel panic' "$OUT"/logs/*.log 2>/dev/null; then
		say "a VM's kernel panicked (out/logs/)"
		break
	fi
	if ! "$OUT/run-dev.sh" --status >/dev/null 2>&1; then
		say "the dev VM stopped"
		break
	fi
	if [ "$(now)" -gt "$t_end" ]; then
		say "timed out"
		break
	fi
	sleep 5
done
T_RUN=$(($(now) - t0))
if [ -z "$DEV2_DONE" ]; then
	[ -n "$PROBE_dev2" ] && kill "$PROBE_dev2" 2>/dev/null
	probe_results dev2 dev2-
fi
SBX_STOP_TIMEOUT=30 "$OUT/run-dev2.sh" --stop >/dev/null 2>&1

# 8. What dev saw (the results over the channel), then its state round.
probe_results dev ''
SBX_STOP_TIMEOUT=30 "$OUT/run-dev.sh" --stop >/dev/null 2>&1
state_round
SBX_STOP_TIMEOUT=60 "$OUT/run-proxy.sh" --stop >/dev/null 2>&1
kill "$SRV_PID" 2>/dev/null
SRV_PID=''

# 9. What the proxy VM logged, and what reached the host.
PLOG=$OUT/logs/proxy.log
found() { # NAME PATTERN: a row "pass" when PATTERN is in the proxy log
	m=$(tr -d '\r' <"$PLOG" | grep -aF -- "$2" | head -n 1 |
		sed 's/^.*E2E-LOG //' | cut -c1-110)
	if [ -n "$m" ]; then row "$1" pass pass "$m"; else
		row "$1" pass blocked "no '$2' in out/logs/proxy.log"; fi
}
found tinyproxy-log-http "GET http://198.18.0.2/e2e-http-$TOKEN"
# The offline round: the DNS stand-in answered from its own table.
found offline-dns-standin-answers "config offline.sbx-e2e.test is"
found tinyproxy-log-https "CONNECT 198.18.0.2:443"
found tinyproxy-log-ssh-allowed "CONNECT github.com:22"
found tinyproxy-log-ssh-filtered "blocked.example"
# The admin's restarts on the proxy VM (sbx-e2e-restart): each step ran;
# the dev VM's restart-* probes say whether the proxies survived them.
found proxy-restarts-done "sbx-e2e-restart: done"
m=$(tr -d '\r' <"$PLOG" | grep -aF "sbx-e2e-restart: FAILED" | head -n 1 |
	sed 's/^.*E2E-LOG //' | cut -c1-110)
if [ -n "$m" ]; then st=blocked; else st=pass m="every step ran"; fi
row proxy-restart-steps pass "$st" "$m"
# The proxies must reach no private address on the proxy VM's side: the
# VM itself (the podman gateway, the link).  The DNS container answers on
# 53 by design; its other ports are the in-guest dns-ct-other-port probe.
for a in 10.0.21.1 192.168.76.11; do
	m=$(tr -d '\r' <"$PLOG" |
		grep -aF "Established connection to host \"$a\"" | head -n 1 |
		sed 's/^.*E2E-LOG //' | cut -c1-110)
	if [ -n "$m" ]; then st=pass; else st=blocked m="no connection in its log"; fi
	row "tinyproxy-reached-$a" blocked "$st" "$m"
done
# What the design does not stop: names the dev VM makes the proxy look up.
found dns-lookup-for-dev-vm "query[A] exfil-$TOKEN.example"
egress_rows
egress_rows_vm dev2 "$TOKEN2"
hits() { grep -c "^$1 " "$W/hits.log" 2>/dev/null || :; }
n=$(grep -c "^tcp 80 .*e2e-http-$TOKEN" "$W/hits.log" 2>/dev/null || :)
if [ "${n:-0}" -gt 0 ]; then st=pass; else st=blocked; fi
row host-http-server-reached pass "$st" "$n request(s) for the token on 127.0.0.1:80"
n=$(grep -c "^tcp 80 .*e2e-http-$TOKEN2" "$W/hits.log" 2>/dev/null || :)
if [ "${n:-0}" -gt 0 ]; then st=pass; else st=blocked; fi
row dev2-host-http-server-reached pass "$st" "$n request(s) for dev2's token on 127.0.0.1:80"
for c in "tcp 7000" "udp 7000" "udp 53"; do
	n=$(hits "$c")
	if [ "${n:-0}" -gt 0 ]; then st=pass; else st=blocked; fi
	row "host-canary-${c% *}-${c#* }" blocked "$st" \
		"${n:-0} arrival(s) at 127.0.0.1:${c#* }/${c% *}"
done

# 10. The table.
T_ALL=$(($(now) - T_START))
pass=0 fail=0
printf '\n%-30s %-8s %-8s %s\n' probe expected seen detail
printf '%-30s %-8s %-8s %s\n' ----- -------- ---- ------
while IFS='|' read -r n e s d; do
	if [ "$e" = "$s" ]; then
		pass=$((pass + 1)) mark=''
	else
		fail=$((fail + 1)) mark='  <-- FAIL'
	fi
	printf '%-30s %-8s %-8s %s%s\n' "$n" "$e" "$s" "$d" "$mark"
done <"$RES"
echo
echo "times: base ${T_BASE}s, bake ${T_BAKE}s, proxies up ${T_PROXY_UP:-?}s" \
	"after boot, boot+probes (dev, dev2) ${T_RUN}s, boot after --reset" \
	"${T_RESET_BOOT:-?}s, total ${T_ALL}s"
echo "logs: $OUT/logs/, $W/"
[ "${E2E_KEEP:-}" = 1 ] || rm -f "$OUT"/*.qcow2
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
