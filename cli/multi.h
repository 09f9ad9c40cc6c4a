/* `kvmbox run` under the scheduler: several VMs (--vm), or one VM with a scheduler option
 * (--stats-json, --trace-out, --sched ...), in one process on one thread
 * (include/kvmbox/sched.h). */
#ifndef KVMBOX_CLI_MULTI_H
#define KVMBOX_CLI_MULTI_H

#include "inputs.h"
#include "opts.h"

/* Run every VM of O under the scheduler, with the files IN opened for the run; print the
 * per-VM report on stderr and write --stats-json. CANCEL is the flag the caller's SIGINT and
 * SIGTERM handler sets (the signal's number); the console writer sets it too when its output
 * fails. Ignores SIGPIPE (a gone reader is seen as EPIPE). Returns the exit status: 71 for a
 * failed console write, 128+N after signal N (141: the reader went away), else the worst of
 * kvmbox's verdicts, else the first VM's guest status that is not 0, else 0. */
int cli_multi_run(const struct run_opts *o, const struct run_inputs *in, volatile int *cancel);

#endif
