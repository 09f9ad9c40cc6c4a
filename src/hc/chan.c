/* Channels between VMs of one process: the hub (FIFOs of records, the calls waiting on
 * them) and the KVMBOX_HC_CHAN_SEND/RECV handlers. Handlers only change VM state: they
 * queue records, mark the calling VM blocked (KVMBOX_STOP_BLOCKED) and complete the
 * pending calls of blocked peers; they never run or schedule a VM (include/kvmbox/sched.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/sched.h"
#include "../mem.h"
#include "../util.h"
#include "../vm.h"
#include "hc.h"

/* This feature's descriptor (end of file): a VM's state in it is its hub, NULL unless
 * attached. */
extern const struct vm_feature hc_chan_feature;

struct chan_rec {
	uint32_t len;
	uint8_t *data; /* malloc'ed copy; NULL when len == 0 */
};

struct chan {
	struct chan_rec *ring; /* capacity slots, allocated on first use */
	uint32_t capacity;
	uint32_t head, count;
	struct kvmbox_chan_stats st;
};

enum wait { WAIT_NONE, WAIT_SEND, WAIT_RECV };

/* One attached VM and the call it waits in, if any. */
struct member {
	struct kvmbox_vm *vm;
	enum wait wait;
	uint32_t chan;
	uint64_t seq;      /* order of blocking: pending calls complete oldest first */
	uint64_t buf, len; /* WAIT_RECV: the guest's buffer */
	struct chan_rec msg; /* WAIT_SEND: the record, copied when the call blocked */
};

struct kvmbox_chan_hub {
	struct chan chans[KVMBOX_CHAN_MAX];
	struct member *members;
	unsigned nmembers, cap_members;
	uint64_t seq;
};

int kvmbox_chan_hub_create(struct kvmbox_chan_hub **hubp)
{
	struct kvmbox_chan_hub *hub = calloc(1, sizeof(*hub));
	unsigned i;

	if (!hub)
		return -ENOMEM;
	for (i = 0; i < KVMBOX_CHAN_MAX; i++)
		hub->chans[i].capacity = KVMBOX_CHAN_CAPACITY;
	*hubp = hub;
	return 0;
}

void kvmbox_chan_hub_destroy(struct kvmbox_chan_hub *hub)
{
	unsigned i;

	if (!hub)
		return;
	for (i = 0; i < hub->nmembers; i++) {
		vm_feature_set_state(hub->members[i].vm, &hc_chan_feature, NULL);
		free(hub->members[i].msg.data);
	}
	free(hub->members);
	for (i = 0; i < KVMBOX_CHAN_MAX; i++) {
		struct chan *c = &hub->chans[i];

		for (uint32_t k = 0; c->ring && k < c->count; k++)
			free(c->ring[(c->head + k) % c->capacity].data);
		free(c->ring);
	}
	free(hub);
}

int kvmbox_chan_hub_set_capacity(struct kvmbox_chan_hub *hub, uint32_t chan, uint32_t capacity)
{
	if (!hub || chan >= KVMBOX_CHAN_MAX || capacity < 1 || capacity > KVMBOX_CHAN_CAPACITY_MAX)
		return -EINVAL;
	if (hub->chans[chan].ring)
		return -EBUSY;
	hub->chans[chan].capacity = capacity;
	return 0;
}

static struct member *member_of(struct kvmbox_chan_hub *hub, const struct kvmbox_vm *vm)
{
	unsigned i;

	/* A handful of VMs per hub in practice; a linear scan keeps struct kvmbox_vm unchanged. */
	for (i = 0; hub && i < hub->nmembers; i++)
		if (hub->members[i].vm == vm)
			return &hub->members[i];
	return NULL;
}

int kvmbox_chan_hub_attach(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm)
{
	if (!hub || !vm)
		return -EINVAL;
	if (vm_feature_state(vm, &hc_chan_feature))
		return -EBUSY;
	if (hub->nmembers == hub->cap_members) {
		unsigned n = hub->cap_members ? 2 * hub->cap_members : 8;
		struct member *m = realloc(hub->members, n * sizeof(*m));

		if (!m)
			return -ENOMEM;
		hub->members = m;
		hub->cap_members = n;
	}
	hub->members[hub->nmembers++] = (struct member){ .vm = vm };
	vm_feature_set_state(vm, &hc_chan_feature, hub);
	return 0;
}

void kvmbox_chan_hub_detach(struct kvmbox_vm *vm)
{
	struct kvmbox_chan_hub *hub;
	struct member *m;

	hub = vm ? vm_feature_state(vm, &hc_chan_feature) : NULL;
	if (!hub)
		return;
	m = member_of(hub, vm);
	if (m) {
		free(m->msg.data);
		*m = hub->members[--hub->nmembers];
	}
	vm_feature_set_state(vm, &hc_chan_feature, NULL);
}

static void chan_release(struct kvmbox_vm *vm, void *state)
{
	(void)state;
	kvmbox_chan_hub_detach(vm);
}

int kvmbox_chan_hub_waiting(const struct kvmbox_vm *vm, bool *sending)
{
	const struct member *m = vm ? member_of(vm_feature_state(vm, &hc_chan_feature), vm) : NULL;

	if (!m || m->wait == WAIT_NONE)
		return -1;
	if (sending)
		*sending = m->wait == WAIT_SEND;
	return (int)m->chan;
}

int kvmbox_chan_hub_stats(const struct kvmbox_chan_hub *hub, uint32_t chan,
			  struct kvmbox_chan_stats *st)
{
	const struct chan *c;

	if (!hub || chan >= KVMBOX_CHAN_MAX)
		return -EINVAL;
	c = &hub->chans[chan];
	if (!c->ring)
		return -ENOENT;
	*st = c->st;
	st->queued = c->count;
	st->capacity = c->capacity;
	return 0;
}

/* ---- The FIFO ------------------------------------------------------------------------ */

static int chan_open(struct chan *c)
{
	if (!c->ring) {
		c->ring = calloc(c->capacity, sizeof(*c->ring));
		if (!c->ring)
			return -1;
	}
	return 0;
}

/* Take ownership of REC (room was checked). */
static void chan_push(struct chan *c, struct chan_rec rec)
{
	c->ring[(c->head + c->count) % c->capacity] = rec;
	c->count++;
	c->st.sent++;
	c->st.bytes += rec.len;
}

static struct chan_rec chan_pop(struct chan *c)
{
	struct chan_rec rec = c->ring[c->head];

	c->head = (c->head + 1) % c->capacity;
	c->count--;
	c->st.received++;
	return rec;
}

/* ---- Completing pending calls --------------------------------------------------------- */

/* Finish VM's pending `in`: KVM copies the I/O data of kvm_run into eax on the VM's next
 * KVM_RUN (KVM API doc, KVM_EXIT_IO), so the result is written there, not returned. */
static void complete(struct member *m, int32_t ret)
{
	struct kvm_run *run = m->vm->run;

	memcpy((uint8_t *)run + run->io.data_offset, &ret, sizeof(ret));
	m->wait = WAIT_NONE;
}

static struct member *oldest_waiter(struct kvmbox_chan_hub *hub, uint32_t chan, enum wait w)
{
	struct member *best = NULL;
	unsigned i;

	for (i = 0; i < hub->nmembers; i++) {
		struct member *m = &hub->members[i];

		if (m->wait == w && m->chan == chan && (!best || m->seq < best->seq))
			best = m;
	}
	return best;
}

/* Copy the oldest record into a receiver's buffer. Returns the record's length or an error
 * (the record then stays queued). */
static int32_t deliver(struct kvmbox_vm *vm, struct chan *c, uint64_t buf, uint64_t len)
{
	struct chan_rec rec = c->ring[c->head];

	if (rec.len > len)
		return -KVMBOX_ERANGE;
	if (rec.len && guest_write(vm, buf, rec.data, rec.len) < 0)
		return -KVMBOX_EFAULT;
	rec = chan_pop(c);
	free(rec.data);
	return (int32_t)rec.len;
}

/* After a channel changed, complete every pending call it can now serve: receivers while
 * records are queued, senders while there is room, oldest first. */
static void settle(struct kvmbox_chan_hub *hub, uint32_t chan)
{
	struct chan *c = &hub->chans[chan];
	bool progress = true;

	while (progress) {
		struct member *m;

		progress = false;
		if (c->count && (m = oldest_waiter(hub, chan, WAIT_RECV))) {
			int32_t ret = deliver(m->vm, c, m->buf, m->len);

			if (ret == -KVMBOX_EFAULT)
				m->vm->stats.bad_calls++;
			complete(m, ret);
			progress = true;
		}
		if (c->count < c->capacity && (m = oldest_waiter(hub, chan, WAIT_SEND))) {
			int32_t len = (int32_t)m->msg.len;

			chan_push(c, m->msg);
			m->msg = (struct chan_rec){ 0 };
			complete(m, len);
			progress = true;
		}
	}
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

static int32_t block(struct kvmbox_vm *vm, struct kvmbox_chan_hub *hub, struct member *m,
		     enum wait w, uint32_t chan)
{
	m->wait = w;
	m->chan = chan;
	m->seq = ++hub->seq;
	vm_request_stop(vm, KVMBOX_STOP_BLOCKED, 0, "waits to %s channel %u",
			w == WAIT_SEND ? "send on" : "receive from", chan);
	return 0; /* replaced by complete() */
}

static int32_t hc_chan_send(struct kvmbox_vm *vm, const struct hc_call *call)
{
	struct kvmbox_chan_hub *hub = call->state;
	struct member *m = member_of(hub, vm);
	struct kvmbox_hc_chan a;
	struct chan_rec rec = { 0 };
	struct chan *c;
	int32_t ret;

	if (!m)
		return -KVMBOX_ENOSYS; /* not in a several-VM run */
	ret = chan_args(vm, call, "chanSend", &a);
	if (ret < 0)
		return ret;
	if (a.len > KVMBOX_CHAN_MSG_MAX)
		return vm_bad_call(vm, KVMBOX_EINVAL, "chanSend: %llu bytes (at most %u)",
				   (unsigned long long)a.len, KVMBOX_CHAN_MSG_MAX);
	c = &hub->chans[a.chan];
	if (chan_open(c) < 0)
		return -KVMBOX_ENOSPC;
	if (c->count == c->capacity && (a.flags & KVMBOX_CHAN_NONBLOCK))
		return -KVMBOX_EAGAIN;
	rec.len = (uint32_t)a.len;
	if (rec.len) {
		rec.data = malloc(rec.len);
		if (!rec.data)
			return -KVMBOX_ENOSPC;
		if (guest_read(vm, a.buf, rec.data, rec.len) < 0) {
			free(rec.data);
			return vm_bad_call(vm, KVMBOX_EFAULT, "chanSend: bad buffer 0x%llx+%u",
					   (unsigned long long)a.buf, rec.len);
		}
	}
	if (c->count == c->capacity) {
		c->st.send_blocks++;
		m->msg = rec;
		return block(vm, hub, m, WAIT_SEND, a.chan);
	}
	chan_push(c, rec);
	settle(hub, a.chan);
	return (int32_t)rec.len;
}

static int32_t hc_chan_recv(struct kvmbox_vm *vm, const struct hc_call *call)
{
	struct kvmbox_chan_hub *hub = call->state;
	struct member *m = member_of(hub, vm);
	struct kvmbox_hc_chan a;
	struct chan *c;
	int32_t ret;

	if (!m)
		return -KVMBOX_ENOSYS;
	ret = chan_args(vm, call, "chanRecv", &a);
	if (ret < 0)
		return ret;
	c = &hub->chans[a.chan];
	if (chan_open(c) < 0)
		return -KVMBOX_ENOSPC;
	if (c->count == 0) {
		if (a.flags & KVMBOX_CHAN_NONBLOCK)
			return -KVMBOX_EAGAIN;
		c->st.recv_blocks++;
		m->buf = a.buf;
		m->len = a.len;
		return block(vm, hub, m, WAIT_RECV, a.chan);
	}
	ret = deliver(vm, c, a.buf, a.len);
	if (ret == -KVMBOX_EFAULT)
		return vm_bad_call(vm, KVMBOX_EFAULT, "chanRecv: bad buffer 0x%llx+%llu",
				   (unsigned long long)a.buf, (unsigned long long)a.len);
	if (ret >= 0)
		settle(hub, a.chan);
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
