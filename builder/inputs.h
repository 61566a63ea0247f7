/* A VM's input digest: one SHA-256 over everything its image depends on
 * (sbx-build version, the plan with every rendered byte but without the
 * run-time settings (plan_format_image), the overlay's
 * contents, the base's checksum and any lock entries).  Stored beside the
 * image as out/VM.inputs; equal digests mean nothing to rebuild. */
#ifndef SBX_INPUTS_H
#define SBX_INPUTS_H

#include "digest.h"

struct plan;

/* base_checksum: "sha256:HEX" of the verified base (or NULL); extra: lock
 * entries or anything else that must invalidate the image (or NULL).
 * Reads the overlay files; returns 0 or a negative errno. */
int inputs_digest(const struct plan *p, const char *base_checksum,
		  const char *extra, char hex[DIGEST_HEX_MAX]);

#endif
