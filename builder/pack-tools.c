/* Bundles, the programs they need: qemu-img convert (with progress) and
 * ssh-keygen -Y sign / verify / check-novalidate, run through run.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack-int.h"
#include "pack.h"
#include "progress.h"
#include "run.h"
#include "util.h"

typedef void (*run_out_fn)(void *data, const char *buf, size_t n);

/* Runs argv (no shell, run.h) with stdin from stdin_path (NULL:
 * /dev/null), collects stdout into *out (when not NULL; also fed to
 * on_out) and stderr into *err.  Returns the exit status (0..255), or a
 * negative errno when the program cannot be run or was killed. */
static int
run(char *const argv[], const char *stdin_path, struct strbuf *out,
    run_out_fn on_out, void *data, struct strbuf *err)
{
	struct run_opts o = {.stdin_path = stdin_path,
			     .out = out,
			     .on_out = on_out,
			     .opaque = data,
			     .err = err};

	return run_program((const char *const *)argv, &o);
}

/* "ssh-keygen: <first line of stderr>", or a fallback. */
static const char *
tool_msg(struct strbuf *err, const char *fallback)
{
	char *nl;

	if (err->buf == NULL || *pack_chomp(err->buf) == '\0')
		return fallback;
	nl = strrchr(err->buf, '\n');
	return nl != NULL ? nl + 1 : err->buf;
}

/* qemu-img -p prints "    (12.34/100%)\r" on stdout. */
struct convert_progress {
	struct progress *p;
	uint64_t total;
};

static void
convert_out(void *data, const char *buf, size_t n)
{
	struct convert_progress *cp = data;
	const char *s = buf, *end = buf + n;

	while ((s = memchr(s, '(', (size_t)(end - s))) != NULL) {
		double pct = 0;
		int i = 0;

		s++;
		while (s < end && *s >= '0' && *s <= '9' && i++ < 3)
			pct = pct * 10 + (*s++ - '0');
		if (pct <= 100)
			progress_update(cp->p, (uint64_t)(pct / 100 *
							  (double)cp->total));
	}
}

/* "./x" for a relative x: qemu reads "proto:..." in a file name as a
 * protocol, and a leading '-' as an option. */
static char *
qemu_path(const char *path)
{
	return path[0] == '/' ? xstrdup(path) : xasprintf("./%s", path);
}

int
pack_convert_image(const char *src_path, const char *dst_path,
		   const char *label, uint64_t size, char **ret_err)
{
	CLEANUP_FREE char *src = qemu_path(src_path);
	CLEANUP_FREE char *dst = qemu_path(dst_path);
	char *argv[] = {
		"qemu-img", "convert", "-p", "-f", "qcow2",
		"-O",	    "qcow2",   "-c", "-o", "compression_type=zlib",
		src,	    dst,       NULL};
	struct strbuf err = STRBUF_INIT;
	struct convert_progress cp = {progress_new(label, size), size};
	int r;

	r = run(argv, NULL, NULL, convert_out, &cp, &err);
	if (r == 0)
		progress_update(cp.p, size);
	progress_done(cp.p);
	if (r < 0)
		r = ret_errf(ret_err, r, "cannot run 'qemu-img': %s",
			     strerror(-r));
	else if (r > 0)
		r = ret_errf(ret_err, -EIO, "cannot convert '%s': %s", src_path,
			     tool_msg(&err, "qemu-img convert failed"));
	sb_release(&err);
	return r;
}

int
pack_ssh_sign(const char *key, const char *file, char **ret_err)
{
	char *argv[] = {"ssh-keygen", "-q",	   "-Y", "sign",
			"-f",	      (char *)key, "-n", PACK_SIG_NAMESPACE,
			(char *)file, NULL};
	struct strbuf err = STRBUF_INIT;
	int r;

	r = run(argv, NULL, NULL, NULL, NULL, &err);
	if (r < 0)
		r = ret_errf(ret_err, r, "cannot run 'ssh-keygen': %s",
			     strerror(-r));
	else if (r > 0)
		r = ret_errf(ret_err, -EPERM, "cannot sign with '%s': %s", key,
			     tool_msg(&err, "ssh-keygen -Y sign failed"));
	sb_release(&err);
	return r;
}

/* Verifies sig over the file msg; sets *ret_signer to the principal. */
int
pack_ssh_verify(const char *allowed, const char *identity, const char *msg,
		const char *sig, char **ret_signer, char **ret_err)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *who = NULL;
	int r;

	if (identity == NULL) {
		char *argv[] = {"ssh-keygen", "-Y", "find-principals", "-s",
				(char *)sig,  "-f", (char *)allowed,   NULL};

		r = run(argv, NULL, &out, NULL, NULL, &err);
		if (r < 0) {
			r = ret_errf(ret_err, r, "cannot run 'ssh-keygen': %s",
				     strerror(-r));
			goto out;
		}
		if (out.buf != NULL)
			who = xstrndup(out.buf, strcspn(out.buf, "\r\n"));
		if (r > 0 || who == NULL || *who == '\0') {
			r = ret_errf(ret_err, -EPERM,
				     "bad signature: no principal in '%s' "
				     "matches the signing key",
				     allowed);
			goto out;
		}
		sb_release(&out);
		sb_release(&err);
	} else {
		who = xstrdup(identity);
	}
	{
		char *argv[] = {"ssh-keygen",	    "-Y", "verify",    "-f",
				(char *)allowed,    "-I", who,	       "-n",
				PACK_SIG_NAMESPACE, "-s", (char *)sig, NULL};

		r = run(argv, msg, &out, NULL, NULL, &err);
	}
	if (r < 0) {
		r = ret_errf(ret_err, r, "cannot run 'ssh-keygen': %s",
			     strerror(-r));
	} else if (r > 0) {
		r = ret_errf(ret_err, -EPERM, "bad signature for '%s': %s", who,
			     tool_msg(&err, "could not verify signature"));
	} else {
		*ret_signer = who;
		who = NULL;
	}
out:
	free(who);
	sb_release(&out);
	sb_release(&err);
	return r;
}

/* Without allowed signers: at least a well-formed signature, in our
 * namespace, by the key it names, over exactly msg. */
int
pack_ssh_check(const char *msg, const char *sig, char **ret_err)
{
	char *argv[] = {"ssh-keygen",	    "-Y", "check-novalidate", "-n",
			PACK_SIG_NAMESPACE, "-s", (char *)sig,	      NULL};
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int r;

	r = run(argv, msg, &out, NULL, NULL, &err);
	if (r < 0)
		r = ret_errf(ret_err, r, "cannot run 'ssh-keygen': %s",
			     strerror(-r));
	else if (r > 0)
		r = ret_errf(ret_err, -EPERM, "bad signature: %s",
			     tool_msg(&err, "not a valid signature over "
					    "SHA256SUMS"));
	sb_release(&out);
	sb_release(&err);
	return r;
}
