/* KVM exit names and the --trace line of every exit (vm_exit.h). The text of the exits that
 * end a run in a fault is src/fault/fault_exit.c. */
#include <stdarg.h>
#include <stdio.h>
#include "vm/vm_exit.h"
#include "base/log.h"
#include "kvm/kvm_trace.h"
#include "base/util.h"
#include "vm/vm.h"

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

const char *exit_label(uint32_t reason, char *buf, size_t len)
{
	const char *name = known_exit(reason);

	if (name)
		return name;
	snprintf(buf, len, "KVM exit %u", reason);
	return buf;
}

void exit_trace(const struct kvmbox_vm *vm)
{
	uint32_t reason = vm->run->exit_reason;
	char label[32];

	trace_exit(vm->log, vm->name, vm->run, exit_label(reason, label, sizeof(label)),
		   vm->stats.exits == 1, reason < KVMBOX_EXIT_REASONS && vm->stats.by_reason[reason] == 1);
}
