/* libFuzzer target: cli_parse (cli/opts.c), the option parser of `kvmbox run` for one VM. The
 * input is the command line, its words separated by NUL bytes. */
#include <string.h>
#include "opts.h"
#include "fuzz.h"

#define ARGS_MAX 64

/* Split a copy of the input at NULs into ARGV after the program name. Returns argc. */
static int split(char *prog, char *text, size_t size, char **argv)
{
	int argc = 1;

	argv[0] = prog;
	for (size_t i = 0; i < size && argc < ARGS_MAX; i += strlen(text + i) + 1)
		argv[argc++] = text + i;
	argv[argc] = NULL;
	return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char prog[] = "kvmbox", *argv[ARGS_MAX + 1], err[512], *text = malloc(size + 1);
	struct cli_opts o;
	int argc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	argc = split(prog, text, size, argv);
	if (cli_parse(argc, argv, &o, err, sizeof(err)) == 0) {
		FUZZ_REQUIRE(o.repeat >= 1);
		FUZZ_REQUIRE(o.mem == 0 || (o.mem >= KVMBOX_MEM_MIN && o.mem <= KVMBOX_MEM_MAX));
		FUZZ_REQUIRE(o.entry_set || o.entry == o.load);
		FUZZ_REQUIRE(!o.flat || o.image);
		FUZZ_REQUIRE(o.timeout >= 0 && o.timeout <= 1e6);
	} else {
		FUZZ_REQUIRE(memchr(err, 0, sizeof(err)) && err[0]);
	}
	free(text);
	return 0;
}
