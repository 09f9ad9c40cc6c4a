/* #UD in every mode: an undefined instruction in a named function. kvmbox's default handler
 * must report "invalid opcode (#UD)" at the ud2, in bad_opcode (tests/host/test_faults.c).
 * Halting with eax = 1 means the exception never came. */
#include "kvmbox/guest.h"

__attribute__((noinline)) void bad_opcode(void)
{
	__asm__ volatile("ud2"); /* exc-fault-line */
}

int main(void)
{
	bad_opcode();
	return 1;
}
