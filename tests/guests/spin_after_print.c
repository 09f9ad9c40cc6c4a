/* Prints "started\n" and then spins forever without exits: its output must still reach the
 * console when the run is interrupted (Ctrl-C) or times out. */
#include "kvmbox/guest.h"

int main(void)
{
	console_puts("started\n");
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 1;
}
