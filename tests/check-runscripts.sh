#!/bin/sh
# shellcheck on the run scripts' test helpers and smoke test.  The
# generated scripts themselves are checked, and run against a fake QEMU,
# by tests/test-runscript.
set -eu
SKIP_NAME=check-runscripts
. tests/lib/skip.sh
need shellcheck
shellcheck -x -s sh tests/fixtures/runscript/fake-qemu \
	tests/fixtures/runscript/fake-waypipe \
	tests/image/run-smoke.sh tests/lib/*.sh tests/run.sh scripts/deps.sh
