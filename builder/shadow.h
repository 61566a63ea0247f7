/* /etc/shadow editing, pure: one line's password field replaced. */
#ifndef SBX_SHADOW_H
#define SBX_SHADOW_H

/* shadow with field 2 of user's line replaced by hash; -ENOENT when the
 * user has no line. */
int shadow_set(const char *shadow, const char *user, const char *hash,
	       char **ret);

#endif
