/* Escaping and refusing, per output format.  Pure.  Every renderer runs
 * the values it writes through these, whether or not the recipe loader
 * validated them: a value that cannot be written inertly is refused, one
 * that can is quoted so it reads back as exactly itself. */
#ifndef SBX_ESCAPE_H
#define SBX_ESCAPE_H

#include <stdbool.h>

struct strbuf;

/* A byte below 0x20, or DEL. */
bool esc_has_ctl(const char *s);
/* Only ASCII letters, digits and bytes of extra; not empty. */
bool esc_charset_ok(const char *s, const char *extra);

/* A name that becomes one guest file name (a service, network, NIC or
 * user): 1-64 bytes of [A-Za-z0-9._@+-], not starting with '-' or '.'. */
bool esc_filename_ok(const char *s);
/* A user or group name: [A-Za-z_][A-Za-z0-9_.-]* with an optional
 * trailing '$', at most 32 bytes. */
bool esc_username_ok(const char *s);
/* A host name: dot-separated labels of 1-63 [A-Za-z0-9-], not starting
 * or ending with '-', at most 253 bytes. */
bool esc_hostname_ok(const char *s);
/* An absolute guest path: no empty, "." or ".." component, no trailing
 * '/', no control byte, at most 4095 bytes. */
bool esc_guest_path_ok(const char *s);
/* An environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool esc_env_name_ok(const char *s);

/* Dotted-quad IPv4 address, parsed and written back from its numbers
 * (never copied), into out (ESC_IPV4_MAX bytes). */
#define ESC_IPV4_MAX 16
bool esc_ipv4(const char *s, char *out);
/* "A.B.C.D/P", the same way (ESC_CIDR_MAX bytes). */
#define ESC_CIDR_MAX 19
bool esc_cidr(const char *s, char *out);
/* "xx:xx:xx:xx:xx:xx", lower-case hex, the same way (ESC_MAC_MAX). */
#define ESC_MAC_MAX 18
bool esc_mac(const char *s, char *out);

/* One assignment of a unit file's Environment= (systemd.syntax(7)):
 * "Environment=KEY=VALUE\n", the assignment double-quoted when VALUE
 * holds a space, quote, backslash or control byte; inside the quotes '"'
 * and '\' are escaped and control bytes become C escapes (\n, \t,
 * \xNN); '%' is doubled (a specifier otherwise).  KEY must pass
 * esc_env_name_ok. */
void esc_unit_env(struct strbuf *sb, const char *key, const char *value);
/* S as one single-quoted POSIX shell word ('\'' for each quote). */
void esc_sh_quote(struct strbuf *sb, const char *s);
/* S inside a double-quoted POSIX shell word: '$', '`', '"' and '\'
 * backslash-escaped, the rest as is. */
void esc_sh_dquoted(struct strbuf *sb, const char *s);
/* S as a YAML scalar: plain when it is [A-Za-z0-9._/-], does not start
 * with '-', '.' or a digit and is no YAML 1.1 boolean or null, else
 * double-quoted with '"', '\' and control bytes escaped. */
void esc_yaml(struct strbuf *sb, const char *s);
/* S as XML character data or an attribute value: & < > " ' as entities.
 * Control bytes are not XML: callers refuse them (esc_has_ctl). */
void esc_xml(struct strbuf *sb, const char *s);
/* A copy of S fit for a message: control bytes, '\' and non-ASCII as
 * C escapes. */
char *esc_show(const char *s);

#endif
