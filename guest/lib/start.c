/* The C half of the start code (guest/start/start*.S calls kvmbox_start_main): fetch the
 * guest's arguments from the host, call main(argc, argv), and make main's return value the
 * guest's status: 0 returns to the start code, which halts (status 0, the classic ending);
 * any other value is HC_exit(value). docs/sdk.md ("main, its arguments and its status"). */
#include "kvmbox/guest.h"

int main(int argc, char **argv);
int kvmbox_start_main(void);

/* Defined by KVMBOX_NO_ARGS (kvmbox/guest.h) in guests that want no argument call. */
extern const char kvmbox_no_args __attribute__((weak));

/* argv of a guest without arguments, or of a host without KVMBOX_HC_ARGS (ABI 1.0). */
static char *const no_args[1];

/* main's status: 0 comes back to the start code, which halts; anything else is HC_exit. */
static int main_returned(int status)
{
	if (status != 0)
		HC_exit(status);
	return 0;
}

/* The host writes a ready argv (pointers, then strings) into BUF, so this runs a handful of
 * instructions and no loop: on hosts that emulate guest instructions each one costs. BUF
 * lives in this frame, which outlasts main, on the stack's page that every run dirties
 * anyway (a bss page would be one more page for a fast reset to restore). Not inlined, so
 * that a KVMBOX_NO_ARGS guest never builds this frame. */
static __attribute__((noinline)) int main_with_args(void)
{
	union {
		uint64_t align;
		char bytes[KVMBOX_ARGS_BUF_SIZE];
	} buf;
	struct kvmbox_hc_args req = { .buf = kvmbox_gva(&buf), .size = sizeof(buf) };
	int argc = kvmbox_hypercall(KVMBOX_HC_ARGS, (uintptr_t)&req);

	if (argc < 0) /* a host without KVMBOX_HC_ARGS (ABI 1.0) */
		return main_returned(main(0, (char **)no_args));
	return main_returned(main(argc, (char **)(void *)buf.bytes));
}

/* A KVMBOX_NO_ARGS guest goes straight to main: about ten instructions more than the
 * classic `call main; hlt`, which matters where every kernel-mode guest instruction is
 * emulated (kvm_pvm: ~0.3 us each, docs/performance.md). */
int kvmbox_start_main(void)
{
	if (&kvmbox_no_args)
		return main_returned(main(0, (char **)no_args));
	return main_with_args();
}
