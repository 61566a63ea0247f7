#!/bin/sh
# The shape of the tree (issue 13): no two modules of builder/ call into
# each other in a loop, directly or through others.  The call graph comes
# from the objects make built: module A uses module B when A.o has an
# undefined symbol that B.o defines.
set -u
SKIP_NAME=check-modules
cd "$(dirname "$0")/.." || exit 1
. tests/lib/skip.sh
command -v nm >/dev/null 2>&1 || skip "nm (binutils) is missing"
ls builder/*.o >/dev/null 2>&1 || skip "builder/*.o not built (make sbx-build)"
edges=$(for o in builder/*.o; do
	m=$(basename "$o" .o)
	nm -g --defined-only "$o" | awk -v m="$m" 'NF == 3 { print "def", $3, m }'
	nm -u "$o" | awk -v m="$m" '{ print "use", $2, m }'
done | awk '$1 == "def" { d[$2] = $3 } $1 == "use" { u[NR] = $2 " " $3 }
	END { for (k in u) { split(u[k], a, " ")
		if ((a[1] in d) && d[a[1]] != a[2]) print a[2], d[a[1]] } }' |
	sort -u)
[ -n "$edges" ] || { echo "check-modules: no call graph"; exit 1; }
# Every module that reaches itself through the graph is on a loop.
echo "$edges" | awk '
	{ n[$1] = n[$2] = 1; adj[$1] = adj[$1] " " $2 }
	END {
		bad = 0
		for (s in n) {
			split("", seen); split("", from); q[0] = s; h = 0; t = 1
			while (h < t) {
				v = q[h++]; k = split(adj[v], w, " ")
				for (i = 1; i <= k; i++) {
					if (w[i] in seen) continue
					seen[w[i]] = 1; from[w[i]] = v; q[t++] = w[i]
				}
			}
			if (s in seen) {
				path = s; v = from[s]
				while (v != s) { path = v " -> " path; v = from[v] }
				print "not ok - module loop: " s " -> " path
				bad = 1
			}
		}
		exit bad
	}' || exit 1
echo "check-modules: ok ($(echo "$edges" | wc -l) calls between modules, no loop)"
