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
	cld			/* the C ABI assumes DF = 0 */
	xorl %ebp, %ebp
	andl $-16, %esp		/* i386 psABI: 16-byte aligned before a call */
	/* kvmbox_start_main (guest/lib/start.c) fetches the arguments, calls main(argc, argv)
	 * and ends a run whose main returned non-zero with HC_exit; main's 0 comes back here. */
	call kvmbox_start_main
1:	hlt			/* eax = 0: main returned 0 */
	jmp 1b
	.size _start, . - _start

	KVMBOX_MODE_NOTE KVMBOX_GUEST_MODE
	KVMBOX_GUARD_NULL_NOTE

	.section .note.GNU-stack, "", @progbits
