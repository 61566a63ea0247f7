/* runscript.c, outputs.c: the generated run scripts, run for real with a
 * fake QEMU (tests/fixtures/runscript/fake-qemu) that records its argv.
 * Every QEMU option the issue asks for is asserted on that argv, and so is
 * the absence of any listener but 127.0.0.1 forwards and private unix
 * sockets. */
#include "testutil.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "recipe.h"
#include "outputs.h"
#include "runscript.h"

#define FIX TEST_FIXTURES "/runscript"
#define KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBsbxtest test@host\n"

struct ctx {
	struct recipe_set *set;
	char *dir; /* scratch */
	char *out; /* DIR/out */
	char *env; /* env -i ... for the scripts */
	char *top; /* the source tree */
};

struct argv {
	char **v;
	size_t n;
};

/* The recipes of PROJECT (NULL: the source tree's); with TWO, a copy of
 * them plus recipes/dev2.yaml, a second dev VM behind the proxy VM. */
static int
setup_from(void **state, bool two)
{
	struct ctx *c = xcalloc(1, sizeof(*c));
	struct diag_list *diags = NULL;
	CLEANUP_FREE char *proj = NULL;
	char cwd[4096];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	c->top = xstrdup(cwd);
	c->dir = test_mkdtemp();
	if (two) {
		proj = path_join(c->dir, "proj");
		assert_int_equal(
			test_sh("mkdir -p %s/recipes && cp recipes/*.yaml "
				"%s/recipes/ && sed -e 's/^vm: dev$/vm: dev2/' "
				"-e 's/^vsock-cid: 3$/vsock-cid: 5/' -e "
				"'s/4c:01:21/4c:01:31/' -e "
				"'s/192.168.76.21/192.168.76.22/' "
				"recipes/dev.yaml >%s/recipes/dev2.yaml",
				proj, proj, proj),
			0);
	}
	assert_int_equal(recipe_set_load(two ? proj : ".", &c->set, &diags), 0);
	diag_list_free(diags);
	c->out = path_join(c->dir, "out");
	for (size_t i = 0; i < c->set->nvms; i++)
		assert_int_equal(
			outputs_write_vm(c->set, &c->set->vms[i], c->out), 0);
	assert_int_equal(outputs_write_all(c->set, c->out), 0);
	assert_int_equal(
		test_sh("cd %s && mkdir -p home/.ssh xdg fake bin && "
			"chmod 0700 xdg && for v in proxy dev dev2; do "
			"qemu-img create -q -f qcow2 out/$v.qcow2 1M "
			"|| exit; done && ln -s %s/%s/fake-waypipe "
			"bin/waypipe",
			c->dir, c->top, FIX),
		0);
	test_write_free(xasprintf("%s/home/.ssh/id_ed25519.pub", c->dir), KEY);
	c->env =
		xasprintf("env -i PATH=%s/bin:/usr/bin:/bin:$PATH HOME=%s/home "
			  "XDG_RUNTIME_DIR=%s/xdg FAKE_DIR=%s/fake "
			  "SBX_QEMU=%s/%s/fake-qemu SBX_STOP_TIMEOUT=5",
			  c->dir, c->dir, c->dir, c->dir, c->top, FIX);
	*state = c;
	return 0;
}

static int
setup(void **state)
{
	return setup_from(state, false);
}

static int
setup_two(void **state)
{
	return setup_from(state, true);
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	/* Leave no fake daemon behind. */
	test_sh("cd %s && for f in xdg/*/*.pid; do [ -f \"$f\" ] && "
		"kill \"$(cat \"$f\")\"; done 2>/dev/null",
		c->dir);
	recipe_set_free(c->set);
	free(c->out);
	free(c->env);
	free(c->top);
	test_rmdir(c->dir);
	free(c);
	return 0;
}

/* Runs out/SCRIPT with ENV (extra VAR=value words) and ARGS; stderr goes
 * to DIR/stderr.  Returns the exit status. */
static int
run(struct ctx *c, const char *env, const char *script, const char *args)
{
	return test_sh("cd %s && rm -f fake/*.argv && %s %s sh out/%s %s "
		       "</dev/null >stdout 2>stderr",
		       c->dir, c->env, env, script, args);
}

static char *
file_in(struct ctx *c, const char *name)
{
	CLEANUP_FREE char *p = path_join(c->dir, name);

	return test_read(p);
}

static struct argv
load_argv(struct ctx *c, const char *vm)
{
	CLEANUP_FREE char *name = xasprintf("fake/%s.argv", vm);
	char *text = file_in(c, name), *save = NULL, *tok;
	struct argv av = {NULL, 0};
	size_t cap = 0;

	for (tok = strtok_r(text, "\n", &save); tok != NULL;
	     tok = strtok_r(NULL, "\n", &save)) {
		av.v = xgrow(av.v, &cap, av.n + 1, sizeof(*av.v));
		av.v[av.n++] = xstrdup(tok);
	}
	free(text);
	return av;
}

static void
argv_free(struct argv *av)
{
	for (size_t i = 0; i < av->n; i++)
		free(av->v[i]);
	free(av->v);
}

/* The values of every OPT in AV, in order. */
static size_t
opt_values(const struct argv *av, const char *opt, const char **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i + 1 < av->n; i++)
		if (strcmp(av->v[i], opt) == 0 && n < max)
			ret[n++] = av->v[i + 1];
	return n;
}

static const char *
opt_value(const struct argv *av, const char *opt)
{
	const char *v[8];

	assert_int_equal(opt_values(av, opt, v, 8), 1);
	return v[0];
}

static bool
has_arg(const struct argv *av, const char *arg)
{
	for (size_t i = 0; i < av->n; i++)
		if (strcmp(av->v[i], arg) == 0)
			return true;
	return false;
}

/* KEY=value out of a QEMU option string (commas doubled in values). */
static char *
qopt(const char *s, const char *key)
{
	size_t klen = strlen(key);
	const char *p = s;

	while (*p) {
		const char *start = p;
		struct strbuf v = STRBUF_INIT;

		while (*p && !(*p == ',' && p[1] != ',')) {
			if (*p == ',' && p[1] == ',')
				p++;
			sb_putc(&v, *p++);
		}
		if (*p == ',')
			p++;
		if (v.buf != NULL && strncmp(v.buf, key, klen) == 0 &&
		    v.buf[klen] == '=') {
			char *r = xstrdup(v.buf + klen + 1);

			sb_release(&v);
			return r;
		}
		sb_release(&v);
		(void)start;
	}
	return NULL;
}

/* The console's -chardev (id=con). */
static const char *
chardev_con(const struct argv *av)
{
	const char *v[8];
	size_t n = opt_values(av, "-chardev", v, 8);

	for (size_t i = 0; i < n; i++)
		if (strstr(v[i], "id=con,") != NULL)
			return v[i];
	fail_msg("no console chardev");
	return NULL;
}

/* A unix socket path QEMU will listen on: in a directory of ours, 0700. */
static void
assert_private_socket(const char *path)
{
	CLEANUP_FREE char *dir = xstrdup(path);
	struct stat st;

	*strrchr(dir, '/') = '\0';
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(st.st_uid, getuid());
}

/* Nothing listens but 127.0.0.1 forwards and unix sockets in private
 * directories: every netdev, chardev, QMP and monitor is checked, and the
 * options that would open a port are absent. */
static void
assert_no_listeners(const struct argv *av)
{
	static const char *const banned[] = {"-vnc", "-spice",	  "-gdb",
					     "-s",   "-incoming", "-net",
					     "-nic", "-monitor",  "-serial"};
	const char *v[16];
	size_t n;

	for (size_t i = 0; i < ARRAY_SIZE(banned); i++) {
		if (strcmp(banned[i], "-serial") == 0) {
			n = opt_values(av, "-serial", v, 16);
			for (size_t j = 0; j < n; j++)
				assert_true(str_starts_with(v[j], "chardev:"));
			continue;
		}
		assert_false(has_arg(av, banned[i]));
	}
	n = opt_values(av, "-netdev", v, 16);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		if (str_starts_with(v[i], "user,")) {
			const char *p = v[i];

			assert_null(strstr(v[i], "guestfwd"));
			assert_null(strstr(v[i], "smb="));
			assert_null(strstr(v[i], "tftp"));
			while ((p = strstr(p, "hostfwd=")) != NULL) {
				p += strlen("hostfwd=");
				assert_true(
					str_starts_with(p, "tcp:127.0.0.1:") ||
					str_starts_with(p, "udp:127.0.0.1:"));
			}
		} else {
			CLEANUP_FREE char *type = qopt(v[i], "addr.type");
			CLEANUP_FREE char *path = qopt(v[i], "addr.path");

			assert_true(str_starts_with(v[i], "stream,"));
			assert_string_equal(type, "unix");
			assert_non_null(path);
			assert_private_socket(path);
		}
	}
	n = opt_values(av, "-chardev", v, 16);
	for (size_t i = 0; i < n; i++) {
		CLEANUP_FREE char *path = NULL;

		if (str_starts_with(v[i], "stdio,") ||
		    str_starts_with(v[i], "file,"))
			continue;
		/* The SSH channel: a unix socket of ours. */
		assert_true(str_starts_with(v[i], "socket,id=sshch,path="));
		path = qopt(v[i], "path");
		assert_private_socket(path);
	}
	n = opt_values(av, "-qmp", v, 16);
	assert_int_equal(n, 1);
	{
		CLEANUP_FREE char *path = xstrdup(v[0] + strlen("unix:"));

		assert_true(str_starts_with(v[0], "unix:"));
		*strstr(path, ",server=on") = '\0';
		assert_private_socket(path);
	}
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' not in:\n%s", needle, hay);
}

/* The same link socket for both ends, derived once. */
static void
test_link_socket(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *a = NULL, *b = NULL;
	const struct vm *server;

	assert_int_equal(runscript_link_socket(
				 c->set, recipe_find_vm(c->set, "proxy"), &a),
			 0);
	assert_int_equal(runscript_link_socket(
				 c->set, recipe_find_vm(c->set, "dev"), &b),
			 0);
	/* Named after the VM behind the proxy VM: one link each. */
	assert_string_equal(a, "$rundir/link-dev.sock");
	assert_string_equal(a, b);
	assert_int_equal(runscript_link_server(c->set,
					       recipe_find_vm(c->set, "dev"),
					       &server),
			 0);
	assert_string_equal(server->name, "proxy");
}

/* Two dev VMs behind one proxy VM: the proxy VM listens on a socket per
 * VM, each with a NIC of its own (MAC derived); each dev VM connects to
 * its own; run-all.sh starts the proxy VM first. */
static void
test_two_links(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *p1 = NULL, *p2 = NULL, *d1 = NULL, *d2 = NULL,
			  *order = NULL, *all = NULL, *w = NULL;
	struct runscript_link l[VM_MAX_LINKS];
	const char *v[8];
	struct argv pa, da;

	assert_int_equal(
		runscript_links(c->set, recipe_find_vm(c->set, "proxy"), l), 2);
	assert_string_equal(l[0].sock, "link-dev.sock");
	assert_string_equal(l[1].sock, "link-dev2.sock");
	assert_string_equal(l[1].id, "link1");
	assert_string_equal(l[1].mac, "52:54:00:4c:01:12");
	assert_int_equal(runscript_link_socket(
				 c->set, recipe_find_vm(c->set, "proxy"), &w),
			 -E2BIG);
	assert_int_equal(runscript_link_socket(
				 c->set, recipe_find_vm(c->set, "dev2"), &w),
			 0);
	assert_string_equal(w, "$rundir/link-dev2.sock");

	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	pa = load_argv(c, "proxy");
	assert_no_listeners(&pa);
	assert_int_equal(opt_values(&pa, "-netdev", v, 8), 3);
	assert_true(str_starts_with(v[1], "stream,id=link,server=on,"));
	assert_true(str_starts_with(v[2], "stream,id=link1,server=on,"));
	p1 = qopt(v[1], "addr.path");
	p2 = qopt(v[2], "addr.path");
	assert_true(str_ends_with(p1, "/link-dev.sock"));
	assert_true(str_ends_with(p2, "/link-dev2.sock"));
	assert_int_equal(opt_values(&pa, "-device", v, 8), 8);
	assert_string_equal(v[2], "virtio-net-pci,netdev=link,"
				  "mac=52:54:00:4c:01:11");
	assert_string_equal(v[3], "virtio-net-pci,netdev=link1,"
				  "mac=52:54:00:4c:01:12");
	argv_free(&pa);
	for (int i = 0; i < 2; i++) {
		const char *vm = i == 0 ? "dev" : "dev2";
		CLEANUP_FREE char *script = xasprintf("run-%s.sh", vm);

		assert_int_equal(
			run(c, "SBX_ACCEL=tcg FAKE_VERSION=8.2.2", script, ""),
			0);
		da = load_argv(c, vm);
		assert_no_listeners(&da);
		assert_int_equal(opt_values(&da, "-netdev", v, 8), 1);
		assert_true(
			str_starts_with(v[0], "stream,id=link,server=off,"));
		*(i == 0 ? &d1 : &d2) = qopt(v[0], "addr.path");
		opt_values(&da, "-device", v, 8);
		assert_string_equal(v[1], i == 0 ? "virtio-net-pci,netdev=link,"
						   "mac=52:54:00:4c:01:21"
						 : "virtio-net-pci,netdev=link,"
						   "mac=52:54:00:4c:01:31");
		argv_free(&da);
	}
	assert_string_equal(d1, p1);
	assert_string_equal(d2, p2);
	/* --help says which link is whose. */
	assert_int_equal(run(c, "", "run-proxy.sh", "--help"), 0);
	free(w);
	w = file_in(c, "stdout");
	assert_contains(w, "\nPrivate links: dev (link-dev.sock), dev2 "
			   "(link-dev2.sock), one NIC each.\n");
	assert_int_equal(run(c, "", "run-dev2.sh", "--help"), 0);
	free(w);
	w = file_in(c, "stdout");
	assert_contains(w, "\nPrivate link: socket link-dev2.sock, served by "
			   "'proxy' (start run-proxy.sh first).\n");
	/* run-all.sh: the proxy VM, then both. */
	all = file_in(c, "out/run-all.sh");
	assert_contains(all, "every sandbox VM: proxy, dev, dev2.");
	test_need("python3");
	assert_int_equal(test_sh("rm -f %s/fake/order", c->dir), 0);
	assert_int_equal(run(c, "SBX_ACCEL=tcg FAKE_VERSION=8.2.2",
			     "run-all.sh", "--daemon"),
			 0);
	order = file_in(c, "fake/order");
	assert_string_equal(order, "proxy\ndev\ndev2\n");
	assert_int_equal(run(c, "", "run-all.sh", "--status"), 0);
	assert_int_equal(run(c, "", "run-all.sh", "--stop"), 0);
	assert_int_equal(run(c, "", "run-all.sh", "--status"), 3);
}

/* shellcheck, the modes, one screen. */
static void
test_shellcheck(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *st = NULL;

	test_need("shellcheck");
	assert_int_equal(test_sh("cd %s/out && shellcheck -s sh run-proxy.sh "
				 "run-dev.sh run-all.sh",
				 c->dir),
			 0);
	st = file_in(c, "out/run-proxy.sh");
	assert_true(str_starts_with(st, "#!/bin/sh\n"));
	assert_contains(st, "\nset -eu\n");
	assert_int_equal(test_sh("test -x %s/out/run-proxy.sh && "
				 "test \"$(wc -l <%s/out/run-dev.sh)\" -le 280",
				 c->dir, c->dir),
			 0);
	assert_int_equal(run(c, "", "run-proxy.sh", "--bogus"), 2);
	assert_int_equal(run(c, "SBX_ACCEL=hvf", "run-proxy.sh", ""), 2);
}

static void
test_proxy_argv(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *err = NULL, *log = NULL, *disk = NULL,
			  *smbios = NULL, *b64 = NULL, *decoded = NULL;
	const char *v[8];
	struct argv av;

	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	av = load_argv(c, "proxy");
	assert_no_listeners(&av);
	assert_string_equal(opt_value(&av, "-accel"), "tcg");
	assert_string_equal(opt_value(&av, "-cpu"), "max");
	assert_string_equal(opt_value(&av, "-machine"), "q35");
	assert_string_equal(opt_value(&av, "-m"), "4096");
	assert_string_equal(opt_value(&av, "-smp"), "4");
	disk = xasprintf("if=virtio,format=qcow2,discard=unmap,file=%s/out/"
			 "state/proxy.qcow2",
			 c->dir);
	assert_string_equal(opt_value(&av, "-drive"), disk);
	assert_int_equal(opt_values(&av, "-netdev", v, 8), 2);
	assert_string_equal(v[0], "user,id=uplink,restrict=off,"
				  "hostfwd=tcp:127.0.0.1:8080-:8080");
	assert_true(str_starts_with(v[1], "stream,id=link,server=on,"
					  "addr.type=unix,addr.path="));
	assert_true(str_ends_with(v[1], "/link-dev.sock"));
	assert_int_equal(opt_values(&av, "-device", v, 8), 7);
	assert_string_equal(v[0], "virtio-rng-pci");
	assert_string_equal(v[1], "virtio-net-pci,netdev=uplink,"
				  "mac=52:54:00:4c:00:11");
	assert_string_equal(v[2], "virtio-net-pci,netdev=link,"
				  "mac=52:54:00:4c:01:11");
	assert_string_equal(v[3], "virtio-serial-pci,id=vser");
	assert_string_equal(v[4], "virtserialport,bus=vser.0,chardev=sshch,"
				  "name=org.sbx.ssh");
	assert_string_equal(v[5], "virtserialport,bus=vser.0,chardev=egress,"
				  "name=org.sbx.egress");
	assert_string_equal(v[6], "vhost-vsock-pci,guest-cid=4");
	/* The egress log: a file in out/logs, appended. */
	{
		CLEANUP_FREE char *want = xasprintf(
			"file,id=egress,path=%s/out/logs/egress.log,append=on",
			c->dir);
		const char *cv[8];
		size_t n = opt_values(&av, "-chardev", cv, 8);
		bool found = false;

		for (size_t i = 0; i < n; i++)
			found |= strcmp(cv[i], want) == 0;
		assert_true(found);
	}
	log = xasprintf("stdio,id=con,mux=on,signal=off,logfile=%s/out/logs/"
			"proxy.log",
			c->dir);
	assert_string_equal(chardev_con(&av), log);
	assert_string_equal(opt_value(&av, "-serial"), "chardev:con");
	assert_true(has_arg(&av, "-nodefaults"));
	assert_false(has_arg(&av, "-daemonize"));
	assert_true(str_ends_with(opt_value(&av, "-pidfile"), "/proxy.pid"));
	/* The SSH key, as a systemd credential, decodes to the key. */
	smbios = xstrdup(opt_value(&av, "-smbios"));
	assert_true(str_starts_with(smbios, "type=11,value=io.systemd."
					    "credential.binary:sbx.ssh."
					    "authorized_keys="));
	b64 = xstrdup(strstr(smbios, "authorized_keys=") + 16);
	test_write_free(xasprintf("%s/b64", c->dir), b64);
	assert_int_equal(test_sh("cd %s && base64 -d b64 >decoded", c->dir), 0);
	decoded = file_in(c, "decoded");
	assert_string_equal(decoded, KEY);
	err = file_in(c, "stderr");
	assert_contains(err, "console here");
	argv_free(&av);
}

static void
test_dev_argv(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *p = NULL, *d = NULL, *err = NULL, *wp = NULL;
	const char *v[8];
	struct argv pa, da;

	/* Proxy first, then dev (QEMU 8: reconnect): one socket path. */
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	pa = load_argv(c, "proxy");
	assert_int_equal(
		run(c, "SBX_ACCEL=tcg FAKE_VERSION=8.2.2", "run-dev.sh", ""),
		0);
	da = load_argv(c, "dev");
	assert_no_listeners(&da);
	assert_int_equal(opt_values(&da, "-netdev", v, 8), 1);
	assert_true(str_starts_with(v[0], "stream,id=link,server=off,"
					  "addr.type=unix,"));
	assert_true(str_ends_with(v[0], ",reconnect=2"));
	p = qopt(opt_values(&pa, "-netdev", v, 8) == 2 ? v[1] : "",
		 "addr.path");
	opt_values(&da, "-netdev", v, 8);
	d = qopt(v[0], "addr.path");
	assert_string_equal(p, d);
	assert_true(str_starts_with(p, c->dir));
	assert_int_equal(opt_values(&da, "-device", v, 8), 5);
	assert_string_equal(v[1], "virtio-net-pci,netdev=link,"
				  "mac=52:54:00:4c:01:21");
	assert_string_equal(v[4], "vhost-vsock-pci,guest-cid=3");
	assert_null(strstr(opt_value(&da, "-netdev"), "user"));
	err = file_in(c, "stderr");
	assert_contains(err, "no WAYLAND_DISPLAY");
	argv_free(&da);
	/* QEMU 9.2+: reconnect-ms. */
	assert_int_equal(
		run(c, "SBX_ACCEL=tcg FAKE_VERSION=9.2.0", "run-dev.sh", ""),
		0);
	da = load_argv(c, "dev");
	assert_true(
		str_ends_with(opt_value(&da, "-netdev"), ",reconnect-ms=2000"));
	argv_free(&da);
	/* QEMU 7.2 cannot reconnect: the script waits for the proxy's
	 * socket; here it exists, and no reconnect option is given. */
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		assert_true(strlen(p) < sizeof(sa.sun_path));
		strcpy(sa.sun_path, p);
		unlink(p);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)),
				 0);
		assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-dev.sh", ""), 0);
		close(fd);
		unlink(p);
	}
	da = load_argv(c, "dev");
	assert_true(str_ends_with(opt_value(&da, "-netdev"), "/link-dev.sock"));
	argv_free(&da);
	/* The GUI's host half, with a waypipe that knows --vsock. */
	assert_int_equal(run(c,
			     "SBX_ACCEL=tcg FAKE_VERSION=8.2.2 "
			     "WAYLAND_DISPLAY=wayland-0",
			     "run-dev.sh", ""),
			 0);
	wp = file_in(c, "fake/waypipe.argv");
	assert_string_equal(wp, "--vsock\n-s\n4000\nclient\n");
	/* ... and with an old one: the container, explained. */
	assert_int_equal(run(c,
			     "SBX_ACCEL=tcg FAKE_VERSION=8.2.2 "
			     "WAYLAND_DISPLAY=wayland-0 FAKE_WAYPIPE_OLD=1",
			     "run-dev.sh", ""),
			 0);
	free(err);
	err = file_in(c, "stderr");
	assert_contains(err, "waypipe 0.9+");
	assert_contains(err, "/out/host/run-waypipe.sh'");
	assert_contains(err, "/out/host/compose.yaml");
	argv_free(&pa);
}

/* The script finds its disk, logs and run directory wherever out/ is. */
static void
test_moved_out(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *want = NULL;
	struct argv av;

	/* The state made before the move still fits after it: its
	 * backing file is relative. */
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	assert_int_equal(test_sh("cd %s && mv out moved", c->dir), 0);
	assert_int_equal(test_sh("cd %s && %s SBX_ACCEL=tcg XDG_RUNTIME_DIR= "
				 "sh moved/run-proxy.sh </dev/null >stdout "
				 "2>stderr",
				 c->dir, c->env),
			 0);
	assert_int_equal(test_sh("cd %s && qemu-img info moved/state/"
				 "proxy.qcow2 >/dev/null && ! grep -q 'no "
				 "longer fits' stderr && ! ls moved/state | "
				 "grep -q old",
				 c->dir),
			 0);
	assert_int_equal(test_sh("cd %s && mv moved out", c->dir), 0);
	av = load_argv(c, "proxy");
	want = xasprintf("if=virtio,format=qcow2,discard=unmap,file=%s/moved/"
			 "state/proxy.qcow2",
			 c->dir);
	assert_string_equal(opt_value(&av, "-drive"), want);
	/* Without XDG_RUNTIME_DIR: out/run, 0700. */
	assert_true(strstr(opt_value(&av, "-pidfile"), "/moved/run/") != NULL);
	argv_free(&av);
}

/* --help: every option and environment variable, exit 0; one mode. */
static void
test_help(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *out = NULL, *err = NULL;
	static const char *const words[] = {
		"--daemon",	   "--ephemeral",
		"--stop",	   "--status",
		"--reset",	   "--help",
		"SBX_ACCEL",	   "SBX_QEMU=",
		"SBX_QEMU_IMG",	   "SBX_SSH_KEY",
		"SBX_VSOCK",	   "SBX_STOP_TIMEOUT",
		"XDG_RUNTIME_DIR", "out/state/dev.qcow2",
	};

	assert_int_equal(run(c, "", "run-dev.sh", "--help"), 0);
	out = file_in(c, "stdout");
	assert_true(str_starts_with(out, "usage: run-dev.sh "));
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		assert_contains(out, words[i]);
	/* Nothing started, nothing made. */
	assert_int_equal(test_sh("cd %s && ! test -e fake/dev.argv && "
				 "! test -e out/state",
				 c->dir),
			 0);
	assert_int_equal(run(c, "", "run-dev.sh", "--stop --status"), 2);
	err = file_in(c, "stderr");
	assert_contains(err, "usage: ");
}

/* The state overlay: made over the image, kept across runs, dropped by
 * --reset, untouched by --ephemeral, moved aside when the image was
 * rebuilt.  Real qemu-img and qemu-io on small images. */
static void
test_state(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *err = NULL;
	struct argv av;

	test_need("qemu-io");
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	assert_int_equal(
		test_sh("cd %s/out/state && qemu-img info proxy.qcow2 | "
			"grep -qx 'backing file: ../proxy.qcow2' && "
			"test -s proxy.image && "
			"test \"$(stat -c %%a .)\" = 700",
			c->dir),
		0);
	/* The guest writes: into the state, never into the image. */
	assert_int_equal(test_sh("cd %s/out && qemu-io -c 'write -P 0xab 0 "
				 "64k' state/proxy.qcow2 >/dev/null && "
				 "! qemu-img compare -q state/proxy.qcow2 "
				 "proxy.qcow2 && qemu-io -c 'read -P 0 0 64k' "
				 "proxy.qcow2 >/dev/null",
				 c->dir),
			 0);
	/* Kept across runs. */
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	assert_int_equal(test_sh("cd %s/out && qemu-io -c 'read -P 0xab 0 "
				 "64k' state/proxy.qcow2 | grep -q '^read'",
				 c->dir),
			 0);
	/* --ephemeral: the same state under snapshot=on. */
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", "--ephemeral"),
			 0);
	av = load_argv(c, "proxy");
	assert_true(str_ends_with(opt_value(&av, "-drive"),
				  "/out/state/proxy.qcow2,snapshot=on"));
	argv_free(&av);
	/* --reset refuses while the VM runs, then drops the state. */
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", "--daemon"),
			 0);
	assert_int_equal(run(c, "", "run-proxy.sh", "--reset"), 1);
	err = file_in(c, "stderr");
	assert_contains(err, "stop it first");
	assert_int_equal(run(c, "", "run-proxy.sh", "--stop"), 0);
	assert_int_equal(test_sh("cd %s && time -p sh -c '%s sh out/run-"
				 "proxy.sh --reset >stdout 2>stderr' 2>time && "
				 "awk '/real/ && $2 < 2 { ok = 1 } END "
				 "{ exit !ok }' time && ! test -e "
				 "out/state/proxy.qcow2",
				 c->dir, c->env),
			 0);
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	assert_int_equal(test_sh("cd %s/out && qemu-img compare -q "
				 "state/proxy.qcow2 proxy.qcow2",
				 c->dir),
			 0);
	/* A rebuilt image: the old state is moved aside, not deleted. */
	assert_int_equal(test_sh("cd %s/out && qemu-io -c 'write -P 0xcd 0 "
				 "64k' state/proxy.qcow2 >/dev/null && "
				 "echo new-digest >proxy.inputs && "
				 "touch -d '2020-01-01' proxy.qcow2",
				 c->dir),
			 0);
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	free(err);
	err = file_in(c, "stderr");
	assert_contains(err, "no longer fits");
	assert_contains(err, "/out/state/proxy.qcow2.old-");
	assert_int_equal(test_sh("cd %s/out/state && set -- proxy.qcow2.old-*"
				 " && test $# = 1 && qemu-io -c 'read -P 0xcd "
				 "0 64k' \"$1\" | grep -q '^read' && "
				 "qemu-img compare -q proxy.qcow2 "
				 "../proxy.qcow2",
				 c->dir),
			 0);
	/* Unchanged image: the state stays. */
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	assert_int_equal(test_sh("cd %s/out/state && ls | grep -c old | "
				 "grep -qx 1",
				 c->dir),
			 0);
}

/* The host-only SSH channel, host half for real: ssh, scp and rsync
 * through run-proxy.sh's ProxyCommand and ssh_config reach an sshd -i
 * that the fake QEMU runs on the port's socket, as the guest's
 * sbx-ssh-serial.service does, with the key the script handed over. */
static void
test_ssh_channel(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *env = NULL, *out = NULL, *err = NULL;

	test_need("/usr/sbin/sshd");
	test_need("ssh");
	test_need("scp");
	test_need("rsync");
	test_need("python3");
	assert_int_equal(
		test_sh("cd %s && ssh-keygen -q -t ed25519 -N '' -C '' -f "
			"hostkey && ssh-keygen -q -t ed25519 -N '' -C '' -f "
			"home/.ssh/id_chan && printf '%%s\\n' "
			"\"HostKey $PWD/hostkey\" \"AuthorizedKeysFile "
			"$PWD/home/.ssh/id_chan.pub\" 'StrictModes no' "
			"'PidFile none' 'UsePAM no' 'PermitRootLogin "
			"prohibit-password' 'Subsystem sftp internal-sftp' "
			">sshd_config && "
			"mkdir -p data && echo payload-$$ >data/f && "
			"(mkdir -p /run/sshd 2>/dev/null || :)",
			c->dir),
		0);
	env = xasprintf("SBX_ACCEL=tcg SBX_SSH_KEY=%s/home/.ssh/id_chan.pub "
			"FAKE_SSHD='exec /usr/sbin/sshd -i -f %s/sshd_config "
			"-E %s/sshd.log'",
			c->dir, c->dir, c->dir);
	assert_int_equal(run(c, "", "run-proxy.sh", "ssh true"), 1);
	err = file_in(c, "stderr");
	assert_contains(err, "not running");
	assert_int_equal(run(c, env, "run-proxy.sh", "--daemon"), 0);
	/* A command, its output back. */
	assert_int_equal(run(c, "", "run-proxy.sh",
			     "ssh -o User=\"$(id -un)\" echo over-the-port"),
			 0);
	out = file_in(c, "stdout");
	assert_string_equal(out, "over-the-port\n");
	assert_int_equal(
		test_sh("cd %s && test -s out/state/proxy.known_hosts", c->dir),
		0);
	/* scp both ways, rsync in, with the printed ssh_config. */
	assert_int_equal(
		test_sh("cd %s && cfg=$(%s sh out/run-proxy.sh --ssh-config) "
			"&& "
			"test -f \"$cfg\" && me=$(id -un) && "
			"scp -q -F \"$cfg\" -o User=$me data/f sbx-proxy:$PWD/"
			"data/g && scp -q -F \"$cfg\" -o User=$me "
			"sbx-proxy:$PWD/data/g data/h && cmp data/f data/h && "
			"rsync -a -e \"ssh -F $cfg -o User=$me\" data/ "
			"sbx-proxy:$PWD/synced/ && cmp data/f synced/f && "
			"{ ssh -F \"$cfg\" -O exit sbx-proxy 2>/dev/null "
			"|| :; }",
			c->dir, c->env),
		0);
	assert_int_equal(run(c, "", "run-proxy.sh", "--stop"), 0);
	/* The VM's host key goes with its state. */
	assert_int_equal(run(c, "", "run-proxy.sh", "--reset"), 0);
	assert_int_equal(
		test_sh("cd %s && ! test -e out/state/proxy.known_hosts",
			c->dir),
		0);
}

/* A real qcow2 overlay naming backing file NAME, which need not exist
 * (qemu-img create -u): the run script makes its state overlay on it. */
static void
write_overlay(const char *path, const char *name)
{
	unlink(path);
	assert_int_equal(test_sh("qemu-img create -q -f qcow2 -u -F qcow2 "
				 "-b '%s' '%s' 1M",
				 name, path),
			 0);
}

/* A disk whose base is gone: the script names the base and how to get it
 * back, before QEMU runs; with the base there (absolute or relative to
 * the disk), QEMU runs. */
static void
test_missing_backing(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *disk = path_join(c->dir, "out/proxy.qcow2");
	CLEANUP_FREE char *base = path_join(c->dir, "base.qcow2");
	CLEANUP_FREE char *err = NULL;
	CLEANUP_FREE char *want = NULL;

	test_need("qemu-img");
	write_overlay(disk, base);
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 1);
	err = file_in(c, "stderr");
	want = xasprintf("proxy: the disk '%s' is an overlay on the base image "
			 "'%s', which is missing: rebuild the disk with "
			 "'sbx-build build proxy'",
			 disk, base);
	assert_contains(err, want);
	assert_contains(err, "'qemu-img rebase -u -F qcow2 -b COPY ");
	assert_int_equal(test_sh("test ! -e %s/fake/proxy.argv", c->dir), 0);
	assert_int_equal(test_sh("qemu-img create -q -f qcow2 '%s' 1M", base),
			 0);
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	assert_int_equal(run(c, "", "run-proxy.sh", "--stop"), 0);
	assert_int_equal(run(c, "", "run-proxy.sh", "--reset"), 0);
	write_overlay(disk, "../base.qcow2");
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	assert_int_equal(unlink(base), 0);
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 1);
	assert_int_equal(test_sh("grep -q \"base image '../base.qcow2', which "
				 "is missing\" %s/stderr",
				 c->dir),
			 0);
}

static void
test_ssh_key(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *err = NULL;
	struct argv av;

	assert_int_equal(
		test_sh("cd %s && printf 'ssh-rsa OTHER\\n' >k.pub", c->dir),
		0);
	{
		CLEANUP_FREE char *env =
			xasprintf("SBX_ACCEL=tcg SBX_SSH_KEY=%s/"
				  "k.pub",
				  c->dir);

		assert_int_equal(run(c, env, "run-proxy.sh", ""), 0);
	}
	av = load_argv(c, "proxy");
	assert_true(str_ends_with(opt_value(&av, "-smbios"),
				  "authorized_keys=c3NoLXJzYSBPVEhFUgo="));
	argv_free(&av);
	assert_int_equal(test_sh("rm %s/home/.ssh/id_ed25519.pub", c->dir), 0);
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", ""), 0);
	av = load_argv(c, "proxy");
	assert_false(has_arg(&av, "-smbios"));
	err = file_in(c, "stderr");
	assert_contains(err, "no SSH key");
	argv_free(&av);
}

/* The accelerator: the probe boots the real probe image; its exit says. */
static void
test_accel(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *err = NULL, *probe = NULL;
	struct argv av;
	size_t len;

	if (access("/dev/kvm", R_OK | W_OK) != 0)
		test_cannot("no usable /dev/kvm: the KVM probe cannot run");
	assert_int_equal(run(c, "FAKE_PROBE=65", "run-proxy.sh", ""), 0);
	av = load_argv(c, "proxy");
	assert_string_equal(opt_value(&av, "-accel"), "kvm");
	assert_string_equal(opt_value(&av, "-cpu"), "host");
	argv_free(&av);
	assert_int_equal(
		read_file(xasprintf("%s/fake/probe.bin", c->dir), &probe, &len),
		0);
	assert_int_equal(len, runscript_kvm_probe_len);
	assert_memory_equal(probe, runscript_kvm_probe, len);
	av = load_argv(c, "probe");
	assert_string_equal(opt_value(&av, "-accel"), "kvm");
	assert_string_equal(opt_value(&av, "-cpu"), "host");
	assert_string_equal(opt_value(&av, "-machine"), "q35");
	argv_free(&av);
	/* A probe that fails or hangs (timeout: 124): TCG and a notice. */
	assert_int_equal(run(c, "FAKE_PROBE=124", "run-proxy.sh", ""), 0);
	av = load_argv(c, "proxy");
	assert_string_equal(opt_value(&av, "-accel"), "tcg");
	assert_string_equal(opt_value(&av, "-cpu"), "max");
	err = file_in(c, "stderr");
	assert_contains(err, "KVM is not usable here, using TCG");
	argv_free(&av);
	/* SBX_ACCEL=kvm skips the probe. */
	assert_int_equal(
		run(c, "FAKE_PROBE=1 SBX_ACCEL=kvm", "run-proxy.sh", ""), 0);
	av = load_argv(c, "proxy");
	assert_string_equal(opt_value(&av, "-accel"), "kvm");
	argv_free(&av);
}

/* The probe image itself reaches 64-bit mode under real QEMU (TCG). */
static void
test_probe_image(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *path = path_join(c->dir, "probe.bin");

	test_need("qemu-system-x86_64");
	assert_int_equal(write_file_atomic(path, runscript_kvm_probe,
					   runscript_kvm_probe_len, 0644),
			 0);
	assert_int_equal(test_sh("timeout 60 qemu-system-x86_64 -accel tcg "
				 "-machine q35 -cpu max -m 16 -nodefaults "
				 "-display none -kernel %s -device "
				 "isa-debug-exit,iobase=0xf4,iosize=4",
				 path),
			 65);
}

static void
test_cid_taken(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *err = NULL;

	assert_int_equal(run(c,
			     "SBX_ACCEL=tcg FAKE_CID_TAKEN=1 "
			     "FAKE_VERSION=8.2.2",
			     "run-dev.sh", ""),
			 1);
	err = file_in(c, "stderr");
	assert_contains(err, "unable to set guest cid");
	assert_contains(err, "dev: vsock CID 3 is taken");
	assert_contains(err, "'recipes/dev.yaml'");
}

/* --daemon, --status, --stop (QMP system_powerdown), run-all.sh. */
static void
test_daemon_stop(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *out = NULL, *qmp = NULL, *order = NULL, *err = NULL;
	struct argv av;

	test_need("python3");
	assert_int_equal(run(c, "", "run-proxy.sh", "--status"), 3);
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", "--daemon"),
			 0);
	av = load_argv(c, "proxy");
	assert_true(has_arg(&av, "-daemonize"));
	assert_true(str_starts_with(chardev_con(&av), "file,id=con,path="));
	assert_true(str_ends_with(chardev_con(&av), "/out/logs/proxy.log"));
	argv_free(&av);
	assert_int_equal(run(c, "", "run-proxy.sh", "--status"), 0);
	out = file_in(c, "stdout");
	assert_true(str_starts_with(out, "proxy: running (pid "));
	assert_int_equal(run(c, "SBX_ACCEL=tcg", "run-proxy.sh", "--daemon"),
			 1);
	/* The guest's verdict on the SSH key, read from the console log. */
	out = (free(out), NULL);
	assert_int_equal(test_sh("echo 'sbx-ssh-keys: missing: no credential' "
				 ">%s/out/logs/proxy.log",
				 c->dir),
			 0);
	assert_int_equal(run(c, "", "run-proxy.sh", "--status"), 0);
	err = file_in(c, "stderr");
	assert_contains(err, "proxy: SSH key not received by the guest "
			     "(kernel lacks dmi-sysfs?)");
	assert_int_equal(test_sh("echo 'sbx-ssh-keys: installed for sbx' "
				 ">%s/out/logs/proxy.log",
				 c->dir),
			 0);
	assert_int_equal(run(c, "", "run-proxy.sh", "--status"), 0);
	out = file_in(c, "stdout");
	assert_contains(out, "proxy: SSH key installed (");
	assert_int_equal(run(c, "", "run-proxy.sh", "--stop"), 0);
	qmp = file_in(c, "fake/proxy.qmp");
	assert_contains(qmp, "{\"execute\":\"qmp_capabilities\"}\n"
			     "{\"execute\":\"system_powerdown\"}\n");
	assert_int_equal(run(c, "", "run-proxy.sh", "--status"), 3);

	/* run-all: proxy (daemon) first, then dev. */
	assert_int_equal(test_sh("rm -f %s/fake/order", c->dir), 0);
	assert_int_equal(run(c, "SBX_ACCEL=tcg FAKE_VERSION=8.2.2",
			     "run-all.sh", "--daemon"),
			 0);
	order = file_in(c, "fake/order");
	assert_string_equal(order, "proxy\ndev\n");
	assert_int_equal(run(c, "", "run-all.sh", "--status"), 0);
	assert_int_equal(run(c, "", "run-all.sh", "--stop"), 0);
	assert_int_equal(run(c, "", "run-all.sh", "--status"), 3);
}

static void
test_host_files(void **state)
{
	struct ctx *c = *state;
	CLEANUP_FREE char *cf = NULL, *compose = NULL, *wp = NULL, *err = NULL;

	cf = file_in(c, "out/host/Containerfile");
	compose = file_in(c, "out/host/compose.yaml");
	assert_contains(cf, "waypipe");
	assert_contains(compose, "command: [\"--vsock\", \"-s\", \"4000\", "
				 "\"client\"]");
	assert_contains(compose, "seccomp=unconfined");
	/* podman 4.3 (Debian 12) has no 'compose': run-waypipe.sh does the
	 * same with 'podman run', here against a podman that records its
	 * arguments. */
	test_write_free(xasprintf("%s/bin/podman", c->dir),
			"#!/bin/sh\n"
			"echo \"$*\" >>\"$FAKE_DIR/podman.argv\"\n"
			"[ \"$1 $2\" != 'image exists' ]\n");
	assert_int_equal(test_sh("chmod +x %s/bin/podman", c->dir), 0);
	if (test_sh("command -v shellcheck >/dev/null") == 0)
		assert_int_equal(test_sh("shellcheck -s sh "
					 "%s/out/host/run-waypipe.sh",
					 c->dir),
				 0);
	assert_int_equal(run(c, "", "host/run-waypipe.sh", ""), 1);
	err = file_in(c, "stderr");
	assert_contains(err, "no WAYLAND_DISPLAY");
	assert_int_equal(
		run(c, "WAYLAND_DISPLAY=wl-1", "host/run-waypipe.sh", ""), 0);
	wp = file_in(c, "fake/podman.argv");
	assert_contains(wp, "image exists localhost/sbx-waypipe:latest\n"
			    "build -t localhost/sbx-waypipe:latest -f ");
	assert_contains(wp, "/out/host/Containerfile ");
	assert_contains(wp, "\nrun -d --name waypipe-dev --restart "
			    "unless-stopped --network host --userns keep-id "
			    "--security-opt seccomp=unconfined --security-opt "
			    "label=disable -e WAYLAND_DISPLAY=wayland-0 -e "
			    "XDG_RUNTIME_DIR=/run/host -v ");
	assert_contains(wp, "/xdg/wl-1:/run/host/wayland-0 "
			    "localhost/sbx-waypipe:latest --vsock -s 4000 "
			    "client\n");
	if (test_sh("python3 -c 'import yaml' 2>/dev/null") == 0)
		assert_int_equal(test_sh("python3 -c 'import sys, yaml; "
					 "yaml.safe_load(open(sys.argv[1]))' "
					 "%s/out/host/compose.yaml",
					 c->dir),
				 0);
}

/* A recipe file name goes into a comment and a double-quoted message: it
 * comes out as itself and nothing in it runs.  A line break in it, or a
 * MAC that is not one, is refused. */
static void
test_hostile_values(void **state)
{
	struct ctx *c = *state;
	struct vm *vm = recipe_find_vm(c->set, "dev");
	CLEANUP_FREE char *dir = test_mkdtemp();
	CLEANUP_FREE char *mark = path_join(dir, "INJECTED");
	CLEANUP_FREE char *file = xasprintf(
		"recipes/$(touch %s)`touch %s`\"'\\$HOME.yaml", mark, mark);
	CLEANUP_FREE char *sh = path_join(dir, "say.sh");
	CLEANUP_FREE char *outp = path_join(dir, "out");
	CLEANUP_FREE char *want = xasprintf("vsock-cid in '%s' and run", file);
	CLEANUP_FREE char *script = NULL;
	char *saved = vm->file, *mac = vm->nics[0].mac, *text = NULL;
	char *out;
	const char *at, *e;

	vm->file = file;
	assert_int_equal(runscript_render(c->set, vm, &text), 0);
	at = strstr(text, "\tsay \"vsock-cid in ");
	assert_non_null(at);
	e = strchr(at, '\n');
	script = xasprintf("say() { printf '%%s\\n' \"$*\"; }\n%.*s\n",
			   (int)(e - at), at);
	test_write(sh, script);
	assert_int_equal(test_sh("sh '%s' >'%s'", sh, outp), 0);
	out = test_read(outp);
	assert_non_null(strstr(out, want));
	assert_int_equal(access(mark, F_OK), -1);
	free(out);
	free(text);
	text = NULL;

	vm->file = (char *)"recipes/x\nrm -rf /.yaml";
	assert_int_equal(runscript_render(c->set, vm, &text), -EINVAL);
	vm->file = saved;
	vm->nics[0].mac = (char *)"52:54:00:00:00:01;touch INJECTED";
	assert_int_equal(runscript_render(c->set, vm, &text), -EINVAL);
	vm->nics[0].mac = (char *)"52:54:00:00:00:0\n";
	assert_int_equal(runscript_render(c->set, vm, &text), -EINVAL);
	vm->nics[0].mac = mac;
	assert_null(text);
	test_rmdir(xstrdup(dir));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_links, setup_two,
						teardown),
		cmocka_unit_test_setup_teardown(test_shellcheck, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_proxy_argv, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dev_argv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ssh_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ssh_channel, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_backing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_accel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_image, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hostile_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cid_taken, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_daemon_stop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_files, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
