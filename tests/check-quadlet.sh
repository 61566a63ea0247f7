#!/bin/sh
# The rendered Quadlet files (.network, .image, .container) through
# podman's quadlet generator in dry-run mode, where podman has one.
# Debian 12's podman 4.3 has none (Quadlet needs podman >= 4.4, .image
# units >= 4.8), so here this check is skipped.
set -u
SKIP_NAME=check-quadlet
. tests/lib/skip.sh
fail() { echo "check-quadlet: FAIL: $*" >&2; exit 1; }

q=/usr/libexec/podman/quadlet
[ -x "$q" ] || cannot "$q is missing (podman >= 4.4; .image units need >= 4.8)"
[ -x ./sbx-build ] || fail "run from the top of the tree after make"
work=$(mktemp -d /tmp/sbx-quadlet-XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
./sbx-build render proxy "$work/proxy" || fail "sbx-build render proxy"
out=$(QUADLET_UNIT_DIRS="$work/proxy/etc/containers/systemd" \
	"$q" -dryrun 2>&1) || {
	printf '%s\n' "$out" >&2
	fail "quadlet -dryrun rejects the proxy VM's Quadlet files"
}
for u in tinyproxy-http tinyproxy-ssh pihole sbx-network sbx-tinyproxy-image \
	pihole-image; do
	printf '%s\n' "$out" | grep -q "^---$u.service---" ||
		fail "quadlet made no $u.service"
done
echo "ok - quadlet -dryrun"
