/* #DE in every mode: a division by zero in a named function. kvmbox's default handler must
 * report "divide error (#DE)" at the div, in divide (tests/host/test_faults.c). Halting with
 * eax = 1 means the exception never came. */
#include "kvmbox/guest.h"

__attribute__((noinline)) unsigned divide(unsigned a, unsigned b)
{
	unsigned q;

	__asm__ volatile("xorl %%edx, %%edx\n\tdivl %2" /* exc-fault-line */
			 : "=a"(q) : "a"(a), "r"(b) : "edx");
	return q;
}

int main(void)
{
	volatile unsigned zero = 0;

	return (int)divide(7, zero) + 1;
}
