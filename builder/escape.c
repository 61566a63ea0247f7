/* Escaping and refusing, per output format (see escape.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "util.h"

static bool
is_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

bool
esc_has_ctl(const char *s)
{
	for (; *s; s++)
		if (is_ctl((unsigned char)*s))
			return true;
	return false;
}

static bool
alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

bool
esc_charset_ok(const char *s, const char *extra)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if (!alnum(*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

bool
esc_filename_ok(const char *s)
{
	return esc_charset_ok(s, "._@+-") && strlen(s) <= 64 && s[0] != '-' &&
	       s[0] != '.';
}

bool
esc_username_ok(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 32)
		return false;
	if (!(isalpha((unsigned char)s[0]) && isascii((unsigned char)s[0])) &&
	    s[0] != '_')
		return false;
	if (s[n - 1] == '$')
		n--;
	for (size_t i = 1; i < n; i++)
		if (!alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

bool
esc_hostname_ok(const char *s)
{
	size_t label = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 253)
		return false;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (*p == '\0')
				return true;
			label = 0;
			continue;
		}
		if (!alnum(*p) && !(*p == '-' && label > 0))
			return false;
		label++;
	}
}

bool
esc_guest_path_ok(const char *s)
{
	if (s == NULL || s[0] != '/' || strlen(s) > 4095 || esc_has_ctl(s))
		return false;
	if (strcmp(s, "/") == 0)
		return true;
	for (const char *p = s; *p == '/';) {
		const char *e = strchrnul(p + 1, '/');
		size_t n = (size_t)(e - p - 1);

		if (n == 0 || (n == 1 && p[1] == '.') ||
		    (n == 2 && p[1] == '.' && p[2] == '.'))
			return false;
		p = e;
	}
	return true;
}

bool
esc_env_name_ok(const char *s)
{
	return esc_charset_ok(s, "_") && !(s[0] >= '0' && s[0] <= '9');
}

/* A decimal number of at most 3 digits up to max; *pp moves past it. */
static bool
dec(const char **pp, unsigned max, unsigned *ret)
{
	const char *p = *pp;
	unsigned v = 0;
	size_t n = 0;

	while (*p >= '0' && *p <= '9' && n < 4) {
		v = v * 10 + (unsigned)(*p++ - '0');
		n++;
	}
	if (n == 0 || n > 3 || v > max)
		return false;
	*pp = p;
	*ret = v;
	return true;
}

static bool
ipv4_parse(const char **pp, unsigned a[4])
{
	for (int i = 0; i < 4; i++) {
		if (i > 0 && *(*pp)++ != '.')
			return false;
		if (!dec(pp, 255, &a[i]))
			return false;
	}
	return true;
}

bool
esc_ipv4(const char *s, char *out)
{
	unsigned a[4];

	if (s == NULL || !ipv4_parse(&s, a) || *s != '\0')
		return false;
	snprintf(out, ESC_IPV4_MAX, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	return true;
}

bool
esc_cidr(const char *s, char *out)
{
	unsigned a[4], p;

	if (s == NULL || !ipv4_parse(&s, a) || *s++ != '/' ||
	    !dec(&s, 32, &p) || *s != '\0')
		return false;
	snprintf(out, ESC_CIDR_MAX, "%u.%u.%u.%u/%u", a[0], a[1], a[2], a[3],
		 p);
	return true;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool
esc_mac(const char *s, char *out)
{
	unsigned b[6];

	if (s == NULL || strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		b[i] = (unsigned)(hi << 4 | lo);
	}
	snprintf(out, ESC_MAC_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5]);
	return true;
}

/* A control byte as a C escape, the form systemd's and YAML's double
 * quotes both read. */
static void
c_escape(struct strbuf *sb, unsigned char ch)
{
	switch (ch) {
	case '\n':
		sb_puts(sb, "\\n");
		break;
	case '\t':
		sb_puts(sb, "\\t");
		break;
	case '\r':
		sb_puts(sb, "\\r");
		break;
	default:
		sb_printf(sb, "\\x%02x", ch);
	}
}

void
esc_unit_env(struct strbuf *sb, const char *key, const char *value)
{
	bool quote = strpbrk(value, " \t\"'\\") != NULL || esc_has_ctl(value);

	sb_printf(sb, "Environment=%s%s=", quote ? "\"" : "", key);
	for (const char *v = value; *v; v++) {
		unsigned char ch = (unsigned char)*v;

		if (is_ctl(ch)) {
			c_escape(sb, ch);
			continue;
		}
		if (quote && (ch == '"' || ch == '\\'))
			sb_putc(sb, '\\');
		if (ch == '%')
			sb_putc(sb, '%');
		sb_putc(sb, (char)ch);
	}
	sb_puts(sb, quote ? "\"\n" : "\n");
}

void
esc_sh_quote(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_puts(sb, "'\\''");
		else
			sb_putc(sb, *s);
	}
	sb_putc(sb, '\'');
}

void
esc_sh_dquoted(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (strchr("$`\"\\", *s) != NULL)
			sb_putc(sb, '\\');
		sb_putc(sb, *s);
	}
}

/* A plain scalar YAML 1.1 reads as something else than a string. */
static bool
yaml_special(const char *s)
{
	static const char *const w[] = {"true", "false", "yes", "no", "on",
					"off",	"null",	 "y",	"n"};

	if (s[0] >= '0' && s[0] <= '9')
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		if (strcasecmp(s, w[i]) == 0)
			return true;
	return false;
}

void
esc_yaml(struct strbuf *sb, const char *s)
{
	if (esc_charset_ok(s, "._/-") && s[0] != '-' && s[0] != '.' &&
	    !yaml_special(s)) {
		sb_puts(sb, s);
		return;
	}
	sb_putc(sb, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			sb_printf(sb, "\\%c", ch);
		else if (is_ctl(ch))
			c_escape(sb, ch);
		else
			sb_putc(sb, (char)ch);
	}
	sb_putc(sb, '"');
}

void
esc_xml(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sb_puts(sb, "&amp;");
			break;
		case '<':
			sb_puts(sb, "&lt;");
			break;
		case '>':
			sb_puts(sb, "&gt;");
			break;
		case '\'':
			sb_puts(sb, "&apos;");
			break;
		case '"':
			sb_puts(sb, "&quot;");
			break;
		default:
			sb_putc(sb, *s);
		}
	}
}

char *
esc_show(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	sb_puts(&sb, "");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\')
			sb_puts(&sb, "\\\\");
		else if (is_ctl(ch) || ch >= 0x80)
			c_escape(&sb, ch);
		else
			sb_putc(&sb, (char)ch);
	}
	return sb_detach(&sb, NULL);
}
