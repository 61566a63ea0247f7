/* The registry protocol, through skopeo(1) (containers/image): sbx-build
 * never speaks HTTP to a registry itself.  Credentials stay skopeo's
 * business: it reads REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/
 * auth.json or ~/.docker/config.json on its own, so no secret is ever on
 * a command line or in a log.  TLS is verified unless tls_verify is false. */
#ifndef SBX_SKOPEO_H
#define SBX_SKOPEO_H

#include <stdbool.h>

struct skopeo_opts {
	bool no_tls_verify;
	/* Receives skopeo's progress lines ("Copying blob sha256:..."). */
	void (*on_line)(void *opaque, const char *line);
	void *opaque;
};

/* skopeo copy --preserve-digests SRC DST (transport:reference, e.g.
 * "oci:DIR:NAME", "docker://REF"); when digest_file is not NULL the
 * digest of the copied manifest is written there.  Returns 0 or a negative
 * errno with *ret_err set (skopeo's last line of errors). */
int skopeo_copy(const char *src, const char *dst, const char *digest_file,
		const struct skopeo_opts *o, char **ret_err);

#endif
