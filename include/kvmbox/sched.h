/* kvmbox scheduler: several VMs on ONE host thread under a policy (io, rr, share, script),
 * channels between them (kvmbox/chan.h), per-VM accounting, deadlock detection and a
 * JSON/trace report.
 * The scheduler drives VMs; hypercall handlers (channels included) only change VM state.
 * docs/scheduler.md describes the design. No global state: schedulers are independent. */
#ifndef KVMBOX_SCHED_H
#define KVMBOX_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "kvmbox/chan.h"
#include "kvmbox/kvmbox.h"
#include "kvmbox/visibility.h"

KVMBOX_API_BEGIN

/* ---- Scheduler ----------------------------------------------------------------------- */

enum kvmbox_sched_policy {
	KVMBOX_SCHED_IO,     /* next runnable VM after every I/O exit (and at the quantum) */
	KVMBOX_SCHED_RR,     /* round robin, one quantum each, timer preemption */
	KVMBOX_SCHED_SHARE,  /* weighted fair share of measured guest time (least vruntime first) */
	KVMBOX_SCHED_SCRIPT, /* the script names the VM of each quantum */
};

struct kvmbox_sched_config {
	enum kvmbox_sched_policy policy;
	uint64_t quantum_ns;  /* 0: 10 ms. Under io, a VM with no I/O is preempted after it */
	bool yield_on_io;     /* also end a quantum at every I/O exit (implied by io) */
	/* SCRIPT: each digit 1-9 names the VM (in the order added) of one quantum; whitespace
	 * is ignored and '#' starts a comment to the end of the line. The script repeats. An
	 * entry naming a VM that is blocked or stopped is skipped; when a whole pass finds no
	 * VM to run while some can run, the scheduler falls back to round robin for that pick. */
	const char *script;
	uint64_t duration_ns; /* 0: none; else VMs still running then end as STOPPED (not a failure) */
	FILE *trace;          /* NULL, or Chrome/Perfetto trace-event JSON is written here (the
			       * caller flushes and closes it, and sees write errors there) */
	/* NULL, or a flag the caller sets (a signal handler, a console sink that lost its
	 * reader) to end the run: passed to every kvmbox_vm_run, checked before every pick;
	 * the VMs still running then end as CANCELLED and kvmbox_sched_run returns 0. */
	const volatile int *cancel;
	struct kvmbox_log *log;
};

enum kvmbox_sched_status {
	KVMBOX_SCHED_RUNNING = 0, /* not ended (only before kvmbox_sched_run returns) */
	KVMBOX_SCHED_HALTED,      /* hlt */
	KVMBOX_SCHED_EXITED,      /* HC_exit(exit_status) */
	KVMBOX_SCHED_FAULT,       /* triple fault, bad port, bad MMIO ... */
	KVMBOX_SCHED_ASSERT,      /* a guest assertion failed */
	KVMBOX_SCHED_BAD_CALL,    /* a bad hypercall under KVMBOX_VM_STRICT */
	KVMBOX_SCHED_TIMEOUT,     /* its own timeout passed */
	KVMBOX_SCHED_DEADLOCK,    /* waited on a channel when every remaining VM waited */
	KVMBOX_SCHED_STOPPED,     /* still running when the run's duration ended */
	KVMBOX_SCHED_HOST_ERROR,  /* a KVM call failed */
	KVMBOX_SCHED_CANCELLED,   /* still running when the caller's cancel flag was set */
};

/* "running", "halted", "exited", "fault", "assert", "bad-call", "timeout", "deadlock",
 * "stopped", "host-error", "cancelled". */
const char *kvmbox_sched_status_name(enum kvmbox_sched_status st);

struct kvmbox_sched;

/* Create a scheduler and its channel hub. CFG is copied (the script string too; the trace
 * and log stay the caller's). Returns 0, -EINVAL (bad policy, a script without a digit) or
 * -ENOMEM. */
int kvmbox_sched_create(struct kvmbox_sched **sp, const struct kvmbox_sched_config *cfg,
			struct kvmbox_error *err);

/* Destroy the scheduler and its hub; detaches the VMs from it first. The VMs stay the
 * caller's (destroy them before or after). NULL is fine. */
void kvmbox_sched_destroy(struct kvmbox_sched *s);

/* The scheduler's channel hub, to set capacities before the run. */
struct kvmbox_chan_hub *kvmbox_sched_hub(struct kvmbox_sched *s);

/* Add VM, created and loaded by the caller and not yet run, with weight SHARE (1 .. 1000000,
 * used by the share policy; reported by all) and TIMEOUT_NS (0: none; else the VM ends as
 * TIMEOUT that long after kvmbox_sched_run starts). The VM is attached to the hub. VMs are
 * numbered from 1 in the order added (the script's numbers). The VM must outlive the
 * scheduler's use of it. Returns the VM's index (0-based) or -EINVAL/-EBUSY/-ENOMEM. */
int kvmbox_sched_add(struct kvmbox_sched *s, struct kvmbox_vm *vm, unsigned share,
		     uint64_t timeout_ns, struct kvmbox_error *err);

/* Run every VM on the calling thread until each has ended: stopped on its own (halt, exit,
 * fault ...), timed out, deadlocked (every remaining VM waits on a channel: reported, not
 * spun on) or stopped at the end of the duration. One VM's end never stops the others.
 * Call once. Returns 0 (whatever the VMs did) or a negative errno when the run could not
 * be carried out (ERR says why). */
int kvmbox_sched_run(struct kvmbox_sched *s, struct kvmbox_error *err);

struct kvmbox_sched_vm_report {
	const char *name;
	unsigned share;           /* the weight asked */
	double share_asked;       /* share / sum of the shares */
	double share_achieved;    /* cpu_ns / sum of every VM's cpu_ns */
	uint64_t cpu_ns;          /* guest time during the run (kvmbox_stats.guest_ns deltas) */
	uint64_t quanta;          /* times the VM was picked to run */
	uint64_t preemptions;     /* quanta ended by the timer */
	uint64_t latency_p50_ns;  /* preemption latency: quantum deadline -> KVM_RUN returned */
	uint64_t latency_p99_ns;
	uint64_t latency_max_ns;
	enum kvmbox_sched_status status;
	int exit_status;          /* HC_exit status for EXITED */
	const char *message;      /* what happened (fault text with RIP, deadlock channel ...) */
	const struct kvmbox_stats *stats; /* the VM's exit counters */
};

/* Number of VMs added. */
unsigned kvmbox_sched_count(const struct kvmbox_sched *s);

/* Fill R for the VM of index I (after kvmbox_sched_run; pointers stay valid until the
 * scheduler and the VM are destroyed). Returns 0 or -EINVAL. */
int kvmbox_sched_report(const struct kvmbox_sched *s, unsigned i, struct kvmbox_sched_vm_report *r);

/* Record the index of the VM picked for each quantum, up to MAX_ENTRIES picks (call before
 * kvmbox_sched_run; tests use it). Returns 0 or -ENOMEM. kvmbox_sched_picks returns the
 * number recorded and points *PICKS at them. */
int kvmbox_sched_record(struct kvmbox_sched *s, size_t max_entries);
size_t kvmbox_sched_picks(const struct kvmbox_sched *s, const uint16_t **picks);

/* Did the run end in a deadlock (every remaining VM waiting on a channel)? */
bool kvmbox_sched_deadlocked(const struct kvmbox_sched *s);

/* Per-VM report as lines of text (for stderr). */
void kvmbox_sched_write_report(const struct kvmbox_sched *s, FILE *f);

/* {"policy":..,"quantum_ns":..,"wall_ns":..,"deadlock":bool,"vms":[{"name":..,"cpu_ns":..,
 * "share_asked":..,"share_achieved":..,"quanta":..,"preemptions":..,
 * "exits":{"total":..,"io":..,"hlt":..,...,"io_in":..,"io_out":..,"hypercalls":..},
 * "preempt_latency_ns":{"p50":..,"p99":..,"max":..},"console":{"bytes":..,"dropped":..},
 * "status":..,"exit_status":..,
 * "message":..}],"channels":[{"chan":..,"sent":..,...}]}. Returns 0 or -EIO. */
int kvmbox_sched_write_json(const struct kvmbox_sched *s, FILE *f);

KVMBOX_API_END

#endif
