/* `kvmbox run --walk GVA`: each address's translation, as the library renders it, on stderr
 * next to --regs and --stats (stdout stays the guest's console). */
#include <stdio.h>
#include <string.h>
#include "walk_print.h"

void cli_print_walks(const struct kvmbox_vm *vm, const struct vm_opts *v, bool prefix)
{
	char buf[4096];
	unsigned i;

	for (i = 0; i < v->nwalk; i++) {
		struct kvmbox_walk w;
		char *line, *save = NULL;

		if (kvmbox_vm_walk(vm, v->walk[i], 0, &w) < 0)
			continue;
		kvmbox_walk_format(&w, false, buf, sizeof(buf));
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			fprintf(stderr, "%s%s%s%s\n", prefix ? "[" : "", prefix ? v->name : "",
				prefix ? "] " : "", line);
	}
}
