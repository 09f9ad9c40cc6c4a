/* Fast reset: a reset point of a VM, taken before its first run or at any later stop, and a
 * reset that restores only what changed since (the memory module's dirty pages), hands the
 * registers back to KVM through kvm_run sync_regs and puts the features back, so a VM can run
 * the same guest (or call into it) again without being rebuilt. A point taken after a run
 * also keeps the rest of the vCPU (src/snap/snap_cpu.c): KVM holds state there that the
 * runs changed (FPU/SSE registers, MSRs, debug registers), which a point taken before the
 * first run finds as a fresh vCPU has it and never puts back (that costs ioctls). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vm/vm_features.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "mem/mem.h"
#include "snap/snap_cpu.h"
#include "snap/snap_save.h"
#include "vm/vm.h"
#include "vm/vm_lifecycle.h"

/* What a reset point saw beyond guest memory. Taken before the first run it needs only the
 * registers kvmbox chose (KVM holds a fresh vCPU's state for the rest) and a fresh VM's
 * features; taken after a run, the whole vCPU (CPU and the features' saved bytes). */
struct vm_point {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct cpu_state *cpu;      /* taken after a run: CPU_RESET of it; else NULL */
	struct feature_bytes *feat; /* taken after a run: vm->nfeat entries; else NULL */
	struct kvmbox_stats stats;
	enum kvmbox_stop last_stop;
};

/* The vCPU and features kept by a point taken after a run, freed; the rest kept for reuse. */
static void point_release(struct kvmbox_vm *vm)
{
	struct vm_point *p = vm->point.state;

	if (!p)
		return;
	if (p->cpu) {
		cpu_state_free(p->cpu);
		free(p->cpu);
		p->cpu = NULL;
	}
	if (p->feat) {
		features_bytes_free(p->feat, vm->nfeat);
		free(p->feat);
		p->feat = NULL;
	}
}

/* After a run: settle the vCPU (a pending `in` gets its answer), then take what a point
 * before the first run does not need. */
static int take_after_run(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	int ret;

	struct vm_point *p = vm->point.state;

	p->cpu = calloc(1, sizeof(*p->cpu));
	p->feat = calloc(vm->nfeat ? vm->nfeat : 1, sizeof(*p->feat));
	if (!p->cpu || !p->feat)
		return set_error(err, ENOMEM, "out of memory");
	ret = cpu_settle(vm, false, err);
	if (ret == 0)
		ret = cpu_capture(vm, CPU_RESET, p->cpu, err);
	if (ret == 0)
		ret = features_save(vm, p->feat, err);
	return ret;
}

int kvmbox_vm_set_reset_point(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	return vm_reset_point_take(vm, false, err);
}

int kvmbox_vm_set_reset_point_with(struct kvmbox_vm *vm, unsigned flags, struct kvmbox_error *err)
{
	if (flags & ~(unsigned)KVMBOX_POINT_WHOLE)
		return set_error(err, EINVAL, "kvmbox_vm_set_reset_point_with: unknown flags 0x%x",
				 flags & ~(unsigned)KVMBOX_POINT_WHOLE);
	return vm_reset_point_take(vm, flags & KVMBOX_POINT_WHOLE, err);
}

int vm_reset_point_take(struct kvmbox_vm *vm, bool whole, struct kvmbox_error *err)
{
	bool fresh;
	int ret;

	if (!vm)
		return set_error(err, EINVAL, "kvmbox_vm_set_reset_point: NULL VM");
	if (!vm->loaded)
		return set_error(err, ENOEXEC, "kvmbox_vm_set_reset_point: load an image first");
	/* Dirty logging is a VM ioctl (KVM_GET_DIRTY_LOG). */
	if (vm->vm_fd < 0)
		return set_error(err, ENOTSUP, "kvmbox_vm_set_reset_point: the VM was made with "
				 "KVMBOX_VM_ONE_FD and keeps no VM descriptor");
	/* A point is a state to run on from: not a fault, nor a wait on another VM. */
	switch (vm->last_stop) {
	case KVMBOX_STOP_FAULT:
	case KVMBOX_STOP_ASSERT:
	case KVMBOX_STOP_BAD_CALL:
	case KVMBOX_STOP_HOST_ERROR:
	case KVMBOX_STOP_BLOCKED:
		return set_error(err, EBUSY, "kvmbox_vm_set_reset_point: the last run ended in %s, "
				 "not a state to run on from", vm->last_stop == KVMBOX_STOP_BLOCKED ?
				 "a wait on a channel" : "a fault or an error");
	default:
		break;
	}
	point_release(vm);
	if (!vm->point.state)
		vm->point.state = calloc(1, sizeof(*vm->point.state));
	if (!vm->point.state)
		return set_error(err, ENOMEM, "kvmbox_vm_set_reset_point: out of memory");
	fresh = !vm->stats.runs && !vm->ran && !whole;
	ret = fresh ? 0 : take_after_run(vm, err);
	if (ret == 0)
		ret = mem_point_take(vm, err);
	if (ret < 0) {
		point_release(vm);
		vm->point.taken = false;
		return ret;
	}
	vm->point.state->regs = vm->run->s.regs.regs;
	vm->point.state->sregs = vm->run->s.regs.sregs;
	vm->point.state->stats = vm->stats;
	vm->point.state->last_stop = vm->last_stop;
	vm->point.taken = true;
	return 0;
}

/* A run that ended inside an I/O exit (HC_exit, a fault on a port) leaves KVM waiting to
 * complete that instruction on the next KVM_RUN. immediate_exit completes it without
 * entering the guest, before the registers are replaced (KVM API doc, 5. kvm_run:
 * immediate_exit), so the completion cannot land on the fresh state. */
static int complete_pending_io(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	if (!vm->stats.runs)
		return 0;
	return cpu_settle(vm, false, err);
}

/* Registers as they were, applied by KVM on the next KVM_RUN. */
static void restore_registers(struct kvmbox_vm *vm)
{
	const struct vm_point *p = vm->point.state;
	struct kvm_run *run = vm->run;

	run->s.regs.regs = p->regs;
	run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	/* The special registers only when they differ from the reset point's (kvm_run holds them
	 * as of the last exit): setting them resets KVM's MMU context, and rebuilding its page
	 * tables costs more than the rest of a reset. */
	if (memcmp(&run->s.regs.sregs, &p->sregs, sizeof(p->sregs))) {
		run->s.regs.sregs = p->sregs;
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
	struct vm_point *p;
	int ret;

	if (!vm || !vm->point.taken)
		return set_error(err, ENOENT, "kvmbox_vm_reset: the VM has no reset point");
	p = vm->point.state;
	snap_template_free(vm); /* a fork template holds the state the reset replaces */
	ret = complete_pending_io(vm, err);
	if (ret == 0)
		ret = mem_point_restore(vm, err);
	/* A point taken after a run: the rest of the vCPU, the events with the registers. */
	if (ret == 0 && p->cpu)
		ret = cpu_put(vm, CPU_RESET | CPU_SREGS_LAZY, p->cpu, err);
	/* Each feature's state as a fresh VM's (a fresh VM has no open guest files, no fault to
	 * report ...), then what a point taken after a run kept of it. */
	if (ret == 0)
		features_reset(vm);
	if (ret == 0 && p->feat)
		ret = features_restore(vm, p->feat, vm->nfeat, err);
	if (ret < 0) {
		vm->stopped = true;
		return ret;
	}
	if (!p->cpu)
		restore_registers(vm);
	vm->stats = p->stats;
	vm->last_stop = p->last_stop;
	vm->pending = KVMBOX_STOP_NONE;
	vm->stopped = false;
	return 0;
}

void vm_reset_release(struct kvmbox_vm *vm)
{
	point_release(vm);
	free(vm->point.state);
	vm->point.state = NULL;
	vm->point.taken = false;
}
