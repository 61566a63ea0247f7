/* The host half of waypipe as a container (pure): out/host/Containerfile
 * out/host/compose.yaml and run-waypipe.sh, for hosts whose waypipe predates
 * --vsock (0.9; Debian 12 ships 0.8.4). */
#ifndef SBX_HOSTGUI_H
#define SBX_HOSTGUI_H

#include <stdbool.h>

struct recipe_set;

/* True when some VM of SET wants GUI apps (gui.waypipe). */
bool hostgui_wanted(const struct recipe_set *set);
int hostgui_containerfile(const struct recipe_set *set, char **ret_text);
/* One service per GUI VM, each listening on its VM's vsock port. */
int hostgui_compose(const struct recipe_set *set, char **ret_text);
/* out/host/run-waypipe.sh: the same with 'podman run' (podman 4.3 has no
 * 'podman compose'). */
int hostgui_run_script(const struct recipe_set *set, char **ret_text);

#endif
