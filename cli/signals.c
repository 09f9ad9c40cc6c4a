/* SIGINT and SIGTERM for `kvmbox run` (signals.h). */
#include <signal.h>
#include "signals.h"

/* The only mutable globals of the command, as a signal handler requires: the flag, and the VMs
 * it kicks (published count last, withdrawn first, so the handler never sees a stale VM). */
static volatile int interrupted;
static struct kvmbox_vm *const *volatile kick_vms;
static volatile unsigned nkick;

static void on_signal(int sig)
{
	unsigned n = nkick;

	interrupted = sig;
	for (unsigned i = 0; i < n; i++)
		kvmbox_vm_kick(kick_vms[i]);
}

volatile int *cli_catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return &interrupted;
}

void cli_stop_kicks(struct kvmbox_vm *const *vms, unsigned n)
{
	nkick = 0;
	kick_vms = vms;
	nkick = vms ? n : 0;
}
