/* libvirt.c: out/VM.xml is valid libvirt domain XML (virt-xml-validate,
 * from libvirt-clients) and says what run-VM.sh says. */
#include "testutil.h"

#include <errno.h>

#include "libvirt.h"
#include "recipe.h"

static struct recipe_set *
load(void)
{
	struct recipe_set *set;
	struct diag_list *diags = NULL;

	assert_int_equal(recipe_set_load(".", &set, &diags), 0);
	diag_list_free(diags);
	return set;
}

static void
assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' not in:\n%s", needle, hay);
}

static char *
render(struct recipe_set *set, const char *vm, const char *outdir)
{
	char *xml = NULL;

	assert_int_equal(
		libvirt_render(set, recipe_find_vm(set, vm), outdir, &xml), 0);
	return xml;
}

static void
test_proxy(void **state)
{
	struct recipe_set *set = load();
	CLEANUP_FREE char *xml = render(set, "proxy", "/srv/sbx/out");

	(void)state;
	assert_contains(xml, "<domain type='kvm' xmlns:qemu="
			     "'http://libvirt.org/schemas/domain/qemu/1.0'>");
	assert_contains(xml, "<name>sbx-proxy</name>");
	assert_contains(xml, "<memory unit='KiB'>4194304</memory>");
	assert_contains(xml, "<vcpu>4</vcpu>");
	assert_contains(xml, "<source file='/srv/sbx/out/proxy.qcow2'/>");
	assert_contains(xml, "<log file='/srv/sbx/out/logs/proxy.log'");
	assert_contains(xml, "<cid auto='no' address='4'/>");
	assert_contains(xml, "<qemu:arg value='user,id=uplink,restrict=off,"
			     "hostfwd=tcp:127.0.0.1:8080-:8080'/>");
	assert_contains(xml, "<qemu:arg value='virtio-net-pci,netdev=uplink,"
			     "mac=52:54:00:4c:00:11'/>");
	assert_contains(xml, "<qemu:arg value='stream,id=link,server=on,"
			     "addr.type=unix,addr.path=/srv/sbx/out/run/"
			     "link-dev.sock'/>");
	/* Nothing a libvirt <interface> would add; no personal key. */
	assert_null(strstr(xml, "<interface"));
	assert_null(strstr(xml, "authorized_keys=c"));
	recipe_set_free(set);
}

static void
test_dev(void **state)
{
	struct recipe_set *set = load();
	CLEANUP_FREE char *xml = render(set, "dev", "/a,b/o&t");

	(void)state;
	/* Commas doubled for QEMU, then XML-escaped. */
	assert_contains(xml, "addr.path=/a,,b/o&amp;t/run/link-dev.sock'/>");
	assert_contains(xml, "server=off");
	assert_null(strstr(xml, "id=uplink"));
	assert_contains(xml, "<cid auto='no' address='3'/>");
	assert_contains(xml, "vsock port 4000");
	recipe_set_free(set);
}

/* Two dev VMs behind the proxy VM: a stream link each on the proxy VM's
 * side, its own socket and MAC; dev2's end on its own socket; valid XML. */
static void
test_two_links(void **state)
{
	char *dir = test_mkdtemp();
	CLEANUP_FREE char *proj = path_join(dir, "proj");
	CLEANUP_FREE char *px = NULL, *dx = NULL, *path = NULL;
	struct recipe_set *set = NULL;
	struct diag_list *diags = NULL;

	(void)state;
	assert_int_equal(
		test_sh("mkdir -p %s/recipes && cp recipes/*.yaml %s/recipes/ "
			"&& sed -e 's/^vm: dev$/vm: dev2/' -e "
			"'s/^vsock-cid: 3$/vsock-cid: 5/' -e "
			"'s/4c:01:21/4c:01:31/' -e "
			"'s/192.168.76.21/192.168.76.22/' recipes/dev.yaml "
			">%s/recipes/dev2.yaml",
			proj, proj, proj),
		0);
	assert_int_equal(recipe_set_load(proj, &set, &diags), 0);
	diag_list_free(diags);
	px = render(set, "proxy", "/srv/o");
	assert_contains(px, "<qemu:arg value='stream,id=link,server=on,"
			    "addr.type=unix,addr.path=/srv/o/run/"
			    "link-dev.sock'/>");
	assert_contains(px, "<qemu:arg value='virtio-net-pci,netdev=link,"
			    "mac=52:54:00:4c:01:11'/>");
	assert_contains(px, "<qemu:arg value='stream,id=link1,server=on,"
			    "addr.type=unix,addr.path=/srv/o/run/"
			    "link-dev2.sock'/>");
	assert_contains(px, "<qemu:arg value='virtio-net-pci,netdev=link1,"
			    "mac=52:54:00:4c:01:12'/>");
	assert_contains(px, "internal links: run/link-dev.sock, "
			    "run/link-dev2.sock next to this file");
	dx = render(set, "dev2", "/srv/o");
	assert_contains(dx, "<qemu:arg value='stream,id=link,server=off,"
			    "addr.type=unix,addr.path=/srv/o/run/"
			    "link-dev2.sock'/>");
	assert_contains(dx, "<qemu:arg value='virtio-net-pci,netdev=link,"
			    "mac=52:54:00:4c:01:31'/>");
	if (test_have("virt-xml-validate")) {
		path = path_join(dir, "proxy.xml");
		test_write(path, px);
		assert_int_equal(test_sh("virt-xml-validate %s domain "
					 ">/dev/null 2>&1",
					 path),
				 0);
	}
	recipe_set_free(set);
	test_rmdir(dir);
}

static void
test_relative_outdir(void **state)
{
	struct recipe_set *set = load();
	char *xml = NULL;

	(void)state;
	assert_int_equal(
		libvirt_render(set, recipe_find_vm(set, "dev"), "out", &xml),
		-EINVAL);
	assert_null(xml);
	recipe_set_free(set);
}

/* The real schema check, and well-formedness (comments cannot hold
 * "--"). */
static void
test_validate(void **state)
{
	struct recipe_set *set = load();
	char *dir = test_mkdtemp();

	(void)state;
	if (!test_have("virt-xml-validate")) {
		recipe_set_free(set);
		test_rmdir(dir);
		test_missing("virt-xml-validate");
	}
	for (size_t i = 0; i < set->nvms; i++) {
		CLEANUP_FREE char *xml = render(set, set->vms[i].name, dir);
		CLEANUP_FREE char *path =
			xasprintf("%s/%s.xml", dir, set->vms[i].name);

		test_write(path, xml);
		assert_int_equal(test_sh("virt-xml-validate %s domain "
					 ">/dev/null 2>&1",
					 path),
				 0);
		if (test_sh("command -v xmllint >/dev/null") == 0)
			assert_int_equal(test_sh("xmllint --noout %s", path),
					 0);
	}
	recipe_set_free(set);
	test_rmdir(dir);
}

/* A VM name that is not a name ("--" ends an XML comment, '<' starts a
 * tag) and a MAC that is not one are refused. */
static void
test_hostile_values(void **state)
{
	static const char *const names[] = {"a--b", "a<b>", "a'b", "a\nb",
					    "../x"};
	struct recipe_set *set = load();
	struct vm *vm = recipe_find_vm(set, "dev");
	char *name = vm->name, *mac = vm->nics[0].mac, *xml = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		vm->name = (char *)names[i];
		assert_int_equal(libvirt_render(set, vm, "/tmp/out", &xml),
				 -EINVAL);
	}
	vm->name = name;
	vm->nics[0].mac = (char *)"52:54:00:00:00:01'/><x a='";
	assert_int_equal(libvirt_render(set, vm, "/tmp/out", &xml), -EINVAL);
	vm->nics[0].mac = mac;
	assert_int_equal(libvirt_render(set, vm, "/tmp/o\nut", &xml), -EINVAL);
	assert_null(xml);
	assert_int_equal(libvirt_render(set, vm, "/tmp/out&<'", &xml), 0);
	assert_non_null(strstr(xml, "/tmp/out&amp;&lt;&apos;/dev.qcow2"));
	free(xml);
	recipe_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_dev),
		cmocka_unit_test(test_two_links),
		cmocka_unit_test(test_relative_outdir),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_hostile_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
