#!/bin/sh
# Prints the line coverage of each builder/*.c module, and the total, from
# the gcov data of everything that ran since the last COVERAGE=1 build
# (make coverage, or CI).  Writes the table to coverage.txt too.
set -eu
cd "$(dirname "$0")/.."
command -v gcov >/dev/null || {
	echo "coverage: no gcov" >&2
	exit 1
}
ls builder/*.gcno >/dev/null 2>&1 || {
	echo "coverage: no gcov notes: build with 'make COVERAGE=1' first" >&2
	exit 1
}
for c in builder/*.c; do
	# "File 'builder/x.c'" then "Lines executed:12.34% of 567"
	gcov -n -o builder "$c" 2>/dev/null |
		awk -v f="$c" '
			$0 == "File '\''" f "'\''" { on = 1; next }
			on && /^Lines executed:/ {
				split($0, a, /[:% ]+/)
				printf "%s %s %s\n", f, a[3], a[5]; exit
			}'
done | awk '
	{ n = $3; hit = int($2 * n / 100 + 0.5); H += hit; N += n
	  printf "%-28s %6.1f%%  %5d of %5d lines\n", $1, $2, hit, n }
	END { printf "%-28s %6.1f%%  %5d of %5d lines\n", "total",
		N ? 100 * H / N : 0, H, N }' | tee coverage.txt
