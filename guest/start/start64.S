/* Long-mode start code (gcc -m64). The host enters here at e_entry in 64-bit mode with an
 * identity map of guest memory and RSP just below its area at the top of memory. */
#include "kvmbox/note.h"

#ifndef KVMBOX_GUEST_MODE
#error "build with -DKVMBOX_GUEST_MODE=4 (mk/guests.mk does)"
#endif

	.code64
	.section .text.start, "ax", @progbits
	/* Weak: a KVMBOX_NO_ARGS guest brings its own, shorter _start (kvmbox/guest.h), which
	 * names __kvmbox_start64 so that this file (its mode note) is linked all the same. */
	.weak _start
	.type _start, @function
	.globl __kvmbox_start64
__kvmbox_start64:
_start:
	/* The host enters with every general register 0 (so RBP ends the frame chain for
	 * debuggers), RFLAGS 0x2 (DF clear, as the C ABI wants) and RSP 16-byte aligned
	 * (docs/sdk.md): no instruction is spent making it so, since on a host that emulates
	 * kernel-mode guest instructions each one costs (docs/performance.md).
	 * kvmbox_start_main (guest/lib/start.c, or KVMBOX_NO_ARGS's) calls main with its
	 * arguments and returns main's status. */
	call kvmbox_start_main
	testl %eax, %eax
	jnz 2f
1:	hlt			/* eax = 0: main returned 0 */
	jmp 1b
2:	movl %eax, %edi		/* any other status ends the run with HC_exit(status) */
	call HC_exit
	jmp 1b
	.size _start, . - _start

	KVMBOX_MODE_NOTE KVMBOX_GUEST_MODE
	KVMBOX_GUARD_NULL_NOTE

	.section .note.GNU-stack, "", @progbits
