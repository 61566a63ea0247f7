#include <string.h>

#include "distro.h"
#include "util.h"

static const char *const apt_install[] = {
	"env",	   "DEBIAN_FRONTEND=noninteractive",
	"apt-get", "-q",
	"-y",	   "--no-install-recommends",
	"-o",	   "APT::Keep-Downloaded-Packages=true",
	"install", NULL,
};
static const char *const apt_update[] = {"apt-get", "-q", "update", NULL};
static const char *const apt_clean[] = {"apt-get", "clean", NULL};
static const char *const apt_cache[] = {"/var/cache/apt/archives",
					"/var/lib/apt/lists", NULL};
static const char *const apt_pins[] = {"/var/cache/apt/archives", NULL};

static const char *const dnf_install[] = {
	"dnf",
	"-y",
	"--setopt=keepcache=1",
	"--setopt=install_weak_deps=False",
	"install",
	NULL,
};
static const char *const dnf_clean[] = {"dnf", "clean", "packages", NULL};
static const char *const dnf_cache[] = {"/var/cache/libdnf5", "/var/cache/dnf",
					NULL};

/* Indexed by enum distro. */
static const struct distro_info table[] = {
	[DISTRO_FEDORA] =
		{
			.id = DISTRO_FEDORA,
			.name = "fedora",
			.pkg_mgr = "dnf",
			.tool = "dnf",
			.install = dnf_install,
			.install_offline = "--cacheonly",
			.clean = dnf_clean,
			.cache_dirs = dnf_cache,
			.pin_dirs = dnf_cache,
			/* dnf5 and PackageKit's libdnf read drop-ins after
			 * dnf.conf, which stays untouched. */
			.pkg_proxy_conf =
				"/etc/dnf/libdnf5.conf.d/50-sbx-proxy.conf",
			.pkg_proxy_syntax = DISTRO_PROXY_DNF,
			.nftables_conf = "/etc/sysconfig/nftables.conf",
			.openbsd_netcat = "/usr/bin/netcat",
			.openbsd_netcat_pkg = "netcat",
			.signed_checksums = 1,
			.releases_json = 1,
		},
	[DISTRO_DEBIAN] =
		{
			.id = DISTRO_DEBIAN,
			.name = "debian",
			.pkg_mgr = "apt",
			.tool = "apt-get",
			.install = apt_install,
			.install_offline = "--no-download",
			.update = apt_update,
			.clean = apt_clean,
			.no_start_policy = 1,
			.cache_dirs = apt_cache,
			.pin_dirs = apt_pins,
			.pkg_proxy_conf = "/etc/apt/apt.conf.d/90sbx-proxy",
			.pkg_proxy_syntax = DISTRO_PROXY_APT,
			.nftables_conf = "/etc/nftables.conf",
			.openbsd_netcat = "/bin/nc.openbsd",
			.openbsd_netcat_pkg = "netcat-openbsd",
			.version_file = "/etc/debian_version",
		},
};

/* Same order as enum distro: recipe-schema.c stores the index. */
const char *const distro_names[] = {"fedora", "debian", NULL};

const struct distro_info *
distro_get(enum distro id)
{
	if ((unsigned)id >= ARRAY_SIZE(table) || table[id].name == NULL)
		return NULL;
	return &table[id];
}

const struct distro_info *
distro_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].name != NULL && strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}
