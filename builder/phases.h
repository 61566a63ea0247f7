/* The bake's wall time per phase and VM, as the table '-v' prints:
 *
 *   phase        image      dev    proxy    total
 *   launch        18.9        -        -     18.9
 *   grow             -      1.2      0.8      2.0
 *   ...
 *   total         20.1     10.3     12.0     42.4
 *
 * One row per phase in the bake's order (unknown ones after, as first
 * seen), one column per VM as first seen ("image": the appliance's own
 * phases).  Pure. */
#ifndef SBX_PHASES_H
#define SBX_PHASES_H

struct phases;

struct phases *phases_new(void);
/* Adds seconds to (vm, phase); "up to date" is no phase and is left out. */
void phases_add(struct phases *p, const char *vm, const char *phase,
		double seconds);
/* The table (allocated), or NULL when nothing was added. */
char *phases_table(const struct phases *p);
void phases_free(struct phases *p);

#endif
