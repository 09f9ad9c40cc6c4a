/* Where kvmbox puts its host-made structures in guest memory (docs/memory.md). Only src/x86/
 * uses these names; generic code gets the addresses through struct kvmbox_layout. */
#ifndef KVMBOX_X86_LAYOUT_H
#define KVMBOX_X86_LAYOUT_H

/* The system area is the last 64 KiB of guest memory in protected, paged32 and long mode. */
#define SYS_AREA_SIZE (64ull << 10)

/* Offsets inside the system area. */
#define SYS_GDT_OFF 0x0000ull     /* GDT: GDT_ENTRIES descriptors */
#define SYS_TSS_OFF 0x0080ull     /* TSS (TSS_SIZE bytes) in the GDT's page, after the GDT */
#define SYS_PT_ROOT_OFF 0x1000ull /* paged32: page directory; long: PML4 */
#define SYS_PDPT_OFF 0x2000ull    /* long: PDPT */
#define SYS_PD_OFF 0x3000ull      /* long: first page directory; one per GiB of memory */
#define SYS_PD_MAX 3u             /* KVMBOX_MEM_MAX is 3 GiB */
#define SYS_TABLE_SIZE 0x1000ull  /* every paging structure is one 4 KiB page */

/* Real mode: images live in the first 64 KiB (SS = 0, so SS:SP = 0:0xFFF0). */
#define REAL_STACK_TOP 0xfff0ull

/* Granule of guest memory sizes. */
#define MEM_SIZE_ALIGN (4ull << 10)

_Static_assert(SYS_TSS_OFF >= SYS_GDT_OFF + 8 * 6, "TSS overlaps the GDT");
_Static_assert(SYS_PD_OFF + SYS_PD_MAX * SYS_TABLE_SIZE <= SYS_AREA_SIZE,
	       "page tables overflow the system area");

#endif
