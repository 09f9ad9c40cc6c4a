/* kvmbox channels: FIFOs of records between the VMs attached to one hub, served to guests
 * by the KVMBOX_HC_CHAN_SEND/RECV hypercalls. A scheduler (kvmbox/sched.h) makes one hub
 * and attaches its VMs; an embedder running VMs its own way may do the same. No global
 * state: hubs are independent. */
#ifndef KVMBOX_CHAN_H
#define KVMBOX_CHAN_H

#include <stdbool.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "kvmbox/visibility.h"

KVMBOX_API_BEGIN

/* A channel is a FIFO of records between the VMs attached to one hub, named by a number
 * 0 .. KVMBOX_CHAN_MAX-1. Each KVMBOX_HC_CHAN_SEND of LEN bytes (0 .. KVMBOX_CHAN_MSG_MAX)
 * is one record; each KVMBOX_HC_CHAN_RECV takes the oldest record whole (its buffer must hold
 * it, else -ERANGE and the record stays) and returns its length. A channel holds at most
 * `capacity` records (default KVMBOX_CHAN_CAPACITY).
 *
 * Blocking: a send to a full channel or a receive from an empty one (without
 * KVMBOX_CHAN_NONBLOCK) ends the VM's run with KVMBOX_STOP_BLOCKED and records the call as
 * pending. When a peer's call makes room or brings a record, that peer's handler completes
 * the pending call: it copies the data, writes the result where KVM finishes the guest's
 * `in` (the I/O data of the blocked VM's kvm_run) and clears the wait. The blocked VM's
 * next KVM_RUN then returns from its one `in` with the result: one exit per call, no
 * retry loop in the guest, no polling, no RIP rewind. Whoever runs the VMs must not run
 * one while kvmbox_chan_hub_waiting() says it waits; the wake callback tells it when a
 * wait ends. Pending calls complete in the order they blocked. */
#define KVMBOX_CHAN_MAX 64
#define KVMBOX_CHAN_MSG_MAX 4096
#define KVMBOX_CHAN_CAPACITY 16
#define KVMBOX_CHAN_CAPACITY_MAX 65536
/* The record bytes one hub holds at once, over all its channels (queued, and held for
 * blocked senders): a send past it fails with -ENOSPC instead of blocking. */
#define KVMBOX_CHAN_HUB_BYTES_MAX (64u << 20)

struct kvmbox_chan_hub;

/* Create an empty hub. Returns 0 or -ENOMEM (ERR says so). Destroy it after every VM
 * attached to it has been detached or destroyed; a VM still attached is detached. */
int kvmbox_chan_hub_create(struct kvmbox_chan_hub **hubp, struct kvmbox_error *err);
void kvmbox_chan_hub_destroy(struct kvmbox_chan_hub *hub);

/* Set channel CHAN's capacity in records (1 .. KVMBOX_CHAN_CAPACITY_MAX). Only before the
 * channel is first used. Returns 0, -EINVAL or -EBUSY, with ERR saying why. */
int kvmbox_chan_hub_set_capacity(struct kvmbox_chan_hub *hub, uint32_t chan, uint32_t capacity,
				 struct kvmbox_error *err);

/* Attach VM to HUB (the VM's channel hypercalls then use it; without a hub they return
 * -ENOSYS). A VM is attached to at most one hub. Returns 0, -EINVAL, -EBUSY or -ENOMEM,
 * with ERR saying why. */
int kvmbox_chan_hub_attach(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm,
			   struct kvmbox_error *err);

/* Drop VM's pending call, if any, and detach it. Records it already sent stay queued.
 * Called for a VM that stopped; kvmbox_vm_destroy does it too. NULL or unattached: no-op. */
void kvmbox_chan_hub_detach(struct kvmbox_vm *vm);

/* Is VM (attached to HUB) waiting on a channel? Returns the channel number, or -1 when it
 * is not waiting (or not attached). *SENDING (may be NULL) tells which call waits. */
int kvmbox_chan_hub_waiting(const struct kvmbox_chan_hub *hub, const struct kvmbox_vm *vm,
			    bool *sending);

/* Called with the VM whose pending call a peer's call just completed (its wait is over),
 * from inside that peer's hypercall: record it, do not run or destroy VMs there. */
typedef void (*kvmbox_chan_wake_fn)(void *ctx, struct kvmbox_vm *vm);

/* Set (or with FN NULL, clear) HUB's wake callback. */
void kvmbox_chan_hub_set_wake(struct kvmbox_chan_hub *hub, kvmbox_chan_wake_fn fn, void *ctx);

struct kvmbox_chan_stats {
	uint64_t sent, received;      /* records */
	uint64_t bytes;               /* bytes sent */
	uint64_t send_blocks, recv_blocks; /* calls that had to wait */
	uint32_t queued, capacity;
};
/* Counters of channel CHAN. Returns 0, -EINVAL (no such channel) or -ENOENT (never used),
 * with ERR saying why. */
int kvmbox_chan_hub_stats(const struct kvmbox_chan_hub *hub, uint32_t chan,
			  struct kvmbox_chan_stats *st, struct kvmbox_error *err);

KVMBOX_API_END

#endif
