/* Fast reset: a snapshot of the loaded VM, and a reset that restores only what changed since
 * (KVM's dirty-page log plus the pages the host wrote) and hands the registers back to KVM
 * through kvm_run sync_regs, so a VM can run the same guest again without being rebuilt. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "kvm.h"
#include "log.h"
#include "util.h"
#include "vm.h"


struct vm_snapshot {
	uint8_t *mem;           /* guest memory as it was; pages that were zero are never touched */
	uint64_t *dirty;        /* KVM_GET_DIRTY_LOG's bitmap */
	size_t words;           /* 64-bit words in each bitmap */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

void vm_snapshot_release(struct kvmbox_vm *vm)
{
	struct vm_snapshot *s = vm->snap;

	if (!s)
		return;
	if (s->mem != MAP_FAILED)
		munmap(s->mem, vm->mem.size);
	free(s->dirty);
	free(vm->host_dirty);
	free(s);
	vm->snap = NULL;
	vm->host_dirty = NULL;
}

int kvmbox_vm_snapshot(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	struct vm_snapshot *s;
	uint64_t pages, p;
	int ret;

	if (!vm)
		return set_error(err, EINVAL, "kvmbox_vm_snapshot: NULL VM");
	if (vm->snap)
		return set_error(err, EBUSY, "kvmbox_vm_snapshot: the VM already has a snapshot");
	if (!vm->loaded)
		return set_error(err, ENOEXEC, "kvmbox_vm_snapshot: load an image first");
	/* Before the first run the registers in kvm_run are exactly the ones kvmbox chose; after
	 * one, KVM holds state (FPU, MSRs, a pending I/O) that a snapshot here would not see. */
	if (vm->stats.runs || vm->stopped)
		return set_error(err, EBUSY, "kvmbox_vm_snapshot: take it before the first run");
	s = calloc(1, sizeof(*s));
	if (!s)
		return set_error(err, ENOMEM, "out of memory");
	pages = vm->mem.size >> PAGE_SHIFT;
	s->words = (size_t)((pages + 63) / 64);
	s->dirty = calloc(s->words, sizeof(uint64_t));
	vm->host_dirty = calloc(s->words, sizeof(uint64_t));
	/* Anonymous and NORESERVE like guest memory: the copy costs only its non-zero pages. */
	s->mem = mmap(NULL, vm->mem.size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	vm->snap = s;
	if (!s->dirty || !vm->host_dirty || s->mem == MAP_FAILED) {
		ret = set_error(err, ENOMEM, "out of memory for a snapshot of %llu bytes",
				(unsigned long long)vm->mem.size);
		goto release;
	}
	for (p = 0; p < pages; p++) {
		const uint8_t *src = vm->mem.host + (p << PAGE_SHIFT);

		if (!page_is_zero(src))
			memcpy(s->mem + (p << PAGE_SHIFT), src, PAGE_SIZE);
	}
	s->regs = vm->run->s.regs.regs;
	s->sregs = vm->run->s.regs.sregs;

	/* From here on KVM records every page the guest writes (KVM API doc, 4.35
	 * KVM_SET_USER_MEMORY_REGION: changing only the flags of a slot is allowed). */
	ret = vm_set_mem_slot(vm, KVM_MEM_LOG_DIRTY_PAGES, err);
	if (ret < 0)
		goto release;
	return 0;

release:
	vm_snapshot_release(vm);
	return ret;
}

/* Copy back every page set in DIRTY or in the host's own bitmap, and clear the latter. */
static void restore_pages(struct kvmbox_vm *vm, struct vm_snapshot *s)
{
	for (size_t w = 0; w < s->words; w++) {
		uint64_t bits = s->dirty[w] | vm->host_dirty[w];

		vm->host_dirty[w] = 0;
		while (bits) {
			uint64_t off = (w * 64 + (uint64_t)__builtin_ctzll(bits)) << PAGE_SHIFT;

			memcpy(vm->mem.host + off, s->mem + off, PAGE_SIZE);
			bits &= bits - 1;
		}
	}
}

int kvmbox_vm_reset(struct kvmbox_vm *vm)
{
	struct vm_snapshot *s = vm ? vm->snap : NULL;
	struct kvm_run *run;
	struct kvm_dirty_log log;
	struct kvmbox_error err;
	int ret;

	if (!s)
		return -ENOENT;
	run = vm->run;
	/* A run that ended inside an I/O exit (HC_exit, a fault on a port) leaves KVM waiting to
	 * complete that instruction on the next KVM_RUN. immediate_exit completes it without
	 * entering the guest, before the registers are replaced (KVM API doc, 5. kvm_run:
	 * immediate_exit), so the completion cannot land on the fresh state. */
	if (vm->stats.runs && (run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO)) {
		run->immediate_exit = 1;
		ret = kvm_ioctl(vm->log, vm->name, vm->vcpu_fd, KVM_RUN, 0, &err);
		run->immediate_exit = 0;
		if (ret < 0 && ret != -EINTR)
			goto fail;
	}
	/* Fetches and clears the log, and write-protects those pages again. */
	memset(&log, 0, sizeof(log));
	log.slot = 0;
	log.dirty_bitmap = s->dirty;
	ret = kvm_ioctl(vm->log, vm->name, vm->vm_fd, KVM_GET_DIRTY_LOG, &log, &err);
	if (ret < 0)
		goto fail;
	restore_pages(vm, s);

	/* Registers as they were, applied by KVM on the next KVM_RUN. The special registers
	 * only when they differ from the snapshot's (kvm_run holds them as of the last exit):
	 * setting them resets KVM's MMU context, and rebuilding its page tables costs more than
	 * the rest of a reset. */
	run->s.regs.regs = s->regs;
	run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	if (memcmp(&run->s.regs.sregs, &s->sregs, sizeof(s->sregs))) {
		run->s.regs.sregs = s->sregs;
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

	/* Each feature's state as a fresh VM's (a fresh VM has no open guest files ...). */
	features_reset(vm);
	memset(&vm->stats, 0, sizeof(vm->stats));
	vm->pending = KVMBOX_STOP_NONE;
	vm->stopped = false;
	return 0;

fail:
	log_msg(vm->log, KVMBOX_LOG_ERROR, vm->name, "reset: %s", err.msg);
	vm->stopped = true;
	return ret;
}
