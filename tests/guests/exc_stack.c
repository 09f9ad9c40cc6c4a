/* kvmbox-modes: paged32 long */
/* Stack overflow: unbounded recursion on a 4 KiB stack at [0, 0x1000) (free in every image)
 * runs the stack pointer below 0, where nothing is mapped. The push that faults cannot be
 * delivered on that stack either, so the CPU raises #DF, which kvmbox's handlers take on
 * their own stack (IST1 in long mode, a task gate in the 32-bit modes) and report.
 * Protected mode is left out: without paging the wrapped stack is unbacked memory (an MMIO
 * exit, tests/guests/unbacked.c), not an exception. A halt means the recursion ended. */
#include "kvmbox/guest.h"

KVMBOX_NO_GUARD_NULL; /* its stack is page 0 */

#define SMALL_STACK_TOP 0x1000u

/* Stops only at a depth no 4 KiB stack reaches (a bound also keeps gcc from calling the
 * recursion infinite). */
#define DEPTH_MAX 100000u

__attribute__((noinline)) unsigned recurse(unsigned depth)
{
	volatile uint32_t frame[8];

	frame[0] = depth;
	if (depth == DEPTH_MAX)
		return 0;
	return recurse(depth + 1) + frame[0];
}

int main(void)
{
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
	__asm__ volatile("movq %0, %%rsp\n\t"
			 "xorl %%edi, %%edi\n\t"
			 "call recurse"
			 : : "i"(SMALL_STACK_TOP) : "memory");
#else
	__asm__ volatile("movl %0, %%esp\n\t"
			 "pushl $0\n\t"
			 "call recurse"
			 : : "i"(SMALL_STACK_TOP) : "memory");
#endif
	return 1;
}
