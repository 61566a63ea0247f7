/* Validators for the values a recipe gives: pure predicates on strings,
 * no I/O, no diagnostics.  The schema applies them where a value is read;
 * renderers may call them again before writing (defence in depth). */
#ifndef SBX_VALIDATE_H
#define SBX_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

/* Limits on what a recipe may hold (see README, "Recipes"). */
enum {
	VALID_STR_MAX = 4096,	      /* any one-line value */
	VALID_NAME_MAX = 63,	      /* service, network, secret names */
	VALID_VM_NAME_MAX = 32,	      /* VM names (file names) */
	VALID_USER_NAME_MAX = 32,     /* Linux user and group names */
	VALID_HOSTNAME_MAX = 253,     /* RFC 1123 */
	VALID_IFNAME_MAX = 15,	      /* IFNAMSIZ - 1 */
	VALID_UNIT_NAME_MAX = 255,    /* systemd */
	VALID_PATH_MAX = 4095,	      /* PATH_MAX - 1 */
	VALID_IMAGE_REF_MAX = 512,    /* container image references */
	VALID_SSH_KEY_MAX = 16384,    /* one authorized_keys line */
	VALID_PASSWORD_HASH_MAX = 512 /* crypt(3) output */
};

/* No byte below 0x20 and no DEL: nothing that can end a line. */
bool valid_one_line(const char *s);
/* Service, network and secret names: [a-z0-9][a-z0-9_.-]*, at most 63. */
bool valid_name(const char *s);
/* VM names: [a-z0-9][a-z0-9_.-]*, at most 32 (they make file names). */
bool valid_vm_name(const char *s);
/* Linux user and group names: [a-z_][a-z0-9_-]*, at most 32. */
bool valid_account_name(const char *s);
/* An account a recipe may create: valid_account_name and not a system
 * account (root, daemon, nobody, ...). */
bool valid_user_name(const char *s);
bool reserved_user_name(const char *s);
/* RFC 1123 host name: dot-separated labels of letters, digits and '-'
 * (not at either end), 1-63 each, at most 253 in all. */
bool valid_hostname(const char *s);
/* A domain for a proxy allow-list: a host name, or ".example.com" /
 * "*.example.com" for a domain and its subdomains; not an IP address. */
bool valid_domain(const char *s);
/* A no_proxy entry: a domain as above, an IPv4 address or an IPv4
 * CIDR. */
bool valid_no_proxy(const char *s);
/* systemd unit names: NAME.SUFFIX with a known unit type, at most 255
 * characters from [A-Za-z0-9:_.@\-], no '/'. */
bool valid_unit_name(const char *s);
/* Container image references: [REGISTRY/]REPO[:TAG][@sha256:HEX]. */
bool valid_image_ref(const char *s);
/* Absolute guest paths: '/' then components without '.', '..', empty
 * ones or a trailing '/', no control characters. */
bool valid_guest_path(const char *s);
/* Paths under the project: relative, no '..' component, no control
 * characters, no empty components. */
bool valid_project_path(const char *s);
/* Environment variable names: [A-Za-z_][A-Za-z0-9_]*. */
bool valid_env_name(const char *s);
/* Environment values: one line, no control characters. */
bool valid_env_value(const char *s);
/* Volumes: SOURCE:DEST[:OPTIONS]; SOURCE an absolute path or a volume
 * name, DEST an absolute path, OPTIONS comma-separated [A-Za-z0-9=]. */
bool valid_volume(const char *s);
/* Published ports: VMPORT:CPORT or ADDRESS:VMPORT:CPORT. */
bool valid_port_spec(const char *s);
/* systemd Restart= values. */
bool valid_restart(const char *s);
/* Network interface names: 1-15 of [A-Za-z0-9_-]. */
bool valid_ifname(const char *s);
/* Distribution package names: [A-Za-z0-9][A-Za-z0-9_+.~:-]*, so never an
 * option. */
bool valid_package_name(const char *s);
/* GUI app names: [A-Za-z0-9][A-Za-z0-9_+.-]*, no shell syntax. */
bool valid_app_name(const char *s);
/* One authorized_keys line: KEYTYPE BASE64 [COMMENT]. */
bool valid_ssh_key(const char *s);
/* A crypt(3) hash: $ID$..., only [A-Za-z0-9./$=,-]. */
bool valid_password_hash(const char *s);
/* http://, https:// or file:// URL without spaces or control chars. */
bool valid_url(const char *s);
/* "A.B.C.D"; "A.B.C.D/N" with N 1-32 and no host bits set. */
bool valid_ipv4(const char *s);
bool valid_subnet(const char *s);
/* Whether addr (IPv4) lies inside subnet (CIDR). */
bool ipv4_in_subnet(const char *addr, const char *subnet);

#endif
