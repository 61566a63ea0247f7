/* One progress display for downloads, image work and archives.  Draws a bar
 * on stderr when it is a terminal (at most ~10 redraws a second, always the
 * final state); otherwise prints one summary line when done. */
#ifndef SBX_PROGRESS_H
#define SBX_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress;

/* Off until main turns it on (--no-progress and -q leave it off): the
 * caller says, progress.c never reads the command line. */
void progress_enable(bool on);

/* total == 0 means unknown length.  Returns NULL (a valid no-op handle) when
 * progress is disabled (progress_enable). */
struct progress *progress_new(const char *label, uint64_t total);
void progress_set_total(struct progress *p, uint64_t total);
/* Absolute position; 'start' marks bytes that were already there (resume)
 * so the rate counts only new bytes. */
void progress_update(struct progress *p, uint64_t pos);
void progress_set_start(struct progress *p, uint64_t start);
/* Draws the final state and frees; accepts NULL. */
void progress_done(struct progress *p);
/* Formats bytes as "1.5 MiB" into buf. */
const char *progress_human(uint64_t bytes, char *buf, size_t size);

#endif
