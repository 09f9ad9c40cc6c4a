/* The signals that stop a run (SIGINT, SIGTERM): the handler sets the flag the library's runs
 * look at and kicks the VMs being run, so that a signal is never missed, whatever the guest
 * or the console are doing. */
#ifndef KVMBOX_CLI_SIGNALS_H
#define KVMBOX_CLI_SIGNALS_H

#include "kvmbox/kvmbox.h"

/* Install the handler for SIGINT and SIGTERM (no SA_RESTART: a blocking call returns EINTR).
 * Returns the flag it sets to the signal's number, for kvmbox_run_opts.cancel. */
volatile int *cli_catch_stop_signals(void);

/* From now on the handler also calls kvmbox_vm_kick on VMS[0..N), which must stay valid until
 * cli_stop_kicks(NULL, 0) (before they are destroyed). */
void cli_stop_kicks(struct kvmbox_vm *const *vms, unsigned n);

#endif
