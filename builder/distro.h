/* What differs between the distributions a base may hold, in one table:
 * adding one (Ubuntu, CentOS Stream) is one entry in distro.c, its name in
 * recipe.h's enum, and tests.  An unknown distribution is an error where
 * it is looked up, never a silent default.  Pure: no I/O. */
#ifndef SBX_DISTRO_H
#define SBX_DISTRO_H

#include <stddef.h>

#include "recipe.h"

struct distro_info {
	enum distro id;
	const char *name;    /* as in recipes and libguestfs inspection */
	const char *pkg_mgr; /* libguestfs's name of its package manager */
	const char *tool;    /* its command, named in error messages */
	/* Package manager argv, up to the package names: install (and the
	 * option that keeps it off the network, inserted before the last
	 * word), the index update an online install needs first (NULL:
	 * none), the removal of downloaded package files afterwards. */
	const char *const *install;
	const char *install_offline;
	const char *const *update;
	const char *const *clean;
	/* A policy-rc.d that keeps services from starting during install. */
	int no_start_policy;
	/* Guest directories of the package cache and metadata, kept under
	 * CACHE/packages/NAME/ on the host; the subset holding package files
	 * that become pins. */
	const char *const *cache_dirs;
	const char *const *pin_dirs;
	/* Where packages are told about the HTTP proxy, and its syntax. */
	const char *pkg_proxy_conf;
	enum { DISTRO_PROXY_APT, DISTRO_PROXY_DNF } pkg_proxy_syntax;
	/* The file nftables.service loads at boot. */
	const char *nftables_conf;
	/* OpenBSD netcat by its own path, and the package that brings it:
	 * only it knows 'nc -X connect' (on Fedora 'nc' is an alternatives
	 * link that nmap-ncat, without -X, provides as well). */
	const char *openbsd_netcat;
	const char *openbsd_netcat_pkg;
	/* Where its point release is when os-release names only the major
	 * one, as libguestfs's inspection reads it (inspquick.h); NULL: none.
	 */
	const char *version_file;
	/* Its checksum files are OpenPGP-signed: a base needs a key. */
	int signed_checksums;
	/* fedoraproject.org/releases.json names its releases (lock
	 * --release, --update). */
	int releases_json;
};

/* The entry of id, or NULL when there is none (a caller reports it). */
const struct distro_info *distro_get(enum distro id);
/* The entry named name ("fedora"), or NULL. */
const struct distro_info *distro_find(const char *name);
/* The NULL-terminated names, for the recipe schema. */
extern const char *const distro_names[];

#endif
