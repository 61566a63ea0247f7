#!/bin/sh
# The proxy VM's egress log (issue 15): the rendered awk program
# (tests/fixtures/render/proxy/.../sbx-egress.awk, kept equal to what
# render writes by test-render) turns tinyproxy's and dnsmasq's journal
# lines, as an e2e run's proxy VM logged them
# (tests/fixtures/egress/journal.txt, short-iso), into one line per
# request or query with its client VM and verdict, with every awk here
# (mawk on Debian, gawk on Fedora).
set -u
cd "$(dirname "$0")/.." || exit 1
SKIP_NAME=check-egress
. tests/lib/skip.sh
need awk
prog=tests/fixtures/render/proxy/usr/local/libexec/sbx-egress.awk
fix=tests/fixtures/egress
fails=0 ran=''
for a in awk mawk gawk; do
	command -v "$a" >/dev/null 2>&1 || continue
	ran="$ran $a"
	if ! "$a" -f "$prog" <"$fix/journal.txt" | diff -u "$fix/expected.txt" -; then
		echo "FAIL: $a: egress lines differ"
		fails=$((fails + 1))
	fi
done
# The verdicts the e2e looks for, by name.
for want in "dev allowed proxy GET http://198.18.0.2/e2e-http-" \
	"dev allowed proxy CONNECT github.com:22" \
	"dev filtered proxy CONNECT blocked.example:22" \
	"dev denied proxy CONNECT 198.18.0.2:22" \
	"allowed dns A github.com"; do
	grep -qF -- "$want" "$fix/expected.txt" || {
		echo "FAIL: expected.txt lacks '$want'"
		fails=$((fails + 1))
	}
done
# The follower, as the unit runs it, passes each line on at once (mawk
# reads a pipe in blocks unless -W interactive): a stand-in journalctl
# writes two lines and waits; the verdict must be out before it ends.
fol=tests/fixtures/render/proxy/usr/local/libexec/sbx-egress
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
head -n 6 "$fix/journal.txt" >"$tmp/lines"
printf '#!/bin/sh\ncat %s\nsleep 4\n' "$tmp/lines" >"$tmp/bin/journalctl"
chmod +x "$tmp/bin/journalctl"
sed "s|/usr/local/libexec/sbx-egress.awk|$PWD/$prog|" "$fol" >"$tmp/follow"
for a in mawk gawk; do
	p=$(command -v "$a") || continue
	ln -sf "$p" "$tmp/bin/awk"
	PATH=$tmp/bin:$PATH sh "$tmp/follow" >"$tmp/out.$a" 2>&1 &
	pid=$!
	sleep 2
	if ! grep -q "dev denied proxy Refused CONNECT method on port 1" "$tmp/out.$a"; then
		echo "FAIL: $a: the follower held its lines back (got: $(cat "$tmp/out.$a"))"
		fails=$((fails + 1))
	fi
	wait "$pid"
done
echo "check-egress: awk:$ran, $fails failure(s)"
[ "$fails" -eq 0 ]
