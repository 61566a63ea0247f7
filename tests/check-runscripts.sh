#!/bin/sh
# shellcheck on the run scripts' test helpers and smoke test.  The
# generated scripts themselves are checked, and run against a fake QEMU,
# by tests/test-runscript.
set -eu
command -v shellcheck >/dev/null || {
	echo "check-runscripts: skipped: no shellcheck" >&2
	exit 77
}
shellcheck -s sh tests/fixtures/runscript/fake-qemu \
	tests/fixtures/runscript/fake-waypipe \
	tests/image/run-smoke.sh
