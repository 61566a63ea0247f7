/* Shared by the render-*.c files: the context every per-feature renderer
 * fills, the helpers of render-util.c, and the renderers' entry points
 * that render.c calls.  Private to the render module. */
#ifndef SBX_RENDER_INT_H
#define SBX_RENDER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "recipe.h"
#include "render.h"
#include "util.h"

struct rctx {
	const struct render_input *in;
	const struct vm *vm;
	struct gfiles *f;
	struct diag_list *diags;
	int err; /* -EINVAL once a recipe problem was reported */
};

/* Frees what g holds and zeroes it. */
void gfile_clear(struct gfile *g);
/* Adds a regular file; takes over text's buffer. */
struct gfile *r_file(struct rctx *c, struct srcpos pos, const char *path,
		     const char *owner, const char *group, unsigned mode,
		     struct strbuf *text);
/* A root-owned regular file with a copy of text. */
void r_text(struct rctx *c, struct srcpos pos, const char *path, unsigned mode,
	    const char *text);
void r_dir(struct rctx *c, struct srcpos pos, const char *path,
	   const char *owner, const char *group, unsigned mode);
void r_symlink(struct rctx *c, struct srcpos pos, const char *path,
	       const char *target);
void r_error(struct rctx *c, struct srcpos pos, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
/* Reports "WHAT 'VALUE' WHY" (VALUE shown escaped); returns false. */
bool r_refuse(struct rctx *c, struct srcpos pos, const char *what,
	      const char *value, const char *why);
/* A copy of a secret's value, "(secret NAME)" with placeholder_secrets,
 * or NULL after reporting it missing. */
char *r_secret(struct rctx *c, struct srcpos pos, const char *name);

struct distro_info;
/* The distribution table entry of the VM's base; NULL after reporting an
 * unknown one at pos. */
const struct distro_info *r_distro(struct rctx *c, struct srcpos pos);

/* "192.168.76.11" + 24 -> "192.168.76.0/24"; NULL if not an address. */
char *ipv4_network(const char *addr, unsigned prefix);
/* The header comment of every generated file ("# " or "; " ...). */
void r_header(struct strbuf *sb, const struct rctx *c, const char *comment,
	      const char *what);

/* The per-feature renderers. */
/* render-net.c: an interface name ip(8), nmcli and nft take as it is. */
bool r_ifname_ok(const char *s);
/* A proxy VM's link to one VM behind it (vm_link_clients). */
struct render_link {
	char *ifname;		 /* its NIC on the proxy VM */
	char mac[18];		 /* that NIC's MAC */
	char addr[16];		 /* the client's address (ESC_IPV4_MAX) */
	const struct vm *client; /* the VM at the other end */
};
/* The proxy VM's links into RET (VM_MAX_LINKS entries), every value
 * checked; 0 for a VM that serves none, -1 when one cannot be named
 * (then nothing is left to free).  Free with render_links_free. */
int render_links(const struct rctx *c, struct render_link *ret);
void render_links_free(struct render_link *l, size_t n);

void render_base(struct rctx *c);	  /* hostname, sshd, machine-id, ... */
void render_users(struct rctx *c);	  /* sudoers, SSH key credential */
void render_net(struct rctx *c);	  /* .link files, NetworkManager */
void render_firewall(struct rctx *c);	  /* nftables (proxy VM) */
void render_proxy(struct rctx *c);	  /* tinyproxy, Quadlet units */
void render_egress(struct rctx *c);	  /* egress log to the host (proxy) */
void render_dev(struct rctx *c);	  /* proxy settings, GUI helper */
void render_recipe_files(struct rctx *c); /* the recipe's 'files:' */

#endif
