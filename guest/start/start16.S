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
	/* The host enters with every general register 0 (EBP ends the frame chain), EFLAGS 0x2
	 * (DF clear) and ESP 0xFFF0 (docs/sdk.md): nothing to set up here.
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

/* Images end below this address: the real-mode stack grows down from 0xFFF0 inside the
 * same 64 KiB segment, so 0xC000..0xFFF0 (16 KiB) is left to it. */
	.globl __kvmbox_image_limit
	.set __kvmbox_image_limit, 0xC000

	KVMBOX_MODE_NOTE KVMBOX_GUEST_MODE
	KVMBOX_GUARD_NULL_NOTE

	.section .note.GNU-stack, "", @progbits
