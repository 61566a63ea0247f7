/* What is printed about the commands, all from the command table. */
#ifndef SBX_CMD_DOC_H
#define SBX_CMD_DOC_H

#include <stdio.h>

struct cmd_entry;

/* 'help CMD' and 'CMD --help': usage, options, what it writes, example. */
void cmd_doc_help(FILE *f, const struct cmd_entry *cmd);
/* The README's command and option tables (Markdown). */
void cmd_doc_markdown(FILE *f);
/* The man page's COMMAND OPTIONS section body (roff). */
void cmd_doc_man(FILE *f);
/* contrib/sbx-build.bash. */
void cmd_doc_completion(FILE *f);

#endif
