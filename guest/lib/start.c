/* The C half of the start code (guest/start/start*.S calls kvmbox_start_main): fetch the
 * guest's arguments from the host, call main(argc, argv), and make main's return value the
 * guest's status: 0 returns to the start code, which halts (status 0, the classic ending);
 * any other value is HC_exit(value). docs/sdk.md ("main and its status"). */
#include "kvmbox/guest.h"

int main(int argc, char **argv);
int kvmbox_start_main(void);

/* Sized by the ABI's limits, so the host's arguments always fit (kvmbox/abi.h). */
static char arg_text[KVMBOX_ARGS_MAX];
static char *arg_ptrs[KVMBOX_ARGC_MAX + 1];

/* argv from the host's packed strings. A host without the call (ABI 1.0) or with nothing to
 * give leaves argc = 0 and argv = { NULL }. Splitting stops at the buffer's end whatever the
 * host wrote, so argv never points outside it. */
static int fetch_args(void)
{
	struct kvmbox_hc_args req = { .buf = kvmbox_gva(arg_text), .size = sizeof(arg_text) };
	int32_t n = kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req);
	char *p = arg_text, *end = arg_text + sizeof(arg_text);
	int argc = 0;

	while (argc < n && argc < KVMBOX_ARGC_MAX && p < end) {
		arg_ptrs[argc++] = p;
		while (p < end && *p)
			p++;
		if (p == end) { /* unterminated: drop the last string rather than read past */
			argc--;
			break;
		}
		p++;
	}
	arg_ptrs[argc] = NULL;
	return argc;
}

int kvmbox_start_main(void)
{
	int argc = fetch_args();
	int status = main(argc, arg_ptrs);

	if (status != 0)
		HC_exit(status);
	return 0;
}
