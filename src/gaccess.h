/* Guest-virtual memory access for hypercall handlers: every (address, length) is translated
 * page by page with the vCPU's current paging state and bounds-checked against guest memory. */
#ifndef KVMBOX_GACCESS_H
#define KVMBOX_GACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"

struct kvmbox_vm;

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

#endif
