/* Named x86 architectural constants: control-register and EFER bits, paging-structure entry
 * bits, segment-descriptor fields and the selectors of the GDT kvmbox builds. Only src/x86/
 * includes this file; generic code sees none of it (docs/contributing.md, "Rooms and layers"). */
#ifndef KVMBOX_X86_BITS_H
#define KVMBOX_X86_BITS_H

#include <stdint.h>

#define BIT64(n) (1ull << (n))

/* ---- CR0 (SDM Vol 3A 2.5 "Control Registers") --------------------------------------- */
#define CR0_PE BIT64(0)  /* protection enable */
#define CR0_MP BIT64(1)  /* monitor coprocessor */
#define CR0_EM BIT64(2)  /* x87 emulation */
#define CR0_TS BIT64(3)  /* task switched */
#define CR0_ET BIT64(4)  /* extension type (hardwired 1 since the i486) */
#define CR0_NE BIT64(5)  /* native x87 error reporting */
#define CR0_WP BIT64(16) /* supervisor writes honour read-only pages */
#define CR0_AM BIT64(18) /* alignment mask */
#define CR0_NW BIT64(29) /* not write-through */
#define CR0_CD BIT64(30) /* cache disable */
#define CR0_PG BIT64(31) /* paging */

/* ---- CR3 -------------------------------------------------------------------------------- */
#define CR3_PWT BIT64(3)
#define CR3_PCD BIT64(4)
#define CR3_ADDR_MASK 0x000ffffffffff000ull     /* 4-level: bits 51:12 locate the PML4 */
#define CR3_ADDR_MASK_32 0xfffff000ull          /* 32-bit paging: bits 31:12 locate the PD */
#define CR3_ADDR_MASK_PAE 0xffffffe0ull         /* PAE: bits 31:5 locate the 32-byte PDPT */

/* ---- CR4 -------------------------------------------------------------------------------- */
#define CR4_VME BIT64(0)
#define CR4_PVI BIT64(1)
#define CR4_TSD BIT64(2)
#define CR4_DE BIT64(3)
#define CR4_PSE BIT64(4)  /* 4 MiB pages in 32-bit paging */
#define CR4_PAE BIT64(5)  /* 64-bit entries; required for 4-level paging */
#define CR4_MCE BIT64(6)
#define CR4_PGE BIT64(7)
#define CR4_PCE BIT64(8)
#define CR4_OSFXSR BIT64(9)
#define CR4_OSXMMEXCPT BIT64(10)
#define CR4_LA57 BIT64(12) /* 5-level paging */
#define CR4_SMEP BIT64(20)
#define CR4_SMAP BIT64(21)

/* ---- IA32_EFER (SDM Vol 3A 2.2.1 "Extended Feature Enable Register") ------------------ */
#define EFER_SCE BIT64(0)  /* syscall/sysret */
#define EFER_LME BIT64(8)  /* long mode enable */
#define EFER_LMA BIT64(10) /* long mode active (set by the CPU when PG is set with LME) */
#define EFER_NXE BIT64(11) /* execute-disable bit in PAE/4-level entries */

/* ---- RFLAGS ----------------------------------------------------------------------------- */
#define RFLAGS_FIXED BIT64(1) /* reserved, always reads 1 (SDM Vol 1 3.4.3) */
#define RFLAGS_IF BIT64(9)

/* ---- Paging-structure entries (SDM Vol 3A 4.3, 4.5; same low bits in every format) ------ */
#define PTE_P BIT64(0)   /* present */
#define PTE_RW BIT64(1)  /* writable */
#define PTE_US BIT64(2)  /* user accessible */
#define PTE_PWT BIT64(3) /* page-level write-through */
#define PTE_PCD BIT64(4) /* page-level cache disable */
#define PTE_A BIT64(5)   /* accessed */
#define PTE_D BIT64(6)   /* dirty (leaf entries only) */
#define PTE_PS BIT64(7)  /* page size: this PDE/PDPTE maps a page (a PAT bit in a 4 KiB PTE) */
#define PTE_G BIT64(8)   /* global */
#define PTE_PAT_LARGE BIT64(12) /* PAT bit of a 2 MiB / 4 MiB / 1 GiB page */
#define PTE_NX BIT64(63) /* execute disable (reserved unless EFER.NXE) */

/* 64-bit entries (PAE and 4-level): bits 51:12 hold the physical address. */
#define PTE_ADDR_MASK 0x000ffffffffff000ull
/* 32-bit entries: bits 31:12 hold the physical address. */
#define PTE32_ADDR_MASK 0xfffff000ull
/* 32-bit 4 MiB PDE: bits 31:22 are address bits 31:22, bits 20:13 are address bits 39:32
 * (PSE-36), bit 21 is reserved (SDM Vol 3A 4.3, Table 4-4). */
#define PDE32_4M_ADDR_MASK 0xffc00000ull
#define PDE32_4M_PSE36_SHIFT 13
#define PDE32_4M_PSE36_MASK 0xffull
#define PDE32_4M_PSE36_ADDR_SHIFT 32 /* ... which become address bits 39:32 */
#define PDE32_4M_RSVD BIT64(21)
/* PAE PDPTE: bits 2:1, 8:5 and 63 are reserved (SDM Vol 3A 4.4.1, Table 4-8). */
#define PDPTE_PAE_RSVD (PTE_RW | PTE_US | PTE_A | PTE_D | PTE_PS | PTE_G | BIT64(63))

#define PAGE_SHIFT 12
#define PAGE_SIZE_4K (1ull << 12)
#define PAGE_SIZE_2M (1ull << 21)
#define PAGE_SIZE_4M (1ull << 22)
#define PAGE_SIZE_1G (1ull << 30)
#define PT_ENTRIES_64 512 /* 9 index bits per level with 8-byte entries */
#define PT_ENTRIES_32 1024 /* 10 index bits per level with 4-byte entries */
#define PT_INDEX_BITS_64 9
#define PT_INDEX_BITS_32 10
#define PDE32_SHIFT 22 /* 32-bit paging: linear bits 31:22 index the page directory */
#define PDPT_PAE_ENTRIES 4

/* ---- Segment descriptors (SDM Vol 3A 3.4.5 "Segment Descriptors") ---------------------- */
/* Type field for code/data descriptors (S = 1), Table 3-1. */
#define SEG_TYPE_ACCESSED 0x1u /* A */
#define SEG_TYPE_DATA_W 0x2u   /* data: writable */
#define SEG_TYPE_DATA_E 0x4u   /* data: expand-down */
#define SEG_TYPE_CODE_R 0x2u   /* code: readable */
#define SEG_TYPE_CODE_C 0x4u   /* code: conforming */
#define SEG_TYPE_CODE 0x8u     /* executable */
#define SEG_TYPE_CODE_RA (SEG_TYPE_CODE | SEG_TYPE_CODE_R | SEG_TYPE_ACCESSED) /* 0xb */
#define SEG_TYPE_DATA_WA (SEG_TYPE_DATA_W | SEG_TYPE_ACCESSED)                  /* 0x3 */
/* System descriptor types (S = 0), Table 3-2; the 32-bit TSS types mean 64-bit TSS in
 * IA-32e mode. */
#define SYS_TYPE_LDT 0x2u
#define SYS_TYPE_TSS_AVAIL 0x9u
#define SYS_TYPE_TSS_BUSY 0xbu

/* Bit positions inside an 8-byte descriptor. */
#define DESC_LIMIT_LO_MASK 0xffffull /* limit 15:0 in bits 15:0 */
#define DESC_BASE_LO_SHIFT 16        /* base 23:0 in bits 39:16 */
#define DESC_BASE_LO_MASK 0xffffffull
#define DESC_TYPE_SHIFT 40
#define DESC_TYPE_MASK 0xfull
#define DESC_S BIT64(44)   /* code/data (1) or system (0) */
#define DESC_DPL_SHIFT 45
#define DESC_DPL_MASK 0x3ull
#define DESC_P BIT64(47)
#define DESC_LIMIT_HI_SHIFT 48 /* limit 19:16 in bits 51:48 */
#define DESC_LIMIT_HI_MASK 0xfull
#define DESC_AVL BIT64(52)
#define DESC_L BIT64(53)   /* 64-bit code segment */
#define DESC_DB BIT64(54)  /* default operand size 32 bits / big stack */
#define DESC_G BIT64(55)   /* limit in 4 KiB units */
#define DESC_BASE_HI_SHIFT 56 /* base 31:24 in bits 63:56 */
#define DESC_BASE_HI_MASK 0xffull
#define DESC_LIMIT_MAX_RAW 0xfffffull /* the 20-bit limit field */

#define SEL_RPL_MASK 0x3u
#define SEL_TI 0x4u
#define SEL_INDEX_SHIFT 3

/* ---- The GDT kvmbox builds (docs/modes.md) ------------------------------------------- */
#define GDT_NULL 0x00u
#define GDT_CODE32 0x08u
#define GDT_DATA32 0x10u
#define GDT_CODE64 0x18u
#define GDT_TSS 0x20u     /* 16 bytes in long mode: slots 0x20 and 0x28 */
#define GDT_TSS_DF 0x30u  /* 32-bit modes: the #DF task's TSS (docs/crash-reports.md) */
#define GDT_ENTRIES 7u
#define GDT_LIMIT (GDT_ENTRIES * 8u - 1u)

/* ---- Task-state segment (SDM Vol 3A 7.2.1, 7.7) ------------------------------------- */
#define TSS_SIZE 104u        /* 32-bit and 64-bit TSS are both 104 bytes */
#define TSS_LIMIT (TSS_SIZE - 1u)
#define TSS_IOMAP_BASE_OFF 0x66u /* 16-bit offset of the I/O permission bitmap */
/* 32-bit TSS fields (SDM Vol 3A 7.2.1, Figure 7-2). */
#define TSS32_BACKLINK 0x00u
#define TSS32_ESP0 0x04u
#define TSS32_SS0 0x08u
#define TSS32_CR3 0x1cu
#define TSS32_EIP 0x20u
#define TSS32_EFLAGS 0x24u
#define TSS32_ESP 0x38u
#define TSS32_ES 0x48u
#define TSS32_CS 0x4cu
#define TSS32_SS 0x50u
#define TSS32_DS 0x54u
#define TSS32_FS 0x58u
#define TSS32_GS 0x5cu
/* 64-bit TSS fields (SDM Vol 3A 7.7, Figure 7-11). */
#define TSS64_RSP0 0x04u
#define TSS64_IST1 0x24u

/* ---- Interrupt descriptor table (SDM Vol 3A 6.11, 6.14.1) ------------------------- */
#define GATE_TYPE_TASK 0x5u   /* 32-bit modes: task gate */
#define GATE_TYPE_INTR 0xeu   /* 32-bit interrupt gate; in IA-32e mode the 64-bit one */
#define GATE_P 0x80u          /* present, in the type/attribute byte */
#define GATE_IST_DF 1u        /* long mode: #DF runs on IST1 */
#define IDT_GATE32_SIZE 8u
#define IDT_GATE64_SIZE 16u
#define IVT_ENTRY_SIZE 4u     /* real mode: offset:segment */

/* ---- Real mode ---------------------------------------------------------------------- */
#define REAL_SEG_LIMIT 0xffffu  /* 64 KiB segments */
#define REAL_IVT_LIMIT 0x3ffu   /* 256 vectors of 4 bytes at linear 0 */
#define FLAT_SEG_LIMIT 0xffffffffu /* 4 GiB, byte-granular as KVM's kvm_segment wants it */

#endif
