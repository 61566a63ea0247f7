# Sourced by tests/e2e/run.sh (issue 15): the dev VM's state apart from
# its image.  Uses run.sh's $OUT, $W, row, say, now.
#
# state_mark_image: before the first boot, what the built image is, and
# the key the run scripts hand to the VMs (SBX_SSH_KEY), for the channel.
# state_round: after the probes' run (the dev VM stopped, the proxy VM
# still up): the image is as built, the run went into out/state/dev.qcow2
# (the probes deleted the baked /etc/sbx-e2e-baked there), --reset takes
# seconds, and the next boot has the file again (asked over the channel).

state_mark_image() {
	STATE_IMG_ID=$(stat -c '%s %Y' "$OUT/dev.qcow2" 2>/dev/null)
	rm -f "$W/id_e2e" "$W/id_e2e.pub"
	ssh-keygen -q -t ed25519 -N '' -C sbx-e2e -f "$W/id_e2e" &&
		export SBX_SSH_KEY="$W/id_e2e.pub"
}

# channel_round: the host-only channel into the running dev VM (run-dev.sh
# ssh, scp with its ssh_config): the baked file's state, a copy back, a
# copy in.  Sets CH_STATE to present/missing when ssh answered.
channel_round() {
	CH_STATE=''
	t_end=$(($(now) + ${E2E_RESET_TIMEOUT:-900}))
	T_CH=$(now)
	while [ "$(now)" -lt "$t_end" ]; do
		CH_STATE=$(timeout 600 "$OUT/run-dev.sh" ssh -o BatchMode=yes \
			'if [ -e /etc/sbx-e2e-baked ]; then echo present; else echo missing; fi' \
			2>"$W/channel-ssh.err")
		[ -n "$CH_STATE" ] && break
		"$OUT/run-dev.sh" --status >/dev/null 2>&1 || break
		sleep 10
	done
	T_CH=$(($(now) - T_CH))
	if [ -n "$CH_STATE" ]; then st=pass; else st=blocked; fi
	row channel-ssh-command pass "$st" \
		"run-dev.sh ssh: '${CH_STATE:-$(tail -n 1 "$W/channel-ssh.err")}' after ${T_CH}s"
	cfg=$("$OUT/run-dev.sh" --ssh-config)
	rm -f "$W/baked-copy"
	timeout 120 scp -q -F "$cfg" -o BatchMode=yes sbx-dev:/etc/sbx-e2e-baked \
		"$W/baked-copy" 2>"$W/channel-scp.err"
	if grep -q 'baked by sbx-build' "$W/baked-copy" 2>/dev/null; then st=pass; else st=blocked; fi
	row channel-scp-from-vm pass "$st" "$(head -c 60 "$W/baked-copy" 2>/dev/null ||
		tail -n 1 "$W/channel-scp.err")"
	echo "e2e-in-$TOKEN" >"$W/to-vm"
	m=$(timeout 120 scp -q -F "$cfg" -o BatchMode=yes "$W/to-vm" sbx-dev:/tmp/to-vm \
		2>"$W/channel-scp.err" &&
		timeout 60 "$OUT/run-dev.sh" ssh -o BatchMode=yes cat /tmp/to-vm 2>>"$W/channel-scp.err")
	if [ "$m" = "e2e-in-$TOKEN" ]; then st=pass; else st=blocked; fi
	row channel-scp-to-vm pass "$st" "${m:-$(tail -n 1 "$W/channel-scp.err")}"
	ssh -F "$cfg" -O exit sbx-dev >/dev/null 2>&1
}

state_round() {
	m=$(grep -ao 'E2E-STATE baked-file [a-z]*' "$W/results-dev" 2>/dev/null |
		head -n 1)
	if [ "$m" = "E2E-STATE baked-file present" ]; then st=pass; else st=blocked; fi
	row state-first-boot-has-file pass "$st" "${m:-no E2E-STATE line}"
	id=$(stat -c '%s %Y' "$OUT/dev.qcow2" 2>/dev/null)
	if [ -n "$id" ] && [ "$id" = "$STATE_IMG_ID" ]; then st=blocked; else st=pass; fi
	row state-image-written blocked "$st" "out/dev.qcow2 size/mtime: $STATE_IMG_ID -> $id"
	info=$(qemu-img info -U "$OUT/state/dev.qcow2" 2>&1 | tr '\n' ' ')
	sz=$(du -k "$OUT/state/dev.qcow2" 2>/dev/null | cut -f1)
	case $info in
	*"backing file: ../dev.qcow2"*) [ "${sz:-0}" -gt 1024 ] && st=pass || st=blocked ;;
	*) st=blocked ;;
	esac
	row state-overlay-used pass "$st" "out/state/dev.qcow2: ${sz:-?} KiB over ../dev.qcow2"
	t0=$(now)
	"$OUT/run-dev.sh" --reset >"$W/reset.log" 2>&1
	rs=$?
	dt=$(($(now) - t0))
	if [ "$rs" -eq 0 ] && [ "$dt" -le 5 ] && [ ! -e "$OUT/state/dev.qcow2" ]; then
		st=pass
	else st=blocked; fi
	row state-reset-seconds pass "$st" "exit $rs in ${dt}s: $(tr '\n' ' ' <"$W/reset.log")"
	say "booting the dev VM again after --reset"
	T_RESET_BOOT=$(now)
	if "$OUT/run-dev.sh" --daemon >"$W/run-dev-reset.log" 2>&1; then
		channel_round
	fi
	T_RESET_BOOT=$(($(now) - T_RESET_BOOT))
	SBX_STOP_TIMEOUT=30 "$OUT/run-dev.sh" --stop >/dev/null 2>&1
	if [ "${CH_STATE:-}" = present ]; then st=pass; else st=blocked; fi
	row state-reset-restores-file pass "$st" \
		"over the channel: ${CH_STATE:-no answer} ${T_RESET_BOOT}s after --reset --daemon"
}
