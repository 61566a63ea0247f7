#!/bin/sh
# Installs every build, test and runtime dependency of sbx-build, on
# Debian/Ubuntu (apt-get) or Fedora (dnf).  Idempotent: it says what it
# installs and installs only what is missing.
set -eu

DEBIAN_PKGS="
build-essential pkg-config make
libguestfs-dev libyaml-dev libcurl4-openssl-dev libarchive-dev libssl-dev
libcrypt-dev libcmocka-dev
libguestfs-tools guestfs-tools linux-image-amd64
qemu-utils qemu-system-x86 xorriso gpgv gnupg openssh-client zstd
tinyproxy nftables shellcheck curl debootstrap libvirt-clients python3
libxml2-utils syslinux mtools dosfstools cpio openssl iproute2
"
FEDORA_PKGS="
gcc make pkgconf-pkg-config
libguestfs-devel libyaml-devel libcurl-devel libarchive-devel openssl-devel
libxcrypt-devel libcmocka-devel
guestfs-tools qemu-img qemu-system-x86 xorriso gnupg2 openssh-clients zstd
tinyproxy nftables ShellCheck curl debootstrap libvirt-client python3
libxml2 syslinux mtools dosfstools cpio glibc-static openssl iproute
"

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi

if [ -r /etc/os-release ]; then
	. /etc/os-release
fi
case " ${ID:-} ${ID_LIKE:-} " in
*" debian "* | *" ubuntu "*)
	missing=
	for p in $DEBIAN_PKGS; do
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
	missing=
	for p in $FEDORA_PKGS; do
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
	echo "$DEBIAN_PKGS" >&2
	exit 1
	;;
esac
