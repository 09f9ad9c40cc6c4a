/* Exit names and the text of the exits that end a run (exits.h). */
#include <stdarg.h>
#include <stdio.h>
#include "exits.h"
#include "log.h"
#include "trace.h"
#include "util.h"
#include "vm.h"
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

void exit_fault(struct kvmbox_vm *vm, const char *fmt, ...)
{
	char what[320], label[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	vm_request_stop(vm, KVMBOX_STOP_FAULT, 0, "%s: %s at rip=0x%llx",
			exit_label(vm->run->exit_reason, label, sizeof(label)), what,
			(unsigned long long)vm->run->s.regs.regs.rip);
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
	uint32_t sub;

	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		vm_request_stop(vm, KVMBOX_STOP_HALT, 0, "halted");
		break;
	case KVM_EXIT_MMIO:
		exit_fault(vm, "%s of %u byte(s) at unbacked guest-physical 0x%llx",
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
		exit_fault(vm, "KVM internal error %u (%s)", sub,
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
