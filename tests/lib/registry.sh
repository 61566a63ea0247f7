#!/bin/sh
# A real OCI registry for the tests (sourced): Debian's docker-registry on
# 127.0.0.1, TLS with a CA made at test time by openssl, and images the
# test makes itself with buildah (from scratch + busybox), never pulled.
#
# registry_start DIR    starts it with its state under DIR; sets
#                       REGISTRY (127.0.0.1:PORT), REGISTRY_PID,
#                       REGISTRY_CA (the CA certificate), and
#                       REGISTRY_HOME, a HOME whose
#                       .config/containers/certs.d trusts the CA (skopeo,
#                       buildah and podman read it: run them with
#                       HOME=$REGISTRY_HOME).  Fails when it does not
#                       answer within 10 s.
# registry_stop         stops it (the data stays under DIR).
# registry_busybox REF [FILE=TEXT...]
#                       pushes REF (a name on $REGISTRY): a busybox image
#                       with /bin/sh, plus each FILE holding TEXT.
# Needs docker-registry, openssl, buildah, curl, busybox-static
# (make test-deps).

registry_start() {
	_rd=$1
	mkdir -p "$_rd/data" "$_rd/home" || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-subj /CN=sbx-test-ca -keyout "$_rd/ca.key" \
		-out "$_rd/ca.crt" 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
			-keyout "$_rd/srv.key" -out "$_rd/srv.csr" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1\n' >"$_rd/ext" &&
		openssl x509 -req -in "$_rd/srv.csr" -CA "$_rd/ca.crt" \
			-CAkey "$_rd/ca.key" -CAcreateserial -days 2 \
			-extfile "$_rd/ext" -out "$_rd/srv.crt" 2>/dev/null ||
		return 1
	# A free port: the kernel's choice, asked through python3.
	_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') ||
		return 1
	REGISTRY=127.0.0.1:$_port
	cat >"$_rd/config.yml" <<EOC
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $_rd/data
http:
  addr: $REGISTRY
  tls:
    certificate: $_rd/srv.crt
    key: $_rd/srv.key
EOC
	docker-registry serve "$_rd/config.yml" >"$_rd/registry.log" 2>&1 &
	REGISTRY_PID=$!
	REGISTRY_CA=$_rd/ca.crt
	REGISTRY_HOME=$_rd/home
	mkdir -p "$REGISTRY_HOME/.config/containers/certs.d/$REGISTRY" &&
		cp "$_rd/ca.crt" \
			"$REGISTRY_HOME/.config/containers/certs.d/$REGISTRY/ca.crt" ||
		return 1
	_i=0
	while ! curl -sf --cacert "$REGISTRY_CA" "https://$REGISTRY/v2/" \
		>/dev/null 2>&1; do
		_i=$((_i + 1))
		if [ "$_i" -gt 100 ] || ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
			cat "$_rd/registry.log" >&2
			return 1
		fi
		sleep 0.1
	done
	REGISTRY_DIR=$_rd
}

registry_stop() {
	[ -n "${REGISTRY_PID:-}" ] || return 0
	kill "$REGISTRY_PID" 2>/dev/null
	wait "$REGISTRY_PID" 2>/dev/null
	REGISTRY_PID=
}

registry_busybox() {
	_ref=$1
	shift
	_st=$REGISTRY_DIR/buildah
	_b="buildah --root $_st/storage --runroot $_st/run --storage-driver vfs"
	_c=$(HOME=$REGISTRY_HOME $_b from scratch) || return 1
	_m=$(HOME=$REGISTRY_HOME $_b mount "$_c") || return 1
	mkdir -p "$_m/bin" "$_m/etc" && cp /bin/busybox "$_m/bin/busybox" &&
		ln -sf busybox "$_m/bin/sh" || return 1
	for _f in "$@"; do
		mkdir -p "$_m/$(dirname "${_f%%=*}")" &&
			printf '%s\n' "${_f#*=}" >"$_m/${_f%%=*}" || return 1
	done
	HOME=$REGISTRY_HOME $_b config --cmd '["/bin/sh"]' "$_c" &&
		HOME=$REGISTRY_HOME $_b commit -q "$_c" "$_ref" >/dev/null &&
		HOME=$REGISTRY_HOME $_b rm "$_c" >/dev/null &&
		HOME=$REGISTRY_HOME $_b push -q "$_ref" "docker://$_ref"
}
