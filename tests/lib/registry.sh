#!/bin/sh
# Shared by the tests (sourced after skip.sh): a real OCI registry
# (Debian's docker-registry, i.e. distribution) on 127.0.0.1, with TLS
# from a CA made here and basic auth from an htpasswd made here.
#
# registry_start DIR   starts one under DIR (state, certificates, log) on a
#                      free port and sets:
#                        REGISTRY       127.0.0.1:PORT
#                        REGISTRY_CA    the CA certificate (PEM)
#                        REGISTRY_LOG   its log: one "response completed"
#                                       line per request, with method,
#                                       uri and bytes written
#                        REGISTRY_DATA  its storage root
#                        REGISTRY_AUTH  a containers auth.json for it
#                      and exports REGISTRY_AUTH_FILE (skopeo's own
#                      variable) and SSL_CERT_FILE (Go's trust store) so
#                      that skopeo trusts and logs in to it, and nothing
#                      else.  Skips when a tool is missing.
# registry_stop        stops it (call from a trap).
# registry_requests METHOD PATTERN
#                      prints how many METHOD requests whose uri matches
#                      PATTERN (grep -E) the log holds so far.
# registry_uploaded    prints the digest of every blob uploaded so far
#                      (sha256:HEX, one a line, in order).
# registry_blob DIGEST prints the path of a blob in the registry's storage.

REGISTRY_PID=

registry_start() {
	need docker-registry openssl python3 htpasswd
	rdir=$1
	mkdir -p "$rdir/data" "$rdir/certs" || return 1
	REGISTRY_DATA=$rdir/data
	REGISTRY_LOG=$rdir/registry.log
	REGISTRY_CA=$rdir/certs/ca.crt
	REGISTRY_AUTH=$rdir/auth.json
	port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	REGISTRY=127.0.0.1:$port
	c=$rdir/certs
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
		-keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$c/srv.key" -out "$c/srv.csr" 2>/dev/null || return 1
	printf 'subjectAltName=IP:127.0.0.1\n' >"$c/ext"
	openssl x509 -req -in "$c/srv.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" \
		-CAcreateserial -days 2 -extfile "$c/ext" \
		-out "$c/srv.crt" 2>/dev/null || return 1
	htpasswd -Bbc "$rdir/htpasswd" sbx "sbx-test-pw" 2>/dev/null || return 1
	cat >"$rdir/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
http:
  addr: $REGISTRY
  tls:
    certificate: $c/srv.crt
    key: $c/srv.key
auth:
  htpasswd:
    realm: sbx-test
    path: $rdir/htpasswd
EOF
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" \
		"$(printf sbx:sbx-test-pw | base64)" >"$REGISTRY_AUTH"
	REGISTRY_AUTH_FILE=$REGISTRY_AUTH
	SSL_CERT_FILE=$REGISTRY_CA
	export REGISTRY_AUTH_FILE SSL_CERT_FILE
	# distribution reads REGISTRY_* variables as configuration: keep
	# skopeo's REGISTRY_AUTH_FILE from it.
	env -u REGISTRY_AUTH_FILE docker-registry serve "$rdir/config.yml" \
		>"$REGISTRY_LOG" 2>&1 &
	REGISTRY_PID=$!
	i=0
	while ! curl -s --cacert "$REGISTRY_CA" -o /dev/null \
		"https://$REGISTRY/v2/"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
			cat "$REGISTRY_LOG" >&2
			skip "the registry did not start"
		fi
		sleep 0.1
	done
}

registry_stop() {
	if [ -n "$REGISTRY_PID" ]; then
		kill "$REGISTRY_PID" 2>/dev/null || true
		wait "$REGISTRY_PID" 2>/dev/null || true
		REGISTRY_PID=
	fi
}

registry_requests() {
	grep 'msg="response completed"' "$REGISTRY_LOG" |
		grep -F "http.request.method=$1 " |
		grep -Ec "http.request.uri=\"?[^ ]*$2"
}

registry_uploaded() {
	grep 'msg="response completed"' "$REGISTRY_LOG" |
		grep -F "http.request.method=PUT " |
		sed -n 's/.*http.request.uri="[^ ]*[?&]digest=sha256%3A\([0-9a-f]*\).*/sha256:\1/p'
}

registry_blob() {
	h=${1#sha256:}
	printf '%s\n' "$REGISTRY_DATA/docker/registry/v2/blobs/sha256/$(printf %s "$h" | cut -c1-2)/$h/data"
}
