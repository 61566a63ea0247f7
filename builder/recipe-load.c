/* Recipes, reading: recipes/ *.yaml (bounded, regular files only),
 * decoded through recipe_doc_schema, adopted into one set, given their
 * defaults and checked (recipe-check.c, overlay_check). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "overlay.h"
#include "recipe-int.h"
#include "recipe.h"
#include "schema.h"
#include "util.h"
#include "validate.h"
#include "ytree.h"

enum {
	DEFAULT_DISK = 20ull << 30,
	DEFAULT_MEMORY = 4ull << 30,
	DEFAULT_CPUS = 4,
};

static int
cmp_vm(const void *a, const void *b)
{
	return strcmp(((const struct vm *)a)->name,
		      ((const struct vm *)b)->name);
}

static void
apply_defaults(struct recipe_set *set, struct vm *vm, struct diag_list *diags)
{
	if (vm->disk == 0)
		vm->disk = DEFAULT_DISK;
	if (vm->memory == 0)
		vm->memory = DEFAULT_MEMORY;
	if (vm->cpus == 0)
		vm->cpus = DEFAULT_CPUS;
	if (vm->hostname == NULL) {
		vm->hostname = xasprintf("sbx-%s", vm->name);
		for (char *p = vm->hostname; *p; p++)
			if (*p == '_')
				*p = '-';
		if (valid_vm_name(vm->name) && !valid_hostname(vm->hostname))
			diag_add(diags, vm->name_pos,
				 "the host name '%s' made from the VM name is "
				 "not valid; give 'hostname'",
				 vm->hostname);
	}
	if (vm->overlay == NULL) {
		CLEANUP_FREE char *rel = xasprintf("overlays/%s", vm->name);
		CLEANUP_FREE char *abs = path_join(set->dir, rel);
		struct stat st;

		if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode))
			vm->overlay = xstrdup(rel);
	}
}

/* Adds one decoded document to the set, moving its parts. */
static void
adopt(struct recipe_set *set, struct recipe_doc *doc, const char *file,
      struct diag_list *diags)
{
	for (size_t i = 0; i < doc->nbases; i++) {
		struct base *b = &doc->bases[i];
		struct base *prev;

		if (strcmp(b->name, "@inline") == 0) {
			free(b->name);
			b->name = xasprintf("@%s",
					    doc->vm.name ? doc->vm.name : file);
			if (doc->vm.base != NULL) {
				free(doc->vm.base);
				doc->vm.base = xstrdup(b->name);
			}
		}
		prev = recipe_find_base(set, b->name);
		if (prev != NULL) {
			diag_add(diags, b->pos,
				 "base '%s' is already defined at %s:%d",
				 b->name, prev->pos.file, prev->pos.line);
			recipe_base_free(b);
			continue;
		}
		set->bases =
			xrealloc(set->bases, (set->nbases + 1) * sizeof(*b));
		set->bases[set->nbases++] = *b;
	}
	free(doc->bases);
	if (!doc->has_vm)
		return;
	if (doc->vm.name == NULL) {
		diag_add(diags, doc->pos,
			 "missing required key 'vm' (the VM's name)");
		recipe_vm_free(&doc->vm);
		return;
	}
	if (recipe_find_vm(set, doc->vm.name) != NULL) {
		diag_add(diags, doc->pos, "VM '%s' is defined twice",
			 doc->vm.name);
		recipe_vm_free(&doc->vm);
		return;
	}
	doc->vm.pos = doc->pos;
	/* The recipe's name inside the project ("recipes/dev.yaml"), so what
	 * is generated from it does not depend on where the project is. */
	{
		size_t n = strlen(set->dir);

		if (strncmp(file, set->dir, n) == 0 && file[n] == '/')
			file += n + 1;
	}
	doc->vm.file = xstrdup(file);
	set->vms = xrealloc(set->vms, (set->nvms + 1) * sizeof(struct vm));
	set->vms[set->nvms++] = doc->vm;
}

static bool
doc_has_vm(const struct ynode *root)
{
	for (size_t i = 0; i + 1 < root->n; i += 2)
		if (strcmp(root->items[i]->str, "bases") != 0)
			return true;
	return false;
}

/* What one recipe file may hold (README, "Recipes"). */
enum { RECIPE_MAX_BYTES = 1 << 20 };
static const struct ytree_limits recipe_limits = {
	.max_depth = 16,
	.max_nodes = 20000,
	.max_scalar = 256 << 10,
};

int
recipe_set_load_texts(const char *dir, const char *const *names,
		      const char *const *texts, size_t n,
		      struct recipe_set **ret, struct diag_list **ret_diags)
{
	struct diag_list *diags = diag_list_new();
	struct recipe_set *set = xcalloc(1, sizeof(*set));

	*ret_diags = diags;
	set->dir = xstrdup(dir);
	set->files = xcalloc(n + 1, sizeof(*set->files));
	for (size_t i = 0; i < n; i++)
		set->files[set->nfiles++] = xstrdup(names[i]);
	for (size_t i = 0; i < n; i++) {
		struct recipe_doc doc = {0};
		struct ynode *root = NULL;
		const char *file = set->files[i];

		if (strlen(texts[i]) > RECIPE_MAX_BYTES) {
			diag_add(diags, (struct srcpos){file, 1, 1},
				 "recipe larger than %d bytes",
				 RECIPE_MAX_BYTES);
			continue;
		}
		if (ytree_parse_limited(file, texts[i], strlen(texts[i]),
					&recipe_limits, diags, &root) < 0)
			continue;
		if (root->kind != YNODE_MAP) {
			diag_add(diags, root->pos,
				 "a recipe must be a mapping of keys");
			ynode_free(root);
			continue;
		}
		doc.has_vm = doc_has_vm(root);
		schema_decode(&recipe_doc_schema, root, &doc, diags);
		ynode_free(root);
		adopt(set, &doc, file, diags);
	}
	if (set->nvms > 1)
		qsort(set->vms, set->nvms, sizeof(*set->vms), cmp_vm);
	for (size_t i = 0; i < set->nbases; i++)
		recipe_check_base(&set->bases[i], diags);
	for (size_t i = 0; i < set->nvms; i++)
		apply_defaults(set, &set->vms[i], diags);
	for (size_t i = 0; i < set->nvms; i++)
		recipe_check_vm(set, &set->vms[i], diags);
	recipe_check_unique(set, diags);
	for (size_t i = 0; i < set->nvms; i++)
		overlay_check(set, &set->vms[i], diags);
	if (diag_count(diags) > 0) {
		recipe_set_free(set);
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

/* Reads one recipe: a regular file (a FIFO or device is refused without
 * blocking on it) of at most RECIPE_MAX_BYTES, without NUL bytes.
 * Problems with the content are diagnostics (-EINVAL); I/O errors are
 * returned. */
static int
read_recipe(const char *path, char **ret_text, struct diag_list *diags)
{
	struct srcpos pos = {path, 1, 1};
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_add(diags, pos, "recipe is not a regular file");
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > RECIPE_MAX_BYTES) {
		diag_add(diags, pos, "recipe larger than %d bytes",
			 RECIPE_MAX_BYTES);
		close(fd);
		return -EINVAL;
	}
	/* One byte more than allowed tells a file that grew meanwhile. */
	buf = xmalloc(RECIPE_MAX_BYTES + 2);
	for (;;) {
		ssize_t k = read(fd, buf + len, RECIPE_MAX_BYTES + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			break;
		}
		if (k == 0 || (len += (size_t)k) > RECIPE_MAX_BYTES)
			break;
	}
	close(fd);
	if (r == 0 && len > RECIPE_MAX_BYTES) {
		diag_add(diags, pos, "recipe larger than %d bytes",
			 RECIPE_MAX_BYTES);
		r = -EINVAL;
	}
	buf[len] = '\0';
	if (r == 0 && strlen(buf) != len) {
		diag_add(diags, (struct srcpos){path, 1, 1},
			 "recipe contains a NUL byte");
		r = -EINVAL;
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_text = buf;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
recipe_set_load(const char *dir, struct recipe_set **ret,
		struct diag_list **ret_diags)
{
	CLEANUP_FREE char *rdir = path_join(dir, "recipes");
	char **names = NULL, **texts = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	*ret_diags = diag_list_new();
	d = opendir(rdir);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !str_ends_with(de->d_name, ".yaml"))
			continue;
		names = xgrow(names, &cap, n + 1, sizeof(*names));
		names[n++] = path_join(rdir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	texts = xcalloc(n + 1, sizeof(*texts));
	for (size_t i = 0; i < n && r == 0; i++)
		r = read_recipe(names[i], &texts[i], *ret_diags);
	if (r == 0 && n == 0) {
		diag_add(*ret_diags, (struct srcpos){rdir, 0, 0},
			 "no recipes (*.yaml) found");
		r = -EINVAL;
	}
	if (r == 0) {
		diag_list_free(*ret_diags);
		r = recipe_set_load_texts(dir, (const char *const *)names,
					  (const char *const *)texts, n, ret,
					  ret_diags);
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(texts[i]);
	}
	free(names);
	free(texts);
	return r;
}
