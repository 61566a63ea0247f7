#!/bin/sh
# The proxy VM's egress log (issue 15): the rendered awk program
# (tests/fixtures/render/proxy/.../sbx-egress.awk, kept equal to what
# render writes by test-render) turns tinyproxy's and dnsmasq's journal
# lines, as an e2e run's proxy VM logged them
# (tests/fixtures/egress/journal.txt, short-iso; its last lines, DNS
# queries forwarded, blocked and never answered, with the follower's tick
# lines between them, are written by hand in the same format), into one
# line per request or query with its client VM and verdict, with every awk
# here (mawk on Debian, gawk on Fedora).
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
	"allowed dns A github.com" \
	"error dns AAAA github.com" \
	"dev allowed dns AAAA deb.debian.org" \
	"dev filtered dns A ads.example" \
	"dev error dns TXT aGVsbG8.exfil.example" \
	"dev allowed dns A late.example"; do
	grep -qF -- "$want" "$fix/expected.txt" || {
		echo "FAIL: expected.txt lacks '$want'"
		fails=$((fails + 1))
	}
done
# The follower as the unit runs it, with a stand-in journalctl that
# writes LINES and then stays SECS seconds; its ticks come every 5 s in
# the guest and every 1 s here.  follow AWK LINES SECS WAIT WANT: after
# WAIT seconds the output must hold the line WANT; the follower must end
# with journalctl (the ticks stop, the pipe closes, systemd restarts it).
fol=tests/fixtures/render/proxy/usr/local/libexec/sbx-egress
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
sed "s|/usr/local/libexec/sbx-egress.awk|$PWD/$prog|" "$fol" >"$tmp/follow"
grep -q '^		sleep 5 >/dev/null$' "$tmp/follow" || {
	echo "FAIL: the follower has no 5 s tick"
	fails=$((fails + 1))
}
sed -i 's/sleep 5 >/sleep 1 >/' "$tmp/follow"
follow() {
	p=$(command -v "$1") || return 0
	ln -sf "$p" "$tmp/bin/awk"
	printf '%s\n' "$2" >"$tmp/lines"
	printf '#!/bin/sh\ncat %s\nsleep %s\n' "$tmp/lines" "$3" >"$tmp/bin/journalctl"
	chmod +x "$tmp/bin/journalctl"
	PATH=$tmp/bin:$PATH timeout 15 sh "$tmp/follow" >"$tmp/out" 2>&1 &
	pid=$!
	sleep "$4"
	if ! grep -qxF -- "$5" "$tmp/out"; then
		echo "FAIL: $1: no '$5' after $4 s (got: $(cat "$tmp/out"))"
		fails=$((fails + 1))
	fi
	wait "$pid"
	if [ $? -eq 124 ]; then
		echo "FAIL: $1: the follower outlived journalctl"
		fails=$((fails + 1))
	fi
}
for a in mawk gawk; do
	# Each line passes on at once (mawk reads a pipe in blocks unless
	# -W interactive): the verdict is out while journalctl still runs.
	follow "$a" "$(head -n 6 "$fix/journal.txt")" 3 2 \
		"2026-12-02T12:26:09+0000 dev denied proxy Refused CONNECT method on port 1"
	# A DNS query that never gets an answer still reaches the log: the
	# ticks make the awk program give it up as "error" after a whole
	# tick, while journalctl writes nothing more.
	follow "$a" "2026-12-02T12:30:05+0000 pihole[726]: dnsmasq[1]: query[TXT] x.exfil.example from 192.168.76.21" 4 3 \
		"2026-12-02T12:30:05+0000 dev error dns TXT x.exfil.example"
done
echo "check-egress: awk:$ran, $fails failure(s)"
[ "$fails" -eq 0 ]
