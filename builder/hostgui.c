/* out/host/: the containerized waypipe client.  The image brings a waypipe
 * that knows --vsock; the compose file hands it the host's Wayland socket
 * and lets it open AF_VSOCK sockets, which the default container seccomp
 * profile refuses. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "escape.h"
#include "hostgui.h"
#include "recipe.h"
#include "util.h"

bool
hostgui_wanted(const struct recipe_set *set)
{
	for (size_t i = 0; i < set->nvms; i++)
		if (set->vms[i].gui.waypipe)
			return true;
	return false;
}

int
hostgui_containerfile(const struct recipe_set *set, char **ret_text)
{
	if (!hostgui_wanted(set))
		return -ENOENT;
	*ret_text = xstrdup(
		"# The host half of waypipe for the sandbox's GUI apps, for "
		"hosts whose\n"
		"# waypipe is older than 0.9 (no --vsock).  Written by "
		"sbx-build.\n"
		"FROM docker.io/library/debian:trixie-slim\n"
		"RUN apt-get update && \\\n"
		"    apt-get install -y --no-install-recommends waypipe && \\\n"
		"    rm -rf /var/lib/apt/lists/* && \\\n"
		"    waypipe --help 2>&1 | grep -q -- --vsock\n"
		"ENTRYPOINT [\"waypipe\"]\n");
	return 0;
}

int
hostgui_compose(const struct recipe_set *set, char **ret_text)
{
	struct strbuf sb = STRBUF_INIT;

	if (!hostgui_wanted(set))
		return -ENOENT;
	sb_puts(&sb,
		"# The host half of waypipe for the sandbox's GUI apps, for "
		"hosts whose\n"
		"# waypipe is older than 0.9 (no --vsock).  Written by "
		"sbx-build.  Start it\n"
		"# from your Wayland session, before or after the VM:\n"
		"#   podman compose -f out/host/compose.yaml up -d\n"
		"# (podman 4.3, Debian 12, has no 'compose': run-waypipe.sh "
		"does the same.)\n"
		"# seccomp=unconfined: the default profile refuses AF_VSOCK "
		"sockets.\n"
		"# label=disable: the Wayland socket is the host's (SELinux "
		"hosts).\n"
		"services:\n");
	for (size_t i = 0; i < set->nvms; i++) {
		const struct vm *vm = &set->vms[i];

		if (!vm->gui.waypipe)
			continue;
		/* The name is a YAML key and a container name. */
		if (!esc_filename_ok(vm->name)) {
			sb_release(&sb);
			return -EINVAL;
		}
		sb_printf(&sb,
			  "  waypipe-%s:\n"
			  "    build:\n"
			  "      context: .\n"
			  "      dockerfile: Containerfile\n"
			  "    image: localhost/sbx-waypipe:latest\n"
			  "    command: [\"--vsock\", \"-s\", \"%" PRIu32
			  "\", \"client\"]\n"
			  "    environment:\n"
			  "      WAYLAND_DISPLAY: wayland-0\n"
			  "      XDG_RUNTIME_DIR: /run/host\n"
			  "    volumes:\n"
			  "      - "
			  "${XDG_RUNTIME_DIR}/${WAYLAND_DISPLAY}:/run/host/"
			  "wayland-0\n"
			  "    network_mode: host\n"
			  "    userns_mode: keep-id\n"
			  "    security_opt:\n"
			  "      - seccomp=unconfined\n"
			  "      - label=disable\n"
			  "    restart: unless-stopped\n",
			  vm->name, vm->gui.vsock_port);
	}
	*ret_text = sb_detach(&sb, NULL);
	return 0;
}

/* The same as the compose file with plain 'podman build' and 'podman run'
 * (podman 4.3, Debian 12, has no 'podman compose').  VM names are
 * checked: they become container names and shell words. */
int
hostgui_run_script(const struct recipe_set *set, char **ret_text)
{
	struct strbuf sb = STRBUF_INIT;

	if (!hostgui_wanted(set))
		return -ENOENT;
	sb_puts(&sb,
		"#!/bin/sh\n"
		"# The host half of waypipe for the sandbox's GUI apps, in a "
		"container, for\n"
		"# hosts whose waypipe is older than 0.9 (no --vsock); "
		"compose.yaml without\n"
		"# 'podman compose'.  Written by sbx-build.  Start it from "
		"your "
		"Wayland\n"
		"# session, before or after the VM.\n"
		"# usage: run-waypipe.sh [--stop]\n"
		"# seccomp=unconfined: the default profile refuses AF_VSOCK "
		"sockets.\n"
		"# label=disable: the Wayland socket is the host's (SELinux "
		"hosts).\n"
		"set -eu\n"
		"here=$(CDPATH='' cd -- \"$(dirname -- \"$0\")\" && pwd -P)\n"
		"image=localhost/sbx-waypipe:latest\n"
		"case ${1:-} in\n"
		"--stop)\n");
	for (size_t i = 0; i < set->nvms; i++) {
		const struct vm *vm = &set->vms[i];

		if (!vm->gui.waypipe)
			continue;
		if (!esc_filename_ok(vm->name) ||
		    strspn(vm->name,
			   "abcdefghijklmnopqrstuvwxyz0123456789._-") !=
			    strlen(vm->name)) {
			sb_release(&sb);
			return -EINVAL;
		}
		sb_printf(&sb, "\tpodman rm -f waypipe-%s >/dev/null\n",
			  vm->name);
	}
	sb_puts(&sb, "\texit 0 ;;\n"
		     "'') ;;\n"
		     "*) echo \"usage: $0 [--stop]\" >&2; exit 2 ;;\n"
		     "esac\n"
		     "if [ -z \"${WAYLAND_DISPLAY:-}\" ] || [ -z "
		     "\"${XDG_RUNTIME_DIR:-}\" ]; then\n"
		     "\techo \"$0: no WAYLAND_DISPLAY: run it in your Wayland "
		     "session\" >&2\n"
		     "\texit 1\n"
		     "fi\n"
		     "if ! podman image exists \"$image\"; then\n"
		     "\tpodman build -t \"$image\" -f \"$here/Containerfile\" "
		     "\"$here\"\n"
		     "fi\n");
	for (size_t i = 0; i < set->nvms; i++) {
		const struct vm *vm = &set->vms[i];

		if (!vm->gui.waypipe)
			continue;
		sb_printf(&sb,
			  "podman rm -f waypipe-%s >/dev/null 2>&1 || :\n"
			  "podman run -d --name waypipe-%s --restart "
			  "unless-stopped \\\n"
			  "\t--network host --userns keep-id \\\n"
			  "\t--security-opt seccomp=unconfined "
			  "--security-opt label=disable \\\n"
			  "\t-e WAYLAND_DISPLAY=wayland-0 -e "
			  "XDG_RUNTIME_DIR=/run/host \\\n"
			  "\t-v "
			  "\"$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY:/run/host/"
			  "wayland-0\" \\\n"
			  "\t\"$image\" --vsock -s %" PRIu32 " client\n",
			  vm->name, vm->name, vm->gui.vsock_port);
	}
	*ret_text = sb_detach(&sb, NULL);
	return 0;
}
