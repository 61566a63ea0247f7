#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static int level = LOG_NORMAL;

void
log_set_level(int l)
{
	level = l;
}

int
log_get_level(void)
{
	return level;
}

int
log_use_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDERR_FILENO) && (nc == NULL || *nc == '\0');
}

static void
vlog(const char *tag, const char *color, const char *fmt, va_list ap)
{
	int c = color != NULL && log_use_color();

	fputs("sbx-build: ", stderr);
	if (tag != NULL)
		fprintf(stderr, "%s%s%s", c ? color : "", tag,
			c ? "\033[0m" : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define DEFINE_LOG(fn, min, tag, color)    \
	void fn(const char *fmt, ...)      \
	{                                  \
		va_list ap;                \
		if (level < (min))         \
			return;            \
		va_start(ap, fmt);         \
		vlog(tag, color, fmt, ap); \
		va_end(ap);                \
	}

DEFINE_LOG(log_error, LOG_QUIET, NULL, NULL)
DEFINE_LOG(log_warn, LOG_QUIET, "warning: ", "\033[33m")
DEFINE_LOG(log_info, LOG_NORMAL, NULL, NULL)
DEFINE_LOG(log_verbose, LOG_VERBOSE, NULL, NULL)
DEFINE_LOG(log_debug, LOG_DEBUG, "debug: ", NULL)
