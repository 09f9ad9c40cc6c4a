/* Prints a line, then executes an undefined instruction: the line must reach the console
 * before the fault's report, whatever the symbolizer makes of the image (the crafted copy
 * tests/guests/crafted/altlink.S makes of it, tests/host/test_faults.c). */
/* kvmbox-modes: long */
#include "kvmbox/guest.h"

__attribute__((noinline)) void bad_opcode(void)
{
	__asm__ volatile("ud2");
}

int main(void)
{
	console_puts("before the fault\n");
	console_puts("no newline yet");
	bad_opcode();
	return 1;
}
