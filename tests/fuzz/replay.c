/* Runs the fuzz target over files, without libFuzzer: for the ASan build
 * that 'make check-fuzz-regress' replays tests/fixtures/fuzz/ with (any
 * compiler).  A sanitizer report aborts; reaching the end means every
 * input ran clean. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		char *text;
		size_t len;
		int r = read_file(argv[i], &text, &len);

		if (r < 0) {
			fprintf(stderr, "replay: cannot read '%s'\n", argv[i]);
			return 1;
		}
		fprintf(stderr, "replay: %s\n", argv[i]);
		LLVMFuzzerTestOneInput((const uint8_t *)text, len);
		free(text);
	}
	return 0;
}
