#!/bin/sh
# The ASan+UBSan sbx-build on the commands that need no image or network,
# for 'make check-asan': check, plan and render of the shipped recipes
# (must succeed), and check of every fixture project under
# tests/fixtures/recipes/ (may succeed or fail with exit 1; a sanitizer
# report aborts, which is exit 134).  The sanitizer options come from
# the Makefile's SAN_ENV.
#   tests/asan-cli.sh build-asan/sbx-build
set -u
sbx=$1
work=tests/work/asan-cli
fails=0
rm -rf "$work"
mkdir -p "$work"

run() { # run WANT ARGS...: WANT is 0, or "01" for either 0 or 1
	want=$1
	shift
	"$sbx" -q "$@" >"$work/out" 2>"$work/err"
	st=$?
	case $want in *$st*) return 0 ;; esac
	echo "FAIL: sbx-build $*: exit $st (sanitizer report follows)"
	grep -E 'ERROR: |runtime error|SUMMARY' "$work/err" | head -5
	fails=$((fails + 1))
}

run 0 check
for vm in dev proxy; do
	run 0 plan "$vm"
	run 0 render "$vm" "$work/render-$vm"
done
for p in tests/fixtures/recipes/*/; do
	run 01 -C "$p" check
done
echo "asan-cli: $fails failed"
[ "$fails" -eq 0 ]
