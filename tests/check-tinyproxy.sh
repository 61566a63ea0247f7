#!/bin/sh
# The rendered tinyproxy configurations, run by the real tinyproxy.
#
# Everything happens in a fresh network namespace (unshare -n) that has
# only a loopback interface: no packet can leave this machine, and a name
# such as github.com fails to resolve at once instead of reaching out.
# Per test copy, only what cannot work on loopback changes: the ports, the
# Filter path, User/Group (we run as root), and for the positive cases the
# Allow line (127.0.0.1) and one extra allowed port / name on 127.0.0.1.
set -u

SKIP_NAME=check-tinyproxy
. tests/lib/skip.sh
fail() { echo "check-tinyproxy: FAIL: $*" >&2; exit 1; }

if [ "${SBX_IN_NETNS:-}" != 1 ]; then
	need tinyproxy curl unshare
	[ -x /usr/bin/python3 ] || need /usr/bin/python3
	[ -x ./sbx-build ] || fail "run from the top of the tree after make"
	[ "$(id -u)" = 0 ] || skip "needs root for 'unshare -n'"
	unshare -n true 2>/dev/null || skip "cannot create a network namespace"
	SBX_IN_NETNS=1 exec unshare -n sh "$0" "$@"
fi

ip link set lo up || fail "cannot bring up lo in the namespace"
work=$(mktemp -d /tmp/sbx-tinyproxy-XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

./sbx-build render proxy "$work/tree" >/dev/null ||
	fail "sbx-build render proxy"
http=$work/tree/etc/sbx/tinyproxy/tinyproxy-http
ssh=$work/tree/etc/sbx/tinyproxy/tinyproxy-ssh
[ -f "$http/tinyproxy.conf" ] || fail "no rendered tinyproxy-http config"
[ -f "$ssh/tinyproxy.conf" ] || fail "no rendered tinyproxy-ssh config"

# Ports in the namespace are ours alone.
WEB=18080 OTHER=18081 HP=18888 HP2=18889 SP=18822

/usr/bin/python3 -m http.server --bind 127.0.0.1 "$WEB" \
	--directory "$work" >"$work/web.log" 2>&1 &
pids="$pids $!"
i=0
until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$WEB/"; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the local web server did not start"
	sleep 0.1
done

# test_copy SRC DEST PORT [sed expressions...]
test_copy() {
	src=$1 dest=$2 port=$3
	shift 3
	sed -e "s/^Port .*/Port $port/" \
		-e "s|^Filter .*|Filter \"$dest.filter\"|" "$@" \
		"$src/tinyproxy.conf" >"$dest"
	printf 'Listen 127.0.0.1\nUser nobody\nGroup nogroup\n' >>"$dest"
	if [ -f "$src/filter" ]; then
		cp "$src/filter" "$dest.filter"
		chmod 0644 "$dest.filter"
	fi
}

start() { # CONF PORT
	tinyproxy -d -c "$1" >"$1.log" 2>&1 &
	pids="$pids $!"
	i=0
	until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/" \
		2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || { cat "$1.log" >&2; fail "tinyproxy on $2"; }
		sleep 0.1
	done
}

# connect_status PROXYPORT HOST:PORT -> the proxy's answer to CONNECT
connect_status() {
	curl -s -o /dev/null --max-time 5 -p -x "http://127.0.0.1:$1" \
		-w '%{http_connect}' "http://$2/" 2>/dev/null
	true
}

get_status() { # PROXYPORT URL
	curl -s -o /dev/null --max-time 5 -x "http://127.0.0.1:$1" \
		-w '%{http_code}' "$2" 2>/dev/null
	true
}

expect() { # WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	echo "ok - $1 ($2)"
}

expect_not() { # WHAT GOT UNWANTED
	if [ -z "$2" ] || [ "$2" = "$3" ]; then
		fail "$1: got '$2'"
	fi
	echo "ok - $1 ($2)"
}

# 1. The HTTP proxy as rendered (only port/user changed): its Allow is
#    the dev VM's address on its link, so a loopback client is turned away.
test_copy "$http" "$work/http-asis.conf" "$HP2"
grep -q '^Allow 192\.168\.76\.21$' "$work/http-asis.conf" ||
	fail "tinyproxy-http does not Allow the dev VM's address"
start "$work/http-asis.conf" "$HP2"
expect "http proxy refuses a client other than the dev VM" \
	"$(get_status "$HP2" "http://127.0.0.1:$WEB/")" 403

# 2. The same with Allow 127.0.0.1 and one more CONNECT port (the local
#    server's; ConnectPort 443 stays).
test_copy "$http" "$work/http.conf" "$HP" \
	-e 's|^Allow .*|Allow 127.0.0.1|' \
	-e "s|^ConnectPort 443\$|ConnectPort 443\\nConnectPort $WEB|"
start "$work/http.conf" "$HP"
expect "http proxy forwards a GET" \
	"$(get_status "$HP" "http://127.0.0.1:$WEB/")" 200
expect "http proxy tunnels CONNECT to an allowed port" \
	"$(connect_status "$HP" "127.0.0.1:$WEB")" 200
expect "http proxy refuses CONNECT to another port" \
	"$(connect_status "$HP" "127.0.0.1:$OTHER")" 403
expect "http proxy refuses CONNECT to port 22" \
	"$(connect_status "$HP" "127.0.0.1:22")" 403

# 3. The SSH proxy: allow-list with default deny.  The test copy also
#    allows 'localhost' and the local server's port, so the allowed case
#    really connects (to 127.0.0.1).
test_copy "$ssh" "$work/ssh.conf" "$SP" \
	-e 's|^Allow .*|Allow 127.0.0.1|' \
	-e "s|^ConnectPort 22\$|ConnectPort 22\\nConnectPort $WEB|"
grep -q '^FilterDefaultDeny Yes$' "$work/ssh.conf" ||
	fail "tinyproxy-ssh has no FilterDefaultDeny Yes"
grep -qx '\^github\\\.com\$' "$work/ssh.conf.filter" ||
	fail "tinyproxy-ssh's filter does not list github.com"
echo '^localhost$' >>"$work/ssh.conf.filter"
start "$work/ssh.conf" "$SP"
expect "ssh proxy refuses a host off the allow-list" \
	"$(connect_status "$SP" "example.org:22")" 403
expect "ssh proxy refuses a name that merely contains github.com" \
	"$(connect_status "$SP" "github.com.example.org:22")" 403
expect "ssh proxy refuses a name that ends in github.com" \
	"$(connect_status "$SP" "notgithub.com:22")" 403
# github.com passes the filter; in this namespace it cannot resolve, so
# tinyproxy fails to connect: anything but 403.
expect_not "ssh proxy lets github.com:22 past the filter" \
	"$(connect_status "$SP" "github.com:22")" 403
expect "ssh proxy refuses github.com on another port" \
	"$(connect_status "$SP" "github.com:443")" 403
expect "ssh proxy tunnels to an allowed host (localhost)" \
	"$(connect_status "$SP" "localhost:$WEB")" 200
echo "check-tinyproxy: all passed"
