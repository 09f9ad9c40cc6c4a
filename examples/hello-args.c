/* Prints its arguments, one a line, the way a C program gets them: `kvmbox run
 * build/guests/hello-args-long.elf -- a b c` gives argc = 4 and argv[0] = the image. The
 * SDK's start code asks the host for them (KVMBOX_HC_ARGS) before main; docs/sdk.md. */
#include "kvmbox/guest.h"

int main(int argc, char **argv)
{
	console_printf("argc = %d\n", argc);
	for (int i = 0; i < argc; i++)
		console_printf("argv[%d] = %s\n", i, argv[i]);
	return argv[argc] == NULL ? 0 : 1; /* C11 5.1.2.2.1: argv[argc] is a null pointer */
}
