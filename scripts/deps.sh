#!/bin/sh
# Installs what sbx-build needs, on Debian/Ubuntu (apt-get) or Fedora (dnf).
#
#   scripts/deps.sh          build and run sbx-build (make deps, make images)
#   scripts/deps.sh --test   what the test suites need on top (make test-deps)
#
# Idempotent: it says what it installs and installs only what is missing.
# The test set brings daemons the tests start themselves (tinyproxy); a
# package that arrives with a system service enabled is stopped and
# disabled again, so that nothing listens on the machine because of it.
set -eu

# Building sbx-build and running it: the libraries, QEMU (run scripts,
# qemu-img), xorriso (seed), gpgv (fetch), ssh-keygen (pack), skopeo
# (the services' container images, push, pull) and buildah (building
# them).  libguestfs
# boots the host's kernel: a machine with none (a container) gets one.
DEBIAN_PKGS="
build-essential pkg-config make
libguestfs-dev libyaml-dev libcurl4-openssl-dev libarchive-dev libssl-dev
libcrypt-dev
qemu-utils qemu-system-x86 xorriso gpgv openssh-client skopeo buildah
"
FEDORA_PKGS="
gcc make pkgconf-pkg-config
libguestfs-devel libyaml-devel libcurl-devel libarchive-devel openssl-devel
libxcrypt-devel
qemu-img qemu-system-x86 xorriso gnupg2 openssh-clients skopeo buildah
"
DEBIAN_KERNEL=linux-image-amd64
FEDORA_KERNEL=kernel-core

# The tests: cmocka, the real readers of generated files (tinyproxy, nft,
# ShellCheck, virt-xml-validate), keys made at test time (gpg, openssl),
# fixture images (debootstrap, guestfish, syslinux, mtools, dosfstools,
# cpio), the bench's virt-customize, the end-to-end test's servers, a
# container registry with TLS and basic auth (docker-registry, htpasswd)
# serving busybox images made at test time, sshd and rsync for the
# run scripts' SSH channel (test-runscript), and bash-completion
# (check-cli runs the generated completion).
DEBIAN_TEST_PKGS="
libcmocka-dev gnupg zstd curl python3 openssl iproute2 util-linux bc podman
tinyproxy nftables shellcheck libvirt-clients libxml2-utils
openssh-server rsync
debootstrap libguestfs-tools guestfs-tools syslinux mtools dosfstools cpio
docker-registry busybox-static apache2-utils bash-completion
"
FEDORA_TEST_PKGS="
libcmocka-devel gnupg2 zstd curl python3 openssl iproute util-linux bc podman
tinyproxy nftables ShellCheck libvirt-client libxml2 openssh-server rsync
debootstrap guestfs-tools syslinux mtools dosfstools cpio glibc-static
docker-distribution busybox httpd-tools bash-completion
"
# Packages whose installation enables services the tests must not leave
# running (PACKAGE:UNIT,UNIT...): the tests start their own tinyproxy, and
# use podman only as a command.
SERVICES="tinyproxy:tinyproxy
openssh-server:ssh.service,ssh.socket,sshd.service
podman:podman.socket,podman.service,podman-restart.service,podman-auto-update.timer
docker-registry:docker-registry
docker-distribution:docker-distribution"

test=0
case ${1:-} in
--test) test=1 ;;
"") ;;
*)
	echo "usage: scripts/deps.sh [--test]" >&2
	exit 2
	;;
esac

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi

# No kernel image in /boot: libguestfs (and the image tests) cannot boot.
need_kernel() {
	for k in /boot/vmlinuz-*; do
		[ -e "$k" ] && return 1
	done
	return 0
}

# Stops and disables SERVICE, which the package just installed (and may
# have enabled and started): on systemd hosts and on sysvinit ones alike.
quiet_service() {
	s=$1
	if command -v systemctl >/dev/null 2>&1 &&
		systemctl is-enabled --quiet "$s" 2>/dev/null; then
		echo "deps: disabling the system service '$s' (the tests run their own)"
		$SUDO systemctl disable --quiet "$s" 2>/dev/null || :
	fi
	if [ -d /run/systemd/system ]; then
		$SUDO systemctl stop "$s" 2>/dev/null || :
	elif [ -x "/etc/init.d/${s%.service}" ]; then
		# No systemd: the package's init script may have started it.
		$SUDO "/etc/init.d/${s%.service}" stop >/dev/null 2>&1 || :
	fi
}

if [ -r /etc/os-release ]; then
	. /etc/os-release
fi
case " ${ID:-} ${ID_LIKE:-} " in
*" debian "* | *" ubuntu "*)
	want=$DEBIAN_PKGS
	[ $test = 1 ] && want=$DEBIAN_TEST_PKGS
	need_kernel && want="$want $DEBIAN_KERNEL"
	missing=
	for p in $want; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		echo "deps: all Debian packages already installed"
		exit 0
	fi
	echo "deps: installing:$missing"
	$SUDO apt-get update -q
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends $missing
	;;
*" fedora "* | *" rhel "*)
	want=$FEDORA_PKGS
	[ $test = 1 ] && want=$FEDORA_TEST_PKGS
	need_kernel && want="$want $FEDORA_KERNEL"
	missing=
	for p in $want; do
		rpm -q "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -z "$missing" ]; then
		echo "deps: all Fedora packages already installed"
		exit 0
	fi
	echo "deps: installing:$missing"
	# shellcheck disable=SC2086
	$SUDO dnf install -y $missing
	;;
*)
	echo "deps: unsupported distribution '${ID:-unknown}'; install by hand:" >&2
	if [ $test = 1 ]; then
		echo "$DEBIAN_TEST_PKGS" >&2
	else
		echo "$DEBIAN_PKGS" >&2
	fi
	exit 1
	;;
esac

for p in $missing; do
	for ps in $SERVICES; do
		[ "$p" = "${ps%%:*}" ] || continue
		for s in $(echo "${ps#*:}" | tr , ' '); do
			quiet_service "$s"
		done
	done
done
exit 0
