/* Neo of the classic two-VM assignment (its "Matrix" part): the loop
 *   xor ax, ax; 1: out KVMBOX_PORT_NEO, ax; inc ax; jmp 1b
 * forever, one I/O exit per iteration. Built for every mode; the classic one is real mode. */
#include "kvmbox/guest.h"
#include "kvmbox/matrix.h"

int main(void)
{
	__asm__ volatile("xor %%ax, %%ax\n"
			 "1: outw %%ax, %0\n"
			 "inc %%ax\n"
			 "jmp 1b"
			 :
			 : "i"(KVMBOX_PORT_NEO)
			 : "ax");
	return 0; /* not reached */
}
