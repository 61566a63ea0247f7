#!/bin/sh
# The slow suites (make check-image): every other tests/image/*.sh, each a
# real libguestfs appliance or QEMU boot (TCG where KVM is unusable).  A
# script that cannot run on this machine exits 77 and says why.  Prints
# "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/../.." || exit 1
pass=0 fail=0 skip=0 failed=""
for t in tests/image/*.sh; do
	[ "$t" = tests/image/run.sh ] && continue
	case $t in tests/image/lib-*) continue ;; esac
	echo "== $t"
	start=$(date +%s)
	sh "$t"
	st=$?
	echo "== $t: exit $st in $(($(date +%s) - start)) s"
	case $st in
	0) pass=$((pass + 1)) ;;
	77) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)); failed="$failed $t" ;;
	esac
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
