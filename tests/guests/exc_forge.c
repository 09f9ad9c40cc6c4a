/* A forged exception report: the guest writes kvmbox's exception-report port itself, from
 * its own code. Only kvmbox's handler stubs may report; this must end as a port fault that
 * says so. Halting with eax = 1 means the write was ignored. */
#include "kvmbox/guest.h"

int main(void)
{
	outb(KVMBOX_PORT_EXC, 14);
	return 1;
}
