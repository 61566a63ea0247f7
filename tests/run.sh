#!/bin/sh
# Runs the cmocka suites given as arguments, then every tests/check-*.sh
# (checks that feed generated files to the real programs that read them).
# Prints one closing line "N passed, N failed, N skipped" and exits non-zero
# on any failure.  A check that cannot run here exits 77 (skipped) and says
# why.
set -u
pass=0 fail=0 skip=0 failed=""
run() {
	name=$1; shift
	"$@"
	st=$?
	case $st in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)); echo "SKIP: $name" ;;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL: $name (exit $st)" ;;
	esac
}
for t in "$@"; do
	run "$t" "./$t"
done
for c in tests/check-*.sh; do
	[ -e "$c" ] || continue
	run "$c" sh "$c"
done
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
