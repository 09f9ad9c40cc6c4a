/* Exit names and the text of the exits that end a run (exits.h). */
#include <stdarg.h>
#include <stdio.h>
#include "exits.h"
#include "log.h"
#include "trace.h"
#include "util.h"
#include "vm.h"
#include "kvmbox/abi.h"
#include "fault/fault.h"

static const char *const exit_names[] = {
#define X(n) [KVM_EXIT_##n] = "KVM_EXIT_" #n
	X(UNKNOWN), X(EXCEPTION), X(IO), X(HYPERCALL), X(DEBUG), X(HLT), X(MMIO),
	X(IRQ_WINDOW_OPEN), X(SHUTDOWN), X(FAIL_ENTRY), X(INTR), X(SET_TPR), X(TPR_ACCESS),
	X(S390_SIEIC), X(S390_RESET), X(DCR), X(NMI), X(INTERNAL_ERROR), X(OSI), X(PAPR_HCALL),
	X(S390_UCONTROL), X(WATCHDOG), X(S390_TSCH), X(EPR), X(SYSTEM_EVENT), X(S390_STSI),
	X(IOAPIC_EOI), X(HYPERV), X(ARM_NISV), X(X86_RDMSR), X(X86_WRMSR), X(DIRTY_RING_FULL),
	X(AP_RESET_HOLD), X(X86_BUS_LOCK), X(XEN), X(RISCV_SBI), X(RISCV_CSR), X(NOTIFY),
#undef X
};

static const char *known_exit(uint32_t reason)
{
	return reason < ARRAY_SIZE(exit_names) ? exit_names[reason] : NULL;
}

const char *kvmbox_exit_name(uint32_t reason)
{
	const char *name = known_exit(reason);

	return name ? name : "KVM_EXIT_UNKNOWN_REASON";
}

/* "KVM_EXIT_HLT", or "KVM exit 77" for a reason this build does not know. */
static const char *exit_label(uint32_t reason, char *buf, size_t len)
{
	const char *name = known_exit(reason);

	if (name)
		return name;
	snprintf(buf, len, "KVM exit %u", reason);
	return buf;
}

/* End the run with a fault, in the form of the exception reports (src/fault/report.c):
 * "LABEL: WHAT at rip 0x... in FUNCTION (FILE:LINE): WHY". AFTER: KVM already moved rip
 * past the instruction (it completes an MMIO write before the exit), so the source line is
 * the one of the byte before rip. WHY may be empty. */
static void fault_at(struct kvmbox_vm *vm, bool after, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fault_at(struct kvmbox_vm *vm, bool after, const char *why, const char *fmt, ...)
{
	const struct kvm_regs *regs = &vm->run->s.regs.regs;
	uint64_t pc = vm->run->s.regs.sregs.cs.base + regs->rip;
	char what[320], label[32], where[240];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fault_where(vm, after ? pc - 1 : pc, where, sizeof(where));
	vm_request_stop(vm, KVMBOX_STOP_FAULT, 0, "%s: %s at rip 0x%llx%s%s%s%s",
			exit_label(vm->run->exit_reason, label, sizeof(label)), what,
			(unsigned long long)regs->rip, after ? " (just after it)" : "", where,
			why[0] ? ": " : "", why);
}

void exit_fault(struct kvmbox_vm *vm, const char *fmt, ...)
{
	char what[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fault_at(vm, false, "", "%s", what);
}

/* The PC device a port belongs to, for a guest that expects one (a UART, the keyboard ...),
 * or NULL. Port assignments of the PC/AT and PCI. */
static const char *pc_device(uint16_t port)
{
	static const struct {
		uint16_t first, last;
		const char *name;
	} devices[] = {
		{ 0x20, 0x21, "the interrupt controller (8259 PIC)" },
		{ 0xa0, 0xa1, "the second interrupt controller (8259 PIC)" },
		{ 0x40, 0x43, "the timer (8254 PIT)" },
		{ 0x60, 0x60, "the keyboard controller" },
		{ 0x64, 0x64, "the keyboard controller" },
		{ 0x70, 0x71, "the CMOS clock" },
		{ 0x80, 0x80, "the POST diagnostic port" },
		{ 0x2f8, 0x2ff, "the serial port COM2" },
		{ 0x3b0, 0x3df, "the VGA display" },
		{ 0x3f8, 0x3ff, "the serial port COM1" },
		{ 0xcf8, 0xcff, "PCI configuration space" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (port >= devices[i].first && port <= devices[i].last)
			return devices[i].name;
	return NULL;
}

void exit_port_fault(struct kvmbox_vm *vm, uint16_t port, bool out, unsigned size, bool served)
{
	const char *dev = pc_device(port);
	struct x86_insn_info insn;
	char why[256];

	if (served)
		snprintf(why, sizeof(why), port == KVMBOX_PORT_CONSOLE && !out
			 ? "the console port 0xE9 is output only"
			 : "its handler does not take this access");
	else
		snprintf(why, sizeof(why), "%s%s%s: its console is port 0xE9, its hypercalls ports "
			 "0x%x-0x%x", dev ? "it is " : "kvmbox has no device there",
			 dev ? dev : "", dev ? " on a PC; kvmbox emulates no PC hardware" : "",
			 KVMBOX_PORT_HC_BASE, KVMBOX_PORT_HC_BASE + KVMBOX_HC_MAX - 1);
	/* VMX and SVM exit with rip at the in/out (KVM advances it when the I/O completes);
	 * kvm_pvm has already moved past it. */
	fault_at(vm, !fault_insn(vm, &insn) || !insn.port_io, why, "%s of %u byte(s) %s %s port 0x%x",
		 out ? "out" : "in", size, out ? "to" : "from", served ? "the" : "unknown", port);
}

/* KVM could not emulate the instruction at rip, most often because there is none: the
 * guest jumped outside its memory or into the NULL guard's page. */
static void internal_why(struct kvmbox_vm *vm, uint32_t sub, char *buf, size_t len)
{
	uint64_t pc = vm->run->s.regs.sregs.cs.base + vm->run->s.regs.regs.rip;
	char why[200], caller[240];

	buf[0] = '\0';
	if (sub != KVM_INTERNAL_ERROR_EMULATION || !fault_addr_why(vm, pc, why, sizeof(why)))
		return;
	fault_caller(vm, caller, sizeof(caller));
	snprintf(buf, len, "the guest jumped to 0x%llx, %s (a call through a bad function "
		 "pointer?)%s", (unsigned long long)pc, why, caller);
}

static const char *const internal_suberrors[] = {
	[KVM_INTERNAL_ERROR_EMULATION] = "instruction emulation failed",
	[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception while delivering an exception",
	[KVM_INTERNAL_ERROR_DELIVERY_EV] = "event delivery failed",
	[KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "unexpected exit reason",
};

void exit_stop(struct kvmbox_vm *vm)
{
	struct kvm_run *run = vm->run;
	char why[512];
	uint32_t sub;

	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		vm_request_stop(vm, KVMBOX_STOP_HALT, 0, "halted");
		break;
	case KVM_EXIT_MMIO:
		/* No memory slot there: outside guest memory, or the NULL guard's page. */
		fault_addr_why(vm, run->mmio.phys_addr, why, sizeof(why));
		fault_at(vm, run->mmio.is_write, why, "%s of %u byte(s) at unbacked guest-physical 0x%llx",
			 run->mmio.is_write ? "write" : "read", run->mmio.len,
			 (unsigned long long)run->mmio.phys_addr);
		break;
	case KVM_EXIT_SHUTDOWN:
		fault_shutdown(vm); /* the crash reports' room knows the IDT and the symbols */
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit_fault(vm, "VM entry failed, hardware reason 0x%llx",
		      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		sub = run->internal.suberror;
		internal_why(vm, sub, why, sizeof(why));
		fault_at(vm, false, why, "KVM internal error %u (%s)", sub,
			 sub < ARRAY_SIZE(internal_suberrors) && internal_suberrors[sub]
				 ? internal_suberrors[sub]
				 : "unknown");
		break;
	default:
		exit_fault(vm, "unhandled exit");
		break;
	}
}

void exit_trace(const struct kvmbox_vm *vm)
{
	uint32_t reason = vm->run->exit_reason;
	char label[32];

	trace_exit(vm->log, vm->name, vm->run, exit_label(reason, label, sizeof(label)),
		   vm->stats.exits == 1, reason < KVMBOX_EXIT_REASONS && vm->stats.by_reason[reason] == 1);
}
