/* Described page walks over a VM: segment arithmetic and paging levels from the x86 walker
 * (src/x86/pagewalk.c), then the memory slot holding the guest-physical address and the host
 * address it is mapped at. Also KVM's own answer (KVM_TRANSLATE), which tests compare with. */
#include <errno.h>
#include <string.h>

#include "kvm/kvm.h"
#include "vm/vm_walk.h"
#include "base/util.h"
#include "vm/vm.h"
#include "x86/pagewalk.h"

/* kvmbox declares guest memory as one slot, 0, from guest-physical 0, or from 0x1000 under
 * protected mode's NULL guard (src/mem/mem.c). */
static void find_slot(const struct kvmbox_vm *vm, struct kvmbox_walk *w)
{
	w->in_slot = w->mapped && w->gpa >= vm->mem.slot_base && gmem_ptr(&vm->mem, w->gpa, 1) != NULL;
	if (!w->in_slot)
		return;
	w->slot = 0;
	w->slot_gpa = vm->mem.slot_base;
	w->slot_size = vm->mem.size - vm->mem.slot_base;
	w->slot_hva = (uint64_t)(uintptr_t)(vm->mem.host + vm->mem.slot_base);
	w->hva = w->slot_hva + (w->gpa - w->slot_gpa);
}

int vm_walk_with(const struct kvmbox_vm *vm, const struct kvm_sregs *sregs, gva_t gva,
		 unsigned access, struct kvmbox_walk *w)
{
	struct x86_paging p;
	unsigned x86_access = (access & KVMBOX_WALK_WRITE ? X86_WALK_WRITE : 0) |
			      (access & KVMBOX_WALK_USER ? X86_WALK_USER : 0);

	memset(w, 0, sizeof(*w));
	x86_paging_from_sregs(sregs, &p);
	/* Fill the paging fields even when segmentation already refuses the address, so that a
	 * report still names the paging mode. */
	w->paging = "off";
	if (access & KVMBOX_WALK_LINEAR) {
		w->gva = w->linear = gva;
		w->linear_given = true;
		x86_walk_describe(&vm->mem, &p, gva, x86_access, w);
	} else if (x86_walk_segment(sregs, gva, w) == 0) {
		x86_walk_describe(&vm->mem, &p, w->linear, x86_access, w);
	}
	find_slot(vm, w);
	return w->in_slot ? 0 : -EFAULT;
}

int kvmbox_vm_walk(const struct kvmbox_vm *vm, gva_t gva, unsigned access, struct kvmbox_walk *w)
{
	if (!vm || !w)
		return -EINVAL;
	vm_walk_with(vm, &vm->run->s.regs.sregs, gva, access, w);
	return 0;
}

size_t kvmbox_walk_format(const struct kvmbox_walk *w, bool brief, char *buf, size_t len)
{
	return x86_walk_format(w, brief, buf, len);
}

int kvmbox_vm_kvm_translate(const struct kvmbox_vm *vm, gva_t linear, gpa_t *gpa, bool *valid,
			    struct kvmbox_error *err)
{
	struct kvm_translation tr = { .linear_address = linear };
	int ret;

	if (!vm || !gpa || !valid)
		return set_error(err, EINVAL, "kvmbox_vm_kvm_translate: NULL argument");
	/* KVM walks with the vCPU's registers as KVM holds them; kvm_run's sync_regs copy is
	 * what the last exit left, and kvmbox writes it back only on the next KVM_RUN, so a
	 * caller that changed registers since sees KVM's older view. */
	ret = vcpu_ioctl(vm, KVM_TRANSLATE, &tr, err);
	if (ret < 0)
		return ret;
	*gpa = tr.physical_address;
	*valid = tr.valid != 0;
	return 0;
}
