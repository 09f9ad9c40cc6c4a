/* The console's switch to coalesced output: a VM serves its first coalesce_after console
 * bytes one exit each and only then has KVM queue the rest in the coalesced ring (the zone
 * registered lazily, src/vm/vm_console.c). The output must not tell: the same bytes, in the same
 * order, with hypercall output in its place, whenever the switch comes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define BYTEWISE_BYTES 3000 /* tests/guests/bytewise.c */

/* What tests/guests/bytewise.c prints, built here the way the guest builds it. */
static size_t bytewise_expected(char *buf, size_t max)
{
	size_t len = 0;

	for (unsigned i = 0; i < BYTEWISE_BYTES; i++) {
		buf[len++] = (char)('a' + i % 26);
		if (i % 100 == 99)
			len += (size_t)snprintf(buf + len, max - len, "%u\n|", i);
	}
	buf[len] = 0;
	return len;
}

/* The byte-at-a-time guest with the switch at different points: never (every byte an exit),
 * after the first, the 37th, the default's and never again (past the guest's output). Every
 * byte before the switch is an exit, and the rest arrives coalesced: all of it where KVM's
 * ring works as documented; older kernels (Linux 6.1, the QEMU lane's) also exit now and
 * then from the ring with room to spare (coalesced_mmio_has_room's unsigned arithmetic,
 * fixed since), so there a few bytes after the switch come by exit, in their place. */
static void test_switch_keeps_bytes_and_order(void **state)
{
	static const struct {
		unsigned flags;
		uint32_t after; /* 0: the default */
		uint64_t exits; /* console (0xE9) exits expected */
	} cases[] = {
		{ KVMBOX_VM_NO_COALESCE, 0, BYTEWISE_BYTES },
		{ 0, 1, 1 },
		{ 0, 37, 37 },
		{ 0, 0, KVMBOX_COALESCE_AFTER_DEFAULT },
		{ 0, BYTEWISE_BYTES + 1, BYTEWISE_BYTES },
	};
	static char expected[OUT_MAX];
	size_t len = bytewise_expected(expected, sizeof(expected));

	skip_unless_host_runs(MODE(state));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guest_spec s = { .path = guest_image("test-bytewise", MODE(state)),
					.flags = cases[i].flags, .coalesce_after = cases[i].after };
		struct guest_run r;

		guest_run(&r, &s);
		assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
		assert_int_equal(kvmbox_vm_regs(r.vm)->rax & 0xffffffff, BYTEWISE_BYTES);
		assert_int_equal(r.out_len, len);
		if (memcmp(r.out, expected, len))
			fail_msg("case %zu: the output differs from what the guest printed", i);
		/* No `out` but the console's: every OUT exit is a console byte. */
		assert_int_equal(r.st->io_out + r.st->coalesced_bytes, BYTEWISE_BYTES);
		assert_int_equal(r.st->console_bytes, len);
		if (cases[i].exits == BYTEWISE_BYTES) {
			assert_int_equal(r.st->io_out, BYTEWISE_BYTES);
			guest_run_free(&r);
			continue;
		}
		/* The ring drains at every exit (a hypercall every 100 bytes): a spurious exit of
		 * an old kernel's comes at most once between two. */
		if (r.st->io_out < cases[i].exits ||
		    r.st->io_out > cases[i].exits + (BYTEWISE_BYTES - cases[i].exits) / 100 + 1)
			fail_msg("case %zu: %llu console exits, expected %llu (and coalesced the rest)",
				 i, (unsigned long long)r.st->io_out, (unsigned long long)cases[i].exits);
		guest_run_free(&r);
	}
}

/* A guest that prints little never has the zone registered: the hello guest's fourteen bytes
 * are fourteen exits, and KVM_REGISTER_COALESCED_MMIO is nowhere in its trace (the zone
 * would make the VM's teardown wait out a kernel grace period). */
static void test_short_output_never_registers(void **state)
{
	struct cli c;

	skip_unless_host_runs(MODE(state));
	RUN(&c, "run", "--trace", "-m", kvmbox_mode_name(MODE(state)));
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, "Hello, world!\n");
	assert_null(strstr(c.err, "KVM_REGISTER_COALESCED_MMIO"));
	assert_non_null(strstr(c.err, "KVM_EXIT_HLT"));
}

/* The switch happens once per VM and outlives a reset: after a run that registered the zone,
 * every byte of the next run arrives coalesced, and the output is the same. */
static void test_switch_survives_reset(void **state)
{
	struct guest_spec s = { .path = guest_image("hello", MODE(state)), .coalesce_after = 5 };
	struct kvmbox_error err;
	struct guest_run r;

	skip_unless_host_runs(MODE(state));
	guest_prepare(&r, &s);
	assert_int_equal(kvmbox_vm_set_reset_point(r.vm, &err), 0);
	guest_start(&r, &s);
	assert_string_equal(r.out, "Hello, world!\n");
	assert_int_equal(r.st->io_out, 5);
	assert_int_equal(r.st->coalesced_bytes, 9);
	r.out_len = 0;
	r.out[0] = 0;
	assert_int_equal(kvmbox_vm_reset(r.vm, &err), 0);
	guest_start(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	assert_string_equal(r.out, "Hello, world!\n");
	assert_int_equal(r.st->io_out, 0);
	assert_int_equal(r.st->coalesced_bytes, 14);
	guest_run_free(&r);
}

/* The command's run is confined by the seccomp filter by then; registering the zone halfway
 * through the run must be among the calls it allows, or the process dies by SIGSYS. */
static void test_switch_under_the_sandbox(void **state)
{
	static char expected[OUT_MAX];
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	bytewise_expected(expected, sizeof(expected));
	RUN(&c, "run", guest_image("test-bytewise", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 0);
	assert_string_equal(c.out, expected);
	assert_string_equal(c.err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_switch_keeps_bytes_and_order),
		PER_MODE(test_short_output_never_registers),
		PER_MODE(test_switch_survives_reset),
		cmocka_unit_test(test_switch_under_the_sandbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
