#!/bin/sh
# The size of a room (issue 13): no function in builder/ longer than
# MAX lines (its body, between the braces) unless the comment right above
# it starts "Long (about N lines): " and says why it is better in one
# piece.  A reason that only names who will split it ("issue N") is not a
# reason.  PENDING names functions known to be too long that their owner
# is splitting: they are listed on every run (todo) and must leave the
# list once short.  Lists every long function either way.
set -u
cd "$(dirname "$0")/.." || exit 1
MAX=${SBX_MAX_FUNCTION_LINES:-120}
# Owner: issue 15 (run-VM.sh and the firewall are being restructured).
PENDING="runscript_render render_firewall"
awk -v max="$MAX" -v pending="$PENDING" '
function report(   why, status, p) {
	p = (" " pending " ") ~ (" " name " ")
	if (cmt ~ /^\/\* Long \(about [0-9,]+ lines\)[^:]*: / &&
	    cmt !~ /[Ii]ssue [0-9]/) {
		why = cmt; sub(/^\/\* /, "", why); sub(/ *\*\/$/, "", why)
		printf "ok - %s:%d %s (%d lines): %s\n", FILENAME, at, name, len, substr(why, 1, 100)
	} else if (p) {
		printf "todo - %s:%d %s (%d lines): pending its owner (tests/check-functions.sh PENDING)\n", FILENAME, at, name, len
		seen[name] = 1
	} else {
		printf "not ok - %s:%d %s (%d lines, over %d) without a \"Long (about N lines): why\" comment above it\n", FILENAME, at, name, len, max
		bad = 1
	}
}
FNR == 1 { prev_cmt = ""; cmt_open = 0; type_line = 0; infn = 0 }
# A comment block at the left margin: remember its text and where it ends.
!infn && /^\/\*/ { ctext = ""; cmt_open = 1 }
cmt_open {
	line = $0; sub(/^ \*/, "", line); ctext = ctext " " line
	if ($0 ~ /\*\//) { cmt_open = 0; cmt_end = FNR; gsub(/  +/, " ", ctext); sub(/^ /, "", ctext); last_cmt = ctext }
	next
}
# "name(" at the left margin, not a prototype: a definition starts.
!infn && /^[A-Za-z_][A-Za-z0-9_]*\(/ && !/\);[ \t]*$/ {
	name = $0; sub(/\(.*/, "", name); at = FNR
	# The comment must end on the line above the return type (or above
	# the name when the type shares its line).
	cmt = (cmt_end == FNR - 2 || cmt_end == FNR - 1) ? last_cmt : ""
	want_brace = 1
	next
}
want_brace && /^{/ { infn = 1; want_brace = 0; open_at = FNR; next }
infn && /^}/ {
	infn = 0; len = FNR - open_at - 1
	if (len > max) report()
	next
}
END {
	n = split(pending, p, " ")
	for (i = 1; i <= n; i++)
		if (!(p[i] in seen)) {
			printf "not ok - %s is no longer over %d lines (or gone): take it off PENDING in tests/check-functions.sh\n", p[i], max
			bad = 1
		}
	exit bad
}' builder/*.c || exit 1
echo "check-functions: ok (no function over $MAX lines without a reason)"
