/* The SDK's console helpers, each on port 0xE9: console_putc (one outb), console_puts of a
 * literal and of a string built at run time (one rep outsb each), console_write of 0 bytes
 * (nothing) and of part of a buffer, and console_printf. The host expects exactly
 * CONSOLE_EXPECTED (tests/host/test_guests.c) and a halt with eax = its length. */
#include "kvmbox/guest.h"

int main(void)
{
	static char built[8];
	const char *digits = "0123456789";

	console_putc('<');
	console_puts("literal");
	console_putc('>');
	for (int i = 0; i < 5; i++)
		built[i] = (char)('a' + 2 * i);
	built[5] = '\0';
	console_puts(built); /* "acegi": the length comes from strlen at run time */
	console_write(digits, 0);
	console_write(digits + 3, 4); /* "3456" */
	console_printf(" %d|%s\n", -12, built);
	kvmbox_halt(29); /* the bytes written: "<literal>acegi3456 -12|acegi\n" */
}
