/* The NULL guard: page 0 made unreachable at load, so that a NULL pointer faults with its
 * source line instead of reading or corrupting whatever lies at 0 (docs/crash-reports.md). */
#ifndef KVMBOX_GUARD_H
#define KVMBOX_GUARD_H

#include "kvmbox/kvmbox.h"

struct kvmbox_vm;

/* At kvmbox_vm_load, after the image's placement is checked and before it is copied: when
 * IMG asks for the guard (its kvmbox guard note) or VM's config does (KVMBOX_VM_GUARD_NULL),
 * unmap page 0 in the paged modes (a not-present #PF) or leave it out of the memory slot in
 * protected mode (KVM_EXIT_MMIO), and set vm->guard_null. Real mode has no guard: an image's
 * note is ignored there (its interrupt vector table is at 0), the config flag refused.
 * Returns 0, or -ENOEXEC / -EINVAL / the errno of a KVM call with ERR saying why (an image
 * segment or the entry in page 0, the flag in real mode). */
int guard_null_setup(struct kvmbox_vm *vm, const struct kvmbox_image *img, struct kvmbox_error *err);

#endif
