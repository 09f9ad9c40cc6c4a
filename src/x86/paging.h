/* Page-table builders for the paging CPU modes (src/x86 internal; modes.c picks one per mode). */
#ifndef KVMBOX_X86_PAGING_H
#define KVMBOX_X86_PAGING_H

#include "x86.h"

/* A builder writes the paging structures of one mode into the system area LAYOUT describes,
 * identity-mapping every byte of guest memory (rounded up to the builder's page size).
 * Every write goes through gmem_ptr. Returns 0, or -EINVAL when a structure would lie
 * outside MEM or LAYOUT does not match MEM. */
typedef int (*x86_pt_builder)(const struct gmem *mem, const struct kvmbox_layout *layout);

/* 32-bit paging: one page directory at layout->pt_root of 4 MiB PSE pages. */
int x86_build_pd32(const struct gmem *mem, const struct kvmbox_layout *layout);

/* 4-level paging: PML4 at layout->pt_root, one PDPT, one PD per GiB, 2 MiB pages. */
int x86_build_pml4(const struct gmem *mem, const struct kvmbox_layout *layout);

/* The NULL guard over a table the builder above made: the first large page (2 MiB or 4 MiB)
 * becomes a page table at SYS_GUARD_PT_OFF of 4 KiB pages in which page 0 is not present.
 * LONG_MODE: 4-level paging, else 32-bit paging. Returns 0 or -EINVAL. */
int x86_build_guard_pt(const struct gmem *mem, const struct kvmbox_layout *layout, bool long_mode);

#endif
