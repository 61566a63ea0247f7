#!/bin/sh
# Shared by the check scripts and slow suites (sourced after setting
# SKIP_NAME): the ways a test may decline to run.  Each prints its reason
# and exits 77, which the runners count as skipped.
#
# cannot REASON   this machine can never run it (its podman has no Quadlet,
#                 no /dev/vhost-vsock): skipped everywhere.
# skip REASON     this machine could, but is not set up for it (not root,
#                 a port taken, a tool missing): skipped, except under
#                 SBX_TEST_STRICT=1 (CI), where it fails: there a skip
#                 would hide a broken install step or a busy machine.
# need TOOL...    skip "no 'TOOL' (make test-deps)" for a missing program.

cannot() {
	echo "${SKIP_NAME:-test}: skipped: $*" >&2
	exit 77
}

skip() {
	if [ "${SBX_TEST_STRICT:-0}" = 1 ]; then
		echo "${SKIP_NAME:-test}: FAIL: cannot run: $*" \
			"(SBX_TEST_STRICT=1: only a machine that never can may skip)" >&2
		exit 1
	fi
	cannot "$@"
}

need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "no '$t' (make test-deps)"
	done
}
