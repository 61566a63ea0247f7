#!/bin/sh
# Shared by the slow suites (sourced): where their stand-in images are
# cached, and which Debian mirror builds them.
#
# test_cache NAME FILE...   prints the cache directory for NAME, keyed by
#                           the contents of FILE... (the scripts that build
#                           what is cached), and removes NAME's directories
#                           for other keys: a changed builder never reuses
#                           a stale image.  Under $SBX_TEST_CACHE, default
#                           ${XDG_CACHE_HOME:-~/.cache}/sbx-build-tests,
#                           outside the clone, so that a fresh clone (CI)
#                           reuses what an earlier run built.
# debian_mirror             prints the Debian archive this machine's apt
#                           uses (SBX_TEST_MIRROR overrides), for
#                           debootstrap; fails when apt names none.

test_cache() {
	name=$1
	shift
	root=${SBX_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sbx-build-tests}
	key=$(cat "$@" | sha256sum | cut -c1-12) || return 1
	dir=$root/$name-$key
	for old in "$root/$name"-*; do
		[ -d "$old" ] && [ "$old" != "$dir" ] && rm -rf "$old"
	done
	mkdir -p "$dir" || return 1
	printf '%s\n' "$dir"
}

debian_mirror() {
	if [ -n "${SBX_TEST_MIRROR:-}" ]; then
		printf '%s\n' "$SBX_TEST_MIRROR"
		return 0
	fi
	# apt-cache policy lists each source as " PRIO URI SUITE/COMP ..."
	# followed by its release line; the main archive is the one labelled
	# l=Debian (not Debian-Security) with a plain suite name.
	m=$(LC_ALL=C apt-cache policy 2>/dev/null | awk '
		$1 ~ /^[0-9]+$/ && $2 ~ /^(https?|file):/ { uri = $2; next }
		/^ *release / && uri != "" {
			if ($0 ~ /o=Debian,/ && $0 ~ /l=Debian,/ &&
			    $0 !~ /n=[a-z]+-/) { print uri; exit }
			uri = ""
		}')
	if [ -z "$m" ]; then
		echo "no Debian archive in this machine's apt sources" \
			"(apt-get update, or set SBX_TEST_MIRROR)" >&2
		return 1
	fi
	printf '%s\n' "$m"
}
