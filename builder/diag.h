/* Diagnostics about user input: FILE:LINE:COL: message, then the source
 * line and a caret (netplan, doas's parse_errors).  Collected, then printed
 * once.
 *
 * Error text travels two ways in sbx-build (HACKING.md, "Errors"):
 * - about recipe, overlay or sbx.lock input: a diag here, with the node's
 *   position (renderers through r_error/r_refuse);
 * - anything else: the engine returns a negative errno and one whole
 *   allocated message through its last parameter, char **ret_err (may be
 *   NULL: the caller wants no words), filled on failure.  The one
 *   exception: a module with a context that lives across calls keeps the
 *   message there (fetch_error, image_error; valid until the next call).
 *   The message starts with what failed, the subject in quotes, is
 *   lower-case, has no trailing period, and is prefixed with the recipe
 *   position that asked for the work when there is one (bake_fail).  A
 *   failed program is described by run_failure (run.h).  The command logs
 *   it once (log_error("%s", err)) and returns CMD_ERROR; nothing below a
 *   command prints an error itself. */
#ifndef SBX_DIAG_H
#define SBX_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "log.h"

/* A place in a source file; lines and columns count from 1.  file points
 * into a string owned by the loaded document set and outlives the model. */
struct srcpos {
	const char *file;
	int line, col;
};

struct diag_list;

struct diag_list *diag_list_new(void);
void diag_list_free(struct diag_list *d);
/* Registers the text of a file so diagnostics can quote its lines.  The
 * text is copied. */
void diag_add_source(struct diag_list *d, const char *file, const char *text,
		     size_t len);
void diag_add(struct diag_list *d, struct srcpos pos, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
size_t diag_count(const struct diag_list *d);
/* The i-th message formatted as "FILE:LINE:COL: message" (no source
 * line); for tests. */
const char *diag_message(const struct diag_list *d, size_t i);
/* Sorted by file, line, column; each with its source line and caret. */
void diag_print(const struct diag_list *d, FILE *f);

#endif
