/* Crash reports (docs/crash-reports.md): every exception a guest raises is caught by
 * kvmbox's default handlers and reported in one exit, in every mode the host runs. Each
 * test runs one tests/guests/exc_*.c guest and checks the report: the exception's name, the
 * decoded error code, for #PF the level where the walk stopped, the registers rewound to the
 * faulting instruction, and never the vCPU's reset state presented as the fault's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define MEM_PF (12u << 20) /* the #PF guests change the mapping of 0x500000: keep it apart */

static void has(const char *msg, const char *want)
{
	if (!strstr(msg, want))
		fail_msg("report \"%s\" lacks \"%s\"", msg, want);
}

/* Run tests/guests/NAME.c in the test's mode; the report must be a guest fault at a rip in
 * the image (not the handler stub, not the reset vector). */
static void run_fault(struct guest_run *r, const char *name, void **state, uint64_t mem)
{
	char prefix[64];
	struct guest_spec s = { .mem = mem };
	const struct kvm_regs *regs;

	skip_unless_host_runs(MODE(state));
	snprintf(prefix, sizeof(prefix), "test-%s", name);
	s.path = guest_image(prefix, MODE(state));
	guest_run(r, &s);
	assert_int_equal(r->res.stop, KVMBOX_STOP_FAULT);
	regs = kvmbox_vm_regs(r->vm);
	/* Images start at 0x1000 and end well below 64 KiB; the stubs lie outside them. */
	assert_true(regs->rip >= 0x1000 && regs->rip < 0x10000);
}

/* The report names the function and the source line the marker comment MARKER sits on in
 * tests/guests/NAME.c (the symbolizer reads the image's DWARF line table). */
static void names_place(const struct guest_run *r, const char *name, const char *function,
			const char *marker)
{
	char file[96], want[192];
	int line;

	snprintf(file, sizeof(file), "tests/guests/%s.c", name);
	line = marker_line(file, marker);
	assert_true(line > 1);
	snprintf(want, sizeof(want), " in %s (%s:%d)", function, file, line - 1);
	has(r->res.msg, want);
}

/* The report's "at rip 0x..." is the rip the registers were rewound to. */
static void rip_matches(const struct guest_run *r)
{
	char want[48];

	snprintf(want, sizeof(want), "at rip 0x%llx", (unsigned long long)kvmbox_vm_regs(r->vm)->rip);
	has(r->res.msg, want);
}

static void test_divide_error(void **state)
{
	struct guest_run r;

	run_fault(&r, "exc_de", state, 0);
	has(r.res.msg, "divide error (#DE)");
	names_place(&r, "exc_de", "divide", "exc-fault-line");
	rip_matches(&r);
	guest_run_free(&r);
}

static void test_invalid_opcode(void **state)
{
	struct guest_run r;
	uint8_t op[2];

	run_fault(&r, "exc_ud", state, 0);
	has(r.res.msg, "invalid opcode (#UD)");
	names_place(&r, "exc_ud", "bad_opcode", "exc-fault-line");
	rip_matches(&r);
	/* The rewound rip is the ud2 itself (0f 0b). */
	assert_int_equal(kvmbox_vm_read(r.vm, kvmbox_vm_regs(r.vm)->rip, op, 2), 0);
	assert_int_equal(op[0], 0x0f);
	assert_int_equal(op[1], 0x0b);
	guest_run_free(&r);
}

static void test_general_protection(void **state)
{
	struct guest_run r;

	run_fault(&r, "exc_gp", state, 0);
	has(r.res.msg, "general protection (#GP");
	/* Real mode pushes no error code; elsewhere it is the selector, decoded. */
	if (MODE(state) != KVMBOX_MODE_REAL)
		has(r.res.msg, "selector 0x50: GDT index 10");
	names_place(&r, "exc_gp", "load_bad_segment",
		    MODE(state) == KVMBOX_MODE_REAL ? "exc-fault-line" : "exc-fault-line-pm");
	rip_matches(&r);
	guest_run_free(&r);
}

static void test_page_fault_not_present(void **state)
{
	struct guest_run r;

	run_fault(&r, "exc_pf_np", state, 0);
	has(r.res.msg, "page fault (#PF, write, not present)");
	has(r.res.msg, "address 0x40000000");
	names_place(&r, "exc_pf_np", "fill_table", "exc-fault-line");
	has(r.res.msg, MODE(state) == KVMBOX_MODE_LONG ? "PML4[0] -> PDPT[1] not present"
						       : "PD[256] not present");
	guest_run_free(&r);
}

static void test_page_fault_read_only(void **state)
{
	struct guest_run r;

	run_fault(&r, "exc_pf_ro", state, MEM_PF);
	has(r.res.msg, "page fault (#PF, write, read-only page)");
	has(r.res.msg, "address 0x500000");
	names_place(&r, "exc_pf_ro", "store_value", "exc-fault-line");
	has(r.res.msg, MODE(state) == KVMBOX_MODE_LONG ? "PML4[0] -> PDPT[0] -> PD[2] not writable"
						       : "PD[1] not writable");
	guest_run_free(&r);
}

static void test_page_fault_user_supervisor(void **state)
{
	struct guest_run r;
	char dump[1024];

	run_fault(&r, "exc_pf_user", state, MEM_PF);
	has(r.res.msg, "page fault (#PF, read, user mode, protection violation)");
	names_place(&r, "exc_pf_user", "read_supervisor_page", "exc-fault-line");
	has(r.res.msg, MODE(state) == KVMBOX_MODE_LONG ? "PML4[0] -> PDPT[0] -> PD[2] not user"
						       : "PD[1] not user");
	/* Rewound to the CPL-3 code that faulted: its code selector (slot 7, RPL 3). */
	kvmbox_vm_format_regs(r.vm, dump, sizeof(dump));
	has(dump, "cs=003b");
	guest_run_free(&r);
}

/* The 32-bit #DF handler is a task (a task gate to its own TSS and stack). Skip, with the
 * reason, where this host's KVM cannot emulate a task switch (kvm_pvm: internal error). */
static void skip_unless_task_switch(enum kvmbox_mode mode)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("test-exc_taskgate", mode) };
	uint32_t reason;

	if (mode == KVMBOX_MODE_LONG)
		return; /* #DF uses IST1: no task switch */
	skip_unless_host_runs(mode);
	guest_run(&r, &s);
	reason = r.res.exit_reason;
	guest_run_free(&r);
	if (reason == KVM_EXIT_INTERNAL_ERROR) {
		printf("SKIP: %s mode: this host's KVM cannot emulate the task switch to the #DF "
		       "task (KVM_EXIT_INTERNAL_ERROR, as kvm_pvm does)\n", kvmbox_mode_name(mode));
		skip();
	}
}

/* int $8 through the #DF task gate: a double fault with the state the task switch saved. */
static void test_double_fault_task(void **state)
{
	struct guest_run r;

	skip_unless_task_switch(MODE(state));
	run_fault(&r, "exc_taskgate", state, 0);
	has(r.res.msg, "double fault (#DF)");
	/* A software int saves the rip after it: still in the same function. */
	has(r.res.msg, " in raise_double_fault (tests/guests/exc_taskgate.c:");
	guest_run_free(&r);
}

/* The stack runs below 0: the #PF cannot be pushed, the #DF runs on kvmbox's own stack
 * (paged32: the #DF task; protected mode has no paging to make it fault, see exc_stack.c). */
static void test_stack_overflow(void **state)
{
	struct guest_run r;
	uint64_t rsp, below;

	skip_unless_task_switch(MODE(state));
	run_fault(&r, "exc_stack", state, 0);
	has(r.res.msg, "double fault (#DF)");
	has(r.res.msg, "stack pointer 0x");
	/* Which push or store of the recursion faults first depends on the compiler. */
	has(r.res.msg, " in recurse (tests/guests/exc_stack.c:");
	/* The faulting stack pointer is at 0 (the push that wraps) or just below it. */
	rsp = kvmbox_vm_regs(r.vm)->rsp;
	below = MODE(state) == KVMBOX_MODE_LONG ? 0 - rsp : (0x100000000ull - rsp) & 0xffffffffull;
	assert_true(below <= 0x1000);
	guest_run_free(&r);
}

/* A guest's own broken IDT: a triple fault, reported as such, with the reset state (AMD
 * SVM) never given as the fault's. */
static void test_broken_idt(void **state)
{
	struct guest_run r;
	char dump[1024];
	struct guest_spec s;

	skip_unless_host_runs(MODE(state));
	s = (struct guest_spec){ .path = guest_image("test-exc_idt", MODE(state)) };
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	assert_int_equal(r.res.exit_reason, KVM_EXIT_SHUTDOWN);
	has(r.res.msg, "triple fault");
	kvmbox_vm_format_regs(r.vm, dump, sizeof(dump));
	if (kvmbox_vm_regs(r.vm)->rip == 0xfff0) {
		/* The host reset the vCPU: the report says so and names no rip. */
		has(r.res.msg, "reset state, not the fault's");
		assert_null(strstr(r.res.msg, "rip=0xfff0"));
		/* ... and shows the last state kvmbox saw: the start code's arguments call, in the
		 * inlined kvmbox_hypercall (the symbolizer names the innermost inlined function). */
		has(r.res.msg, "the guest was last seen at linear address 0x");
		has(r.res.msg, " in kvmbox_hypercall (guest/include/kvmbox/guest.h:");
		has(dump, "reset state");
	} else {
		has(r.res.msg, "the guest's own IDT");
		has(r.res.msg, " in main (tests/guests/exc_idt.c:");
		assert_null(strstr(dump, "reset state"));
	}
	guest_run_free(&r);
}

/* Only kvmbox's stubs may report: the guest writing the port itself is a bad-port fault. */
static void test_forged_report(void **state)
{
	struct guest_run r;
	struct guest_spec s;

	skip_unless_host_runs(MODE(state));
	s = (struct guest_spec){ .path = guest_image("test-exc_forge", MODE(state)) };
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	has(r.res.msg, "port 0xea (kvmbox's exception reports) from outside its handlers");
	guest_run_free(&r);
}

/* A fault, a reset, the same fault again: the report and the rewound registers do not leak
 * into the reset VM, and the handlers (built before the reset point) come back with it. */
static void test_fault_after_reset(void **state)
{
	struct guest_run r;
	struct guest_spec s;
	char first[sizeof(r.res.msg)];
	uint64_t rip;

	skip_unless_host_runs(MODE(state));
	s = (struct guest_spec){ .path = guest_image("test-exc_ud", MODE(state)) };
	guest_prepare(&r, &s);
	assert_int_equal(kvmbox_vm_set_reset_point(r.vm, &r.err), 0);
	guest_start(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	snprintf(first, sizeof(first), "%s", r.res.msg);
	rip = kvmbox_vm_regs(r.vm)->rip;
	assert_int_equal(kvmbox_vm_reset(r.vm, &r.err), 0);
	assert_int_not_equal(kvmbox_vm_regs(r.vm)->rip, rip); /* back at the entry point */
	guest_start(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	assert_string_equal(r.res.msg, first);
	assert_int_equal(kvmbox_vm_regs(r.vm)->rip, rip);
	guest_run_free(&r);
}

/* ---- Every fault says what, where and why (tests/guests/badptr.c, null_deref.c, ...) ---- */

/* A student's bad pointer (0xdeadbeef) in every mode: the function and line, and why in
 * words: beyond guest memory, or (real mode) past the 64 KiB segment limit. */
static void test_bad_pointer(void **state)
{
	struct guest_run r;

	run_fault(&r, "badptr", state, 0);
	names_place(&r, "badptr", "sum", "badptr-line");
	if (MODE(state) == KVMBOX_MODE_REAL && strstr(r.res.msg, "(#GP)")) {
		/* The CPU checks the 64 KiB limit before the address reaches memory. */
		has(r.res.msg, "offset 0xdeadbeef is past the ds segment's limit 0xffff: real mode "
			       "reaches only 64 KiB");
	} else {
		/* Real mode on a CPU that does not check segment limits (QEMU's emulation, the
		 * lane's CPU) reaches memory as the other modes do. */
		has(r.res.msg, "beyond the guest's 2 MiB of memory (0x0-0x1fffff)");
		if (MODE(state) == KVMBOX_MODE_PAGED32 || MODE(state) == KVMBOX_MODE_LONG)
			has(r.res.msg, "page fault (#PF, read, not present)");
		else
			has(r.res.msg, "KVM_EXIT_MMIO: read of 4 byte(s) at unbacked guest-physical 0xdeadbe");
	}
	guest_run_free(&r);
}

#define NULL_CASE_ADDR 0x2000u /* as tests/guests/null_deref.c */

/* tests/guests/null_deref.c's case CASE in the test's mode. */
static void run_null(struct guest_run *r, void **state, uint32_t which)
{
	struct guest_spec s = { .path = guest_image("test-null_deref", MODE(state)) };

	skip_unless_host_runs(MODE(state));
	guest_prepare(r, &s);
	assert_int_equal(kvmbox_vm_write(r->vm, NULL_CASE_ADDR, &which, sizeof(which)), 0);
	guest_start(r, &s);
}

/* Real mode has no NULL guard (page 0 is the interrupt vector table): the access reads or
 * overwrites it and the guest goes on, as docs/crash-reports.md says. */
static bool real_mode_unguarded(struct guest_run *r, void **state)
{
	if (MODE(state) != KVMBOX_MODE_REAL)
		return false;
	assert_int_equal(r->res.stop, KVMBOX_STOP_EXIT);
	assert_int_equal(r->res.status, 1);
	guest_run_free(r);
	return true;
}

/* null_deref.c's case WHICH, an access (RW: "read" or "write") in FUNCTION on the line of
 * MARKER: with the guard, a #PF (paged modes) or an MMIO exit (protected mode) that names the
 * function, the line and NULL. */
static void null_access(void **state, uint32_t which, const char *rw, const char *function,
			const char *marker)
{
	struct guest_run r;
	char want[96];

	run_null(&r, state, which);
	if (real_mode_unguarded(&r, state))
		return;
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	names_place(&r, "null_deref", function, marker);
	if (MODE(state) == KVMBOX_MODE_PROTECTED)
		snprintf(want, sizeof(want), "KVM_EXIT_MMIO: %s of 4 byte(s) at unbacked guest-physical "
			 "0x0 at rip 0x", rw);
	else
		snprintf(want, sizeof(want), "page fault (#PF, %s, not present)", rw);
	has(r.res.msg, want);
	has(r.res.msg, "page 0, which kvmbox's NULL guard keeps from the guest: a NULL pointer "
		       "dereference");
	guest_run_free(&r);
}

/* The SDK's images ask for the NULL guard: a read through NULL faults with its line. */
static void test_null_read(void **state)
{
	null_access(state, 0, "read", "first_value", "null-read-line");
}

/* A write through NULL; in protected mode KVM completes the write before the exit, so rip
 * is past the store and the line is found from the byte before it. */
static void test_null_write(void **state)
{
	null_access(state, 1, "write", "set_value", "null-write-line");
}

/* A call through a NULL function pointer: no code at 0 to name, so the report names the
 * caller from the return address on the stack. */
static void test_null_call(void **state)
{
	struct guest_run r;
	char want[128];

	run_null(&r, state, 2);
	if (MODE(state) == KVMBOX_MODE_REAL) {
		/* The call runs the interrupt vector table as code: what that does is anyone's
		 * guess, but it ends as a guest outcome, never as a host error. */
		assert_true(r.res.stop == KVMBOX_STOP_FAULT || r.res.stop == KVMBOX_STOP_EXIT ||
			    r.res.stop == KVMBOX_STOP_HALT);
		guest_run_free(&r);
		return;
	}
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	snprintf(want, sizeof(want), ", called from call_hook (tests/guests/null_deref.c:%d)",
		 marker_line("tests/guests/null_deref.c", "null-call-line") - 1);
	has(r.res.msg, want);
	has(r.res.msg, "a call through a bad function pointer?");
	has(r.res.msg, MODE(state) == KVMBOX_MODE_PROTECTED ? "the guest jumped to 0x0, page 0"
							    : "page fault (#PF, ");
	guest_run_free(&r);
}

/* A NULL dereference gcc can prove becomes `ud2`: named as the compiler's trap. */
static void test_compiler_trap(void **state)
{
	struct guest_run r;

	run_fault(&r, "null_trap", state, 0);
	has(r.res.msg, "invalid opcode (#UD)");
	names_place(&r, "null_trap", "value_of", "null-trap-line");
	has(r.res.msg, "`ud2`, the compiler's trap");
	guest_run_free(&r);
}

/* A port nobody serves: the function and line, what the port is on a PC, and kvmbox's own
 * ports. */
static void test_unknown_port_explained(void **state)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("test-badport", MODE(state)) };

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	has(r.res.msg, "KVM_EXIT_IO: out of 1 byte(s) to unknown port 0x3f8 at rip 0x");
	/* The out of the SDK's inlined outb(): its innermost scope names it. Hosts differ in
	 * where rip stands at the exit (at the out, or past it on kvm_pvm): the same line. */
	has(r.res.msg, " in outb (guest/include/kvmbox/io.h:");
	has(r.res.msg, "it is the serial port COM1 on a PC; kvmbox emulates no PC hardware: its "
		       "console is port 0xE9, its hypercalls ports 0x600-0x63f");
	guest_run_free(&r);
}

/* The classic guests keep page 0 (they opt out of the guard): unchanged. The option gives any
 * image the guard, so the same store to 0x400 faults; real mode refuses it at load. */
static void test_guard_null_option(void **state)
{
	struct guest_run r;
	struct guest_spec s = { .path = guest_image("hello", MODE(state)) };
	struct kvmbox_vm_config cfg = { .mode = MODE(state), .console_fd = -1,
					.flags = KVMBOX_VM_GUARD_NULL };
	struct kvmbox_image img;
	struct kvmbox_error err;
	struct kvmbox_vm *vm;
	uint8_t *data;
	size_t size;
	uint32_t word = 0;

	skip_unless_host_runs(MODE(state));
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	assert_int_equal(kvmbox_vm_read(r.vm, 0x400, &word, sizeof(word)), 0);
	assert_int_equal(word, 42);
	guest_run_free(&r);
	if (MODE(state) == KVMBOX_MODE_REAL) {
		data = read_whole_file(s.path, &size);
		assert_non_null(data);
		assert_int_equal(kvmbox_image_parse(&img, data, size, false, 0, 0, &err), 0);
		assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), 0);
		assert_int_equal(kvmbox_vm_load(vm, &img, &err), -EINVAL);
		has(err.msg, "the NULL guard needs a mode other than real");
		kvmbox_vm_destroy(vm);
		free(data);
		return;
	}
	s.flags = KVMBOX_VM_GUARD_NULL;
	guest_run(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_FAULT);
	has(r.res.msg, " in main (examples/hello.c:");
	has(r.res.msg, MODE(state) == KVMBOX_MODE_PROTECTED ? "unbacked guest-physical 0x400 "
							    : "address 0x400: ");
	has(r.res.msg, "NULL guard");
	guest_run_free(&r);
}

/* The command line's spelling of the option. */
static void test_guard_null_cli(void **state)
{
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	RUN(&c, "run", "--guard-null", build_path("guests/hello-long.elf"));
	assert_int_equal(c.status, 65);
	has(c.err, "address 0x400: PML4[0] -> PDPT[0] -> PD[0] -> PT[0] not present; page 0, which "
		   "kvmbox's NULL guard keeps from the guest");
	RUN(&c, "run", build_path("guests/hello-long.elf"));
	assert_int_equal(c.status, 0);
}

/* Modes a guest declares (kvmbox-modes): the paging faults need paging. */
#define PAGED_MODES(fn) \
	{ #fn "/paged32", fn, NULL, NULL, (void *)&all_modes[2] }, \
	{ #fn "/long", fn, NULL, NULL, (void *)&all_modes[3] }

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_divide_error),
		PER_MODE(test_invalid_opcode),
		PER_MODE(test_general_protection),
		PAGED_MODES(test_page_fault_not_present),
		PAGED_MODES(test_page_fault_read_only),
		PAGED_MODES(test_page_fault_user_supervisor),
		PAGED_MODES(test_stack_overflow),
		{ "test_double_fault_task/protected", test_double_fault_task, NULL, NULL, (void *)&all_modes[1] },
		{ "test_double_fault_task/paged32", test_double_fault_task, NULL, NULL, (void *)&all_modes[2] },
		PER_MODE(test_broken_idt),
		PER_MODE(test_forged_report),
		PER_MODE(test_fault_after_reset),
		PER_MODE(test_bad_pointer),
		PER_MODE(test_null_read),
		PER_MODE(test_null_write),
		PER_MODE(test_null_call),
		PER_MODE(test_compiler_trap),
		PER_MODE(test_unknown_port_explained),
		PER_MODE(test_guard_null_option),
		cmocka_unit_test(test_guard_null_cli),
	};

	return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
