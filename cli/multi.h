/* `kvmbox run` under the scheduler: several VMs (--vm), or one VM with a scheduler option
 * (--stats-json, --trace-out, --sched ...), in one process on one thread
 * (include/kvmbox/sched.h). */
#ifndef KVMBOX_CLI_MULTI_H
#define KVMBOX_CLI_MULTI_H

#include "inputs.h"
#include "opts.h"

/* Run every VM of O under the scheduler, with the files IN opened for the run; print the
 * per-VM report on stderr and write --stats-json. Returns the exit status: the worst of
 * kvmbox's verdicts, else the first VM's guest status that is not 0, else 0. */
int cli_multi_run(const struct run_opts *o, const struct run_inputs *in);

#endif
