/* Fast reset: a snapshot of the loaded VM, and a reset that restores only what changed since
 * (the memory module's dirty pages) and hands the registers back to KVM through kvm_run
 * sync_regs, then resets every feature, so a VM can run the same guest again without being
 * rebuilt. */
#include <errno.h>
#include <string.h>
#include "vm/vm_features.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "mem/mem.h"
#include "vm/vm.h"

int kvmbox_vm_snapshot(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	int ret;

	if (!vm)
		return set_error(err, EINVAL, "kvmbox_vm_snapshot: NULL VM");
	if (vm->snap.taken)
		return set_error(err, EBUSY, "kvmbox_vm_snapshot: the VM already has a snapshot");
	if (!vm->loaded)
		return set_error(err, ENOEXEC, "kvmbox_vm_snapshot: load an image first");
	/* Dirty logging is a VM ioctl (KVM_GET_DIRTY_LOG). */
	if (vm->vm_fd < 0)
		return set_error(err, ENOTSUP, "kvmbox_vm_snapshot: the VM was made with "
				 "KVMBOX_VM_ONE_FD and keeps no VM descriptor");
	/* Before the first run the registers in kvm_run are exactly the ones kvmbox chose; after
	 * one, KVM holds state (FPU, MSRs, a pending I/O) that a snapshot here would not see. */
	if (vm->stats.runs || vm->stopped)
		return set_error(err, EBUSY, "kvmbox_vm_snapshot: take it before the first run");
	ret = mem_snapshot(vm, err);
	if (ret < 0)
		return ret;
	vm->snap.regs = vm->run->s.regs.regs;
	vm->snap.sregs = vm->run->s.regs.sregs;
	vm->snap.taken = true;
	return 0;
}

/* A run that ended inside an I/O exit (HC_exit, a fault on a port) leaves KVM waiting to
 * complete that instruction on the next KVM_RUN. immediate_exit completes it without
 * entering the guest, before the registers are replaced (KVM API doc, 5. kvm_run:
 * immediate_exit), so the completion cannot land on the fresh state. */
static int complete_pending_io(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	struct kvm_run *run = vm->run;
	int ret;

	if (!vm->stats.runs || (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_MMIO))
		return 0;
	run->immediate_exit = 1;
	ret = vcpu_ioctl(vm, KVM_RUN, 0, err);
	run->immediate_exit = 0;
	return ret < 0 && ret != -EINTR ? ret : 0;
}

/* Registers as they were, applied by KVM on the next KVM_RUN. */
static void restore_registers(struct kvmbox_vm *vm)
{
	struct kvm_run *run = vm->run;

	run->s.regs.regs = vm->snap.regs;
	run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	/* The special registers only when they differ from the snapshot's (kvm_run holds them
	 * as of the last exit): setting them resets KVM's MMU context, and rebuilding its page
	 * tables costs more than the rest of a reset. */
	if (memcmp(&run->s.regs.sregs, &vm->snap.sregs, sizeof(vm->snap.sregs))) {
		run->s.regs.sregs = vm->snap.sregs;
		run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
	}
	/* Events zeroed (no pending exception, interrupt or NMI, no interrupt shadow, as on a
	 * new vCPU) unless the run ended at an instruction boundary KVM left clean: a halt or
	 * a port I/O exit. */
	if (run->exit_reason != KVM_EXIT_HLT && run->exit_reason != KVM_EXIT_IO) {
		memset(&run->s.regs.events, 0, sizeof(run->s.regs.events));
		run->s.regs.events.flags = KVM_VCPUEVENT_VALID_SHADOW;
		run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
	}
}

int kvmbox_vm_reset(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	int ret;

	if (!vm || !vm->snap.taken)
		return set_error(err, ENOENT, "kvmbox_vm_reset: the VM has no snapshot");
	ret = complete_pending_io(vm, err);
	if (ret == 0)
		ret = mem_restore(vm, err);
	if (ret < 0) {
		vm->stopped = true;
		return ret;
	}
	restore_registers(vm);
	/* Each feature's state as a fresh VM's (a fresh VM has no open guest files ...). */
	features_reset(vm);
	memset(&vm->stats, 0, sizeof(vm->stats));
	vm->pending = KVMBOX_STOP_NONE;
	vm->stopped = false;
	return 0;
}
