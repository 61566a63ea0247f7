/* cmd-doc: help, README table, man section and completion all print a
 * command's options from its entry, escaped for each format. */
#include "testutil.h"

#include "cmd-doc.h"
#include "cmd.h"

static enum cmd_status
noop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return CMD_OK;
}

static const struct cmd_option opts[] = {
	{"accel", 'a', false, "kvm|tcg", "the accelerator"},
	{"output", 'o', true, "FILE", "where -o writes"},
	{"dir", 'd', false, "DIR", "a directory"},
	{"plain", 'p', false, NULL, "no argument"},
	{NULL, 0, false, NULL, NULL},
};

static const struct cmd_entry fake = {
	.name = "fake",
	.usage = "[--accel kvm|tcg] [-o FILE] [--dir DIR] [--plain] VM DIR",
	.summary = "a fake command",
	.min_args = 2,
	.max_args = 2,
	.options = opts,
	.operands = CMD_OPERAND_VM_DIR,
	.writes = "nothing",
	.example = "sbx-build fake a b\nsbx-build fake --plain a b",
	.exec = noop,
};
static const struct cmd_entry *const table[] = {&fake, NULL};

static char *
print(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f);
	fclose(f);
	return buf;
}

static void
help_fake(FILE *f)
{
	cmd_doc_help(f, &fake);
}

static void
test_help(void **state)
{
	CLEANUP_FREE char *s = print(help_fake);

	(void)state;
	assert_non_null(strstr(s, "usage: sbx-build fake [--accel kvm|tcg]"));
	assert_non_null(
		strstr(s, "\n  --accel kvm|tcg         the accelerator\n"));
	assert_non_null(
		strstr(s, "\n  -o, --output FILE       where -o writes\n"));
	assert_non_null(strstr(s, "\nwrites:\n  nothing\n"));
	assert_non_null(strstr(s, "\nexample:\n  sbx-build fake a b\n"
				  "  sbx-build fake --plain a b\n"));
}

static void
test_markdown_man(void **state)
{
	CLEANUP_FREE char *md = print(cmd_doc_markdown);
	CLEANUP_FREE char *man = print(cmd_doc_man);

	(void)state;
	/* '|' would end a Markdown cell. */
	assert_non_null(strstr(md, "| `fake [--accel kvm\\|tcg] [-o FILE]"));
	assert_non_null(strstr(md, "| `fake` | `--accel kvm\\|tcg` | the "
				   "accelerator |\n"));
	/* roff: every minus escaped. */
	assert_non_null(strstr(man, ".B \"\\-o, \\-\\-output FILE\"\n"
				    "where \\-o writes\n"));
	/* (after the comment naming 'help --man') */
	assert_non_null(strstr(man, ".SS"));
	assert_null(strstr(strstr(man, ".SS"), "--"));
}

static void
test_completion(void **state)
{
	CLEANUP_FREE char *s = print(cmd_doc_completion);

	(void)state;
	assert_non_null(strstr(s, "\tfake)\n\t\topts=\"--accel -o --output "
				  "--dir --plain --help\"\n"));
	assert_non_null(strstr(s, "argopts=\" --accel -o --output --dir \"\n"
				  "\t\twhat='vm-dir' max=2\n"));
	assert_non_null(strstr(s, "--accel)\n\t\t\tCOMPREPLY=($(compgen -W "
				  "\"kvm tcg\""));
	assert_non_null(strstr(s, "-o | --output)\n\t\t\t_filedir\n"));
	assert_non_null(strstr(s, "--dir)\n\t\t\t_filedir -d\n"));
}

/* cmd_getopt: the table's options, short ones too, no abbreviations. */
static void
test_getopt(void **state)
{
	char *ok[] = {"fake", "a",	 "-o",		"F",
		      "b",    "--plain", "--accel=kvm", NULL};
	char *abbr[] = {"fake", "--pla", NULL};
	char *dashed[] = {"fake", "-o", "--weird", "--dir", "--x", NULL};
	int c, seen = 0;

	(void)state;
	optind = 0;
	while ((c = cmd_getopt(&fake, 7, ok)) != -1)
		seen |= c == 'o' ? 1 : c == 'p' ? 2 : c == 'a' ? 4 : 8;
	assert_int_equal(seen, 7);
	optind = 0;
	assert_int_equal(cmd_getopt(&fake, 2, abbr), '?');
	/* An option's argument may look like an option. */
	optind = 0;
	assert_int_equal(cmd_getopt(&fake, 5, dashed), 'o');
	assert_string_equal(optarg, "--weird");
	assert_int_equal(cmd_getopt(&fake, 5, dashed), 'd');
	assert_string_equal(optarg, "--x");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_markdown_man),
		cmocka_unit_test(test_completion),
		cmocka_unit_test(test_getopt),
	};

	cmd_set_table(table);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
