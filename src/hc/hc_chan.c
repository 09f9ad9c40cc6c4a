/* The channel hypercalls (KVMBOX_HC_CHAN_SEND/RECV) and the links between VMs and a hub
 * (attach, detach, destroy). The hub itself (src/chan/hub.c) knows no KVM: this file reads
 * and writes guest memory for it and finishes a peer's pending `in` through the core's
 * vm_complete_io. Handlers only change VM state; they never run or schedule a VM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/chan.h"
#include "chan/hub.h"
#include "base/log.h"
#include "mem/mem.h"
#include "base/util.h"
#include "vm/vm.h"
#include "hc/hc.h"

/* This feature's descriptor (end of file): a VM's state in it is its hub, NULL unless
 * attached. */
extern const struct vm_feature hc_chan_feature;

/* ---- What the hub asks of VMs ---------------------------------------------------------- */

static int32_t deliver(struct kvmbox_vm *vm, uint64_t buf, uint64_t len, const struct chan_rec *rec)
{
	if (rec->len > len)
		return -KVMBOX_ERANGE;
	if (rec->len && guest_write(vm, buf, rec->data, rec->len) < 0)
		return -KVMBOX_EFAULT;
	return (int32_t)rec->len;
}

/* A peer's call finished VM's pending one. A receive buffer that went bad meanwhile is the
 * waiting guest's bad call (counted, not stopped: it is not the running VM). */
static void complete(struct kvmbox_vm *vm, int32_t ret)
{
	if (ret == -KVMBOX_EFAULT)
		vm->stats.bad_calls++;
	vm_complete_io(vm, ret);
}

static const struct hub_ops ops = { .deliver = deliver, .complete = complete };

/* ---- Attaching ------------------------------------------------------------------------- */

int kvmbox_chan_hub_attach(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm,
			   struct kvmbox_error *err)
{
	int ret;

	if (!hub || !vm)
		return set_error(err, EINVAL, "kvmbox_chan_hub_attach: NULL argument");
	if (vm_feature_state(vm, &hc_chan_feature))
		return set_error(err, EBUSY, "%s: already attached to a channel hub", vm->name);
	ret = hub_join(hub, vm);
	if (ret < 0)
		return set_error(err, -ret, "%s: cannot join the channel hub: %s", vm->name,
				 strerror(-ret));
	vm_feature_set_state(vm, &hc_chan_feature, hub);
	return 0;
}

void kvmbox_chan_hub_detach(struct kvmbox_vm *vm)
{
	struct kvmbox_chan_hub *hub = vm ? vm_feature_state(vm, &hc_chan_feature) : NULL;

	if (!hub)
		return;
	hub_leave(hub, vm);
	vm_feature_set_state(vm, &hc_chan_feature, NULL);
}

void kvmbox_chan_hub_destroy(struct kvmbox_chan_hub *hub)
{
	unsigned i;

	if (!hub)
		return;
	for (i = 0; i < hub_count(hub); i++)
		vm_feature_set_state(hub_member_vm(hub, i), &hc_chan_feature, NULL);
	hub_free(hub);
}

static void chan_release(struct kvmbox_vm *vm, void *state)
{
	(void)state;
	kvmbox_chan_hub_detach(vm);
}

/* ---- The hypercalls -------------------------------------------------------------------- */

/* Read and check the argument struct. Returns 0, or the guest's error (a bad call). */
static int32_t chan_args(struct kvmbox_vm *vm, const struct hc_call *call, const char *what,
			 struct kvmbox_hc_chan *a)
{
	if (guest_read(vm, call->arg, a, sizeof(*a)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "%s: bad struct address 0x%llx", what,
				   (unsigned long long)call->arg);
	if (a->chan >= KVMBOX_CHAN_MAX)
		return vm_bad_call(vm, KVMBOX_EINVAL, "%s: no channel %u (0..%u)", what, a->chan,
				   KVMBOX_CHAN_MAX - 1);
	if (a->flags & ~KVMBOX_CHAN_NONBLOCK)
		return vm_bad_call(vm, KVMBOX_EINVAL, "%s: unknown flags 0x%x", what, a->flags);
	return 0;
}

/* The call blocked: end the run; a peer's call completes the `in` later. */
static int32_t blocked(struct kvmbox_vm *vm, bool sending, uint32_t chan)
{
	vm_request_stop(vm, KVMBOX_STOP_BLOCKED, 0, "waits to %s channel %u",
			sending ? "send on" : "receive from", chan);
	return 0; /* replaced by vm_complete_io */
}

/* The record the guest sends, copied out of its memory. Returns 0 or the guest's error. */
static int32_t read_record(struct kvmbox_vm *vm, const struct kvmbox_hc_chan *a, struct chan_rec *rec)
{
	rec->len = (uint32_t)a->len;
	rec->data = NULL;
	if (!rec->len)
		return 0;
	rec->data = malloc(rec->len);
	if (!rec->data)
		return -KVMBOX_ENOSPC;
	if (guest_read(vm, a->buf, rec->data, rec->len) < 0) {
		free(rec->data);
		return vm_bad_call(vm, KVMBOX_EFAULT, "chanSend: bad buffer 0x%llx+%u",
				   (unsigned long long)a->buf, rec->len);
	}
	return 0;
}

static int32_t hc_chan_send(struct kvmbox_vm *vm, const struct hc_call *call)
{
	struct kvmbox_chan_hub *hub = call->state;
	struct kvmbox_hc_chan a;
	struct chan_rec rec;
	int32_t ret;

	if (!hub)
		return -KVMBOX_ENOSYS; /* not in a several-VM run */
	ret = chan_args(vm, call, "chanSend", &a);
	if (ret < 0)
		return ret;
	if (a.len > KVMBOX_CHAN_MSG_MAX)
		return vm_bad_call(vm, KVMBOX_EINVAL, "chanSend: %llu bytes (at most %u)",
				   (unsigned long long)a.len, KVMBOX_CHAN_MSG_MAX);
	ret = hub_send_ready(hub, a.chan, a.flags & KVMBOX_CHAN_NONBLOCK);
	if (ret == 0)
		ret = read_record(vm, &a, &rec);
	if (ret < 0)
		return ret;
	if (hub_send(hub, vm, a.chan, rec, &ops, &ret) == HUB_BLOCKED)
		return blocked(vm, true, a.chan);
	return ret;
}

static int32_t hc_chan_recv(struct kvmbox_vm *vm, const struct hc_call *call)
{
	struct kvmbox_chan_hub *hub = call->state;
	struct kvmbox_hc_chan a;
	int32_t ret;

	if (!hub)
		return -KVMBOX_ENOSYS;
	ret = chan_args(vm, call, "chanRecv", &a);
	if (ret < 0)
		return ret;
	if (hub_recv(hub, vm, a.chan, a.buf, a.len, a.flags & KVMBOX_CHAN_NONBLOCK, &ops, &ret) ==
	    HUB_BLOCKED)
		return blocked(vm, false, a.chan);
	if (ret == -KVMBOX_EFAULT)
		return vm_bad_call(vm, KVMBOX_EFAULT, "chanRecv: bad buffer 0x%llx+%llu",
				   (unsigned long long)a.buf, (unsigned long long)a.len);
	return ret;
}

static const struct hc_def chan_calls[] = {
	{ KVMBOX_HC_CHAN_SEND, "chan_send", hc_chan_send },
	{ KVMBOX_HC_CHAN_RECV, "chan_recv", hc_chan_recv },
};

const struct vm_feature hc_chan_feature = {
	.name = "channels",
	.calls = chan_calls,
	.ncalls = ARRAY_SIZE(chan_calls),
	.release = chan_release,
};
