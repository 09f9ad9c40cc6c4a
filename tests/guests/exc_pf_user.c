/* kvmbox-modes: paged32 long */
/* #PF, user access to a supervisor page: the guest clears US in the directory entry that
 * maps 0x500000 (run with 12 MiB), adds CPL-3 code and data descriptors to a copy of
 * kvmbox's GDT, drops to CPL 3 with iret and reads 0x500000. The #PF from CPL 3 is
 * delivered on the stack kvmbox put in the TSS (SDM Vol 3A 6.12.1). A #UD instead means
 * no #PF came. */
#include "exc_paging.h"

#define TARGET 0x500000u
#define GDT_SLOTS 16
#define USER_CODE_SLOT 7
#define USER_DATA_SLOT 8
#define USER_CS (USER_CODE_SLOT * 8 + 3) /* RPL 3 */
#define USER_DS (USER_DATA_SLOT * 8 + 3)
#define TSS_SLOT 4            /* kvmbox's TSS, selector 0x20 */
#define DESC_TSS_BUSY (1ull << 41) /* type 0xB (busy) -> 0x9 (available) */
/* Descriptors (SDM Vol 3A 3.4.5): base 0, limit 4 GiB, present, DPL 3. */
#define DESC_USER_DATA 0x00cff2000000ffffull   /* read/write data */
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
#define DESC_USER_CODE 0x00affa000000ffffull   /* 64-bit code (L = 1) */
#else
#define DESC_USER_CODE 0x00cffa000000ffffull   /* 32-bit code (D = 1) */
#endif

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uintptr_t base;
};

static uint64_t gdt[GDT_SLOTS] __attribute__((aligned(16)));

__attribute__((noinline)) void read_supervisor_page(void)
{
	volatile uint32_t v = *(volatile uint32_t *)kvmbox_ptr(TARGET); /* exc-fault-line */

	(void)v;
	__asm__ volatile("ud2");
}

/* kvmbox's GDT plus the two CPL-3 descriptors, loaded, and TR reloaded from it as an OS
 * would: the lane's QEMU emulation aborts when it takes a ring-3 exception's stack from a TR
 * whose cached type is "busy" (what KVM must load on VMX), and ltr caches "available". */
static void load_user_gdt(void)
{
	struct dtr old, new;
	const uint8_t *src;
	uint8_t *dst = (uint8_t *)gdt;
	unsigned i;

	__asm__ volatile("sgdt %0" : "=m"(old));
	src = (const uint8_t *)old.base;
	for (i = 0; i <= old.limit && i < USER_CODE_SLOT * 8; i++)
		dst[i] = src[i];
	gdt[USER_CODE_SLOT] = DESC_USER_CODE;
	gdt[USER_DATA_SLOT] = DESC_USER_DATA;
	new.limit = (USER_DATA_SLOT + 1) * 8 - 1;
	new.base = (uintptr_t)gdt;
	gdt[TSS_SLOT] &= ~DESC_TSS_BUSY;
	__asm__ volatile("lgdt %0\n\t"
			 "ltr %w1"
			 : : "m"(new), "r"(TSS_SLOT * 8) : "memory");
}

int main(void)
{
	pde_clear(TARGET, PTE_US);
	load_user_gdt();
	/* iret to CPL 3 on the current stack (SDM Vol 3A 6.12.1, Figure 6-4 in reverse). */
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
	__asm__ volatile("movq %%rsp, %%rax\n\t"
			 "pushq %0\n\t"
			 "pushq %%rax\n\t"
			 "pushfq\n\t"
			 "pushq %1\n\t"
			 "pushq %2\n\t"
			 "iretq"
			 : : "i"(USER_DS), "i"(USER_CS), "r"((uintptr_t)read_supervisor_page)
			 : "rax", "memory");
#else
	/* DS and ES of DPL 0 would be nulled by the iret: give them the CPL-3 data segment. */
	__asm__ volatile("movw %0, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movl %%esp, %%eax\n\t"
			 "pushl %0\n\t"
			 "pushl %%eax\n\t"
			 "pushfl\n\t"
			 "pushl %1\n\t"
			 "pushl %2\n\t"
			 "iretl"
			 : : "i"(USER_DS), "i"(USER_CS), "r"((uintptr_t)read_supervisor_page)
			 : "eax", "memory");
#endif
	return 1;
}
