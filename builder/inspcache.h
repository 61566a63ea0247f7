/* What libguestfs inspection found on a base, kept between bakes: a pure
 * function of the base's bytes (and of libguestfs), so it is keyed by the
 * base's checksum, or a local base's path, size and modification time, and
 * by the libguestfs version.  Device names are kept relative to the drive
 * ("/dev/sdb4" on drive "/dev/sdb" is "@4"), as the base may be any drive
 * of the next appliance.  Pure: the bake reads and writes the files. */
#ifndef SBX_INSPCACHE_H
#define SBX_INSPCACHE_H

#include "digest.h"
#include "image.h"

/* The cache file's name (hex, no directory) for a base identity. */
void inspcache_key(const char *gfs_version, const char *base_id,
		   char hex[DIGEST_HEX_MAX]);

/* d as text, names made relative to dev ("/dev/sda"); -EINVAL when a name
 * is on another device. */
int inspcache_format(const struct image_desc *d, const char *dev,
		     char **ret_text);

/* The text back, names on dev.  -EINVAL for anything it would not have
 * written (the file is outside input: a bad one is just not used). */
int inspcache_parse(const char *text, const char *dev, struct image_desc *ret);

#endif
