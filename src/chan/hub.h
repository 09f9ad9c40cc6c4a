/* The channel hub's inside, for the channel hypercalls (src/hc/hc_chan.c): FIFOs of records,
 * the members and the calls they wait in. The hub knows VMs only as opaque handles: moving
 * a record into a guest and finishing a guest's call are the caller's hooks (struct
 * hub_ops), so nothing here touches KVM or guest memory. */
#ifndef KVMBOX_CHAN_HUB_H
#define KVMBOX_CHAN_HUB_H

#include <stdbool.h>
#include <stdint.h>
#include "kvmbox/chan.h"

/* One record: LEN bytes at DATA (malloc'ed, owned by whoever holds the record; NULL when
 * LEN is 0). */
struct chan_rec {
	uint32_t len;
	uint8_t *data;
};

/* How the hub finishes a member's pending call when a peer's call makes that possible. */
struct hub_ops {
	/* Copy REC into receiver VM's buffer [BUF, BUF+LEN). Returns REC's length, or a
	 * negative KVMBOX_E* (the record then stays queued). */
	int32_t (*deliver)(struct kvmbox_vm *vm, uint64_t buf, uint64_t len,
			   const struct chan_rec *rec);
	/* VM's pending call is over with result RET (>= 0 or -KVMBOX_E*). */
	void (*complete)(struct kvmbox_vm *vm, int32_t ret);
};

/* Make VM a member of HUB. Returns 0, -EBUSY (already one) or -ENOMEM. */
int hub_join(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm);

/* Drop VM (and its pending call) from HUB; no-op for a non-member. */
void hub_leave(struct kvmbox_chan_hub *hub, const struct kvmbox_vm *vm);

/* The I-th member's VM (I < hub_count), for unlinking every member before hub_free. */
unsigned hub_count(const struct kvmbox_chan_hub *hub);
struct kvmbox_vm *hub_member_vm(const struct kvmbox_chan_hub *hub, unsigned i);

/* Free HUB with its queued records. Members are forgotten, not told. */
void hub_free(struct kvmbox_chan_hub *hub);

/* What a send or receive came to. */
enum hub_outcome {
	HUB_DONE,    /* served now: the result is in *RET */
	HUB_BLOCKED, /* the caller now waits; a peer's call will complete it through OPS */
};

/* Can a send on CHAN (< KVMBOX_CHAN_MAX) go ahead? Opens the channel on first use.
 * Returns 0, -KVMBOX_ENOSPC (out of memory) or -KVMBOX_EAGAIN (full and NONBLOCK). Call it
 * before reading the record from the guest, so a refused send reads nothing. */
int32_t hub_send_ready(struct kvmbox_chan_hub *hub, uint32_t chan, bool nonblock);

/* VM (a member) sends REC on CHAN after hub_send_ready said 0; the hub takes REC. A full
 * channel blocks the caller. *RET: REC's length. Completes the pending calls this makes
 * possible. */
enum hub_outcome hub_send(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm, uint32_t chan,
			  struct chan_rec rec, const struct hub_ops *ops, int32_t *ret);

/* VM (a member) receives from CHAN into its buffer [BUF, BUF+LEN) through OPS->deliver.
 * *RET: the record's length, deliver's error (the record stays), -KVMBOX_EAGAIN (empty
 * and NONBLOCK) or -KVMBOX_ENOSPC. Completes the pending calls this makes possible. */
enum hub_outcome hub_recv(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm, uint32_t chan,
			  uint64_t buf, uint64_t len, bool nonblock, const struct hub_ops *ops,
			  int32_t *ret);

#endif
