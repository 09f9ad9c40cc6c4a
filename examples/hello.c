/* The classic kvm-hello-world guest, one source for all four CPU modes: "Hello, world!\n"
 * on port 0xE9 (one rep outsb: a byte-sized port write per byte, in one instruction), 42
 * stored as a 32-bit value at guest address 0x400, and a halt with eax = 42 (kvmbox_halt:
 * the classic ending, which kvmbox reports as status 0; main's own return value would be
 * the guest's status instead). */
#include "kvmbox/guest.h"

KVMBOX_NO_ARGS; /* the classic guest: no hypercall for arguments, only its bytes and the halt */
KVMBOX_NO_GUARD_NULL; /* the classic 42 at 0x400, in page 0 */

#define HELLO_ADDR 0x400 /* below the image (which starts at 0x1000) */
#define HELLO_VALUE 42

int main(void)
{
	console_puts("Hello, world!\n");
	/* The classic store, one instruction (where guest instructions are emulated each one
	 * counts: kvmbox_ptr would cost a register move more). gcc >= 12 takes a constant
	 * address below 4 KiB for an offset from a null pointer and warns; it is not one. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
	*(volatile uint32_t *)HELLO_ADDR = HELLO_VALUE;
#pragma GCC diagnostic pop
	kvmbox_halt(HELLO_VALUE);
}
