#!/bin/sh
# Runs the cmocka suites given as arguments, then every tests/check-*.sh
# (checks that feed generated files to the real programs that read them).
# Prints one closing line "N passed, N failed, N skipped" and exits non-zero
# on any failure: each cmocka test counts once, each check script once.  A
# check that cannot run here exits 77 and says why (tests/lib/skip.sh); a
# cmocka test that skips says why too (test_need in tests/testutil.h).  Under
# SBX_TEST_STRICT=1 (CI) only what this kind of machine can never run may
# skip.
set -u
pass=0 fail=0 skip=0 failed=""
out=$(mktemp /tmp/sbx-run-XXXXXX)
trap 'rm -f "$out"' EXIT
# suite NAME CMD...: a cmocka suite; counts its tests one by one.
suite() {
	name=$1; shift
	"$@" >"$out" 2>&1
	st=$?
	cat "$out"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$out")
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:.*/\1/p' "$out")
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s), listed below:.*/\1/p' "$out")
	pass=$((pass + ${p:-0})) skip=$((skip + ${s:-0})) fail=$((fail + ${f:-0}))
	[ -n "$s" ] && echo "SKIP: $name: $s test(s), each says why above"
	if [ "$st" -ne 0 ]; then
		# A crash prints no summary: the suite itself counts as a failure.
		[ -n "$f" ] || fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL: $name (exit $st)"
	fi
}
# check NAME CMD...: a script; one pass, failure or skip.
check() {
	name=$1; shift
	"$@" >"$out" 2>&1
	st=$?
	cat "$out"
	case $st in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)); echo "SKIP: $name: $(grep 'skipped:' "$out" | tail -n 1)" ;;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL: $name (exit $st)" ;;
	esac
}
for t in "$@"; do
	suite "$t" "./$t"
done
for c in tests/check-*.sh; do
	[ -e "$c" ] || continue
	check "$c" sh "$c"
done
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
