/* The C half of the start code (guest/start/start*.S calls kvmbox_start_main): fetch the
 * guest's arguments from the host and call main(argc, argv); the start code then makes
 * main's return value the guest's status: 0 halts (status 0, the classic ending), any other
 * value is HC_exit(value). docs/sdk.md ("main, its arguments and its status"). */
#include "kvmbox/guest.h"

int main(int argc, char **argv);
int kvmbox_start_main(void);
int kvmbox_start_main_noargs(void);

/* argv of a guest without arguments, or of a host without KVMBOX_HC_ARGS (ABI 1.0). Not
 * static: KVMBOX_NO_ARGS's entry (kvmbox/guest.h) passes it to main itself. */
char *const kvmbox_no_argv[1];

/* The host writes a ready argv (pointers, then strings) into BUF, so this runs a handful of
 * instructions and no loop: on hosts that emulate guest instructions each one costs. BUF
 * lives in this frame, which outlasts main, on the stack's page that every run dirties
 * anyway (a bss page would be one more page for a fast reset to restore). */
__attribute__((weak)) int kvmbox_start_main(void)
{
	union {
		uint64_t align;
		char bytes[KVMBOX_ARGS_BUF_SIZE];
	} buf;
	struct kvmbox_hc_args req = { .buf = kvmbox_gva(&buf), .size = sizeof(buf) };
	int argc = kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req);

	if (argc < 0) /* a host without KVMBOX_HC_ARGS (ABI 1.0) */
		return main(0, (char **)kvmbox_no_argv);
	return main(argc, (char **)(void *)buf.bytes);
}

/* main without arguments: the entry of a KVMBOX_NO_ARGS guest in the 32-bit modes, whose
 * C convention passes arguments on the stack (long mode's entry calls main itself). */
int kvmbox_start_main_noargs(void)
{
	return main(0, (char **)kvmbox_no_argv);
}
