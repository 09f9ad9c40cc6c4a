/* src/kvm/kvm_trace.c and src/kvm/kvm_explain.c without a guest: the decoding of exits a well-behaved guest
 * never produces (MMIO, internal error, failed entry, string I/O), the argument structs of
 * ioctls kvmbox makes only on some paths, the explain table's coverage, and that nothing is
 * formatted below each function's level (the run loop relies on it). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "kvm/kvm_explain.h"
#include "kvm/kvm_trace.h"

struct sink {
	struct kvmbox_log log;
	char *text;
	size_t len;
};

static void sink_open(struct sink *s, enum kvmbox_log_level level)
{
	s->text = NULL;
	s->len = 0;
	s->log.level = level;
	s->log.sink = open_memstream(&s->text, &s->len);
	assert_non_null(s->log.sink);
}

/* Close the stream and return what was logged (owned by S until sink_free). */
static const char *sink_text(struct sink *s)
{
	fclose(s->log.sink);
	s->log.sink = NULL;
	return s->text;
}

static void sink_free(struct sink *s)
{
	free(s->text);
}

/* A kvm_run with room after it for I/O data, as the vCPU mapping has. */
static struct kvm_run *new_run(uint32_t reason)
{
	struct kvm_run *run = calloc(1, 4096);

	assert_non_null(run);
	run->exit_reason = reason;
	run->s.regs.regs.rip = 0x1234;
	return run;
}

static void test_exit_mmio_write(void **state)
{
	struct kvm_run *run = new_run(KVM_EXIT_MMIO);
	struct sink s;

	(void)state;
	run->mmio.phys_addr = 0x500000;
	run->mmio.len = 4;
	run->mmio.is_write = 1;
	memcpy(run->mmio.data, "\x78\x56\x34\x12", 4);
	sink_open(&s, KVMBOX_LOG_TRACE);
	trace_exit(&s.log, "vm", run, "KVM_EXIT_MMIO", true, true);
	assert_string_equal(sink_text(&s), "kvmbox[vm]: trace: exit KVM_EXIT_MMIO: write 4 byte(s) at "
			    "guest-physical 0x500000 data 0x12345678 at rip=0x1234\n");
	sink_free(&s);
	free(run);
}

static void test_exit_internal_error_and_fail_entry(void **state)
{
	struct kvm_run *run = new_run(KVM_EXIT_INTERNAL_ERROR);
	struct sink s;

	(void)state;
	run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	run->internal.ndata = 2;
	run->internal.data[0] = 0xab;
	run->internal.data[1] = 0xcd;
	sink_open(&s, KVMBOX_LOG_TRACE);
	trace_exit(&s.log, NULL, run, "KVM_EXIT_INTERNAL_ERROR", false, false);
	run->exit_reason = KVM_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = 0x21;
	run->fail_entry.cpu = 1;
	trace_exit(&s.log, NULL, run, "KVM_EXIT_FAIL_ENTRY", false, false);
	run->exit_reason = KVM_EXIT_SHUTDOWN;
	trace_exit(&s.log, NULL, run, "KVM_EXIT_SHUTDOWN", false, false);
	assert_string_equal(sink_text(&s),
			    "kvmbox: trace: exit KVM_EXIT_INTERNAL_ERROR: suberror 1, 2 data word(s) 0xab 0xcd at rip=0x1234\n"
			    "kvmbox: trace: exit KVM_EXIT_FAIL_ENTRY: hardware_entry_failure_reason 0x21, cpu 1 at rip=0x1234\n"
			    "kvmbox: trace: exit KVM_EXIT_SHUTDOWN (triple fault) at rip=0x1234\n");
	sink_free(&s);
	free(run);
}

/* A rep outsw of three words shows each; an in shows no data (kvmbox has not answered). */
static void test_exit_string_io(void **state)
{
	struct kvm_run *run = new_run(KVM_EXIT_IO);
	uint16_t words[3] = { 0x1111, 0x2222, 0x3333 };
	struct sink s;

	(void)state;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.port = 0x10;
	run->io.size = 2;
	run->io.count = 3;
	run->io.data_offset = 1024;
	memcpy((char *)run + 1024, words, sizeof(words));
	sink_open(&s, KVMBOX_LOG_TRACE);
	trace_exit(&s.log, "vm", run, "KVM_EXIT_IO", false, false);
	run->io.direction = KVM_EXIT_IO_IN;
	run->io.port = 0x605;
	run->io.size = 4;
	run->io.count = 1;
	run->s.regs.regs.rbx = 0x2000;
	trace_exit(&s.log, "vm", run, "KVM_EXIT_IO", false, false);
	assert_string_equal(sink_text(&s),
			    "kvmbox[vm]: trace: exit KVM_EXIT_IO: out port 0x10 size 2 count 3 data 0x1111 0x2222 0x3333 at rip=0x1234\n"
			    "kvmbox[vm]: trace: exit KVM_EXIT_IO: in port 0x605 (hypercall 5) size 4 count 1 argument rbx 0x2000 at rip=0x1234\n");
	sink_free(&s);
	free(run);
}

/* Arguments of requests the hello run does not make, and a failed call's errno. */
static void test_ioctl_arguments(void **state)
{
	struct kvm_translation t = { .linear_address = 0x1000, .physical_address = 0x1000,
				     .valid = 1, .writeable = 1 };
	struct kvm_userspace_memory_region r = { .slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES,
						 .memory_size = 0x40000, .userspace_addr = 0x7000 };
	struct sink s;

	(void)state;
	sink_open(&s, KVMBOX_LOG_TRACE);
	trace_ioctl(&s.log, "vm", 7, KVM_TRANSLATE, "KVM_TRANSLATE", (unsigned long)&t, 0, 0);
	trace_ioctl(&s.log, "vm", 4, KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION",
		    (unsigned long)&r, -1, EINVAL);
	assert_string_equal(sink_text(&s),
			    "kvmbox[vm]: trace: ioctl(fd 7, KVM_TRANSLATE, {linear 0x1000 -> physical 0x1000, valid 1, writeable 1, usermode 0}) = 0\n"
			    "kvmbox[vm]: trace: ioctl(fd 4, KVM_SET_USER_MEMORY_REGION, {slot 0, flags 0x1 (LOG_DIRTY_PAGES), guest_phys_addr 0x0, memory_size 0x40000, userspace_addr 0x7000}) = -1 Invalid argument\n");
	sink_free(&s);
}

/* Below its level no function writes a byte (so none formats one). */
static void test_nothing_below_the_level(void **state)
{
	struct kvm_run *run = new_run(KVM_EXIT_HLT);
	struct kvmbox_layout lo = { .mem_size = 2 << 20, .sys_base = 0x1f0000, .gdt = 0x1f0000 };
	struct kvmbox_image img = { .entry = 0x1000 };
	struct sink s;

	(void)state;
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	sink_open(&s, KVMBOX_LOG_DEBUG);
	trace_exit(&s.log, "vm", run, "KVM_EXIT_HLT", true, true);
	trace_ioctl(&s.log, "vm", 3, KVM_RUN, "KVM_RUN", 0, 0, 0);
	trace_sync_regs(&s.log, "vm", run);
	trace_step(&s.log, "vm", "mmap kvm_run", "mmap");
	explain_step(&s.log, "vm", "KVM_RUN");
	assert_string_equal(sink_text(&s), "");
	sink_free(&s);
	sink_open(&s, KVMBOX_LOG_WARN);
	trace_layout(&s.log, "vm", KVMBOX_MODE_PROTECTED, &lo);
	trace_image(&s.log, "vm", &img);
	assert_string_equal(sink_text(&s), "");
	sink_free(&s);
	trace_exit(NULL, "vm", run, "KVM_EXIT_HLT", true, true); /* a NULL log logs nothing */
	free(run);
}

/* Every exit kvmbox ends a run on, and every bring-up step the code names, has a sentence;
 * an unknown step has none and prints nothing. */
static void test_explain_table(void **state)
{
	static const char *const steps[] = {
		"open /dev/kvm", "KVM_GET_API_VERSION", "KVM_CHECK_EXTENSION", "KVM_CREATE_VM",
		"KVM_SET_TSS_ADDR", "KVM_SET_USER_MEMORY_REGION", "KVM_CREATE_VCPU",
		"KVM_GET_VCPU_MMAP_SIZE", "mmap kvm_run", "KVM_GET_SUPPORTED_CPUID", "KVM_SET_CPUID2",
		"KVM_REGISTER_COALESCED_MMIO", "KVM_GET_SREGS", "mode tables", "sync_regs",
		"segments", "close /dev/kvm", "load image", "entry", "KVM_RUN", "KVM_EXIT_IO",
		"KVM_EXIT_HLT", "KVM_EXIT_MMIO", "KVM_EXIT_SHUTDOWN", "KVM_EXIT_INTERNAL_ERROR",
		"KVM_EXIT_FAIL_ENTRY", "CR0.PE", "CR0.PG", "CR4.PAE", "CR4.PSE", "EFER.LME",
		"EFER.LMA",
	};
	struct sink s;

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!explain_text(steps[i]))
			fail_msg("no --explain sentence for %s", steps[i]);
	assert_null(explain_text("KVM_NO_SUCH_THING"));
	assert_null(explain_text(NULL));
	sink_open(&s, KVMBOX_LOG_EXPLAIN);
	explain_step(&s.log, "vm", "KVM_NO_SUCH_THING");
	explain_step(&s.log, "vm", "KVM_EXIT_HLT");
	assert_string_equal(sink_text(&s), "kvmbox[vm]: explain: KVM_EXIT_HLT: the guest executed hlt "
			    "with nothing that could wake it: the run is over\n");
	sink_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_mmio_write),
		cmocka_unit_test(test_exit_internal_error_and_fail_entry),
		cmocka_unit_test(test_exit_string_io),
		cmocka_unit_test(test_ioctl_arguments),
		cmocka_unit_test(test_nothing_below_the_level),
		cmocka_unit_test(test_explain_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
