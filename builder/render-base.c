/* Files every VM gets: hostname, machine-id, cloud-init switched off,
 * sshd settings.  The bake writes them in its files step like any other
 * rendered file, so a recipe's own 'files:' entry replaces them. */
#include <string.h>

#include "escape.h"
#include "render-int.h"

/* Files every VM gets. */
void
render_base(struct rctx *c)
{
	const struct vm *vm = c->vm;
	struct strbuf sb = STRBUF_INIT;

	if (esc_hostname_ok(vm->hostname)) {
		sb_printf(&sb, "%s\n", vm->hostname);
		r_file(c, vm->pos, "/etc/hostname", "root", "root", 0644, &sb);
	} else {
		r_refuse(c, vm->pos, "hostname", vm->hostname,
			 "is not a host name (dot-separated labels of "
			 "letters, digits and '-')");
	}
	/* Everything cloud-init would do is baked in. */
	r_text(c, vm->pos, "/etc/cloud/cloud-init.disabled", 0644, "");
	/* systemd makes a fresh machine ID on each VM's first boot, so two
	 * VMs from one image never share it. */
	r_text(c, vm->pos, "/etc/machine-id", 0444, "uninitialized\n");

	/* Sorts before the distribution's 50-*.conf: sshd keeps the first
	 * value it reads. */
	r_header(&sb, c, "#", "sshd: keys only, no passwords, no root.");
	sb_puts(&sb, "PasswordAuthentication no\n"
		     "KbdInteractiveAuthentication no\n"
		     "PermitEmptyPasswords no\n"
		     "PermitRootLogin no\n");
	r_file(c, vm->pos, "/etc/ssh/sshd_config.d/10-sbx.conf", "root", "root",
	       0600, &sb);
}
