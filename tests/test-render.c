/* render: the default recipes' files against reviewed golden copies
 * (tests/fixtures/render/VM/...; SBX_UPDATE_GOLDEN=1 rewrites them), the
 * generated shell scripts through shellcheck, the nftables ruleset through
 * 'nft -c', and the recipe switches one by one. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>

#include "testutil.h"

#include "escape.h"
#include "recipe.h"
#include "render.h"

#define GOLDEN TEST_FIXTURES "/render"

static const char *const vms[] = {"proxy", "dev"};

/* The default recipes, with each (from, to) replacement applied to the
 * text of the file named file (NULL: none). */
static struct recipe_set *
load(const char *file, const char *const *edits)
{
	static const char *const names[] = {
		"recipes/bases.yaml", "recipes/dev.yaml", "recipes/proxy.yaml"};
	char *texts[3];
	struct recipe_set *set = NULL;
	struct diag_list *d = NULL;
	int r;

	for (size_t i = 0; i < 3; i++) {
		texts[i] = test_read(names[i]);
		for (size_t j = 0;
		     file && strcmp(names[i], file) == 0 && edits[j] != NULL;
		     j += 2) {
			char *at = strstr(texts[i], edits[j]);
			char *t;

			assert_non_null(at);
			t = xasprintf("%.*s%s%s", (int)(at - texts[i]),
				      texts[i], edits[j + 1],
				      at + strlen(edits[j]));
			free(texts[i]);
			texts[i] = t;
		}
	}
	r = recipe_set_load_texts(".", names, (const char *const *)texts, 3,
				  &set, &d);
	if (r < 0)
		diag_print(d, stderr);
	assert_int_equal(r, 0);
	diag_list_free(d);
	for (size_t i = 0; i < 3; i++)
		free(texts[i]);
	return set;
}

static int
render(const struct recipe_set *set, const char *vm,
       const struct render_input *extra, struct gfiles *out,
       struct diag_list **ret_d)
{
	struct render_input in = {0};
	struct diag_list *d = diag_list_new();
	int r;

	if (extra != NULL)
		in = *extra;
	else
		in.placeholder_secrets = true;
	in.set = set;
	in.vm = recipe_find_vm(set, vm);
	assert_non_null(in.vm);
	r = render_vm(&in, out, d);
	if (ret_d != NULL)
		*ret_d = d;
	else
		diag_list_free(d);
	return r;
}

static const char *
data_of(const struct gfiles *f, const char *path)
{
	const struct gfile *g = gfiles_find(f, path);

	if (g == NULL)
		fail_msg("no rendered file '%s'", path);
	return g->data;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

static void
assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("'%s' unexpectedly found in:\n%s", needle, hay);
}

/* --- golden files ------------------------------------------------------ */

static const char *golden_root;
static const struct gfiles *golden_files;
static int golden_extra;

static int
golden_walk(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + strlen(golden_root);

	(void)st;
	(void)ftw;
	if (type != FTW_F || strcmp(rel, "/.owners") == 0)
		return 0;
	if (gfiles_find(golden_files, rel) == NULL) {
		print_error("golden file '%s' is no longer rendered\n", path);
		golden_extra++;
	}
	return 0;
}

static void
check_golden(const char *vm, const struct gfiles *f)
{
	CLEANUP_FREE char *root = xasprintf(GOLDEN "/%s", vm);
	CLEANUP_FREE char *owners_path = path_join(root, ".owners");
	struct strbuf owners = STRBUF_INIT;
	bool update = getenv("SBX_UPDATE_GOLDEN") != NULL &&
		      strcmp(getenv("SBX_UPDATE_GOLDEN"), "1") == 0;
	int bad = 0;

	gfiles_format_owners(f, &owners);
	if (update) {
		assert_int_equal(rm_rf(root), 0);
		assert_int_equal(mkdir_p(root, 0755), 0);
		assert_int_equal(write_file_atomic(owners_path, owners.buf,
						   owners.len, 0644),
				 0);
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct gfile *g = &f->v[i];
		CLEANUP_FREE char *p = xasprintf("%s%s", root, g->path);
		char *want = NULL;
		size_t len;

		if (g->type != GFILE_REG)
			continue;
		if (update) {
			char *slash = strrchr(p, '/');

			*slash = '\0';
			assert_int_equal(mkdir_p(p, 0755), 0);
			*slash = '/';
			assert_int_equal(
				write_file_atomic(p, g->data, g->len, 0644), 0);
			continue;
		}
		if (read_file(p, &want, &len) < 0) {
			print_error("missing golden file '%s' (run with "
				    "SBX_UPDATE_GOLDEN=1 and review)\n",
				    p);
			bad++;
			continue;
		}
		if (len != g->len || memcmp(want, g->data, len) != 0) {
			print_error("'%s' differs from its golden copy '%s':\n"
				    "--- got\n%s--- want\n%s---\n",
				    g->path, p, g->data, want);
			bad++;
		}
		free(want);
	}
	if (!update) {
		CLEANUP_FREE char *want = test_read(owners_path);

		if (strcmp(want, owners.buf) != 0) {
			print_error("owners and modes differ from '%s':\n"
				    "--- got\n%s--- want\n%s---\n",
				    owners_path, owners.buf, want);
			bad++;
		}
		golden_root = root;
		golden_files = f;
		golden_extra = 0;
		assert_int_equal(nftw(root, golden_walk, 16, FTW_PHYS), 0);
		bad += golden_extra;
	}
	sb_release(&owners);
	assert_int_equal(bad, 0);
}

static void
test_golden(void **state)
{
	struct recipe_set *set = load(NULL, NULL);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(vms); i++) {
		struct gfiles f;

		assert_int_equal(render(set, vms[i], NULL, &f, NULL), 0);
		check_golden(vms[i], &f);
		gfiles_release(&f);
	}
	recipe_set_free(set);
}

/* --- the real readers -------------------------------------------------- */

static void
test_shellcheck(void **state)
{
	struct recipe_set *set = load(NULL, NULL);
	char *dir = test_mkdtemp();
	int scripts = 0;

	(void)state;
	if (!test_have("shellcheck")) {
		test_rmdir(dir);
		recipe_set_free(set);
		test_missing("shellcheck");
	}
	for (size_t i = 0; i < ARRAY_SIZE(vms); i++) {
		struct gfiles f;

		assert_int_equal(render(set, vms[i], NULL, &f, NULL), 0);
		for (size_t j = 0; j < f.n; j++) {
			const struct gfile *g = &f.v[j];
			CLEANUP_FREE char *p = NULL;

			if (g->type != GFILE_REG ||
			    !str_starts_with(g->data, "#!/bin/sh"))
				continue;
			assert_true(g->mode & 0100);
			p = xasprintf("%s/script-%d", dir, scripts++);
			test_write(p, g->data);
			if (test_sh("shellcheck -s sh %s", p) != 0)
				fail_msg("shellcheck rejects %s of VM '%s'",
					 g->path, vms[i]);
		}
		gfiles_release(&f);
	}
	assert_true(scripts >= 3); /* sbx-ssh-keys x2, sbx-gui */
	test_rmdir(dir);
	recipe_set_free(set);
}

static void
test_nft(void **state)
{
	struct recipe_set *set = load(NULL, NULL);
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *p = path_join(dir, "sbx.nft");
	struct gfiles f;
	int st;

	(void)state;
	assert_int_equal(render(set, "proxy", NULL, &f, NULL), 0);
	test_write(p, data_of(&f, "/etc/nftables/sbx.nft"));
	/* Loaded by our own unit: nftables.service flushes every table. */
	assert_lacks(data_of(&f, "/etc/sysconfig/nftables.conf"), "include");
	assert_contains(data_of(&f, "/etc/systemd/system/sbx-firewall.service"),
			"ExecReload=nft -f /etc/nftables/sbx.nft\n");
	gfiles_release(&f);
	if (!test_have("nft")) {
		test_rmdir(dir);
		recipe_set_free(set);
		test_missing("nft");
	}
	/* A private network namespace: the check needs no real tables. */
	st = test_sh("unshare -n nft -c -f %s", p);
	if (st != 0)
		st = test_sh("nft -c -f %s", p);
	assert_int_equal(st, 0);
	/* And it really says something: a broken ruleset fails. */
	test_write(p, "table inet sbx { chain c { nonsense; } }\n");
	assert_int_not_equal(test_sh("unshare -n nft -c -f %s 2>/dev/null", p),
			     0);
	test_rmdir(dir);
	recipe_set_free(set);
}

/* --- several VMs behind one proxy VM ----------------------------------- */

/* The default recipes plus recipes/dev2.yaml: dev with another name, CID,
 * MAC and address (EDITS, if any, applied to dev2's text after that). */
static struct recipe_set *
load_two(const char *const *edits)
{
	static const char *const names[] = {
		"recipes/bases.yaml", "recipes/dev.yaml", "recipes/dev2.yaml",
		"recipes/proxy.yaml"};
	static const char *const dev2[] = {"vm: dev\n",
					   "vm: dev2\n",
					   "hostname: sbx-dev",
					   "hostname: sbx-dev2",
					   "vsock-cid: 3",
					   "vsock-cid: 5",
					   "4c:01:21",
					   "4c:01:31",
					   "192.168.76.21/24",
					   "192.168.76.22/24",
					   NULL};
	char *texts[4];
	struct recipe_set *set = NULL;
	struct diag_list *d = NULL;
	int r;

	texts[0] = test_read(names[0]);
	texts[1] = test_read(names[1]);
	texts[2] = test_read(names[1]);
	texts[3] = test_read(names[3]);
	for (int k = 0; k < 2; k++) {
		const char *const *e = k == 0 ? dev2 : edits;

		for (size_t j = 0; e != NULL && e[j] != NULL; j += 2) {
			char *at = strstr(texts[2], e[j]);
			char *t;

			assert_non_null(at);
			t = xasprintf("%.*s%s%s", (int)(at - texts[2]),
				      texts[2], e[j + 1], at + strlen(e[j]));
			free(texts[2]);
			texts[2] = t;
		}
	}
	r = recipe_set_load_texts(".", names, (const char *const *)texts, 4,
				  &set, &d);
	if (r < 0)
		diag_print(d, stderr);
	assert_int_equal(r, 0);
	diag_list_free(d);
	for (size_t i = 0; i < 4; i++)
		free(texts[i]);
	return set;
}

/* Two dev VMs behind one proxy VM: a NIC each on the proxy VM (named,
 * MAC derived), a /32 with a host route to its own VM only, both in the
 * firewall's link set with their own source address, both allowed by
 * tinyproxy, both named in the egress log; nft accepts the ruleset. */
static void
test_two_dev_vms(void **state)
{
	struct recipe_set *set = load_two(NULL);
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *p = path_join(dir, "sbx.nft");
	struct gfiles f;
	const char *s;

	(void)state;
	assert_int_equal(render(set, "proxy", NULL, &f, NULL), 0);
	s = data_of(&f, "/etc/systemd/network/10-sbx-internal.link");
	assert_contains(s, "MACAddress=52:54:00:4c:01:11\n");
	assert_contains(s, "Name=internal\n");
	s = data_of(&f, "/etc/systemd/network/10-sbx-internal1.link");
	assert_contains(s, "MACAddress=52:54:00:4c:01:12\n");
	assert_contains(s, "Name=internal1\n");
	s = data_of(&f, "/etc/NetworkManager/system-connections/"
			"sbx-internal.nmconnection");
	assert_contains(s, "\nid=internal\n");
	assert_contains(s, "\nmac-address=52:54:00:4c:01:11\n");
	assert_contains(s, "\naddress1=192.168.76.11/32\nroute1=192.168.76.21/"
			   "32\n");
	s = data_of(&f, "/etc/NetworkManager/system-connections/"
			"sbx-internal1.nmconnection");
	assert_contains(s, "\nid=internal1\n");
	assert_contains(s, "\nmac-address=52:54:00:4c:01:12\n");
	assert_contains(s, "\naddress1=192.168.76.11/32\nroute1=192.168.76.22/"
			   "32\n");
	assert_lacks(s, "/24");
	assert_int_equal(gfiles_find(&f, "/etc/NetworkManager/"
					 "system-connections/"
					 "sbx-internal1.nmconnection")
				 ->mode,
			 0600);
	s = data_of(&f, "/etc/nftables/sbx.nft");
	assert_contains(s, "iifname { \"internal\", \"internal1\" } jump "
			   "input_internal\n");
	assert_contains(s, "iifname { \"internal\", \"internal1\" } jump "
			   "forward_internal\n");
	assert_contains(s, "\t\tiifname \"internal\" ip saddr != 192.168.76.21 "
			   "counter drop # dev\n");
	assert_contains(s, "\t\tiifname \"internal1\" ip saddr != "
			   "192.168.76.22 counter drop # dev2\n");
	test_write(p, s);
	for (int i = 0; i < 2; i++) {
		s = data_of(&f, i == 0 ? "/etc/sbx/tinyproxy/tinyproxy-http/"
					 "tinyproxy.conf"
				       : "/etc/sbx/tinyproxy/tinyproxy-ssh/"
					 "tinyproxy.conf");
		assert_contains(s, "\n# dev\nAllow 192.168.76.21\n# dev2\n"
				   "Allow 192.168.76.22\n");
	}
	s = data_of(&f, "/usr/local/libexec/sbx-egress.awk");
	assert_contains(s, "vm[\"192.168.76.21\"] = \"dev\"\n");
	assert_contains(s, "vm[\"192.168.76.22\"] = \"dev2\"\n");
	/* The services publish on the one address, every link's. */
	assert_contains(data_of(&f, "/etc/containers/systemd/"
				    "tinyproxy-http.container"),
			"\nPublishPort=192.168.76.11:8443:8888\n");
	gfiles_release(&f);
	/* dev2 itself: its own address, the proxy VM's proxies. */
	assert_int_equal(render(set, "dev2", NULL, &f, NULL), 0);
	s = data_of(&f, "/etc/NetworkManager/system-connections/"
			"sbx-internal.nmconnection");
	assert_contains(s, "\naddress1=192.168.76.22/24\n");
	assert_contains(s, "\nmac-address=52:54:00:4c:01:31\n");
	assert_contains(data_of(&f, "/etc/environment"),
			"http_proxy=http://192.168.76.11:8443");
	gfiles_release(&f);
	recipe_set_free(set);
	if (!test_have("nft")) {
		test_rmdir(dir);
		test_missing("nft");
	}
	assert_int_equal(
		test_sh("unshare -n nft -c -f %s || nft -c -f %s", p, p), 0);
	test_rmdir(dir);
}

/* --- the model --------------------------------------------------------- */

static void
test_proxy_vm(void **state)
{
	struct recipe_set *set = load(NULL, NULL);
	struct gfiles f;
	const char *s;

	(void)state;
	assert_int_equal(render(set, "proxy", NULL, &f, NULL), 0);
	s = data_of(&f, "/etc/sbx/tinyproxy/tinyproxy-http/tinyproxy.conf");
	assert_contains(s, "\nPort 8888\n");
	assert_contains(s, "\nConnectPort 443\n");
	assert_contains(s, "\nDisableViaHeader Yes\n");
	assert_contains(s, "\nLogLevel Info\n");
	/* The one VM behind it, by its address. */
	assert_contains(s, "\n# dev\nAllow 192.168.76.21\n");
	assert_lacks(s, "192.168.76.0/24");
	assert_lacks(s, "0.0.0.0");
	assert_lacks(s, "Filter");
	assert_null(gfiles_find(&f, "/etc/sbx/tinyproxy/tinyproxy-http/"
				    "filter"));
	s = data_of(&f, "/etc/sbx/tinyproxy/tinyproxy-ssh/tinyproxy.conf");
	assert_contains(s, "\nPort 8822\n");
	assert_contains(s, "\nConnectPort 22\n");
	assert_contains(s, "\nFilterDefaultDeny Yes\n");
	assert_contains(data_of(&f, "/etc/sbx/tinyproxy/tinyproxy-ssh/filter"),
			"\n^github\\.com$\n");
	s = data_of(&f, "/etc/containers/systemd/tinyproxy-http.container");
	assert_contains(s, "\nPublishPort=192.168.76.11:8443:8888\n");
	assert_contains(s, "\nDNS=10.0.21.2\n");
	assert_contains(s, "\nImage=sbx-tinyproxy.image\nPull=never\n");
	assert_contains(s, "\nWantedBy=multi-user.target\n");
	s = data_of(&f, "/etc/containers/systemd/tinyproxy-ssh.container");
	assert_contains(s, "\nPublishPort=192.168.76.11:8222:8822\n");
	s = data_of(&f, "/etc/containers/systemd/pihole.container");
	assert_contains(s, "\nIP=10.0.21.2\n");
	assert_contains(s, "\nImage=pihole.image\nPull=never\n");
	assert_contains(s, "\nEnvironmentFile=/etc/sbx/secrets/pihole.env\n");
	assert_lacks(s, "password");
	assert_int_equal(gfiles_find(&f, "/etc/sbx/secrets/pihole.env")->mode,
			 0600);
	assert_contains(data_of(&f, "/etc/sbx/secrets/pihole.env"),
			"\nFTLCONF_webserver_api_password=(secret "
			"pihole-password)\n");
	assert_contains(data_of(&f, "/etc/containers/systemd/sbx.network"),
			"\nSubnet=10.0.21.0/24\n");
	assert_non_null(gfiles_find(&f, "/var/lib/sbx/pihole"));
	s = data_of(&f, "/etc/systemd/network/10-sbx-internal.link");
	assert_contains(s, "MACAddress=52:54:00:4c:01:11\n");
	assert_contains(s, "Name=internal\n");
	assert_int_equal(gfiles_find(&f, "/etc/NetworkManager/"
					 "system-connections/"
					 "sbx-uplink.nmconnection")
				 ->mode,
			 0600);
	s = data_of(&f, "/etc/nftables/sbx.nft");
	assert_contains(s, "iifname \"internal\" jump forward_internal");
	assert_contains(s, "policy drop;");
	/* Only the DNAT'ed proxy ports cross from the internal link. */
	assert_contains(s, "ct original ip daddr 192.168.76.11 meta l4proto "
			   "tcp ct original proto-dst { 8443, 8222 } ip "
			   "daddr @containers tcp dport { 8888, 8822 } "
			   "accept\n\t\tcounter drop\n");
	assert_null(gfiles_find(&f, "/etc/environment"));
	assert_null(gfiles_find(&f, "/usr/local/bin/sbx-gui"));
	gfiles_release(&f);
	recipe_set_free(set);
}

static void
test_dev_vm(void **state)
{
	struct recipe_set *set = load(NULL, NULL);
	struct gfiles f;
	const struct gfile *g;
	const char *s;

	(void)state;
	assert_int_equal(render(set, "dev", NULL, &f, NULL), 0);
	s = data_of(&f, "/etc/environment");
	assert_contains(s, "\nhttp_proxy=http://192.168.76.11:8443\n");
	assert_contains(s, "\nHTTPS_PROXY=http://192.168.76.11:8443\n");
	assert_contains(s, "\nno_proxy=localhost,127.0.0.1\n");
	assert_contains(s, "\nNO_PROXY=localhost,127.0.0.1\n");
	assert_contains(data_of(&f, "/etc/dnf/libdnf5.conf.d/"
				    "50-sbx-proxy.conf"),
			"[main]\nproxy=http://192.168.76.11:8443\n");
	g = gfiles_find(&f, "/home/dev/.ssh/config");
	assert_non_null(g);
	assert_string_equal(g->owner, "dev");
	assert_int_equal(g->mode, 0600);
	/* OpenBSD netcat by its path: Fedora's 'nc' may be nmap-ncat. */
	assert_contains(g->data, "ProxyCommand /usr/bin/netcat -X connect -x "
				 "192.168.76.11:8222 %h %p\n");
	g = gfiles_find(&f, "/home/dev/.ssh");
	assert_int_equal(g->type, GFILE_DIR);
	assert_int_equal(g->mode, 0700);
	assert_contains(data_of(&f, "/usr/local/bin/sbx-gui"),
			"exec waypipe --vsock -s 2:4000 server -- \"$@\"\n");
	s = data_of(&f, "/etc/NetworkManager/system-connections/"
			"sbx-internal.nmconnection");
	assert_contains(s, "never-default=true\n");
	assert_contains(s, "ignore-auto-dns=true\n");
	assert_lacks(s, "gateway");
	assert_lacks(s, "\ndns=");
	g = gfiles_find(&f, "/etc/systemd/system/multi-user.target.wants/"
			    "sbx-ssh-keys.service");
	assert_int_equal(g->type, GFILE_SYMLINK);
	assert_string_equal(g->target,
			    "/etc/systemd/system/sbx-ssh-keys.service");
	s = data_of(&f, "/etc/systemd/system/sbx-ssh-keys.service");
	assert_contains(s, "ImportCredential=sbx.ssh.authorized_keys\n");
	assert_contains(s, "ExecStart=/usr/local/libexec/sbx-ssh-keys dev\n");
	/* It runs without the credential too, and says so on the console,
	 * where run-VM.sh --status reads it. */
	assert_lacks(s, "ConditionCredential");
	assert_contains(s, "StandardOutput=journal+console\n");
	s = data_of(&f, "/usr/local/libexec/sbx-ssh-keys");
	assert_contains(s, "echo \"sbx-ssh-keys: missing: ");
	assert_contains(s, "echo \"sbx-ssh-keys: installed for $*\"");
	assert_string_equal(data_of(&f, "/etc/machine-id"), "uninitialized\n");
	assert_contains(data_of(&f, "/etc/ssh/sshd_config.d/10-sbx.conf"),
			"PasswordAuthentication no\n");
	assert_null(gfiles_find(&f, "/etc/nftables/sbx.nft"));
	assert_null(gfiles_find(&f, "/etc/sudoers.d/90-sbx"));
	gfiles_release(&f);
	recipe_set_free(set);
}

/* The proxy VM's numbers reach the dev VM from one place. */
static void
test_dev_follows_proxy(void **state)
{
	static const char *const edits[] = {
		"address: 192.168.76.11/24",
		"address: 192.168.76.12/24",
		"publish: 8443",
		"publish: 3128",
		"publish: 8222",
		"publish: 2222",
		NULL,
	};
	struct recipe_set *set = load("recipes/proxy.yaml", edits);
	struct gfiles f;

	(void)state;
	assert_int_equal(render(set, "dev", NULL, &f, NULL), 0);
	assert_contains(data_of(&f, "/etc/environment"),
			"http_proxy=http://192.168.76.12:3128\n");
	assert_contains(data_of(&f, "/home/dev/.ssh/config"),
			"-x 192.168.76.12:2222 ");
	gfiles_release(&f);
	assert_int_equal(render(set, "proxy", NULL, &f, NULL), 0);
	assert_contains(data_of(&f, "/etc/containers/systemd/"
				    "tinyproxy-http.container"),
			"PublishPort=192.168.76.12:3128:8888\n");
	gfiles_release(&f);
	recipe_set_free(set);
}

static void
test_http_allow_list(void **state)
{
	static const char *const edits[] = {
		"allow-list: false",
		"allow-list: true",
		"domains: []",
		"domains: [Fedoraproject.org, .pypi.org]",
		NULL,
	};
	struct recipe_set *set = load("recipes/proxy.yaml", edits);
	struct gfiles f;

	(void)state;
	assert_int_equal(render(set, "proxy", NULL, &f, NULL), 0);
	assert_contains(data_of(&f, "/etc/sbx/tinyproxy/tinyproxy-http/"
				    "tinyproxy.conf"),
			"Filter \"/etc/tinyproxy/filter\"\n"
			"FilterDefaultDeny Yes\n");
	assert_contains(data_of(&f, "/etc/sbx/tinyproxy/tinyproxy-http/"
				    "filter"),
			"\n^fedoraproject\\.org$\n^pypi\\.org$\n"
			"\\.pypi\\.org$\n");
	gfiles_release(&f);
	recipe_set_free(set);
}

static void
test_bad_domain(void **state)
{
	/* Loading refuses it (validate.c); the renderer must too. */
	struct recipe_set *set = load(NULL, NULL);
	struct strlist *l =
		&recipe_find_vm(set, "proxy")->proxy_server.ssh.domains;
	struct diag_list *d;
	struct gfiles f;

	(void)state;
	l->v = xrealloc(l->v, (l->n + 2) * sizeof(*l->v));
	l->pos = xrealloc(l->pos, (l->n + 1) * sizeof(*l->pos));
	l->pos[l->n] = l->pos[0];
	l->v[l->n++] = xstrdup("a b");
	l->v[l->n] = NULL;
	assert_int_equal(render(set, "proxy", NULL, &f, &d), -EINVAL);
	assert_int_equal(diag_count(d), 1);
	assert_non_null(strstr(diag_message(d, 0), "recipes/proxy.yaml:"));
	assert_non_null(strstr(diag_message(d, 0), "'a b' is not a domain"));
	diag_list_free(d);
	recipe_set_free(set);
}

static void
test_secrets(void **state)
{
	static const struct render_secret sec[] = {
		{"pihole-password", "s3cretValue"},
		{"user:sbx", "unused-here"},
	};
	struct render_input in = {.secrets = sec, .nsecrets = 2};
	struct recipe_set *set = load(NULL, NULL);
	struct diag_list *d;
	struct gfiles f;

	(void)state;
	assert_int_equal(render(set, "proxy", &in, &f, NULL), 0);
	assert_contains(data_of(&f, "/etc/sbx/secrets/pihole.env"),
			"\nFTLCONF_webserver_api_password=s3cretValue\n");
	for (size_t i = 0; i < f.n; i++)
		if (f.v[i].type == GFILE_REG &&
		    strcmp(f.v[i].path, "/etc/sbx/secrets/pihole.env") != 0)
			assert_null(strstr(f.v[i].data, "s3cretValue"));
	gfiles_release(&f);
	/* Without the value, the recipe line of the secret is blamed. */
	in.nsecrets = 0;
	assert_int_equal(render(set, "proxy", &in, &f, &d), -EINVAL);
	assert_int_equal(diag_count(d), 1);
	assert_non_null(strstr(diag_message(d, 0), "recipes/proxy.yaml:"));
	assert_non_null(strstr(diag_message(d, 0), "'pihole-password'"));
	diag_list_free(d);
	recipe_set_free(set);
}

static void
test_baked_images(void **state)
{
	struct render_input in = {.placeholder_secrets = true};
	struct recipe_set *set = load(NULL, NULL);
	struct gfiles f;
	const char *s;

	(void)state;
	assert_int_equal(render(set, "proxy", &in, &f, NULL), 0);
	assert_null(gfiles_find(&f, "/etc/containers/systemd/"
				    "sbx-tinyproxy.build"));
	s = data_of(&f, "/etc/containers/systemd/pihole.image");
	assert_contains(s, "Image=dir:/var/lib/sbx/images/pihole\n"
			   "ImageTag=docker.io/pihole/pihole:2025.08.0\n");
	s = data_of(&f, "/etc/containers/systemd/sbx-tinyproxy.image");
	assert_contains(s, "(built from /etc/sbx/containers/tinyproxy at "
			   "build time)\n");
	assert_contains(s, "Image=dir:/var/lib/sbx/images/sbx-tinyproxy\n"
			   "ImageTag=localhost/sbx-tinyproxy:latest\n");
	s = data_of(&f, "/etc/containers/systemd/pihole.container");
	assert_contains(s, "Image=pihole.image\nPull=never\n");
	s = data_of(&f, "/etc/containers/systemd/tinyproxy-ssh.container");
	assert_contains(s, "Image=sbx-tinyproxy.image\nPull=never\n");
	gfiles_release(&f);
	recipe_set_free(set);
}

static void
test_users(void **state)
{
	static const char *const edits[] = {
		"    groups: [wheel]\n",
		"    groups: [wheel]\n    sudo: true\n"
		"    ssh-keys: ['ssh-ed25519 AAAAC3Nza test@host']\n",
		NULL,
	};
	struct recipe_set *set = load("recipes/dev.yaml", edits);
	struct gfiles f;
	const struct gfile *g;

	(void)state;
	assert_int_equal(render(set, "dev", NULL, &f, NULL), 0);
	g = gfiles_find(&f, "/etc/sudoers.d/90-sbx");
	assert_non_null(g);
	assert_int_equal(g->mode, 0440);
	assert_contains(g->data, "\ndev ALL=(ALL) NOPASSWD: ALL\n");
	g = gfiles_find(&f, "/home/dev/.ssh/authorized_keys");
	assert_non_null(g);
	assert_int_equal(g->mode, 0600);
	assert_string_equal(g->owner, "dev");
	assert_string_equal(g->data, "ssh-ed25519 AAAAC3Nza test@host\n");
	gfiles_release(&f);
	recipe_set_free(set);
}

static void
test_recipe_files(void **state)
{
	static const char *const edits[] = {
		"gui:\n",
		"files:\n"
		"  - path: /etc/motd.d/sbx\n"
		"    template: tests/fixtures/render-motd.tmpl\n"
		"  - path: /etc/hostname\n"
		"    content: \"override\\n\"\n"
		"    mode: \"0600\"\n"
		"gui:\n",
		NULL,
	};
	static const char *const tn[] = {"tests/fixtures/render-motd.tmpl"};
	static const char *const tt[] = {
		"{{vm}} at {{ internal_address }} via {{http_proxy}}\n"};
	static const char *const bad[] = {"{{nope}}\n"};
	struct render_input in = {
		.placeholder_secrets = true,
		.template_names = tn,
		.template_texts = tt,
		.ntemplates = 1,
	};
	struct recipe_set *set = load("recipes/dev.yaml", edits);
	struct diag_list *d;
	struct gfiles f;

	(void)state;
	assert_int_equal(render(set, "dev", &in, &f, NULL), 0);
	assert_string_equal(data_of(&f, "/etc/motd.d/sbx"),
			    "dev at 192.168.76.21 via "
			    "http://192.168.76.11:8443\n");
	assert_string_equal(data_of(&f, "/etc/hostname"), "override\n");
	assert_int_equal(gfiles_find(&f, "/etc/hostname")->mode, 0600);
	gfiles_release(&f);
	in.template_texts = bad;
	assert_int_equal(render(set, "dev", &in, &f, &d), -EINVAL);
	assert_int_equal(diag_count(d), 1);
	assert_non_null(strstr(diag_message(d, 0), "unknown variable 'nope'"));
	assert_non_null(strstr(diag_message(d, 0), "recipes/dev.yaml:"));
	diag_list_free(d);
	recipe_set_free(set);
}

/* The SSH ProxyCommand names OpenBSD netcat by its own path, per distro,
 * and the render insists that its package is installed. */
static void
test_ssh_netcat(void **state)
{
	static const char *const debian[] = {
		"base: fedora-44", "base: debian-13",
		"[waypipe, gnome-builder, netcat, git]",
		"[waypipe, netcat-openbsd, git]", NULL};
	static const char *const none[] = {
		"[waypipe, gnome-builder, netcat, git]", "[waypipe, git]",
		NULL};
	struct recipe_set *set = load("recipes/dev.yaml", debian);
	struct diag_list *d;
	struct gfiles f;

	(void)state;
	assert_int_equal(render(set, "dev", NULL, &f, NULL), 0);
	assert_contains(data_of(&f, "/home/dev/.ssh/config"),
			"ProxyCommand /bin/nc.openbsd -X connect -x ");
	gfiles_release(&f);
	recipe_set_free(set);

	set = load("recipes/dev.yaml", none);
	assert_int_equal(render(set, "dev", NULL, &f, &d), -EINVAL);
	assert_int_equal(diag_count(d), 1);
	assert_non_null(strstr(diag_message(d, 0),
			       "SSH through the proxy needs OpenBSD netcat "
			       "(/usr/bin/netcat): add 'netcat' to "
			       "'packages'"));
	diag_list_free(d);
	recipe_set_free(set);
}

static void
test_owners_listing(void **state)
{
	struct recipe_set *set = load(NULL, NULL);
	struct strbuf sb = STRBUF_INIT;
	struct gfiles f;

	(void)state;
	assert_int_equal(render(set, "dev", NULL, &f, NULL), 0);
	gfiles_format_owners(&f, &sb);
	assert_contains(sb.buf, "0600 dev:dev file /home/dev/.ssh/config\n");
	assert_contains(sb.buf,
			"0777 root:root symlink /etc/systemd/system/"
			"multi-user.target.wants/sbx-ssh-keys.service "
			"-> /etc/systemd/system/sbx-ssh-keys.service\n");
	for (size_t i = 1; i < f.n; i++)
		assert_true(strcmp(f.v[i - 1].path, f.v[i].path) < 0);
	sb_release(&sb);
	gfiles_release(&f);
	recipe_set_free(set);
}

/* --- hostile values (issue 19) ----------------------------------------- */

/* A line break followed by a directive, and each special character of
 * each format the renderers write (units, env files, nftables, tinyproxy,
 * shell, YAML, file names).  Every one carries the marker "INJECTED". */
static const char *const hostile[] = {
	"x\nExecStartPre=/bin/sh -c INJECTED",
	"x\r\nLD_PRELOAD=/tmp/INJECTED.so",
	"x\n[Service]\nINJECTED=1",
	"../../../tmp/INJECTED",
	"$(touch /tmp/INJECTED)",
	"`INJECTED`",
	"a\"INJECTED",
	"a'INJECTED",
	"INJECTED\\",
	"a\\\nINJECTED=1",
	"a%nINJECTED",
	"a;INJECTED",
	"a INJECTED",
	"a\tINJECTED",
	"#INJECTED",
	"a } INJECTED {",
	"a,INJECTED",
	"a:INJECTED",
	"a=INJECTED",
	"\x7fINJECTED",
	"-INJECTED",
	"INJECTED/",
};

/* A field of the recipe that reaches a rendered file, and the line
 * prefixes where a value that is not refused may show up. */
struct field {
	const char *vm, *name;
	char **(*get)(struct vm *vm);
	const char *const *lines;
};

#define FIELD(id, expr)                 \
	static char **id(struct vm *vm) \
	{                               \
		return &(expr);         \
	}
FIELD(f_hostname, vm->hostname)
FIELD(f_vm_file, vm->file)
FIELD(f_user, vm->users[0].name)
FIELD(f_nic_name, vm->nics[0].name)
FIELD(f_nic_mac, vm->nics[1].mac)
FIELD(f_nic_address, vm->nics[1].address)
FIELD(f_net_name, vm->networks[0].name)
FIELD(f_net_subnet, vm->networks[0].subnet)
FIELD(f_net_gateway, vm->networks[0].gateway)
FIELD(f_svc_name, vm->services[2].name)
FIELD(f_svc_image, vm->services[2].image)
FIELD(f_svc_network, vm->services[2].network)
FIELD(f_svc_ip, vm->services[2].ip)
FIELD(f_svc_port, vm->services[2].ports.v[0])
FIELD(f_svc_volume, vm->services[2].volumes.v[0])
FIELD(f_svc_env_key, vm->services[2].env[0].key)
FIELD(f_svc_env_value, vm->services[2].env[0].value)
FIELD(f_svc_secret_env, vm->services[2].secrets[0].env)
FIELD(f_svc_secret_name, vm->services[2].secrets[0].name)
FIELD(f_svc_restart, vm->services[2].restart)
FIELD(f_svc_build, vm->services[0].build)
FIELD(f_svc_dns, vm->services[0].dns_resolved)
FIELD(f_listener, vm->proxy_server.http.service)
FIELD(f_domain, vm->proxy_server.ssh.domains.v[0])
FIELD(f_no_proxy, vm->use_proxy.no_proxy.v[0])
FIELD(f_gui_app, vm->gui.apps.v[0])
FIELD(f_file_path, vm->files[0].path)
FIELD(f_file_owner, vm->files[0].owner)
FIELD(f_file_group, vm->files[0].group)
#undef FIELD

static const char *const none[] = {NULL};
/* The header comment of every file names the recipe file. */
static const char *const l_comment[] = {"# Generated by", "// Generated by",
					NULL};
/* An image reference is [A-Za-z0-9._/:-] (valid_image_ref): inert in the
 * .image unit's single-quoted tag command too. */
static const char *const l_image[] = {
	"Image=", "ImageTag=", "ExecStartPost=/bin/sh -c 'exec podman tag",
	NULL};
static const char *const l_port[] = {"PublishPort=", NULL};
static const char *const l_volume[] = {"Volume=", NULL};
static const char *const l_env[] = {"Environment=", NULL};
static const char *const l_secret[] = {"FTLCONF_webserver_api_password=", NULL};
static const char *const l_no_proxy[] = {"no_proxy=", "NO_PROXY=", NULL};
static const char *const l_gui[] = {"echo \"apps: ", NULL};

static const struct field fields[] = {
	{"proxy", "hostname", f_hostname, none},
	{"proxy", "recipe file", f_vm_file, l_comment},
	{"proxy", "user name", f_user, none},
	{"proxy", "NIC name", f_nic_name, none},
	{"proxy", "MAC", f_nic_mac, none},
	{"proxy", "NIC address", f_nic_address, none},
	{"proxy", "network name", f_net_name, none},
	{"proxy", "subnet", f_net_subnet, none},
	{"proxy", "gateway", f_net_gateway, none},
	{"proxy", "service name", f_svc_name, none},
	{"proxy", "image", f_svc_image, l_image},
	{"proxy", "service network", f_svc_network, none},
	{"proxy", "service ip", f_svc_ip, none},
	{"proxy", "port", f_svc_port, l_port},
	{"proxy", "volume", f_svc_volume, l_volume},
	{"proxy", "env key", f_svc_env_key, none},
	{"proxy", "env value", f_svc_env_value, l_env},
	{"proxy", "secret env", f_svc_secret_env, none},
	{"proxy", "secret name", f_svc_secret_name, l_secret},
	{"proxy", "restart", f_svc_restart, none},
	{"proxy", "build", f_svc_build, none},
	{"proxy", "dns", f_svc_dns, none},
	{"proxy", "listener service", f_listener, none},
	{"proxy", "domain", f_domain, none},
	{"dev", "hostname", f_hostname, none},
	{"dev", "user name", f_user, none},
	{"dev", "no-proxy", f_no_proxy, l_no_proxy},
	{"dev", "GUI app", f_gui_app, l_gui},
	{"dev", "file path", f_file_path, none},
	{"dev", "file owner", f_file_owner, none},
	{"dev", "file group", f_file_group, none},
};

static size_t
count_lines(const struct gfiles *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		for (const char *p = f->v[i].data; p != NULL && *p; p++)
			n += *p == '\n';
	return n;
}

static bool
line_allowed(const char *line, const char *const *lines)
{
	while (*line == ' ' || *line == '\t')
		line++;
	for (size_t i = 0; lines[i] != NULL; i++)
		if (str_starts_with(line, lines[i]))
			return true;
	return false;
}

/* A rendering the value was not refused from: not one line, file or
 * owner more than with a plain value, every path and owner clean, the
 * marker only on the lines of the field, no unit line continued, every
 * shell script parses. */
static void
assert_inert(const struct field *fl, const char *value, const struct gfiles *f,
	     const struct gfiles *base)
{
	struct strbuf owners = STRBUF_INIT;
	size_t nl = 0;

	if (f->n > base->n || count_lines(f) > count_lines(base))
		fail_msg("%s %s: %zu files, %zu lines (plain: %zu, %zu)",
			 fl->vm, fl->name, f->n, count_lines(f), base->n,
			 count_lines(base));
	gfiles_format_owners(f, &owners);
	for (size_t i = 0; i < owners.len; i++)
		nl += owners.buf[i] == '\n';
	assert_int_equal(nl, f->n);
	sb_release(&owners);
	for (size_t i = 0; i < f->n; i++) {
		const struct gfile *g = &f->v[i];
		const char *p = g->data;

		assert_true(esc_guest_path_ok(g->path));
		if (strstr(g->path, "INJECTED") != NULL)
			fail_msg("%s %s: path %s", fl->vm, fl->name, g->path);
		assert_true(esc_username_ok(g->owner));
		assert_true(esc_username_ok(g->group));
		if (p == NULL)
			continue;
		if (str_starts_with(p, "#!/bin/sh") && strstr(p, "INJECTED")) {
			CLEANUP_FREE char *dir = test_mkdtemp();
			CLEANUP_FREE char *sh = path_join(dir, "s");

			test_write(sh, p);
			if (test_sh("sh -n '%s'", sh) != 0)
				fail_msg("%s %s: %s does not parse", fl->vm,
					 fl->name, g->path);
			test_rmdir(xstrdup(dir));
		}
		while (*p) {
			const char *e = strchrnul(p, '\n');
			CLEANUP_FREE char *line = xstrndup(p, (size_t)(e - p));

			if (strstr(line, "INJECTED") &&
			    !line_allowed(line, fl->lines))
				fail_msg("%s %s = '%s': '%s' in %s", fl->vm,
					 fl->name, esc_show(value), line,
					 g->path);
			if (str_starts_with(g->path, "/etc/containers/") &&
			    str_ends_with(line, "\\"))
				fail_msg("%s: continued line '%s'", g->path,
					 line);
			p = *e ? e + 1 : e;
		}
	}
}

static void
test_hostile_values(void **state)
{
	static const char *const edits[] = {
		"gui:\n",
		"files:\n"
		"  - path: /etc/motd.d/sbx\n"
		"    content: \"hello\\n\"\n"
		"gui:\n",
		NULL,
	};
	size_t refused = 0, rendered = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *fl = &fields[i];

		for (size_t j = 0; j < ARRAY_SIZE(hostile); j++) {
			struct recipe_set *set =
				load("recipes/dev.yaml", edits);
			struct vm *vm = recipe_find_vm(set, fl->vm);
			struct render_input in = {
				.set = set,
				.vm = vm,
				.placeholder_secrets = true,
			};
			struct diag_list *d = diag_list_new();
			struct gfiles base, f;
			char **v = fl->get(vm);
			int r;

			assert_int_equal(render_vm(&in, &base, d), 0);
			free(*v);
			*v = xstrdup(hostile[j]);
			r = render_vm(&in, &f, d);
			if (r == 0) {
				assert_inert(fl, hostile[j], &f, &base);
				gfiles_release(&f);
				rendered++;
			} else {
				assert_int_equal(r, -EINVAL);
				assert_true(diag_count(d) > 0);
				refused++;
			}
			gfiles_release(&base);
			diag_list_free(d);
			recipe_set_free(set);
		}
	}
	/* Most are refused; the free-text fields render them quoted. */
	assert_true(refused > rendered);
	assert_true(rendered > 0);
}

/* Unquotes one word the way systemd does for Environment= (C escapes,
 * "%%"): what the service will see. */
static char *
systemd_unquote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	bool q = *s == '"';

	if (q)
		s++;
	for (; *s && !(q && *s == '"' && s[1] == '\0'); s++) {
		if (*s == '%') {
			assert_int_equal(s[1], '%');
			sb_putc(&sb, *++s);
		} else if (*s == '\\' && q) {
			s++;
			if (*s == 'n')
				sb_putc(&sb, '\n');
			else if (*s == 't')
				sb_putc(&sb, '\t');
			else if (*s == 'r')
				sb_putc(&sb, '\r');
			else if (*s == 'x') {
				unsigned v;

				assert_int_equal(sscanf(s + 1, "%2x", &v), 1);
				sb_putc(&sb, (char)v);
				s += 2;
			} else
				sb_putc(&sb, *s);
		} else {
			assert_true(q || (*s != ' ' && *s != '"'));
			sb_putc(&sb, *s);
		}
	}
	return sb_detach(&sb, NULL);
}

/* An environment value is free text: every hostile value renders as one
 * Environment= line that reads back as exactly itself. */
static void
test_hostile_env_value(void **state)
{
	(void)state;
	for (size_t j = 0; j < ARRAY_SIZE(hostile); j++) {
		struct recipe_set *set = load(NULL, NULL);
		struct vm *vm = recipe_find_vm(set, "proxy");
		struct render_input in = {
			.set = set, .vm = vm, .placeholder_secrets = true};
		struct diag_list *d = diag_list_new();
		struct kv *kv = &vm->services[2].env[0];
		CLEANUP_FREE char *want =
			xasprintf("%s=%s", kv->key, hostile[j]);
		CLEANUP_FREE char *got = NULL;
		struct gfiles f;
		const char *data, *at, *e;

		free(kv->value);
		kv->value = xstrdup(hostile[j]);
		assert_int_equal(render_vm(&in, &f, d), 0);
		data = data_of(&f, "/etc/containers/systemd/pihole.container");
		at = strstr(data, "\nEnvironment=\"TZ=");
		if (at == NULL)
			at = strstr(data, "\nEnvironment=TZ=");
		assert_non_null(at);
		at += strlen("\nEnvironment=");
		e = strchr(at, '\n');
		{
			CLEANUP_FREE char *word =
				xstrndup(at, (size_t)(e - at));

			got = systemd_unquote(word);
		}
		assert_string_equal(got, want);
		gfiles_release(&f);
		diag_list_free(d);
		recipe_set_free(set);
	}
}

/* The GUI helper's app list: run the script, the list comes out as is
 * and nothing in it runs. */
static void
test_hostile_gui_app(void **state)
{
	CLEANUP_FREE char *dir = test_mkdtemp();
	CLEANUP_FREE char *script = path_join(dir, "sbx-gui");
	CLEANUP_FREE char *out = path_join(dir, "out");
	CLEANUP_FREE char *mark = path_join(dir, "INJECTED");
	CLEANUP_FREE char *app = xasprintf(
		"$(touch %s)`touch %s`\"'\\$HOME;touch %s", mark, mark, mark);
	CLEANUP_FREE char *want = xasprintf("apps: %s\n", app);
	struct recipe_set *set = load(NULL, NULL);
	struct vm *vm = recipe_find_vm(set, "dev");
	struct render_input in = {
		.set = set, .vm = vm, .placeholder_secrets = true};
	struct diag_list *d = diag_list_new();
	struct gfiles f;
	char *text;

	(void)state;
	free(vm->gui.apps.v[0]);
	vm->gui.apps.v[0] = xstrdup(app);
	assert_int_equal(render_vm(&in, &f, d), 0);
	test_write(script, data_of(&f, "/usr/local/bin/sbx-gui"));
	assert_int_equal(test_sh("sh '%s' 2>'%s'", script, out), 2);
	text = test_read(out);
	assert_non_null(strstr(text, want));
	assert_int_equal(access(mark, F_OK), -1);
	free(text);
	gfiles_release(&f);
	diag_list_free(d);
	recipe_set_free(set);
	test_rmdir(xstrdup(dir));
}

/* A name that would lead a rendered file out of its directory is
 * refused, with the recipe position and the value shown escaped. */
static void
test_hostile_names(void **state)
{
	struct recipe_set *set = load(NULL, NULL);
	struct vm *vm = recipe_find_vm(set, "proxy");
	struct render_input in = {
		.set = set, .vm = vm, .placeholder_secrets = true};
	struct diag_list *d = diag_list_new();
	struct gfiles f;

	(void)state;
	free(vm->services[2].name);
	vm->services[2].name = xstrdup("../../x\ny");
	free(vm->networks[0].name);
	vm->networks[0].name = xstrdup("..");
	assert_int_equal(render_vm(&in, &f, d), -EINVAL);
	assert_true(diag_count(d) >= 2);
	assert_non_null(strstr(diag_message(d, 0), "recipes/proxy.yaml:"));
	for (size_t i = 0; i < diag_count(d); i++)
		assert_null(strchr(diag_message(d, i), '\n'));
	{
		bool svc = false, net = false;

		for (size_t i = 0; i < diag_count(d); i++) {
			svc |= strstr(diag_message(d, i),
				      "service name '../../x\\ny'") != NULL;
			net |= strstr(diag_message(d, i),
				      "network name '..'") != NULL;
		}
		assert_true(svc);
		assert_true(net);
	}
	diag_list_free(d);
	recipe_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_shellcheck),
		cmocka_unit_test(test_nft),
		cmocka_unit_test(test_proxy_vm),
		cmocka_unit_test(test_two_dev_vms),
		cmocka_unit_test(test_dev_vm),
		cmocka_unit_test(test_ssh_netcat),
		cmocka_unit_test(test_dev_follows_proxy),
		cmocka_unit_test(test_http_allow_list),
		cmocka_unit_test(test_bad_domain),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_baked_images),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_recipe_files),
		cmocka_unit_test(test_owners_listing),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_hostile_env_value),
		cmocka_unit_test(test_hostile_gui_app),
		cmocka_unit_test(test_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
