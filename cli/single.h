/* `kvmbox run` of one VM without the scheduler: the fastest path, with --repeat and a clean
 * stop on Ctrl-C. */
#ifndef KVMBOX_CLI_SINGLE_H
#define KVMBOX_CLI_SINGLE_H

#include "inputs.h"
#include "opts.h"

/* Run O's one VM (O->nvms == 1, not run_is_scheduled) with the files IN opened for it.
 * CANCEL is the flag the signal handlers set (the signal's number). Returns the exit status. */
int cli_single_run(const struct run_opts *o, const struct run_inputs *in,
		   volatile int *cancel);

#endif
