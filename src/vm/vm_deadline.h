/* Deadline timers: a per-thread POSIX timer whose signal ends KVM_RUN when a run's deadline
 * passes. The signal stays blocked in the thread and is unblocked only inside KVM_RUN
 * (KVM_SET_SIGNAL_MASK), so a tick is never lost between two KVM_RUNs. */
#ifndef KVMBOX_DEADLINE_H
#define KVMBOX_DEADLINE_H

#include <stdint.h>

struct kvmbox_vm;
struct kvmbox_error;

/* Arm VM's timer to fire at DEADLINE (CLOCK_MONOTONIC ns) in the calling thread. The first
 * call in a thread creates the timer, installs an empty handler for the signal (process-
 * wide) and sets the vCPU's signal mask; a VM run from another thread later gets a new
 * timer. Returns 0 or -errno with ERR set. */
int deadline_arm(struct kvmbox_vm *vm, uint64_t deadline, struct kvmbox_error *err);

/* KVM_RUN returned EINTR: dequeue the pending tick, which KVM left queued and which would
 * otherwise end every later KVM_RUN at once. */
void deadline_consume_tick(void);

/* Delete VM's timer, if any (kvmbox_vm_destroy). */
void deadline_release(struct kvmbox_vm *vm);

#endif
