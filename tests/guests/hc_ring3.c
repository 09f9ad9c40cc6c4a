/* kvmbox-modes: protected long */
/* A ring-3 program (IOPL 3, so its `in` reaches the host) tries every kind of hypercall on
 * ring-0 data: print a supervisor string, read a file into a supervisor buffer, write
 * supervisor data to a file, translate an address, exit. Each must be refused with -EPERM
 * and change nothing. Ring 0 first proves the same calls work for it, then builds its own
 * GDT with flat DPL-3 segments (kvmbox sets up ring 0 only; no TSS is needed, as nothing
 * returns to ring 0) and irets to ring 3, which reports on port 0xE9 (no hypercall) and
 * ends with an `out` to a port nobody serves: the host stops the VM there (a fault). */
#include "kvmbox/guest.h"

#define UCODE_SEL (10 * 8 + 3)
#define UDATA_SEL (11 * 8 + 3)
/* Flat 4 GiB, DPL 3: execute/read code (32-bit, or 64-bit with L set) and read/write data
 * (SDM Vol 3 3.4.5, 5.2.1). */
#ifdef __x86_64__
#define FLAT_CODE_DPL3 0x00affa000000ffffull
#else
#define FLAT_CODE_DPL3 0x00cffa000000ffffull
#endif
#define FLAT_DATA_DPL3 0x00cff2000000ffffull
#define RFLAGS_IOPL3 0x3002u /* IOPL 3 (port I/O allowed at CPL 3), interrupts off */
#define NOBODY_PORT 0x3f8

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uintptr_t base; /* 8 bytes in 64-bit mode (sgdt stores 10) */
};

static uint64_t gdt[12] __attribute__((aligned(8)));
static uint8_t ustack[4096] __attribute__((aligned(16)));
static char secret[] = "SUPERVISOR-SECRET";
static char kbuf[32] = "kernel buffer, untouched";
static int file_fd;

void ring3_main(void);
void ring3_entry(void);
/* Ring 3 starts with SS from the iret; DS and ES were nulled by it (their DPL 0 < CPL). */
__asm__(".globl ring3_entry\n"
	"ring3_entry:\n"
	"	mov $" "0x5b" ", %ax\n"
	"	mov %ax, %ds\n"
	"	mov %ax, %es\n"
	"	call ring3_main\n"
	"1:	jmp 1b\n");
_Static_assert(UDATA_SEL == 0x5b, "ring3_entry loads UDATA_SEL");

static void put_result(const char *name, int32_t v)
{
	char digits[12];
	int n = 0;
	uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;

	console_puts(name);
	console_puts(v < 0 ? "=-" : "=");
	do
		digits[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	while (n)
		console_write(&digits[--n], 1);
	console_puts(" ");
}

void ring3_main(void)
{
	struct kvmbox_hc_xlate x = { .gva = kvmbox_gva(secret), .hva = 0 };
	const char want[] = "kernel buffer, untouched";
	int intact = 1;

	put_result("print", kvmbox_hypercall(KVMBOX_HC_PRINTSTR, (uintptr_t)secret));
	put_result("read", (int32_t)HC_read(file_fd, kbuf, 16));
	put_result("write", (int32_t)HC_write(file_fd, secret, sizeof(secret)));
	put_result("open", HC_open("new.txt", KVMBOX_O_WRONLY | KVMBOX_O_CREAT, 0600));
	put_result("xlate", kvmbox_hypercall(KVMBOX_HC_GVA_TO_HVA64, (uintptr_t)&x));
	put_result("exit", kvmbox_hypercall(KVMBOX_HC_EXIT, 0));
	for (unsigned i = 0; i < sizeof(want); i++)
		intact &= kbuf[i] == want[i];
	console_puts(intact && x.hva == 0 ? "kbuf=intact\n" : "kbuf=CHANGED\n");
	outb(NOBODY_PORT, 'x');
}

/* Ring 0's GDT copied, plus the two DPL-3 segments. */
static void load_user_gdt(void)
{
	struct dtr old, new;
	const uint64_t *from;
	unsigned n;

	__asm__ volatile("sgdt %0" : "=m"(old));
	from = (const uint64_t *)(uintptr_t)old.base;
	n = (old.limit + 1u) / 8u;
	for (unsigned i = 0; i < n && i < 10; i++)
		gdt[i] = from[i];
	gdt[10] = FLAT_CODE_DPL3;
	gdt[11] = FLAT_DATA_DPL3;
	new.limit = sizeof(gdt) - 1;
	new.base = (uintptr_t)gdt;
	__asm__ volatile("lgdt %0" : : "m"(new));
}

/* The interrupt-return frame to ring 3: SS, stack, RFLAGS, CS, entry (iretq in 64-bit mode,
 * where every slot is 8 bytes). */
static void enter_ring3(void)
{
#ifdef __x86_64__
	__asm__ volatile("pushq %0\n\t"
			 "pushq %1\n\t"
			 "pushq %2\n\t"
			 "pushq %3\n\t"
			 "pushq %4\n\t"
			 "iretq"
			 :
			 : "i"(UDATA_SEL), "r"(ustack + sizeof(ustack)), "i"(RFLAGS_IOPL3),
			   "i"(UCODE_SEL), "r"(ring3_entry)
			 : "memory");
#else
	__asm__ volatile("pushl %0\n\t"
			 "pushl %1\n\t"
			 "pushl %2\n\t"
			 "pushl %3\n\t"
			 "pushl %4\n\t"
			 "iret"
			 :
			 : "i"(UDATA_SEL), "r"(ustack + sizeof(ustack)), "i"(RFLAGS_IOPL3),
			   "i"(UCODE_SEL), "r"(ring3_entry)
			 : "memory");
#endif
}

int main(void)
{
	file_fd = HC_open("data.txt", KVMBOX_O_RDWR, 0);
	GUEST_ASSERT(file_fd >= 0);
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_PRINTSTR, (uintptr_t)"ring 0 may\n"), 11);
	load_user_gdt();
	enter_ring3();
	return 1;
}
