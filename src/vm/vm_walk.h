/* Described page walks over a VM (the public kvmbox_vm_walk and what fault reports use):
 * segment arithmetic and the software walker of src/x86/, then the memslot and host address.
 * Internal: only src/ includes it. */
#ifndef KVMBOX_PAGEWALK_H
#define KVMBOX_PAGEWALK_H

#include <linux/kvm.h>
#include "kvmbox/kvmbox.h"
#include "base/addr.h"

struct kvmbox_vm;

/* Walk GVA (an offset in DS outside 64-bit code; with KVMBOX_WALK_LINEAR in ACCESS a linear
 * address such as CR2, no segment step) under SREGS rather than the vCPU's current special
 * registers: a fault report passes the state it captured at the fault (after an SVM shutdown
 * the vCPU's own registers are reset values). ACCESS is KVMBOX_WALK_*. Always fills
 * W; returns 0 when GVA maps to guest memory, -EFAULT otherwise (W says where it stopped).
 * Render W with kvmbox_walk_format (brief: "PML4[0] -> PDPT[0] -> PD[2] not present"). */
int vm_walk_with(const struct kvmbox_vm *vm, const struct kvm_sregs *sregs, gva_t gva,
		 unsigned access, struct kvmbox_walk *w);

#endif
