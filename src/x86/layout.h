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
/* The NULL guard (x86_guard_null): the page table that maps the first large page with
 * 4 KiB pages, page 0 not present. */
#define SYS_GUARD_PT_OFF 0x6000ull
#define SYS_TABLE_SIZE 0x1000ull  /* every paging structure is one 4 KiB page */
/* Default exception handling (docs/crash-reports.md): the IDT, the handler stubs and the
 * two stacks the CPU switches to while delivering an exception. */
#define SYS_DF_TSS_OFF 0x0100ull  /* 32-bit modes: the #DF task's TSS (TSS_SIZE bytes) */
/* The IDT and the stubs share the GDT's page, which every VM writes anyway: two more pages
 * here would be 8 KiB of RSS per VM (docs/performance.md). */
#define SYS_IDT_OFF 0x0200ull     /* IDT: EXC_VECTORS gates of 16 (long) or 8 bytes */
#define SYS_STUBS_OFF 0x0400ull   /* handler stubs: EXC_STUB_SIZE bytes per vector */
/* The return stub of calls into the guest (x86_call_stub_addr), after the exception stubs in
 * the same page. */
#define SYS_CALL_RET_OFF 0x0600ull
#define SYS_EXC_STACK_TOP 0x9000ull /* [0x8000, 0x9000): stack for exceptions from CPL 3 */
#define SYS_DF_STACK_TOP 0xa000ull  /* [0x9000, 0xa000): #DF stack (IST1 / the #DF task) */

/* Real mode: images live in the first 64 KiB (SS = 0, so SS:SP = 0:0xFFF0). */
#define REAL_STACK_TOP 0xfff0ull
/* Real mode: the IVT at 0 points exceptions at stubs here, between the BIOS data area
 * (the classic hello's word at 0x400) and images (0x1000 on). */
#define REAL_STUBS_BASE 0x0500ull
/* Real mode: the return stub of calls into the guest, after the exception stubs. */
#define REAL_CALL_RET 0x0700ull

/* Granule of guest memory sizes. */
#define MEM_SIZE_ALIGN (4ull << 10)

_Static_assert(SYS_TSS_OFF >= SYS_GDT_OFF + 8 * 8, "TSS overlaps the GDT");
_Static_assert(SYS_DF_TSS_OFF >= SYS_TSS_OFF + 104, "the #DF TSS overlaps the TSS");
_Static_assert(SYS_IDT_OFF >= SYS_DF_TSS_OFF + 104, "the IDT overlaps the #DF TSS");
_Static_assert(SYS_STUBS_OFF >= SYS_IDT_OFF + 32 * 16, "the stubs overlap the IDT");
_Static_assert(SYS_STUBS_OFF + 32 * 16 <= SYS_CALL_RET_OFF, "the call stub overlaps the stubs");
_Static_assert(SYS_CALL_RET_OFF + 16 <= SYS_PT_ROOT_OFF, "the call stub overflows the GDT's page");
_Static_assert(REAL_STUBS_BASE + 32 * 16 <= REAL_CALL_RET, "the call stub overlaps the real-mode stubs");
_Static_assert(SYS_GUARD_PT_OFF >= SYS_PD_OFF + SYS_PD_MAX * SYS_TABLE_SIZE,
	       "the guard page table overlaps the page directories");
_Static_assert(SYS_EXC_STACK_TOP - 0x1000 >= SYS_GUARD_PT_OFF + SYS_TABLE_SIZE,
	       "the exception stacks overlap the page tables");
_Static_assert(SYS_DF_STACK_TOP <= SYS_AREA_SIZE, "stacks overflow the system area");
_Static_assert(SYS_PD_OFF + SYS_PD_MAX * SYS_TABLE_SIZE <= SYS_AREA_SIZE,
	       "page tables overflow the system area");

#endif
