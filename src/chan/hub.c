/* The channel hub (kvmbox/chan.h, chan/hub.h): FIFOs of records, the members and the calls
 * they wait in. Pending calls complete oldest first, through the caller's hub_ops; the
 * wake callback hears of every wait that ends. VMs are opaque handles here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/abi.h"
#include "base/log.h"
#include "chan/hub.h"

struct chan {
	struct chan_rec *ring; /* capacity slots, allocated on first use */
	uint32_t capacity;
	uint32_t head, count;
	struct kvmbox_chan_stats st;
};

enum wait { WAIT_NONE, WAIT_SEND, WAIT_RECV };

/* One member and the call it waits in, if any. */
struct member {
	struct kvmbox_vm *vm;
	enum wait wait;
	uint32_t chan;
	uint64_t seq;        /* order of blocking: pending calls complete oldest first */
	uint64_t buf, len;   /* WAIT_RECV: the guest's buffer */
	struct chan_rec msg; /* WAIT_SEND: the record, taken when the call blocked */
};

struct kvmbox_chan_hub {
	struct chan chans[KVMBOX_CHAN_MAX];
	struct member *members;
	unsigned nmembers, cap_members;
	uint64_t seq;
	uint64_t bytes;   /* record bytes held: queued, and taken from blocked senders */
	kvmbox_chan_wake_fn wake;
	void *wake_ctx;
};

int kvmbox_chan_hub_create(struct kvmbox_chan_hub **hubp, struct kvmbox_error *err)
{
	struct kvmbox_chan_hub *hub;
	unsigned i;

	if (!hubp)
		return set_error(err, EINVAL, "kvmbox_chan_hub_create: NULL argument");
	hub = calloc(1, sizeof(*hub));
	if (!hub)
		return set_error(err, ENOMEM, "out of memory");
	for (i = 0; i < KVMBOX_CHAN_MAX; i++)
		hub->chans[i].capacity = KVMBOX_CHAN_CAPACITY;
	*hubp = hub;
	return 0;
}

void hub_free(struct kvmbox_chan_hub *hub)
{
	unsigned i;

	if (!hub)
		return;
	for (i = 0; i < hub->nmembers; i++)
		free(hub->members[i].msg.data);
	free(hub->members);
	for (i = 0; i < KVMBOX_CHAN_MAX; i++) {
		struct chan *c = &hub->chans[i];

		for (uint32_t k = 0; c->ring && k < c->count; k++)
			free(c->ring[(c->head + k) % c->capacity].data);
		free(c->ring);
	}
	free(hub);
}

int kvmbox_chan_hub_set_capacity(struct kvmbox_chan_hub *hub, uint32_t chan, uint32_t capacity,
				 struct kvmbox_error *err)
{
	if (!hub || chan >= KVMBOX_CHAN_MAX || capacity < 1 || capacity > KVMBOX_CHAN_CAPACITY_MAX)
		return set_error(err, EINVAL, "channel %u: capacity %u (channels 0..%u, 1..%u records)",
				 chan, capacity, KVMBOX_CHAN_MAX - 1, KVMBOX_CHAN_CAPACITY_MAX);
	if (hub->chans[chan].ring)
		return set_error(err, EBUSY, "channel %u: already in use, its capacity is fixed", chan);
	hub->chans[chan].capacity = capacity;
	return 0;
}

void kvmbox_chan_hub_set_wake(struct kvmbox_chan_hub *hub, kvmbox_chan_wake_fn fn, void *ctx)
{
	hub->wake = fn;
	hub->wake_ctx = ctx;
}

/* A handful of VMs per hub in practice: a linear scan. */
static struct member *member_of(const struct kvmbox_chan_hub *hub, const struct kvmbox_vm *vm)
{
	unsigned i;

	for (i = 0; hub && i < hub->nmembers; i++)
		if (hub->members[i].vm == vm)
			return &hub->members[i];
	return NULL;
}

int hub_join(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm)
{
	if (member_of(hub, vm))
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
	return 0;
}

void hub_leave(struct kvmbox_chan_hub *hub, const struct kvmbox_vm *vm)
{
	struct member *m = member_of(hub, vm);

	if (!m)
		return;
	hub->bytes -= m->msg.len;
	free(m->msg.data);
	*m = hub->members[--hub->nmembers];
}

unsigned hub_count(const struct kvmbox_chan_hub *hub)
{
	return hub->nmembers;
}

struct kvmbox_vm *hub_member_vm(const struct kvmbox_chan_hub *hub, unsigned i)
{
	return hub->members[i].vm;
}

int kvmbox_chan_hub_waiting(const struct kvmbox_chan_hub *hub, const struct kvmbox_vm *vm,
			    bool *sending)
{
	const struct member *m = member_of(hub, vm);

	if (!m || m->wait == WAIT_NONE)
		return -1;
	if (sending)
		*sending = m->wait == WAIT_SEND;
	return (int)m->chan;
}

int kvmbox_chan_hub_stats(const struct kvmbox_chan_hub *hub, uint32_t chan,
			  struct kvmbox_chan_stats *st, struct kvmbox_error *err)
{
	const struct chan *c;

	if (!hub || !st || chan >= KVMBOX_CHAN_MAX)
		return set_error(err, EINVAL, "kvmbox_chan_hub_stats: no channel %u", chan);
	c = &hub->chans[chan];
	if (!c->ring)
		return set_error(err, ENOENT, "channel %u was never used", chan);
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
			return -ENOMEM;
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

/* Hand the oldest record to receiver VM through OPS; drop it from the FIFO when that
 * worked. Returns what deliver returned. */
static int32_t chan_take(struct kvmbox_chan_hub *hub, struct chan *c, struct kvmbox_vm *vm,
			 uint64_t buf, uint64_t len, const struct hub_ops *ops)
{
	int32_t ret = ops->deliver(vm, buf, len, &c->ring[c->head]);

	if (ret < 0)
		return ret;
	hub->bytes -= c->ring[c->head].len;
	free(c->ring[c->head].data);
	c->head = (c->head + 1) % c->capacity;
	c->count--;
	c->st.received++;
	return ret;
}

/* ---- Pending calls -------------------------------------------------------------------- */

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

static void complete(struct kvmbox_chan_hub *hub, struct member *m, int32_t ret,
		     const struct hub_ops *ops)
{
	ops->complete(m->vm, ret);
	m->wait = WAIT_NONE;
	if (hub->wake)
		hub->wake(hub->wake_ctx, m->vm);
}

/* After a channel changed, complete every pending call it can now serve: receivers while
 * records are queued, senders while there is room, oldest first. */
static void settle(struct kvmbox_chan_hub *hub, uint32_t chan, const struct hub_ops *ops)
{
	struct chan *c = &hub->chans[chan];
	bool progress = true;

	while (progress) {
		struct member *m;

		progress = false;
		if (c->count && (m = oldest_waiter(hub, chan, WAIT_RECV))) {
			complete(hub, m, chan_take(hub, c, m->vm, m->buf, m->len, ops), ops);
			progress = true;
		}
		if (c->count < c->capacity && (m = oldest_waiter(hub, chan, WAIT_SEND))) {
			int32_t len = (int32_t)m->msg.len;

			chan_push(c, m->msg);
			m->msg = (struct chan_rec){ 0 };
			complete(hub, m, len, ops);
			progress = true;
		}
	}
}

static enum hub_outcome block(struct kvmbox_chan_hub *hub, struct member *m, enum wait w,
			      uint32_t chan)
{
	m->wait = w;
	m->chan = chan;
	m->seq = ++hub->seq;
	return HUB_BLOCKED;
}

/* ---- Calls ---------------------------------------------------------------------------- */

int32_t hub_send_ready(struct kvmbox_chan_hub *hub, uint32_t chan, bool nonblock)
{
	struct chan *c = &hub->chans[chan];

	if (chan_open(c) < 0)
		return -KVMBOX_ENOSPC;
	return c->count == c->capacity && nonblock ? -KVMBOX_EAGAIN : 0;
}

enum hub_outcome hub_send(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm, uint32_t chan,
			  struct chan_rec rec, const struct hub_ops *ops, int32_t *ret)
{
	struct member *m = member_of(hub, vm);
	struct chan *c = &hub->chans[chan];

	/* The hub's total is capped as well as each channel's count: 64 channels of 65536
	 * records of 4 KiB would otherwise let guests make kvmbox hold 16 GiB. */
	if (!m || !c->ring || hub->bytes + rec.len > KVMBOX_CHAN_HUB_BYTES_MAX) {
		free(rec.data);
		*ret = !m ? -KVMBOX_ENOSYS : -KVMBOX_ENOSPC;
		return HUB_DONE;
	}
	hub->bytes += rec.len;
	if (c->count == c->capacity) {
		c->st.send_blocks++;
		m->msg = rec;
		return block(hub, m, WAIT_SEND, chan);
	}
	chan_push(c, rec);
	settle(hub, chan, ops);
	*ret = (int32_t)rec.len;
	return HUB_DONE;
}

enum hub_outcome hub_recv(struct kvmbox_chan_hub *hub, struct kvmbox_vm *vm, uint32_t chan,
			  uint64_t buf, uint64_t len, bool nonblock, const struct hub_ops *ops,
			  int32_t *ret)
{
	struct member *m = member_of(hub, vm);
	struct chan *c = &hub->chans[chan];

	*ret = !m ? -KVMBOX_ENOSYS : chan_open(c) < 0 ? -KVMBOX_ENOSPC : 0;
	if (*ret)
		return HUB_DONE;
	if (c->count == 0) {
		if (nonblock) {
			*ret = -KVMBOX_EAGAIN;
			return HUB_DONE;
		}
		c->st.recv_blocks++;
		m->buf = buf;
		m->len = len;
		return block(hub, m, WAIT_RECV, chan);
	}
	*ret = chan_take(hub, c, vm, buf, len, ops);
	if (*ret >= 0)
		settle(hub, chan, ops);
	return HUB_DONE;
}
