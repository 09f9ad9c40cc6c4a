/* Morpheus without the out: `xor ax, ax; 1: dec ax; jmp 1b`, pure compute that never
 * exits, so only timer preemption takes the CPU back from it. */
#include "kvmbox/guest.h"

int main(void)
{
	__asm__ volatile("xor %%ax, %%ax\n"
			 "1: dec %%ax\n"
			 "jmp 1b"
			 :
			 :
			 : "ax");
	return 0; /* not reached */
}
