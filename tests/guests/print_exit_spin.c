/* Prints a line and the start of another, then makes hypercalls forever (exits: the bytes are
 * in kvmbox's console buffer now, not in KVM's ring). What it printed must come out even when
 * kvmbox ends abruptly mid-run (tests/host/test_robust.c). A KVM_RUN keeps coming after the
 * bytes on any host: how many exits the bytes take differs (one per byte before the console
 * coalesces; a whole rep outsb in one on VMX/SVM). */
/* kvmbox-modes: long */
#include "kvmbox/guest.h"

int main(void)
{
	console_puts("started\n");
	console_puts("partial");
	for (;;)
		HC_numExits();
	return 1;
}
