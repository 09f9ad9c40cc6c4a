/* A KVMBOX_NO_ARGS guest that returns a status: main gets argc = 0 and argv = { NULL } from
 * the start code's shortest path, and its 5 becomes HC_exit(5) there (tests/host/test_sdk.c). */
#include "kvmbox/guest.h"

KVMBOX_NO_ARGS;

int main(int argc, char **argv)
{
	GUEST_ASSERT(argc == 0);
	GUEST_ASSERT(argv[0] == 0);
	console_puts("noargs\n");
	return 5;
}
