/* libFuzzer target: run_parse (cli/opts.c, with cli/vm_opts.c), the option parser of
 * `kvmbox run` for one VM and for several (--vm NAME=IMAGE,KEY=VALUE...). The input is the
 * command line, its words separated by NUL bytes. */
#include <string.h>
#include "opts.h"
#include "fuzz.h"

#define ARGS_MAX 64

/* Split TEXT (SIZE bytes and a NUL) at NULs into ARGV after PROG. Returns argc. */
static int split(char *prog, char *text, size_t size, char **argv)
{
	int argc = 1;

	argv[0] = prog;
	for (size_t i = 0; i < size && argc < ARGS_MAX; i += strlen(text + i) + 1)
		argv[argc++] = text + i;
	argv[argc] = NULL;
	return argc;
}

/* What an accepted command line promises to the code that runs it. */
static void check_run(const struct run_opts *o)
{
	FUZZ_REQUIRE(o->repeat >= 1 && o->nvms >= 1 && o->nvms <= RUN_MAX_VMS);
	for (unsigned i = 0; i < o->nvms; i++) {
		const struct vm_opts *v = &o->vms[i];

		FUZZ_REQUIRE(v->mem == 0 || (v->mem >= KVMBOX_MEM_MIN && v->mem <= KVMBOX_MEM_MAX));
		FUZZ_REQUIRE(v->entry_set || v->entry == v->load);
		FUZZ_REQUIRE(!v->flat || v->image);
		FUZZ_REQUIRE(v->timeout >= 0 && v->timeout <= 1e6);
		FUZZ_REQUIRE(memchr(v->name, 0, sizeof(v->name)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char prog[] = "kvmbox", *argv[ARGS_MAX + 1], err[512];
	char *text = malloc(size + 1);
	struct run_opts *o = malloc(sizeof(*o));
	int argc;

	if (!text || !o)
		goto out;
	memcpy(text, data, size);
	text[size] = 0;
	argc = split(prog, text, size, argv);
	if (run_parse(argc, argv, o, err, sizeof(err)) < 0)
		FUZZ_REQUIRE(memchr(err, 0, sizeof(err)) && err[0]);
	else if (!o->help && !o->version)
		check_run(o);
	run_opts_free(o);
out:
	free(o);
	free(text);
	return 0;
}
