/* Prints a line and the start of another, makes one hypercall (an exit: the bytes are in
 * kvmbox's console buffer now, not in KVM's ring) and spins without exits. What it printed
 * must come out even when kvmbox ends abruptly mid-run (tests/host/test_robust.c). */
/* kvmbox-modes: long */
#include "kvmbox/guest.h"

int main(void)
{
	console_puts("started\n");
	console_puts("partial");
	HC_numExits();
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 1;
}
