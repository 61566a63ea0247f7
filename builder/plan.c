#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "distro.h"
#include "plan.h"
#include "recipe.h"

/* Users come before files: rendered files are owned by them (~/.ssh). */
static const enum step_kind order[] = {
	STEP_PACKAGES, STEP_USERS, STEP_FILES,
	STEP_OVERLAY,  STEP_UNITS, STEP_SELINUX,
};

const char *
plan_step_name(enum step_kind k)
{
	switch (k) {
	case STEP_PACKAGES:
		return "packages";
	case STEP_FILES:
		return "files";
	case STEP_OVERLAY:
		return "overlay";
	case STEP_USERS:
		return "users";
	case STEP_UNITS:
		return "units";
	case STEP_SELINUX:
		return "selinux";
	}
	return "?";
}

void
plan_build(const struct vm *vm, struct gfiles *files, struct overlay *overlay,
	   struct plan *ret)
{
	struct plan p = {.vm = vm, .files = *files, .overlay = *overlay};

	memset(files, 0, sizeof(*files));
	memset(overlay, 0, sizeof(*overlay));
	p.steps = xcalloc(ARRAY_SIZE(order), sizeof(*p.steps));
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		/* The container images are baked in the packages step. */
		if (order[i] == STEP_PACKAGES && vm->packages.n == 0 &&
		    vm->nservices == 0)
			continue;
		if (order[i] == STEP_OVERLAY && p.overlay.n == 0)
			continue;
		if (order[i] == STEP_USERS && vm->nusers == 0)
			continue;
		if (order[i] == STEP_UNITS && vm->units.n == 0)
			continue;
		p.steps[p.nsteps++] = order[i];
	}
	*ret = p;
}

void
plan_release(struct plan *p)
{
	gfiles_release(&p->files);
	overlay_release(&p->overlay);
	free(p->steps);
	p->steps = NULL;
	p->nsteps = 0;
}

static const char *
size_str(uint64_t b, char *buf, size_t n)
{
	static const char u[] = "KMGT";
	int i = -1;

	while (b >= 1024 && b % 1024 == 0 && i < 3) {
		b /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, n, "%" PRIu64, b);
	else
		snprintf(buf, n, "%" PRIu64 "%c", b, u[i]);
	return buf;
}

static void
format_list(struct strbuf *out, const struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		sb_printf(out, " %s", l->v[i]);
}

static void
format_files(struct strbuf *out, const struct gfiles *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct gfile *g = &f->v[i];
		char hex[DIGEST_HEX_MAX];

		switch (g->type) {
		case GFILE_DIR:
			sb_printf(out, "  dir     %04o %s:%s %s\n", g->mode,
				  g->owner, g->group, g->path);
			break;
		case GFILE_SYMLINK:
			sb_printf(out, "  symlink %s -> %s\n", g->path,
				  g->target);
			break;
		case GFILE_REG:
			digest_buffer_hex(DIGEST_SHA256, g->data, g->len, hex);
			sb_printf(out,
				  "  file    %04o %s:%s %s (%zu bytes, "
				  "sha256:%.16s)\n",
				  g->mode, g->owner, g->group, g->path, g->len,
				  hex);
			break;
		}
	}
}

static void
format_overlay(struct strbuf *out, const struct overlay *ov)
{
	for (size_t i = 0; i < ov->n; i++) {
		const struct overlay_entry *e = &ov->v[i];

		switch (e->type) {
		case OV_DIR:
			sb_printf(out, "  dir     %04o root:root %s\n", e->mode,
				  e->path);
			break;
		case OV_SYMLINK:
			sb_printf(out, "  symlink %s -> %s\n", e->path,
				  e->target);
			break;
		case OV_REG:
			sb_printf(out,
				  "  file    %04o root:root %s (%" PRIu64
				  " bytes)\n",
				  e->mode, e->path, e->size);
			break;
		}
	}
}

static void
format_users(struct strbuf *out, const struct vm *vm)
{
	static const char *const pw[] = {"locked", "random", "hash"};

	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];

		sb_printf(out, "  user %s password=%s", u->name,
			  pw[u->password]);
		if (u->groups.n > 0) {
			sb_puts(out, " groups=");
			for (size_t j = 0; j < u->groups.n; j++)
				sb_printf(out, "%s%s", j ? "," : "",
					  u->groups.v[j]);
		}
		if (u->sudo)
			sb_puts(out, " sudo");
		sb_printf(out, " ssh-keys=%zu\n", u->ssh_keys.n);
	}
}

void
plan_format(const struct plan *p, struct strbuf *out)
{
	const struct vm *vm = p->vm;
	const struct base *b = vm->base_ref;
	char s1[32], s2[32];

	sb_printf(out, "vm %s (%s)\n", vm->name, vm->file);
	const struct distro_info *d = distro_get(b->distro);

	sb_printf(out, "base %s %s %s\n", b->name, d ? d->name : "(unknown)",
		  b->url ? b->url : b->path);
	if (b->checksum != NULL)
		sb_printf(out, "  checksum %s\n", b->checksum);
	if (b->key_fingerprint != NULL)
		sb_printf(out, "  key %s\n", b->key_fingerprint);
	sb_printf(out, "disk %s memory %s cpus %u vsock-cid %u\n",
		  size_str(vm->disk, s1, sizeof(s1)),
		  size_str(vm->memory, s2, sizeof(s2)), vm->cpus, vm->cid);
	for (size_t i = 0; i < vm->nnics; i++) {
		const struct nic *n = &vm->nics[i];

		sb_printf(out, "nic %s %s %s", n->name,
			  n->kind == NIC_USER ? "user" : "internal", n->mac);
		if (n->address != NULL)
			sb_printf(out, " %s/%u", n->address, n->prefix);
		for (size_t j = 0; j < n->nforwards; j++)
			sb_printf(out, " %s:%u->%u/%s",
				  n->forwards[j].host_addr,
				  n->forwards[j].host_port,
				  n->forwards[j].guest_port,
				  n->forwards[j].proto == PROTO_UDP ? "udp"
								    : "tcp");
		sb_putc(out, '\n');
	}
	for (size_t i = 0; i < vm->nservices; i++)
		sb_printf(out, "service %s %s\n", vm->services[i].name,
			  vm->services[i].image);
	for (size_t i = 0; i < p->nsteps; i++) {
		enum step_kind k = p->steps[i];

		sb_printf(out, "step %zu %s", i + 1, plan_step_name(k));
		switch (k) {
		case STEP_PACKAGES:
			format_list(out, &vm->packages);
			sb_putc(out, '\n');
			break;
		case STEP_FILES:
			sb_printf(out, " (%zu)\n", p->files.n);
			format_files(out, &p->files);
			break;
		case STEP_OVERLAY:
			sb_printf(out, " %s (%zu)\n", vm->overlay,
				  p->overlay.n);
			format_overlay(out, &p->overlay);
			break;
		case STEP_USERS:
			sb_putc(out, '\n');
			format_users(out, vm);
			break;
		case STEP_UNITS:
			sb_puts(out, " enable");
			format_list(out, &vm->units);
			sb_putc(out, '\n');
			break;
		case STEP_SELINUX:
			sb_puts(out, " relabel written paths when the guest "
				     "enforces a policy\n");
			break;
		}
	}
}
