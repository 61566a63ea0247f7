/* Validators for recipe values: pure predicates, no I/O. */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "validate.h"

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return is_lower(c) || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/* s is not empty, at most max long, and every byte is in set. */
static bool
all_in(const char *s, const char *set, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, set) == n;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"

bool
valid_one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

bool
valid_name(const char *s)
{
	return all_in(s, LOWER DIGIT "_.-", VALID_NAME_MAX) &&
	       (is_lower(*s) || is_digit(*s));
}

bool
valid_vm_name(const char *s)
{
	return valid_name(s) && strlen(s) <= VALID_VM_NAME_MAX;
}

bool
valid_account_name(const char *s)
{
	return all_in(s, LOWER DIGIT "_-", VALID_USER_NAME_MAX) &&
	       (is_lower(*s) || *s == '_');
}

bool
reserved_user_name(const char *s)
{
	static const char *const reserved[] = {"root",
					       "bin",
					       "daemon",
					       "adm",
					       "lp",
					       "sync",
					       "shutdown",
					       "halt",
					       "mail",
					       "operator",
					       "games",
					       "ftp",
					       "nobody",
					       "sys",
					       "man",
					       "news",
					       "uucp",
					       "proxy",
					       "www-data",
					       "backup",
					       "list",
					       "irc",
					       "gnats",
					       "sshd",
					       "messagebus",
					       "polkitd",
					       "tss",
					       "dbus",
					       "_apt",
					       "nogroup",
					       "systemd-network",
					       "systemd-resolve",
					       "systemd-timesync"};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (strcmp(s, reserved[i]) == 0)
			return true;
	return strncmp(s, "systemd-", 8) == 0;
}

bool
valid_user_name(const char *s)
{
	return valid_account_name(s) && !reserved_user_name(s);
}

/* Dot-separated labels of [A-Za-z0-9-], 1-63 each, '-' not at either end;
 * trailing: a label may also hold '_' (never in a host name). */
static bool
valid_labels(const char *s, bool allow_numeric_only)
{
	size_t len = strlen(s), n = 0;
	bool alpha = false;

	if (len == 0 || len > VALID_HOSTNAME_MAX)
		return false;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (n == 0 || n > 63 || p[-1] == '-' || *(p - n) == '-')
				return false;
			if (*p == '\0')
				break;
			n = 0;
			continue;
		}
		if (!is_alnum(*p) && *p != '-')
			return false;
		alpha |= !is_digit(*p);
		n++;
	}
	return allow_numeric_only || alpha;
}

bool
valid_hostname(const char *s)
{
	return valid_labels(s, false);
}

bool
valid_domain(const char *s)
{
	struct in_addr a;

	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	else if (*s == '.')
		s++;
	return valid_labels(s, false) && inet_pton(AF_INET, s, &a) != 1;
}

bool
valid_no_proxy(const char *s)
{
	return valid_domain(s) || valid_ipv4(s) || valid_subnet(s);
}

bool
valid_unit_name(const char *s)
{
	static const char *const types[] = {".service",	  ".socket", ".timer",
					    ".target",	  ".path",   ".mount",
					    ".automount", ".swap",   ".slice",
					    ".scope",	  ".device"};
	const char *dot = strrchr(s, '.'), *at = strchr(s, '@');

	if (!all_in(s, LOWER UPPER DIGIT ":_.@\\-", VALID_UNIT_NAME_MAX) ||
	    dot == NULL || dot == s || *s == '@' || *s == '.')
		return false;
	if (at != NULL && (strchr(at + 1, '@') != NULL || at > dot))
		return false;
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (strcmp(dot, types[i]) == 0)
			return true;
	return false;
}

bool
valid_image_ref(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = at ? (size_t)(at - s) : strlen(s);

	if (strlen(s) > VALID_IMAGE_REF_MAX || n == 0 || !is_alnum(*s))
		return false;
	if (strspn(s, LOWER UPPER DIGIT "._/:-") != n)
		return false;
	if (strstr(s, "//") != NULL || s[n - 1] == '/' || s[n - 1] == ':')
		return false;
	if (at != NULL)
		return strncmp(at, "@sha256:", 8) == 0 &&
		       strlen(at + 8) == 64 &&
		       strspn(at + 8, DIGIT "abcdef") == 64;
	return true;
}

/* Components separated by single '/', none '.' or '..'. */
static bool
valid_components(const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
		if (*s == '/') {
			s++;
			if (*s == '\0')
				return false; /* trailing '/' */
		}
	}
	return true;
}

bool
valid_guest_path(const char *s)
{
	return s[0] == '/' && s[1] != '\0' && strlen(s) <= VALID_PATH_MAX &&
	       valid_one_line(s) && valid_components(s + 1);
}

bool
valid_project_path(const char *s)
{
	return s[0] != '/' && s[0] != '\0' && strlen(s) <= VALID_PATH_MAX &&
	       valid_one_line(s) && valid_components(s);
}

bool
valid_env_name(const char *s)
{
	return all_in(s, LOWER UPPER DIGIT "_", 255) && !is_digit(*s);
}

bool
valid_env_value(const char *s)
{
	return strlen(s) <= VALID_STR_MAX && valid_one_line(s);
}

bool
valid_volume(const char *s)
{
	const char *c1 = strchr(s, ':'), *c2;
	char src[VALID_PATH_MAX + 1], dst[VALID_PATH_MAX + 1];
	size_t n;

	if (c1 == NULL || (size_t)(c1 - s) > VALID_PATH_MAX)
		return false;
	memcpy(src, s, (size_t)(c1 - s));
	src[c1 - s] = '\0';
	c2 = strchr(c1 + 1, ':');
	n = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (n > VALID_PATH_MAX)
		return false;
	memcpy(dst, c1 + 1, n);
	dst[n] = '\0';
	if (!valid_guest_path(src) && !valid_name(src))
		return false;
	if (!valid_guest_path(dst) || strpbrk(dst, " \t") != NULL ||
	    strpbrk(src, " \t") != NULL)
		return false;
	return c2 == NULL || all_in(c2 + 1, LOWER UPPER DIGIT ",=", 64);
}

static bool
valid_port(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5 || *s == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

bool
valid_port_spec(const char *s)
{
	const char *c1 = strrchr(s, ':'), *c0;
	char addr[16];

	if (c1 == NULL || !valid_port(c1 + 1, strlen(c1 + 1)))
		return false;
	c0 = c1 - 1;
	while (c0 >= s && *c0 != ':')
		c0--;
	if (!valid_port(c0 + 1, (size_t)(c1 - c0 - 1)))
		return false;
	if (c0 < s)
		return true;
	if ((size_t)(c0 - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(c0 - s));
	addr[c0 - s] = '\0';
	return valid_ipv4(addr);
}

bool
valid_restart(const char *s)
{
	static const char *const values[] = {
		"no",	       "always",      "on-success", "on-failure",
		"on-abnormal", "on-watchdog", "on-abort"};

	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++)
		if (strcmp(s, values[i]) == 0)
			return true;
	return false;
}

bool
valid_ifname(const char *s)
{
	return all_in(s, LOWER UPPER DIGIT "_-", VALID_IFNAME_MAX);
}

bool
valid_package_name(const char *s)
{
	return all_in(s, LOWER UPPER DIGIT "_+.~:-", 255) && is_alnum(*s);
}

bool
valid_app_name(const char *s)
{
	return all_in(s, LOWER UPPER DIGIT "_+.-", 255) && is_alnum(*s);
}

bool
valid_ssh_key(const char *s)
{
	static const char *const types[] = {
		"ssh-ed25519 ",
		"ssh-rsa ",
		"ecdsa-sha2-nistp256 ",
		"ecdsa-sha2-nistp384 ",
		"ecdsa-sha2-nistp521 ",
		"sk-ssh-ed25519@openssh.com ",
		"sk-ecdsa-sha2-nistp256@openssh.com "};
	size_t n;

	if (strlen(s) > VALID_SSH_KEY_MAX || !valid_one_line(s))
		return false;
	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
		if (strncmp(s, types[i], strlen(types[i])) != 0)
			continue;
		s += strlen(types[i]);
		n = strspn(s, LOWER UPPER DIGIT "+/=");
		return n >= 4 && (s[n] == '\0' || s[n] == ' ');
	}
	return false;
}

bool
valid_password_hash(const char *s)
{
	return s[0] == '$' && strchr(s + 1, '$') != NULL &&
	       all_in(s, LOWER UPPER DIGIT "./$=,-", VALID_PASSWORD_HASH_MAX);
}

bool
valid_url(const char *s)
{
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0 &&
	    strncmp(s, "file://", 7) != 0)
		return false;
	return strlen(s) <= VALID_STR_MAX && valid_one_line(s) &&
	       strpbrk(s, " \"'<>\\`") == NULL;
}

bool
valid_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static bool
split_subnet(const char *s, uint32_t *ret_addr, unsigned *ret_prefix)
{
	const char *slash = strchr(s, '/');
	char addr[16];
	struct in_addr a;
	unsigned p = 0;
	size_t n;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	n = strlen(slash + 1);
	if (inet_pton(AF_INET, addr, &a) != 1 || n == 0 || n > 2 ||
	    strspn(slash + 1, DIGIT) != n || slash[1] == '0')
		return false;
	for (const char *d = slash + 1; *d; d++)
		p = p * 10 + (unsigned)(*d - '0');
	if (p < 1 || p > 32)
		return false;
	*ret_addr = ntohl(a.s_addr);
	*ret_prefix = p;
	return true;
}

static uint32_t
prefix_mask(unsigned p)
{
	return p == 0 ? 0 : ~0u << (32 - p);
}

bool
valid_subnet(const char *s)
{
	uint32_t a;
	unsigned p;

	return split_subnet(s, &a, &p) && (a & ~prefix_mask(p)) == 0;
}

bool
ipv4_in_subnet(const char *addr, const char *subnet)
{
	struct in_addr x;
	uint32_t a;
	unsigned p;

	if (inet_pton(AF_INET, addr, &x) != 1 || !split_subnet(subnet, &a, &p))
		return false;
	return ((ntohl(x.s_addr) ^ a) & prefix_mask(p)) == 0;
}
