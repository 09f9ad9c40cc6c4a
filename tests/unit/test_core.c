/* Unit tests for the VM core's registries: the port registry (src/ports.c) and the
 * hypercall table (src/hc/table.c hc_register). No KVM needed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "hc/hc.h"
#include "ports.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_find),
		cmocka_unit_test(test_ports_refusals),
		cmocka_unit_test(test_hc_register),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
