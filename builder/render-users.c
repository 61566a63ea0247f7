/* Per-user files: ~/.ssh, baked SSH keys, the sudoers drop-in, and the
 * oneshot unit that installs the host user's key from a systemd
 * credential at boot.  The users themselves are created by the bake. */
#include <string.h>

#include "escape.h"
#include "render-int.h"

#define SSH_KEYS_UNIT	"sbx-ssh-keys.service"
#define SSH_KEYS_SCRIPT "/usr/local/libexec/sbx-ssh-keys"
#define SSH_KEYS_CRED	"sbx.ssh.authorized_keys"
/* The host-only SSH channel's virtio-serial port: the name the run
 * script gives it (RUNSCRIPT_SSH_PORT, runscript-ssh.c). */
#define SSH_PORT      "org.sbx.ssh"
#define SSH_PORT_UNIT "sbx-ssh-serial.service"
/* What the run script looks for in the console log (runscript.c). */
#define SSH_KEYS_MARK "sbx-ssh-keys:"

/* Users get the distribution's home directory layout and a primary group
 * of their own name (USERGROUPS_ENAB on Fedora and Debian).  No recipe
 * key sets another home yet. */
static char *
user_home(const struct user *u)
{
	return xasprintf("/home/%s", u->name);
}

static void
render_ssh_keys_unit(struct rctx *c)
{
	const struct vm *vm = c->vm;
	struct strbuf sb = STRBUF_INIT;

	r_header(&sb, c, "#",
		 "Installs the host user's SSH public key, handed over at run "
		 "time as the\n# systemd credential " SSH_KEYS_CRED
		 ", into each user's ~/.ssh/authorized_keys.");
	sb_puts(&sb, "[Unit]\n"
		     "Description=Install the host user's SSH key from "
		     "credential " SSH_KEYS_CRED "\n"
		     "After=local-fs.target systemd-user-sessions.service\n"
		     "Before=sshd.service\n"
		     "\n"
		     "[Service]\n"
		     "Type=oneshot\n"
		     "RemainAfterExit=yes\n"
		     "# The run script reads the verdict on the serial "
		     "console.\n"
		     "StandardOutput=journal+console\n"
		     "ImportCredential=" SSH_KEYS_CRED "\n"
		     "ExecStart=" SSH_KEYS_SCRIPT);
	for (size_t i = 0; i < vm->nusers; i++)
		if (esc_username_ok(vm->users[i].name)) /* else refused */
			sb_printf(&sb, " %s", vm->users[i].name);
	sb_puts(&sb, "\n\n[Install]\nWantedBy=multi-user.target\n");
	r_file(c, vm->pos, "/etc/systemd/system/" SSH_KEYS_UNIT, "root", "root",
	       0644, &sb);
	r_symlink(c, vm->pos,
		  "/etc/systemd/system/multi-user.target.wants/" SSH_KEYS_UNIT,
		  "/etc/systemd/system/" SSH_KEYS_UNIT);

	/* Root copies the key; the user writes it.  Writing as the user
	 * means a ~/.ssh that the (untrusted) user turned into a symlink
	 * can only ever touch the user's own files. */
	sb_puts(&sb, "#!/bin/sh\n");
	r_header(&sb, c, "#",
		 "Installs the keys of the systemd credential " SSH_KEYS_CRED
		 "\n# into ~/.ssh/authorized_keys of each user named on the "
		 "command line,\n# between marker lines, keeping every other "
		 "line.  No credential: nothing to do.");
	sb_puts(&sb,
		"set -eu\n"
		"\n"
		"cred=\"${CREDENTIALS_DIRECTORY:-/nonexistent}/" SSH_KEYS_CRED
		"\"\n"
		"if [ ! -s \"$cred\" ]; then\n"
		"\techo \"" SSH_KEYS_MARK
		" missing: no credential " SSH_KEYS_CRED
		" (the host's key, SMBIOS type 11; the kernel needs "
		"dmi-sysfs)\"\n"
		"\texit 0\n"
		"fi\n"
		"\n"
		"# Runs as the user: $1 = home directory, stdin = the keys.\n"
		"# shellcheck disable=SC2016 # expanded by the inner shell\n"
		"install_keys='\n"
		"\tset -eu\n"
		"\tumask 077\n"
		"\tmkdir -p \"$1/.ssh\"\n"
		"\tf=\"$1/.ssh/authorized_keys\"\n"
		"\ttmp=$(mktemp \"$f.XXXXXX\")\n"
		"\t{\n"
		"\t\tif [ -f \"$f\" ]; then\n"
		"\t\t\tsed \"/^# begin " SSH_KEYS_CRED
		"\\$/,/^# end " SSH_KEYS_CRED "\\$/d\" \"$f\"\n"
		"\t\tfi\n"
		"\t\techo \"# begin " SSH_KEYS_CRED "\"\n"
		"\t\tcat\n"
		"\t\techo \"# end " SSH_KEYS_CRED "\"\n"
		"\t} >\"$tmp\"\n"
		"\tmv -f \"$tmp\" \"$f\"\n"
		"'\n"
		"\n"
		"status=0\n"
		"for user in \"$@\"; do\n"
		"\thome=$(getent passwd \"$user\" | cut -d: -f6) || true\n"
		"\tif [ -z \"$home\" ]; then\n"
		"\t\techo \"no user '$user', skipping\" >&2\n"
		"\t\tstatus=1\n"
		"\t\tcontinue\n"
		"\tfi\n"
		"\tif ! runuser -u \"$user\" -- /bin/sh -c \"$install_keys\" "
		"sh \"$home\" \\\n"
		"\t\t<\"$cred\"; then\n"
		"\t\techo \"cannot install the keys of '$user'\" >&2\n"
		"\t\tstatus=1\n"
		"\tfi\n"
		"done\n"
		"if [ \"$status\" -eq 0 ]; then echo \"" SSH_KEYS_MARK
		" installed for $*\"; fi\n"
		"exit \"$status\"\n");
	r_file(c, vm->pos, SSH_KEYS_SCRIPT, "root", "root", 0755, &sb);
}

/* sshd -i on the virtio-serial port, one connection at a time: sshd's
 * first write (its banner) waits until the host side is connected, and
 * systemd starts the next one when a session ends.  No network socket. */
static void
render_ssh_port_unit(struct rctx *c)
{
	const struct vm *vm = c->vm;
	struct strbuf sb = STRBUF_INIT;

	r_header(&sb, c, "#",
		 "sshd on the host-only virtio-serial port " SSH_PORT
		 " (run-VM.sh ssh):\n# no network path, the keys "
		 "sbx-ssh-keys.service installed.");
	sb_puts(&sb, "[Unit]\n"
		     "Description=sshd on the host-only port " SSH_PORT "\n"
		     "After=sbx-ssh-keys.service sshd.service ssh.service\n"
		     "StartLimitIntervalSec=0\n"
		     "\n"
		     "[Service]\n"
		     "# udev names the port late in a slow boot.\n"
		     "ExecStartPre=/usr/bin/udevadm wait --timeout=120 "
		     "/dev/virtio-ports/" SSH_PORT "\n"
		     "ExecStartPre=/usr/bin/ssh-keygen -A\n"
		     "ExecStartPre=/bin/mkdir -p -m 0755 /run/sshd\n"
		     "ExecStart=/bin/sh -c 'exec /usr/sbin/sshd -i -e "
		     "<>/dev/virtio-ports/" SSH_PORT " >&0'\n"
		     "Restart=always\n"
		     "RestartSec=1\n"
		     "\n"
		     "[Install]\n"
		     "WantedBy=multi-user.target\n");
	r_file(c, vm->pos, "/etc/systemd/system/" SSH_PORT_UNIT, "root", "root",
	       0644, &sb);
	r_symlink(c, vm->pos,
		  "/etc/systemd/system/multi-user.target.wants/" SSH_PORT_UNIT,
		  "/etc/systemd/system/" SSH_PORT_UNIT);
}

void
render_users(struct rctx *c)
{
	const struct vm *vm = c->vm;
	struct strbuf sudo = STRBUF_INIT;
	bool any_sudo = false;

	for (size_t i = 0; i < vm->nusers; i++) {
		const struct user *u = &vm->users[i];
		CLEANUP_FREE char *home = NULL;
		CLEANUP_FREE char *ssh = NULL;

		/* A user name is a file name, a word of a unit's command
		 * line and a sudoers token. */
		if (!esc_username_ok(u->name)) {
			r_refuse(
				c, u->pos, "user name", u->name,
				"is not a user name ([A-Za-z_][A-Za-z0-9_.-]*, "
				"at most 32)");
			continue;
		}
		home = user_home(u);
		ssh = xasprintf("%s/.ssh", home);
		r_dir(c, u->pos, ssh, u->name, u->name, 0700);
		if (u->ssh_keys.n > 0) {
			CLEANUP_FREE char *p =
				xasprintf("%s/authorized_keys", ssh);
			struct strbuf sb = STRBUF_INIT;

			for (size_t j = 0; j < u->ssh_keys.n; j++) {
				if (esc_has_ctl(u->ssh_keys.v[j]))
					r_error(c, u->ssh_keys.pos[j],
						"an SSH key is one line");
				sb_printf(&sb, "%s\n", u->ssh_keys.v[j]);
			}
			r_file(c, u->pos, p, u->name, u->name, 0600, &sb);
		}
		if (!u->sudo)
			continue;
		if (!any_sudo)
			r_header(&sudo, c, "#",
				 "Passwordless sudo for the recipe's "
				 "'sudo: true' users.");
		any_sudo = true;
		sb_printf(&sudo, "%s ALL=(ALL) NOPASSWD: ALL\n", u->name);
	}
	/* No dot in the name: sudo skips such files in sudoers.d. */
	if (any_sudo)
		r_file(c, vm->pos, "/etc/sudoers.d/90-sbx", "root", "root",
		       0440, &sudo);
	else
		sb_release(&sudo);
	if (vm->nusers > 0) {
		render_ssh_keys_unit(c);
		render_ssh_port_unit(c);
	}
}
