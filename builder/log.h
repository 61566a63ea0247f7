/* Messages on stderr, prefixed "sbx-build: ".  Lower-case, no period. */
#ifndef SBX_LOG_H
#define SBX_LOG_H

#include <stdarg.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

enum log_level {
	LOG_QUIET = -1, /* errors only */
	LOG_NORMAL = 0,
	LOG_VERBOSE = 1,
	LOG_DEBUG = 2,
};

void log_set_level(int level);
int log_get_level(void);
/* True when stderr is a terminal and NO_COLOR is unset. */
int log_use_color(void);

void log_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_warn(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_info(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_verbose(const char *fmt, ...) PRINTF_LIKE(1, 2);
void log_debug(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
