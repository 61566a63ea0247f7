/* seed: the NoCloud documents hold every rendered file (but the ones
 * cloud-init must not get), and the ISO that xorriso writes reads back,
 * through xorriso, to exactly those documents. */
#include <errno.h>
#include <sys/stat.h>

#include "testutil.h"

#include "overlay-files.h"
#include "overlay.h"
#include "recipe.h"
#include "render.h"
#include "seed.h"
#include "ytree.h"

static int
b64val(char c)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = strchr(tab, c);

	return c != '\0' && p != NULL ? (int)(p - tab) : -1;
}

/* An independent decoder, so the test does not trust base64_encode. */
static char *
b64decode(const char *s, size_t n, size_t *ret_len)
{
	char *out = xmalloc(n / 4 * 3 + 1);
	size_t o = 0;

	assert_int_equal(n % 4, 0);
	for (size_t i = 0; i < n; i += 4) {
		int v[4];

		for (int k = 0; k < 4; k++)
			v[k] = s[i + k] == '=' ? 0 : b64val(s[i + k]);
		for (int k = 0; k < 4; k++)
			assert_true(v[k] >= 0);
		out[o++] = (char)(v[0] << 2 | v[1] >> 4);
		if (s[i + 2] != '=')
			out[o++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (s[i + 3] != '=')
			out[o++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	out[o] = '\0';
	*ret_len = o;
	return out;
}

struct ctx {
	struct recipe_set *set;
	const struct vm *vm;
	struct gfiles files;
	struct seed_docs docs;
};

static int
setup(void **state)
{
	static const struct render_secret sec[] = {
		{"pihole-password", "PiholeSecret123"},
	};
	struct ctx *c = xcalloc(1, sizeof(*c));
	struct diag_list *d = NULL;
	struct render_input in = {.secrets = sec, .nsecrets = 1};
	const char *hashes[] = {"$y$j9T$salt$hash", NULL};
	struct overlay ov = {0};
	char *bad = NULL;

	assert_int_equal(recipe_set_load(".", &c->set, &d), 0);
	diag_list_free(d);
	c->vm = recipe_find_vm(c->set, "proxy");
	in.set = c->set;
	in.vm = c->vm;
	d = diag_list_new();
	assert_int_equal(render_vm(&in, &c->files, d), 0);
	diag_list_free(d);
	/* As 'seed' does: the overlay's files join the rendered ones. */
	assert_int_equal(overlay_scan(".", "overlays/proxy", &ov, &bad), 0);
	assert_int_equal(overlay_add_files(&c->files, &ov, &bad), 0);
	overlay_release(&ov);
	seed_build(c->vm, &c->files, hashes, &c->docs);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	seed_docs_release(&c->docs);
	gfiles_release(&c->files);
	recipe_set_free(c->set);
	free(c);
	return 0;
}

/* Every rendered file is in user-data with its owner and mode, and its
 * content decodes to the very bytes of the render. */
static void
check_user_data(const struct gfiles *files, const char *ud)
{
	size_t seen = 0, want = 0;

	for (size_t i = 0; i < files->n; i++) {
		const struct gfile *g = &files->v[i];
		CLEANUP_FREE char *key = NULL;
		CLEANUP_FREE char *meta = NULL;
		CLEANUP_FREE char *data = NULL;
		const char *at, *content, *end;
		size_t len;

		if (g->type != GFILE_REG)
			continue;
		key = xasprintf("  - path: \"%s\"\n", g->path);
		at = strstr(ud, key);
		if (seed_skips(g->path)) {
			assert_null(at);
			continue;
		}
		want++;
		if (at == NULL)
			fail_msg("'%s' is not in user-data", g->path);
		meta = xasprintf("%s    owner: \"%s:%s\"\n"
				 "    permissions: \"0%o\"\n"
				 "    encoding: b64\n"
				 "    content: \"",
				 key, g->owner, g->group, g->mode);
		assert_true(strncmp(at, meta, strlen(meta)) == 0);
		content = at + strlen(meta);
		end = strchr(content, '"');
		assert_non_null(end);
		data = b64decode(content, (size_t)(end - content), &len);
		assert_int_equal(len, g->len);
		assert_memory_equal(data, g->data, len);
		seen++;
	}
	assert_int_equal(seen, want);
	assert_true(seen >= 15);
}

static void
test_documents(void **state)
{
	struct ctx *c = *state;
	const char *ud = c->docs.user_data;

	assert_true(str_starts_with(ud, "#cloud-config\n"));
	check_user_data(&c->files, ud);
	/* The overlay's Containerfile (checked byte for byte above) and the
	 * recipe's packages, which the bake installs. */
	assert_non_null(gfiles_find(
		&c->files, "/etc/sbx/containers/tinyproxy/Containerfile"));
	assert_non_null(strstr(
		ud, "  - path: "
		    "\"/etc/sbx/containers/tinyproxy/Containerfile\"\n"));
	assert_non_null(strstr(ud, "packages:\n  - \"podman\"\n"
				   "  - \"nftables\"\nwrite_files:\n"));
	assert_null(strstr(ud, "cloud-init.disabled"));
	assert_null(strstr(ud, "/etc/machine-id"));
	assert_non_null(strstr(ud,
			       "  - name: \"sbx\"\n    groups: [\"wheel\"]\n"
			       "    lock_passwd: false\n"
			       "    hashed_passwd: \"$y$j9T$salt$hash\"\n"));
	assert_non_null(strstr(ud, "ssh_pwauth: false\n"));
	assert_non_null(strstr(ud,
			       "  - [\"ln\", \"-sfn\", "
			       "\"/etc/systemd/system/sbx-ssh-keys.service\""));
	assert_non_null(strstr(ud, "  - [\"install\", \"-d\", \"-m\", "
				   "\"0700\", \"-o\", \"root\", \"-g\", "
				   "\"root\", \"/etc/sbx/secrets\"]\n"));
	assert_non_null(strstr(ud, "  - [\"systemctl\", \"enable\", \"--now\", "
				   "\"sbx-firewall.service\"]\n"));
	assert_non_null(strstr(ud, "\"tinyproxy-http.service\"]\n"));
	assert_non_null(
		strstr(c->docs.network_config,
		       "  internal:\n    match:\n      macaddress: "
		       "\"52:54:00:4c:01:11\"\n    set-name: internal\n"));
	assert_non_null(strstr(c->docs.network_config,
			       "addresses: [\"192.168.76.11/24\"]"));
	assert_true(
		str_starts_with(c->docs.meta_data, "instance-id: sbx-proxy-"));
}

static void
test_base64(void **state)
{
	CLEANUP_FREE char *a = base64_encode("", 0);
	CLEANUP_FREE char *b = base64_encode("f", 1);
	CLEANUP_FREE char *d = base64_encode("foob", 4);
	CLEANUP_FREE char *e = base64_encode("foobar", 6);

	(void)state;
	assert_string_equal(a, "");
	assert_string_equal(b, "Zg==");
	assert_string_equal(d, "Zm9vYg==");
	assert_string_equal(e, "Zm9vYmFy");
}

static void
test_iso_roundtrip(void **state)
{
	struct ctx *c = *state;
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *iso = path_join(dir, "proxy-seed.iso");
	CLEANUP_FREE char *x = path_join(dir, "x");
	const char *names[] = {"user-data", "meta-data", "network-config"};
	const char *texts[] = {c->docs.user_data, c->docs.meta_data,
			       c->docs.network_config};
	struct stat st;
	char *msg = NULL;
	int r;

	if (!test_have("xorriso")) {
		test_rmdir(dir);
		test_missing("xorriso");
	}
	r = seed_write_iso(iso, &c->docs, &msg);
	if (r < 0)
		fail_msg("seed_write_iso: %s (%s)", strerror(-r), msg);
	assert_int_equal(stat(iso, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(test_sh("xorriso -osirrox on -indev %s -extract / "
				 "%s >/dev/null 2>&1",
				 iso, x),
			 0);
	for (size_t i = 0; i < 3; i++) {
		CLEANUP_FREE char *p = path_join(x, names[i]);
		CLEANUP_FREE char *got = test_read(p);

		assert_string_equal(got, texts[i]);
	}
	/* The volume id that NoCloud looks for. */
	assert_int_equal(test_sh("xorriso -indev %s -pvd_info 2>/dev/null | "
				 "grep -q \"^Volume Id *: cidata$\"",
				 iso),
			 0);
	/* Nothing left behind: only the ISO and what we extracted. */
	assert_int_equal(test_sh("test \"$(ls -A %s | tr '\\n' ' ')\" = "
				 "\"proxy-seed.iso x \"",
				 dir),
			 0);
	test_rmdir(dir);
}

static void
test_iso_failure(void **state)
{
	struct ctx *c = *state;
	char *msg = NULL;

	(void)state;
	assert_true(seed_write_iso("/nonexistent/dir/seed.iso", &c->docs,
				   &msg) < 0);
	assert_non_null(msg);
	/* The whole message, naming what could not be made. */
	assert_non_null(strstr(msg, "cannot create '/nonexistent/dir/.seed-"));
	assert_non_null(strstr(msg, "No such file or directory"));
	free(msg);
}

/* Hostile values in every field the seed writes: each document parses
 * back (libyaml) with the same top-level keys, one NIC, and the value
 * exactly as given. */
static void
test_hostile_values(void **state)
{
	static const char *const hostile[] = {
		"x\nruncmd: [INJECTED]", "x\"\nINJECTED: 1", "'INJECTED'",
		"x: INJECTED",		 "- INJECTED",	     "#INJECTED",
		"x\\\"INJECTED",	 "{INJECTED: 1}",    "true",
		"\x7f\t\rINJECTED",
	};
	struct ctx *c = *state;
	struct vm *vm = (struct vm *)c->vm;
	const char *hashes[] = {"$y$j9T$salt$hash", NULL};

	for (size_t j = 0; j < ARRAY_SIZE(hostile); j++) {
		const char *v = hostile[j];
		char *saved[6] = {vm->hostname,	  vm->nics[0].name,
				  vm->file,	  vm->users[0].name,
				  vm->units.v[0], vm->packages.v[0]};
		struct seed_docs docs;
		struct diag_list *d = diag_list_new();
		struct ynode *ud = NULL, *nc = NULL, *md = NULL;
		const struct ynode *eth, *n, *u;

		vm->hostname = vm->nics[0].name = vm->file = (char *)v;
		vm->users[0].name = vm->units.v[0] = (char *)v;
		vm->packages.v[0] = (char *)v;
		seed_build(vm, &c->files, hashes, &docs);
		vm->packages.v[0] = saved[5];
		vm->hostname = saved[0];
		vm->nics[0].name = saved[1];
		vm->file = saved[2];
		vm->users[0].name = saved[3];
		vm->units.v[0] = saved[4];
		assert_int_equal(ytree_parse("user-data", docs.user_data,
					     strlen(docs.user_data), d, &ud),
				 0);
		assert_int_equal(
			ytree_parse("network-config", docs.network_config,
				    strlen(docs.network_config), d, &nc),
			0);
		assert_int_equal(ytree_parse("meta-data", docs.meta_data,
					     strlen(docs.meta_data), d, &md),
				 0);
		assert_int_equal(diag_count(d), 0);
		/* hostname, preserve_hostname, ssh_pwauth, disable_root,
		 * users, packages, write_files, runcmd */
		assert_int_equal(ynode_map_len(ud), 8);
		assert_string_equal(ynode_get(ud, "packages")->items[0]->str,
				    v);
		assert_string_equal(ynode_get(ud, "hostname")->str, v);
		u = ynode_get(ud, "users");
		assert_int_equal(u->n, vm->nusers);
		assert_string_equal(ynode_get(u->items[0], "name")->str, v);
		assert_int_equal(ynode_map_len(md), 2);
		assert_string_equal(ynode_get(md, "local-hostname")->str, v);
		eth = ynode_get(nc, "ethernets");
		assert_int_equal(ynode_map_len(nc), 2);
		assert_int_equal(ynode_map_len(eth), vm->nnics);
		/* vm->nics[0] is restored: look the hostile name up. */
		n = ynode_get(eth, v);
		assert_non_null(n);
		assert_string_equal(ynode_get(n, "set-name")->str, v);
		assert_null(strstr(docs.user_data, "\nINJECTED"));
		assert_null(strstr(docs.user_data, "\n  - [INJECTED]"));
		ynode_free(ud);
		ynode_free(nc);
		ynode_free(md);
		diag_list_free(d);
		seed_docs_release(&docs);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test_setup_teardown(test_hostile_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_documents, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iso_roundtrip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iso_failure, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
