/* Prints "chatter\n" forever, one byte at a time: a guest that floods the console, for
 * the host tests of a console nobody reads (--timeout must still stop it). */
#include "kvmbox/guest.h"

int main(void)
{
	for (;;)
		console_puts("chatter\n");
	return 1;
}
