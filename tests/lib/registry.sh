#!/bin/sh
# A real OCI registry for the tests (sourced, after skip.sh where the
# caller has it): Debian's docker-registry (distribution) on 127.0.0.1,
# TLS from a CA made here by openssl, and images the test makes itself
# with buildah (from scratch + busybox), never pulled from anywhere.
#
# registry_start DIR [auth]
#         starts one with its state under DIR on a free port and sets
#           REGISTRY       127.0.0.1:PORT
#           REGISTRY_PID   its process
#           REGISTRY_CA    the CA certificate (PEM)
#           REGISTRY_HOME  a HOME whose .config/containers/certs.d
#                          trusts the CA (skopeo, buildah and podman read
#                          it: run them with HOME=$REGISTRY_HOME)
#           REGISTRY_LOG   its log: one "response completed" line per
#                          request, with method, uri and bytes written
#           REGISTRY_DATA  its storage root
#         With "auth" it also asks for basic auth (an htpasswd made here),
#         writes REGISTRY_AUTH (a containers auth.json for it) and exports
#         REGISTRY_AUTH_FILE (skopeo's own variable) and SSL_CERT_FILE
#         (Go's trust store), so that skopeo trusts and logs in to it and
#         nothing else.  Fails when it does not answer within 10 s.
# registry_stop        stops it (the data stays under DIR).
# registry_busybox REF [FILE=TEXT...]
#                      pushes REF (a name on $REGISTRY, no auth): a
#                      busybox image with /bin/sh, plus each FILE holding
#                      TEXT.
# registry_requests METHOD PATTERN
#                      how many METHOD requests whose uri matches PATTERN
#                      (grep -E) the log holds so far.
# registry_uploaded    the digest of every blob uploaded so far
#                      (sha256:HEX, one a line, in order).
# registry_blob DIGEST the path of a blob in the registry's storage.
# Needs docker-registry, openssl, python3, curl; buildah and
# busybox-static for registry_busybox; htpasswd for auth (make test-deps).

REGISTRY_PID=

registry_start() {
	_rd=$1
	_auth=${2:-}
	if command -v need >/dev/null 2>&1; then
		need docker-registry openssl python3 curl
		[ -z "$_auth" ] || need htpasswd
	fi
	mkdir -p "$_rd/data" "$_rd/certs" "$_rd/home" || return 1
	REGISTRY_DIR=$_rd
	REGISTRY_DATA=$_rd/data
	REGISTRY_LOG=$_rd/registry.log
	REGISTRY_CA=$_rd/certs/ca.crt
	REGISTRY_HOME=$_rd/home
	_c=$_rd/certs
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj /CN=sbx-test-ca -keyout "$_c/ca.key" \
		-out "$_c/ca.crt" 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
			-keyout "$_c/srv.key" -out "$_c/srv.csr" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1\n' >"$_c/ext" &&
		openssl x509 -req -in "$_c/srv.csr" -CA "$_c/ca.crt" \
			-CAkey "$_c/ca.key" -CAcreateserial -days 2 \
			-extfile "$_c/ext" -out "$_c/srv.crt" 2>/dev/null ||
		return 1
	# A free port: the kernel's choice, asked through python3.
	_port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
		return 1
	REGISTRY=127.0.0.1:$_port
	cat >"$_rd/config.yml" <<EOC
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
    certificate: $_c/srv.crt
    key: $_c/srv.key
EOC
	if [ -n "$_auth" ]; then
		htpasswd -Bbc "$_rd/htpasswd" sbx "sbx-test-pw" 2>/dev/null ||
			return 1
		cat >>"$_rd/config.yml" <<EOC
auth:
  htpasswd:
    realm: sbx-test
    path: $_rd/htpasswd
EOC
		REGISTRY_AUTH=$_rd/auth.json
		printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" \
			"$(printf sbx:sbx-test-pw | base64)" >"$REGISTRY_AUTH"
		REGISTRY_AUTH_FILE=$REGISTRY_AUTH
		SSL_CERT_FILE=$REGISTRY_CA
		export REGISTRY_AUTH_FILE SSL_CERT_FILE
	fi
	mkdir -p "$REGISTRY_HOME/.config/containers/certs.d/$REGISTRY" &&
		cp "$REGISTRY_CA" \
			"$REGISTRY_HOME/.config/containers/certs.d/$REGISTRY/ca.crt" ||
		return 1
	# distribution reads REGISTRY_* variables as configuration: keep
	# skopeo's REGISTRY_AUTH_FILE from it.
	env -u REGISTRY_AUTH_FILE docker-registry serve "$_rd/config.yml" \
		>"$REGISTRY_LOG" 2>&1 &
	REGISTRY_PID=$!
	_i=0
	while ! curl -s --cacert "$REGISTRY_CA" -o /dev/null \
		"https://$REGISTRY/v2/"; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
			cat "$REGISTRY_LOG" >&2
			echo "registry: it did not start" >&2
			return 1
		fi
		sleep 0.1
	done
}

registry_stop() {
	[ -n "${REGISTRY_PID:-}" ] || return 0
	kill "$REGISTRY_PID" 2>/dev/null || true
	wait "$REGISTRY_PID" 2>/dev/null || true
	REGISTRY_PID=
	return 0
}

registry_busybox() {
	_ref=$1
	shift
	_st=$REGISTRY_DIR/buildah
	_b="buildah --root $_st/storage --runroot $_st/run --storage-driver vfs"
	_ct=$(HOME=$REGISTRY_HOME $_b from scratch) || return 1
	_m=$(HOME=$REGISTRY_HOME $_b mount "$_ct") || return 1
	mkdir -p "$_m/bin" "$_m/etc" && cp /bin/busybox "$_m/bin/busybox" &&
		ln -sf busybox "$_m/bin/sh" || return 1
	for _f in "$@"; do
		mkdir -p "$_m/$(dirname "${_f%%=*}")" &&
			printf '%s\n' "${_f#*=}" >"$_m/${_f%%=*}" || return 1
	done
	HOME=$REGISTRY_HOME $_b config --cmd '["/bin/sh"]' "$_ct" &&
		HOME=$REGISTRY_HOME $_b commit -q "$_ct" "$_ref" >/dev/null &&
		HOME=$REGISTRY_HOME $_b rm "$_ct" >/dev/null &&
		HOME=$REGISTRY_HOME $_b push -q "$_ref" "docker://$_ref"
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
	_h=${1#sha256:}
	printf '%s\n' "$REGISTRY_DATA/docker/registry/v2/blobs/sha256/$(printf %s "$_h" | cut -c1-2)/$_h/data"
}
