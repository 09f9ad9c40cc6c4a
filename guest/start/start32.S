/* 32-bit start code (gcc -m32), for protected mode (KVMBOX_GUEST_MODE=2) and 32-bit paging
 * (KVMBOX_GUEST_MODE=3): the code is the same, only the mode note differs. The host enters
 * here at e_entry with flat segments and ESP just below its area at the top of memory. */
#include "kvmbox/note.h"

#ifndef KVMBOX_GUEST_MODE
#error "build with -DKVMBOX_GUEST_MODE=2 or 3 (mk/guests.mk does)"
#endif

	.code32
	.section .text.start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	/* The host enters with every general register 0 (EBP ends the frame chain), EFLAGS 0x2
	 * (DF clear) and ESP 16-byte aligned (docs/sdk.md): nothing to set up here.
	 * kvmbox_start_main (guest/lib/start.c, or KVMBOX_NO_ARGS's) calls main with its
	 * arguments and returns main's status. */
	call kvmbox_start_main
	testl %eax, %eax
	jnz 2f
1:	hlt			/* eax = 0: main returned 0 */
	jmp 1b
2:	pushl %eax		/* any other status ends the run with HC_exit(status) */
	call HC_exit
	jmp 1b
	.size _start, . - _start

	KVMBOX_MODE_NOTE KVMBOX_GUEST_MODE
	KVMBOX_GUARD_NULL_NOTE

	.section .note.GNU-stack, "", @progbits
