/* Unit tests for the VM core's registries and the channel hub: the port registry
 * (src/vm/vm_ports.c), the hypercall table (src/hc/hc_table.c hc_register) and the hub
 * (src/chan/hub.c), which knows VMs only as handles, so fake ones do; and one guest-memory
 * contract (src/mem/mem.c) on a fake VM. No KVM needed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "kvmbox/kvmbox.h"
#include "chan/hub.h"
#include "hc/hc.h"
#include "vm/vm_features.h"
#include "vm/vm_ports.h"
#include "vm/vm.h"
#include "x86/bits.h"

static int port_a(struct kvmbox_vm *vm, void *ctx, const struct port_io *io)
{
	(void)vm;
	(void)ctx;
	(void)io;
	return 0;
}

static int port_b(struct kvmbox_vm *vm, void *ctx, const struct port_io *io)
{
	(void)vm;
	(void)ctx;
	(void)io;
	return -EOPNOTSUPP;
}

static void test_ports_find(void **state)
{
	struct port_map m = { 0 };
	int ctx;

	(void)state;
	assert_int_equal(ports_register(&m, 0xe9, 1, port_a, NULL), 0);
	assert_int_equal(ports_register(&m, 0x600, 64, port_b, &ctx), 0);
	assert_ptr_equal(ports_find(&m, 0xe9)->fn, port_a);
	assert_null(ports_find(&m, 0xe8));
	assert_null(ports_find(&m, 0xea));
	assert_ptr_equal(ports_find(&m, 0x600)->ctx, &ctx);
	assert_ptr_equal(ports_find(&m, 0x63f)->fn, port_b);
	assert_null(ports_find(&m, 0x640));
	assert_null(ports_find(&m, 0x5ff));
}

static void test_ports_refusals(void **state)
{
	struct port_map m = { 0 };
	unsigned i;

	(void)state;
	assert_int_equal(ports_register(&m, 0x600, 64, port_a, NULL), 0);
	/* Overlaps at either end, inside and around: refused, the first range keeps its ports. */
	assert_int_equal(ports_register(&m, 0x5f0, 0x11, port_b, NULL), -EEXIST);
	assert_int_equal(ports_register(&m, 0x63f, 1, port_b, NULL), -EEXIST);
	assert_int_equal(ports_register(&m, 0x610, 2, port_b, NULL), -EEXIST);
	assert_int_equal(ports_register(&m, 0x500, 0x1000, port_b, NULL), -EEXIST);
	assert_ptr_equal(ports_find(&m, 0x63f)->fn, port_a);
	/* Adjacent ranges are fine. */
	assert_int_equal(ports_register(&m, 0x5f0, 0x10, port_b, NULL), 0);
	assert_int_equal(ports_register(&m, 0x640, 1, port_b, NULL), 0);
	/* Empty, past 0xffff, no handler. */
	assert_int_equal(ports_register(&m, 0x10, 0, port_b, NULL), -EINVAL);
	assert_int_equal(ports_register(&m, 0xfff0, 0x11, port_b, NULL), -EINVAL);
	assert_int_equal(ports_register(&m, 0x10, 1, NULL, NULL), -EINVAL);
	assert_int_equal(ports_register(&m, 0xfff0, 0x10, port_b, NULL), 0);
	assert_ptr_equal(ports_find(&m, 0xffff)->fn, port_b);
	/* Full. */
	for (i = m.n; i < PORT_RANGES_MAX; i++)
		assert_int_equal(ports_register(&m, (uint16_t)(0x100 + i), 1, port_a, NULL), 0);
	assert_int_equal(ports_register(&m, 0x200, 1, port_a, NULL), -ENOSPC);
}

static void user_port(void *ctx, uint16_t port, bool out, uint32_t *value, unsigned size)
{
	(void)ctx;
	(void)port;
	(void)out;
	(void)value;
	(void)size;
}

/* The registry refuses user ports over the console or hypercall ports before kvmbox_vm_create
 * opens /dev/kvm, so this needs no KVM. */
static void test_user_ports_refused(void **state)
{
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_REAL, .console_fd = -1,
					.user_port_first = 0xe0, .user_port_count = 16,
					.user_port = user_port };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;

	(void)state;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	assert_null(vm);
	assert_non_null(strstr(err.msg, "overlap the console or hypercall ports"));
	cfg.user_port_first = 0x5f0;
	cfg.user_port_count = 0x20;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	cfg.user_port_first = 0xfff0;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "past port 0xffff"));
}

static int32_t call_a(struct kvmbox_vm *vm, const struct hc_call *c)
{
	(void)vm;
	(void)c;
	return 0;
}

static void test_hc_register(void **state)
{
	static const struct hc_def one[] = { { 3, "three", call_a }, { 5, "five", call_a } };
	static const struct hc_def dup[] = { { 7, "seven", call_a }, { 5, "five again", call_a } };
	static const struct hc_def big[] = { { KVMBOX_HC_MAX, "too big", call_a } };
	static const struct hc_def nofn[] = { { 9, "no handler", NULL } };
	struct hc_table t;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(hc_register(&t, one, 2, 1), 0);
	assert_ptr_equal(t.defs[5], &one[1]);
	assert_int_equal(t.owner[5], 1);
	/* A duplicate number refuses the whole group: its first call is not left behind. */
	assert_int_equal(hc_register(&t, dup, 2, 2), -EEXIST);
	assert_null(t.defs[7]);
	assert_ptr_equal(t.defs[5], &one[1]);
	assert_int_equal(hc_register(&t, big, 1, 2), -EINVAL);
	assert_int_equal(hc_register(&t, nofn, 1, 2), -EINVAL);
	assert_null(t.defs[9]);
}

/* Every call number the ABI names (below KVMBOX_HC_COUNT) is served by some feature of a fresh
 * VM, and none above: the hostile and fuzzing guests (tests/guests/hc_test.h) count on it
 * when they take every number from KVMBOX_HC_COUNT up as one nothing serves. */
static void test_every_call_served(void **state)
{
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_LONG, .console_fd = -1 };
	struct kvmbox_vm *vm = calloc(1, sizeof(*vm));
	struct kvmbox_error err = { "" };

	(void)state;
	assert_non_null(vm);
	vm->console_fd = -1;
	if (features_init(vm, &cfg, &err) < 0)
		fail_msg("features_init: %s", err.msg);
	for (unsigned nr = 0; nr < KVMBOX_HC_MAX; nr++)
		if ((vm->hc.defs[nr] != NULL) != (nr < KVMBOX_HC_COUNT))
			fail_msg("hypercall %u is %s, but KVMBOX_HC_COUNT is %u (include/kvmbox/abi.h)", nr,
				 vm->hc.defs[nr] ? "served" : "not served", KVMBOX_HC_COUNT);
	features_release(vm);
	free(vm);
}


/* ---- The channel hub, with fake VMs ------------------------------------------------------ */

/* What the hub asked of the fake VMs, in order. */
struct fake_log {
	struct kvmbox_vm *who[16];
	int32_t ret[16];
	char got[16][8]; /* deliver: the record's bytes */
	unsigned n;
	struct kvmbox_vm *woken[16];
	unsigned nwoken;
};
static struct fake_log fl;

static int32_t fake_deliver(struct kvmbox_vm *vm, uint64_t buf, uint64_t len,
			    const struct chan_rec *rec)
{
	(void)buf;
	if (rec->len > len)
		return -KVMBOX_ERANGE;
	memcpy(fl.got[fl.n], rec->data, rec->len < 8 ? rec->len : 8);
	(void)vm;
	return (int32_t)rec->len;
}

static void fake_complete(struct kvmbox_vm *vm, int32_t ret)
{
	fl.who[fl.n] = vm;
	fl.ret[fl.n++] = ret;
}

static void fake_wake(void *ctx, struct kvmbox_vm *vm)
{
	(void)ctx;
	fl.woken[fl.nwoken++] = vm;
}

static const struct hub_ops fake_ops = { fake_deliver, fake_complete };

static struct chan_rec rec_of(const char *text)
{
	struct chan_rec r = { .len = (uint32_t)strlen(text), .data = malloc(8) };

	memcpy(r.data, text, r.len);
	return r;
}

static void test_hub_fifo_and_wakeups(void **state)
{
	struct kvmbox_vm *a = (struct kvmbox_vm *)(uintptr_t)0x1000, *b = (struct kvmbox_vm *)(uintptr_t)0x2000;
	struct kvmbox_chan_hub *hub;
	struct kvmbox_chan_stats st;
	bool sending;
	int32_t ret;

	(void)state;
	memset(&fl, 0, sizeof(fl));
	assert_int_equal(kvmbox_chan_hub_create(&hub, NULL), 0);
	kvmbox_chan_hub_set_wake(hub, fake_wake, NULL);
	assert_int_equal(kvmbox_chan_hub_set_capacity(hub, 3, 1, NULL), 0);
	assert_int_equal(hub_join(hub, a), 0);
	assert_int_equal(hub_join(hub, a), -EBUSY);
	assert_int_equal(hub_join(hub, b), 0);

	/* b waits on an empty channel; a's send completes b's receive and wakes b. */
	assert_int_equal(hub_recv(hub, b, 3, 0x100, 8, false, &fake_ops, &ret), HUB_BLOCKED);
	assert_int_equal(kvmbox_chan_hub_waiting(hub, b, &sending), 3);
	assert_false(sending);
	assert_int_equal(hub_send_ready(hub, 3, false), 0);
	assert_int_equal(hub_send(hub, a, 3, rec_of("hi"), &fake_ops, &ret), HUB_DONE);
	assert_int_equal(ret, 2);
	assert_int_equal(fl.n, 1);
	assert_ptr_equal(fl.who[0], b);
	assert_int_equal(fl.ret[0], 2);
	assert_memory_equal(fl.got[0], "hi", 2);
	assert_int_equal(fl.nwoken, 1);
	assert_ptr_equal(fl.woken[0], b);
	assert_int_equal(kvmbox_chan_hub_waiting(hub, b, NULL), -1);

	/* Capacity 1: the second send blocks a until b receives. */
	assert_int_equal(hub_send(hub, a, 3, rec_of("x"), &fake_ops, &ret), HUB_DONE);
	assert_int_equal(hub_send_ready(hub, 3, true), -KVMBOX_EAGAIN);
	assert_int_equal(hub_send_ready(hub, 3, false), 0);
	assert_int_equal(hub_send(hub, a, 3, rec_of("yz"), &fake_ops, &ret), HUB_BLOCKED);
	assert_int_equal(kvmbox_chan_hub_waiting(hub, a, &sending), 3);
	assert_true(sending);
	assert_int_equal(hub_recv(hub, b, 3, 0x100, 8, true, &fake_ops, &ret), HUB_DONE);
	assert_int_equal(ret, 1);
	assert_ptr_equal(fl.who[1], a); /* a's pending send went in: its call completes */
	assert_int_equal(fl.ret[1], 2);
	assert_ptr_equal(fl.woken[1], a);
	/* A buffer too small leaves the record queued. */
	assert_int_equal(hub_recv(hub, b, 3, 0x100, 1, true, &fake_ops, &ret), HUB_DONE);
	assert_int_equal(ret, -KVMBOX_ERANGE);
	assert_int_equal(kvmbox_chan_hub_stats(hub, 3, &st, NULL), 0);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.received, 2);
	assert_int_equal(st.queued, 1);
	assert_int_equal(st.send_blocks, 1);
	assert_int_equal(st.recv_blocks, 1);
	assert_int_equal(kvmbox_chan_hub_stats(hub, 4, &st, NULL), -ENOENT);
	assert_int_equal(kvmbox_chan_hub_set_capacity(hub, 3, 4, NULL), -EBUSY);
	/* Leaving drops a pending call; the hub frees what is still queued. */
	assert_int_equal(hub_recv(hub, a, 5, 0x100, 8, false, &fake_ops, &ret), HUB_BLOCKED);
	hub_leave(hub, a);
	assert_int_equal(kvmbox_chan_hub_waiting(hub, a, NULL), -1);
	assert_int_equal(hub_count(hub), 1);
	hub_free(hub);
}

/* guest_write is all or nothing even when the write rewrites the page tables it goes
 * through: 32-bit paging, identity map of the first 16 pages with the page table at gva
 * 0x2000; a 3-page write from 0x2000 clears the entry of its own last page (0x4000). Found by
 * fuzz/mem.c: the write used to walk each page as it reached it, wrote two pages and failed. */
static void test_guest_write_through_own_page_tables(void **state)
{
	enum { PD = 0x1000, PT = 0x2000, MEM = 16 * 4096 };
	const uint32_t pte = 0x7; /* present, writable, user */
	struct kvmbox_vm *vm = calloc(1, sizeof(*vm));
	struct kvm_run *run = calloc(1, sizeof(*run));
	uint8_t *mem = calloc(1, MEM), data[3 * 4096];
	uint32_t e;

	(void)state;
	assert_true(vm && run && mem);
	vm->run = run;
	vm->mem = (struct gmem){ .host = mem, .size = MEM };
	run->s.regs.sregs.cr0 = CR0_PE | CR0_PG;
	run->s.regs.sregs.cr3 = PD;
	e = PT | pte;
	memcpy(mem + PD, &e, 4);
	for (uint32_t i = 0; i < 16; i++) {
		e = i * 4096 | pte;
		memcpy(mem + PT + 4 * i, &e, 4);
	}
	memset(data, 0xAB, sizeof(data));
	memset(data, 0, 16 * 4); /* what lands on the page table: pages 0-15 unmapped */
	assert_int_equal(guest_write(vm, PT, data, sizeof(data)), 0);
	assert_memory_equal(mem + 0x4000, data + 2 * 4096, 4096);
	/* Now the table maps nothing: the same write fails and writes nothing. */
	memset(mem + 0x3000, 0, 4096);
	assert_int_equal(guest_write(vm, PT, data, sizeof(data)), -KVMBOX_EFAULT);
	assert_int_equal(mem[0x3000], 0);
	free(mem);
	free(run);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_find),
		cmocka_unit_test(test_ports_refusals),
		cmocka_unit_test(test_user_ports_refused),
		cmocka_unit_test(test_hc_register),
		cmocka_unit_test(test_every_call_served),
		cmocka_unit_test(test_hub_fifo_and_wakeups),
		cmocka_unit_test(test_guest_write_through_own_page_tables),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
