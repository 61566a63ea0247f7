/* Manifests and input digests: the pure halves of reproducible and
 * incremental rebuilds. */
#include "testutil.h"

#include "diag.h"
#include "inputs.h"
#include "manifest.h"
#include "prepare.h"
#include "recipe.h"

static void
sample(struct manifest *m)
{
	struct mentry *e;

	memset(m, 0, sizeof(*m));
	m->vm = xstrdup("dev");
	e = manifest_add(m, "/etc/hostname", 'f');
	e->mode = 0644;
	e->size = 8;
	snprintf(e->sha256, sizeof(e->sha256), "%064d", 1);
	manifest_entry_set_label(e, "system_u:object_r:hostname_etc_t:s0");
	e = manifest_add(m, "/etc/sbx", 'd');
	e->mode = 0755;
	e = manifest_add(m, "/etc/localtime", 'l');
	e->mode = 0777;
	manifest_entry_set_target(e, "../usr/share/zoneinfo/UTC");
	e = manifest_add(m, "/home/dev/.ssh/config", 'f');
	e->mode = 0600;
	e->uid = e->gid = 1000;
	e->size = 80;
	snprintf(e->sha256, sizeof(e->sha256), "%064d", 2);
	manifest_finish(m);
}

static void
test_roundtrip(void **state)
{
	struct manifest a, b;
	struct diag_list *diags = diag_list_new();
	struct strbuf diff = STRBUF_INIT;
	char *text;
	size_t len;

	(void)state;
	sample(&a);
	/* Sorted by path whatever the insertion order. */
	assert_string_equal(a.v[0].path, "/etc/hostname");
	assert_string_equal(a.v[1].path, "/etc/localtime");
	assert_string_equal(a.v[3].path, "/home/dev/.ssh/config");
	assert_int_equal(manifest_to_text(&a, &text, &len), 0);
	assert_non_null(strstr(text, "mode: \"0600\""));
	assert_int_equal(manifest_parse("m", text, len, &b, diags), 0);
	assert_string_equal(a.digest, b.digest);
	assert_string_equal(b.vm, "dev");
	assert_int_equal(manifest_diff(&a, &b, &diff), 0);
	assert_int_equal(diff.len, 0);
	assert_string_equal(b.v[1].target, "../usr/share/zoneinfo/UTC");
	assert_string_equal(b.v[0].label,
			    "system_u:object_r:hostname_etc_t:s0");
	free(text);
	manifest_release(&a);
	manifest_release(&b);
	diag_list_free(diags);
}

/* Every kind of change shows, and changes the digest. */
static void
test_diff(void **state)
{
	struct manifest a, b;
	struct strbuf diff = STRBUF_INIT;
	struct mentry *e;

	(void)state;
	sample(&a);
	sample(&b);
	b.v[0].sha256[0] = 'f';		       /* /etc/hostname content */
	b.v[1].target[0] = '/';		       /* /etc/localtime target */
	b.v[3].mode = 0644;		       /* ssh config mode */
	e = manifest_add(&b, "/etc/zzz", 'f'); /* an extra file */
	snprintf(e->sha256, sizeof(e->sha256), "%064d", 3);
	free(a.v[2].path); /* rename /etc/sbx away */
	a.v[2].path = xstrdup("/etc/sba");
	manifest_finish(&a);
	manifest_finish(&b);
	assert_string_not_equal(a.digest, b.digest);
	assert_int_equal(manifest_diff(&a, &b, &diff), 6);
	assert_string_equal(
		diff.buf,
		"changed /etc/hostname: content sha256:000000000000 -> "
		"sha256:f00000000000\n"
		"changed /etc/localtime: target ../usr/share/zoneinfo/UTC -> "
		"/./usr/share/zoneinfo/UTC\n"
		"missing /etc/sba\n"
		"unexpected /etc/sbx\n"
		"unexpected /etc/zzz\n"
		"changed /home/dev/.ssh/config: mode 0600 -> 0644\n");
	sb_release(&diff);
	manifest_release(&a);
	manifest_release(&b);
}

static void
test_bad_manifest(void **state)
{
	struct diag_list *diags = diag_list_new();
	struct manifest m;
	const char *text = "vm: dev\npaths:\n  - {type: f}\n";

	(void)state;
	assert_int_equal(
		manifest_parse("m.yaml", text, strlen(text), &m, diags),
		-EINVAL);
	assert_string_equal(diag_message(diags, 0),
			    "m.yaml:3:5: 'path' missing or not a value");
	diag_list_free(diags);
}

/* The input digest follows the overlay's bytes and nothing else. */
static void
test_inputs_digest(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *rdir = path_join(dir, "recipes");
	CLEANUP_FREE char *odir = path_join(dir, "overlays/a/etc");
	CLEANUP_FREE char *recipe = path_join(rdir, "a.yaml");
	CLEANUP_FREE char *motd = path_join(odir, "motd");
	char d1[DIGEST_HEX_MAX], d2[DIGEST_HEX_MAX], d3[DIGEST_HEX_MAX];
	char d4[DIGEST_HEX_MAX];
	const char *text =
		"vm: a\nbase: {distro: debian, path: b.qcow2}\nvsock-cid: 3\n"
		"nics:\n  - {name: i, type: internal, mac: "
		"\"52:54:00:00:00:02\", address: 10.0.0.2/24}\n";

	(void)state;
	assert_int_equal(mkdir_p(rdir, 0755), 0);
	assert_int_equal(mkdir_p(odir, 0755), 0);
	test_write(recipe, text);
	test_write(motd, "hello\n");
	for (int round = 0; round < 4; round++) {
		struct recipe_set *set = NULL;
		struct diag_list *diags = NULL;
		struct plan plan;
		char *out = round == 0	 ? d1
			    : round == 1 ? d2
			    : round == 2 ? d3
					 : d4;

		if (round == 2)
			test_write(motd, "hellO\n");
		assert_int_equal(recipe_set_load(dir, &set, &diags), 0);
		assert_int_equal(
			prepare_plan(set, &set->vms[0], NULL, 0, &plan, diags),
			0);
		assert_int_equal(inputs_digest(&plan,
					       round == 3 ? "sha256:00" : NULL,
					       NULL, out),
				 0);
		plan_release(&plan);
		recipe_set_free(set);
		diag_list_free(diags);
	}
	assert_string_equal(d1, d2);	 /* nothing changed */
	assert_string_not_equal(d2, d3); /* one overlay byte */
	assert_string_not_equal(d3, d4); /* the base */
	test_rmdir(dir);
}

static void
digest_of(const char *dir, const char *recipe, const char *text,
	  char hex[DIGEST_HEX_MAX])
{
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;
	struct plan plan;

	test_write(recipe, text);
	assert_int_equal(recipe_set_load(dir, &set, &diags), 0);
	assert_int_equal(prepare_plan(set, &set->vms[0], NULL, 0, &plan, diags),
			 0);
	assert_int_equal(inputs_digest(&plan, NULL, NULL, hex), 0);
	plan_release(&plan);
	recipe_set_free(set);
	diag_list_free(diags);
}

/* Memory, CPUs, the vsock CID and host forwards only change the run
 * scripts (a forward's host port; its guest port may be in the
 * firewall): the image's digest stays, so no rebake.  The disk's size is
 * baked. */
static void
test_inputs_runtime(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *rdir = path_join(dir, "recipes");
	CLEANUP_FREE char *recipe = path_join(rdir, "a.yaml");
	char d1[DIGEST_HEX_MAX], d2[DIGEST_HEX_MAX], d3[DIGEST_HEX_MAX];
	const char *head = "vm: a\nbase: {distro: debian, path: b.qcow2}\n";
	const char *nic = "nics:\n  - {name: u, type: user, mac: "
			  "\"52:54:00:00:00:02\"%s}\n";
	CLEANUP_FREE char *t1 = NULL, *t2 = NULL, *t3 = NULL, *n1 = NULL,
			  *n2 = NULL;

	(void)state;
	assert_int_equal(mkdir_p(rdir, 0755), 0);
	n1 = xasprintf(nic, ", forwards: [{host: \"127.0.0.1:2222\", "
			    "guest: 22}]");
	n2 = xasprintf(nic, ", forwards: [{host: \"127.0.0.1:3333\", "
			    "guest: 22}]");
	t1 = xasprintf("%smemory: 2G\ncpus: 1\nvsock-cid: 3\n%s", head, n1);
	t2 = xasprintf("%smemory: 8G\ncpus: 4\nvsock-cid: 9\n%s", head, n2);
	t3 = xasprintf("%sdisk: 30G\nmemory: 2G\ncpus: 1\nvsock-cid: 3\n%s",
		       head, n1);
	digest_of(dir, recipe, t1, d1);
	digest_of(dir, recipe, t2, d2);
	digest_of(dir, recipe, t3, d3);
	assert_string_equal(d1, d2);	 /* run-time settings only */
	assert_string_not_equal(d1, d3); /* the disk's size */
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_bad_manifest),
		cmocka_unit_test(test_inputs_digest),
		cmocka_unit_test(test_inputs_runtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
