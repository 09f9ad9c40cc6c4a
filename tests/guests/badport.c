/* Writes one byte to a port nobody serves (0x3F8, COM1: kvmbox has no UART). The host must
 * stop the VM with a clear error instead of ignoring it. Halting with eax = 1 means it went on. */
#include "kvmbox/guest.h"

#define BADPORT 0x3F8

int main(void)
{
	outb(BADPORT, 'x');
	return 1;
}
