/* Guest memory, one module: the mapping and its KVM memory slot, dirty tracking for fast
 * reset, and every checked guest-physical and guest-virtual accessor. Nothing outside
 * src/mem/mem.c turns a guest address into a host pointer except through gmem_ptr, and nothing
 * writes guest memory after a snapshot except through the writers here (they keep the
 * dirty bitmap that kvmbox_vm_reset restores from). */
#ifndef KVMBOX_MEM_H
#define KVMBOX_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "mem/gmem.h"
#include "base/addr.h"

struct kvmbox_vm;

/* ---- Mapping (vm_create.c at create and destroy) ------------------------------------------- */

/* Map SIZE bytes of guest memory for VM (anonymous, NORESERVE, MERGEABLE when KSM is
 * there) and declare it to KVM as memory slot 0. Needs vm->vm_fd. Returns 0 or -errno with
 * ERR set; vm->mem.host must be MAP_FAILED before, and mem_unmap undoes a partial map. */
int mem_map(struct kvmbox_vm *vm, uint64_t size, struct kvmbox_error *err);

/* Leave page 0 out of memory slot 0 (the NULL guard without paging): guest accesses to
 * guest-physical 0-0xfff become KVM_EXIT_MMIO, and guest_read & co. refuse them. Before
 * mem_snapshot. Returns 0 or -errno with ERR set. */
int mem_unback_page0(struct kvmbox_vm *vm, struct kvmbox_error *err);

/* Unmap guest memory and free the snapshot, if any. Safe on an unmapped VM. */
void mem_unmap(struct gmem *m);

/* ---- Guest-physical access ---------------------------------------------------------- */

/* Copy guest-physical [GPA, GPA+LEN) out of / into guest memory (writes are marked dirty).
 * Returns 0 or -EFAULT (outside guest memory; nothing copied). */
int mem_read(const struct gmem *m, gpa_t gpa, void *buf, size_t len);
int mem_write(struct gmem *m, gpa_t gpa, const void *buf, size_t len);

/* Fill guest-physical [GPA, GPA+MEMSZ) with the FILESZ bytes at SRC followed by zeroes
 * (an image segment). Returns 0 or -EFAULT. */
int mem_load(struct gmem *m, gpa_t gpa, const void *src, uint64_t filesz, uint64_t memsz);

/* ---- Guest-virtual access (hypercall handlers) --------------------------------------- */
/* Each (address, length) is translated page by page with the vCPU's current paging state
 * (kvm_run sync_regs, no ioctl) and bounds-checked against guest memory. */

/* Copy LEN bytes from guest-virtual GVA into BUF. Returns 0 or -KVMBOX_EFAULT when any page
 * of the range is unmapped, outside guest memory, or the range wraps. */
int guest_read(const struct kvmbox_vm *vm, gva_t gva, void *buf, uint64_t len);

/* Check that every page of [GVA, GVA+LEN) is mapped, inside guest memory and (WRITE) writable,
 * without touching it. 0 or -KVMBOX_EFAULT. */
int guest_check(const struct kvmbox_vm *vm, gva_t gva, uint64_t len, bool write);

/* Copy LEN bytes from BUF to guest-virtual GVA; the pages must be writable. All or nothing:
 * when any page is bad nothing is written. 0 or -KVMBOX_EFAULT. */
int guest_write(struct kvmbox_vm *vm, gva_t gva, const void *buf, uint64_t len);

/* Copy the NUL-terminated string at GVA into BUF (at most MAX bytes, NUL included), reading
 * no byte past the terminator. Returns its length, -KVMBOX_EFAULT (bad address) or
 * -KVMBOX_ENAMETOOLONG (no NUL within MAX bytes). */
int guest_read_str(const struct kvmbox_vm *vm, gva_t gva, char *buf, size_t max);

/* Host address of the guest byte at GVA, or NULL when it is unmapped or outside guest memory. */
void *guest_hva(const struct kvmbox_vm *vm, gva_t gva);

/* ---- Dirty tracking for fast reset (vm_reset.c) --------------------------------------- */

/* Keep a copy of guest memory's non-zero pages and turn on KVM's dirty log for slot 0.
 * From then on every page the guest or the host writes is restored by mem_restore.
 * Returns 0 or -errno with ERR set (then no snapshot is kept). */
int mem_snapshot(struct kvmbox_vm *vm, struct kvmbox_error *err);

/* Copy back every page written since the snapshot or the last restore: KVM's dirty log
 * (fetched and cleared with KVM_GET_DIRTY_LOG) and the host's own writes. Returns 0 or
 * -errno with ERR set. */
int mem_restore(struct kvmbox_vm *vm, struct kvmbox_error *err);

#endif
