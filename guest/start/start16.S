/* Real-mode start code (gcc -m16). The host enters here at e_entry with every segment base 0,
 * SS = 0 and ESP = 0xFFF0; the image lies below 64 KiB (guest/link/guest.ld checks).
 * .code16gcc: gas emits 16-bit code with 32-bit operand/address prefixes, the same
 * convention gcc -m16 compiles C with, so `call main` pushes a 4-byte return address. */
#include "kvmbox/note.h"

#ifndef KVMBOX_GUEST_MODE
#error "build with -DKVMBOX_GUEST_MODE=1 (mk/guests.mk does)"
#endif

	.code16gcc
	.section .text.start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	cld			/* the C ABI assumes DF = 0 */
	xorl %ebp, %ebp		/* end of the frame chain for debuggers */
	andl $-16, %esp		/* i386 psABI: 16-byte aligned before a call */
	/* kvmbox_start_main (guest/lib/start.c) fetches the arguments, calls main(argc, argv)
	 * and ends a run whose main returned non-zero with HC_exit; main's 0 comes back here. */
	call kvmbox_start_main
1:	hlt			/* eax = 0: main returned 0 */
	jmp 1b
	.size _start, . - _start

/* Images end below this address: the real-mode stack grows down from 0xFFF0 inside the
 * same 64 KiB segment, so 0xC000..0xFFF0 (16 KiB) is left to it. */
	.globl __kvmbox_image_limit
	.set __kvmbox_image_limit, 0xC000

	KVMBOX_MODE_NOTE KVMBOX_GUEST_MODE
	KVMBOX_GUARD_NULL_NOTE

	.section .note.GNU-stack, "", @progbits
