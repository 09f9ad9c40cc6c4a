/* Long-mode start code (gcc -m64). The host enters here at e_entry in 64-bit mode with an
 * identity map of guest memory and RSP just below its area at the top of memory. */
#include "kvmbox/note.h"

#ifndef KVMBOX_GUEST_MODE
#error "build with -DKVMBOX_GUEST_MODE=4 (mk/guests.mk does)"
#endif

	.code64
	.section .text.start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	cld			/* the C ABI assumes DF = 0 */
	xorl %ebp, %ebp
	andq $-16, %rsp		/* SysV x86-64 psABI 3.2.2: 16-byte aligned before a call */
	/* kvmbox_start_main (guest/lib/start.c) fetches the arguments, calls main(argc, argv)
	 * and ends a run whose main returned non-zero with HC_exit; main's 0 comes back here. */
	call kvmbox_start_main
1:	hlt			/* eax = 0: main returned 0 */
	jmp 1b
	.size _start, . - _start

	KVMBOX_MODE_NOTE KVMBOX_GUEST_MODE
	KVMBOX_GUARD_NULL_NOTE

	.section .note.GNU-stack, "", @progbits
