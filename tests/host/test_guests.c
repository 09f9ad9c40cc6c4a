/* Guest tests: each behaviour checked in every CPU mode, with the guest's source in
 * tests/guests/ or examples/ and the host's checks here, side by side. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "harness.h"

static void hello_checks(struct guest_run *r)
{
	const struct kvm_regs *regs = kvmbox_vm_regs(r->vm);
	uint32_t mem = 0;

	assert_int_equal(r->res.stop, KVMBOX_STOP_HALT);
	assert_string_equal(r->out, "Hello, world!\n");
	assert_int_equal(regs->rax & 0xffffffff, 42);
	assert_int_equal(kvmbox_vm_read(r->vm, 0x400, &mem, sizeof(mem)), 0);
	assert_int_equal(mem, 42);
}

/* examples/hello.c: "Hello, world!", 42 at 0x400, halt with rax = 42. */
static void test_hello(void **state)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("hello", MODE(state)) };

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	hello_checks(&r);
	guest_run_free(&r);
}

/* The same output, in the same order, when every console byte is a full exit. */
static void test_hello_without_coalescing(void **state)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("hello", MODE(state)),
				.flags = KVMBOX_VM_NO_COALESCE };

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	hello_checks(&r);
	assert_int_equal(kvmbox_vm_stats(r.vm)->coalesced_bytes, 0);
	assert_int_equal(kvmbox_vm_stats(r.vm)->io_out, 14); /* rep outsb: one exit per byte */
	guest_run_free(&r);
}

/* tests/guests/console.c: every SDK console helper, in order, with and without coalescing
 * (from the second byte on; by default a VM coalesces only after many console exits);
 * without it each byte is one exit, rep outsb included (KVM emulates it a byte at a time). */
static void test_console_helpers(void **state)
{
	static const char expected[] = "<literal>acegi3456 -12|acegi\n";
	const size_t len = sizeof(expected) - 1;

	skip_unless_host_runs(MODE(state));
	for (int coalesce = 1; coalesce >= 0; coalesce--) {
		struct guest_run r;
		struct guest_spec s = { .path = guest_image("test-console", MODE(state)),
					.flags = coalesce ? 0 : KVMBOX_VM_NO_COALESCE,
					.coalesce_after = 1 };
		const struct kvmbox_stats *st;

		guest_run(&r, &s);
		st = kvmbox_vm_stats(r.vm);
		assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
		assert_string_equal(r.out, expected);
		assert_int_equal(kvmbox_vm_regs(r.vm)->rax & 0xffffffff, len);
		assert_int_equal(st->console_bytes, len);
		if (coalesce) {
			assert_true(st->coalesced_bytes > 0);
			assert_int_equal(st->io_out + st->coalesced_bytes, len);
		} else {
			assert_int_equal(st->coalesced_bytes, 0);
			assert_int_equal(st->io_out, len);
		}
		guest_run_free(&r);
	}
}

/* A kvm-hello-world style flat binary (linked at 0, entry 0, no headers) runs unchanged. */
static void test_flat_hello(void **state)
{
	char rel[128];
	struct guest_run r;
	struct guest_spec s = { .flat = 1, .load_addr = 0, .mode = MODE(state) };

	skip_unless_host_runs(MODE(state));
	snprintf(rel, sizeof(rel), "guests/flat-hello-%s.bin", kvmbox_mode_name(MODE(state)));
	s.path = build_path(rel);
	guest_run(&r, &s);
	hello_checks(&r);
	guest_run_free(&r);
}

/* An exception through an empty IDT (the guest's own) escalates to a triple fault:
 * KVM_EXIT_SHUTDOWN, a clean stop. */
static void test_triple_fault(void **state)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("test-triple", MODE(state)) };

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	assert_int_equal(r.res.exit_reason, KVM_EXIT_SHUTDOWN);
	assert_non_null(strstr(r.res.msg, "KVM_EXIT_SHUTDOWN"));
	/* A host that reset the vCPU at the shutdown (AMD SVM) has no rip to give: the report
	 * says so instead (tests/host/test_faults.c checks both forms). */
	if (kvmbox_vm_regs(r.vm)->rip == 0xfff0)
		assert_non_null(strstr(r.res.msg, "reset state, not the fault's"));
	else
		assert_non_null(strstr(r.res.msg, "rip=0x"));
	/* A stopped VM stays stopped. */
	assert_int_equal(kvmbox_vm_run(r.vm, NULL, &r.res), -ESRCH);
	guest_run_free(&r);
}

/* A guest that never exits is stopped at its deadline. */
static void test_timeout(void **state)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("test-loop", MODE(state)), .timeout = 0.2 };

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_TIMEOUT);
	guest_run_free(&r);
}

/* A write to guest-physical memory no slot backs ends the run with KVM_EXIT_MMIO. */
static void test_unbacked_memory(void **state)
{
	static const uint64_t addr[KVMBOX_MODE_COUNT] = {
		[KVMBOX_MODE_REAL] = 0x80000, [KVMBOX_MODE_PROTECTED] = 0xC0000000,
		[KVMBOX_MODE_PAGED32] = 0x380000, [KVMBOX_MODE_LONG] = 0x380000,
	};
	char want[64];
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("test-unbacked", MODE(state)),
				.mem = MODE(state) == KVMBOX_MODE_REAL ? 256 << 10 : 3 << 20 };

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	assert_int_equal(r.res.exit_reason, KVM_EXIT_MMIO);
	snprintf(want, sizeof(want), "unbacked guest-physical 0x%llx", (unsigned long long)addr[MODE(state)]);
	assert_non_null(strstr(r.res.msg, want));
	guest_run_free(&r);
}

/* I/O to a port nobody serves stops the VM, naming the port. */
static void test_unknown_port(void **state)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("test-badport", MODE(state)) };

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	assert_int_equal(r.res.exit_reason, KVM_EXIT_IO);
	assert_non_null(strstr(r.res.msg, "unknown port 0x3f8"));
	guest_run_free(&r);
}

/* A guest-side assertion reaches the host with the guest's file:line and expression. */
static void test_guest_assert(void **state)
{
	char want[128];
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("test-assert", MODE(state)) };
	int line = marker_line("tests/guests/assert.c", "/* ASSERT-LINE */");

	skip_unless_host_runs(MODE(state));
	assert_true(line > 0);
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_ASSERT);
	snprintf(want, sizeof(want), "tests/guests/assert.c:%d", line);
	if (!strstr(r.res.msg, want))
		fail_msg("expected '%s' in '%s'", want, r.res.msg);
	assert_non_null(strstr(r.res.msg, "1 + 1"));
	guest_run_free(&r);
}

/* The probe answers what the host really does: kvm_pvm has no 32-bit paging; real KVM
 * (VMX, SVM, and the QEMU lane's kvm_amd) runs it. */
static void test_paged32_probe_matches_host(void **state)
{
	struct kvmbox_error err = { "" };
	struct stat st;
	int expect = in_realkvm_lane() || stat("/sys/module/kvm_pvm", &st) != 0;
	int got = kvmbox_host_supports_mode(KVMBOX_MODE_PAGED32, &err);

	(void)state;
	printf("paged32 probe: %d (%s), expected %d (%s)\n", got, got ? "runs" : err.msg, expect,
	       in_realkvm_lane() ? "real-KVM lane" : expect ? "real KVM host" : "kvm_pvm host");
	assert_int_equal(got, expect);
	if (!got)
		assert_non_null(strstr(err.msg, "cannot run paged32 mode"));
	/* Modes every KVM runs. */
	assert_int_equal(kvmbox_host_supports_mode(KVMBOX_MODE_REAL, &err), 1);
	assert_int_equal(kvmbox_host_supports_mode(KVMBOX_MODE_PROTECTED, &err), 1);
	assert_int_equal(kvmbox_host_supports_mode(KVMBOX_MODE_LONG, &err), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paged32_probe_matches_host),
		PER_MODE(test_hello),
		PER_MODE(test_hello_without_coalescing),
		PER_MODE(test_console_helpers),
		PER_MODE(test_flat_hello),
		PER_MODE(test_triple_fault),
		PER_MODE(test_timeout),
		PER_MODE(test_unbacked_memory),
		PER_MODE(test_unknown_port),
		PER_MODE(test_guest_assert),
	};

	return cmocka_run_group_tests_name("guests", tests, NULL, NULL);
}
