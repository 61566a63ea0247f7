# Sourced by tests/e2e/run.sh (issue 15): the proxy VM's egress log on the
# host, out/logs/egress.log (render-egress.c, over a virtio-serial port).
# Uses run.sh's $OUT, $W, $TOKEN, row.
#
# egress_rows: after the VMs stopped.  Each request tinyproxy logged (the
# proxy VM's journal on its console, "Request (file descriptor N): ...")
# is in the egress log with a verdict, and the probes' known requests
# carry the right one, with the dev VM named as the client.

eg() { # NAME PATTERN: a row "pass" when PATTERN is a line of the log
	m=$(grep -F -- "$2" "$OUT/logs/egress.log" 2>/dev/null | head -n 1 |
		cut -c1-110)
	if [ -n "$m" ]; then row "$1" pass pass "$m"; else
		row "$1" pass blocked "no '$2' in out/logs/egress.log"; fi
}

egress_rows() {
	E=$OUT/logs/egress.log
	if [ ! -s "$E" ]; then
		row egress-log-written pass blocked "no or empty $E"
		return
	fi
	row egress-log-written pass pass "$(wc -l <"$E") line(s) in $E"
	eg egress-http-allowed "dev allowed proxy GET http://198.18.0.2/e2e-http-$TOKEN"
	eg egress-https-allowed "dev allowed proxy CONNECT 198.18.0.2:443"
	eg egress-ssh-allowed "dev allowed proxy CONNECT github.com:22"
	eg egress-ssh-filtered "dev filtered proxy CONNECT blocked.example:22"
	eg egress-dns-query " dns A exfil-$TOKEN.example"
	# Every request of the first run's proxy log, each with a verdict.
	tr -d '\r' <"$OUT/logs/proxy.log" |
		sed -n 's/.*tinyproxy-[a-z]*\[[0-9]*\]: .*Request (file descriptor [0-9]*): \(.*\) HTTP\/[0-9.]*$/\1/p' |
		sort -u >"$W/egress-requests"
	n=$(wc -l <"$W/egress-requests")
	miss=''
	while IFS= read -r r; do
		grep -qF -- " proxy $r" "$E" || miss="$miss $r;"
	done <"$W/egress-requests"
	if [ "$n" -gt 0 ] && [ -z "$miss" ]; then st=pass; else st=blocked; fi
	row egress-every-request pass "$st" \
		"$n distinct request(s) in tinyproxy's log; missing:${miss:- none}"
}

# egress_rows_vm VM TOKEN: a second dev VM behind the same proxy VM, on a
# link of its own: its requests are in the egress log under its own name,
# with the right verdict, and none of its token under another name.
egress_rows_vm() {
	E=$OUT/logs/egress.log
	eg "$1-egress-http-allowed" "$1 allowed proxy GET http://198.18.0.2/e2e-http-$2"
	eg "$1-egress-https-allowed" "$1 allowed proxy CONNECT 198.18.0.2:443"
	eg "$1-egress-ssh-allowed" "$1 allowed proxy CONNECT github.com:22"
	eg "$1-egress-ssh-filtered" "$1 filtered proxy CONNECT blocked.example:22"
	m=$(grep -F -- "$2" "$E" 2>/dev/null | grep -v " $1 " | grep -v ' dns ' |
		head -n 1 | cut -c1-110)
	n=$(grep -F -- "$2" "$E" 2>/dev/null | grep -c " $1 ")
	if [ -z "$m" ] && [ "${n:-0}" -gt 0 ]; then st=pass; else st=blocked; fi
	row "$1-egress-named-right" pass "$st" \
		"${n:-0} line(s) with its token as $1; other names: ${m:-none}"
}
