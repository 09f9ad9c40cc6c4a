/* The scheduler's private state, shared by the policy/loop code (sched.c) and the report,
 * JSON and trace writers (sched_report.c). */
#ifndef KVMBOX_SCHED_INT_H
#define KVMBOX_SCHED_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "kvmbox/sched.h"

enum svm_state { SVM_RUNNABLE, SVM_BLOCKED, SVM_DONE };

/* One VM as the scheduler sees it. */
struct sched_vm {
	struct kvmbox_vm *vm;
	unsigned share;
	uint64_t timeout_ns, deadline; /* deadline: absolute, 0 = none */
	enum svm_state state;
	bool woken;           /* BLOCKED and the hub said its wait is over (on_wake) */
	enum kvmbox_sched_status status;
	int exit_status;
	char message[512];

	uint64_t cpu_ns;
	uint64_t vruntime;    /* share policy: guest ns scaled by SHARE_SCALE / share */
	uint64_t quanta, preemptions;
	uint64_t *lat;        /* preemption latencies (ns), one per preempted quantum */
	size_t nlat, cap_lat;
};

struct kvmbox_sched {
	struct kvmbox_sched_config cfg;
	char *script;            /* the digits of cfg.script, as VM indices (0-based) */
	size_t script_len, script_pos;
	uint64_t script_skips;

	struct kvmbox_chan_hub *hub;
	struct sched_vm *vms;
	unsigned nvms, cap_vms;
	unsigned rr_next;
	/* Kept as the VMs change state, so that a step need not look at every VM (a run may
	 * have thousands): VMs not DONE, RUNNABLE ones, whether the hub woke one since the
	 * last look, and the earliest timeout of a live VM (UINT64_MAX: none). */
	unsigned nlive, nrunnable;
	bool any_woken;
	uint64_t next_deadline;
	bool ran, deadlock;
	uint64_t start_ns, end_ns; /* the run's start and end */
	uint64_t stop_at_ns;       /* start + duration, 0 = none */

	uint16_t *picks;         /* recorded picks (kvmbox_sched_record) */
	size_t npicks, max_picks;

};

/* Trace-event JSON (sched_report.c): the header, one complete event per slice, the footer. */
void sched_trace_begin(struct kvmbox_sched *s);
void sched_trace_slice(struct kvmbox_sched *s, unsigned i, uint64_t t0, uint64_t t1,
		       const char *why);
void sched_trace_instant(struct kvmbox_sched *s, unsigned i, uint64_t t, const char *what);
void sched_trace_end(struct kvmbox_sched *s);

#endif
