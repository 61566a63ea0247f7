/* overlay-files: the overlay joins the rendered files as the bake copies
 * it — an overlay file replaces the rendered one of its path, a directory
 * the render has keeps its owner, the list stays sorted. */
#include "testutil.h"

#include "overlay-files.h"
#include "overlay.h"
#include "render.h"

static void
add(struct gfiles *f, const char *path, enum gfile_type t, const char *owner,
    const char *data)
{
	struct gfile *g;

	f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	g = &f->v[f->n++];
	memset(g, 0, sizeof(*g));
	g->path = xstrdup(path);
	g->type = t;
	g->owner = xstrdup(owner);
	g->group = xstrdup(owner);
	g->mode = t == GFILE_DIR ? 0700 : 0600;
	if (data != NULL) {
		g->data = xstrdup(data);
		g->len = strlen(data);
	}
}

static void
test_merge(void **state)
{
	char *dir = test_mkdtemp();
	struct gfiles f = {0};
	struct overlay ov = {0};
	const struct gfile *g;
	char *bad = NULL;

	(void)state;
	assert_int_equal(test_sh("cd %s && mkdir -p ov/etc/sbx ov/aaa && "
				 "printf mine >ov/etc/hostname && "
				 "printf new >ov/etc/sbx/new && chmod 750 "
				 "ov/etc/sbx/new && ln -s hostname ov/etc/ln",
				 dir),
			 0);
	add(&f, "/etc", GFILE_DIR, "dev", NULL);
	add(&f, "/etc/hostname", GFILE_REG, "dev", "rendered");
	add(&f, "/etc/zz", GFILE_REG, "root", "z");
	assert_int_equal(overlay_scan(dir, "ov", &ov, &bad), 0);
	assert_int_equal(overlay_add_files(&f, &ov, &bad), 0);
	/* The rendered /etc keeps its owner and mode. */
	g = gfiles_find(&f, "/etc");
	assert_string_equal(g->owner, "dev");
	assert_int_equal(g->mode, 0700);
	/* The overlay's file wins, root-owned, with its bytes. */
	g = gfiles_find(&f, "/etc/hostname");
	assert_int_equal(g->type, GFILE_REG);
	assert_string_equal(g->owner, "root");
	assert_int_equal(g->len, 4);
	assert_memory_equal(g->data, "mine", 4);
	g = gfiles_find(&f, "/etc/sbx/new");
	assert_int_equal(g->mode, 0755); /* normalised by the scan */
	assert_memory_equal(g->data, "new", 3);
	g = gfiles_find(&f, "/etc/ln");
	assert_int_equal(g->type, GFILE_SYMLINK);
	assert_string_equal(g->target, "hostname");
	assert_non_null(gfiles_find(&f, "/aaa"));
	/* Sorted, each path once. */
	for (size_t i = 1; i < f.n; i++)
		assert_true(strcmp(f.v[i - 1].path, f.v[i].path) < 0);
	assert_int_equal(f.n, 7); /* /aaa /etc hostname ln sbx sbx/new zz */
	overlay_release(&ov);
	gfiles_release(&f);
	test_rmdir(dir);
}

/* A file that vanished between the scan and the read is named. */
static void
test_unreadable(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *gone = path_join(dir, "ov/gone");
	struct gfiles f = {0};
	struct overlay ov = {0};
	char *bad = NULL;

	(void)state;
	assert_int_equal(test_sh("mkdir -p %s/ov && echo x >%s", dir, gone), 0);
	assert_int_equal(overlay_scan(dir, "ov", &ov, &bad), 0);
	assert_int_equal(unlink(gone), 0);
	assert_int_equal(overlay_add_files(&f, &ov, &bad), -ENOENT);
	assert_string_equal(bad, gone);
	free(bad);
	overlay_release(&ov);
	gfiles_release(&f);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
