/* The vCPU state a snapshot keeps (tests/host/test_snapshot.c): before asking for a snapshot
 * the guest sets, in long mode, CR4.OSFXSR, the x87 control word, MXCSR and xmm0-7 (through
 * FXRSTOR: where the host emulates each kernel-mode instruction, its emulator has
 * FXRSTOR/FXSAVE but no FLDCW or LDMXCSR, and both only for a guest whose CPUID has FXSR,
 * which kvmbox's model gives in long mode only), in every mode DR0-DR3 and MSRs (SYSENTER, PAT; in long mode STAR, LSTAR, CSTAR,
 * SFMASK, KERNEL_GS_BASE), reads the TSC, then checks every one of them after HC_snapshot,
 * in the saver (0) and in the restored VM (1), and that the TSC did not go back. Status 10 in
 * the saver, 11 in a restored VM; a lost value is a guest assertion naming it. argv[1]: the
 * snapshot's path (default "state"; "" is the file the host named); argv[2] "busy": the
 * restored VM's memory is mapped from that file in the share, which it then may not open for
 * writing (-ETXTBSY). */
#include "kvmbox/guest.h"

#define CR4_OSFXSR (1u << 9)
#define DR0V 0x00f00000u

static uint8_t fx_in[512] __attribute__((aligned(16)));
static uint8_t fx_out[512] __attribute__((aligned(16)));

struct msr {
	uint32_t index;
	uint64_t value;
};

static const struct msr msrs[] = {
	{ 0x174, 0x10 },                  /* IA32_SYSENTER_CS */
	{ 0x175, 0x12345000 },            /* IA32_SYSENTER_ESP */
	{ 0x176, 0x23456000 },            /* IA32_SYSENTER_EIP */
	{ 0x277, 0x0007010600070406ull }, /* IA32_PAT: entry 2 write-combining (reset: UC-) */
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
	{ 0xc0000081, 0x0023001000000000ull }, /* STAR */
	{ 0xc0000082, 0xffffffff81000000ull }, /* LSTAR */
	{ 0xc0000083, 0xffffffff82000000ull }, /* CSTAR */
	{ 0xc0000084, 0x47700 },               /* SFMASK */
	{ 0xc0000102, 0xffff888000001000ull }, /* KERNEL_GS_BASE */
#endif
};

static uint64_t rdmsr(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t index, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static unsigned long read_cr4(void)
{
	unsigned long v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

#define LONG (KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG)

static void set_state(void)
{
	unsigned long dr = DR0V;

	if (LONG)
		__asm__ volatile("mov %0, %%cr4" : : "r"(read_cr4() | CR4_OSFXSR));
	fx_in[0] = 0x7f; /* FCW 0x027f (reset 0x037f) */
	fx_in[1] = 0x02;
	fx_in[24] = 0x80; /* MXCSR 0x3f80: round down (reset 0x1f80) */
	fx_in[25] = 0x3f;
	for (unsigned i = 0; i < 128; i++)
		fx_in[160 + i] = (uint8_t)(i * 7 + 1); /* xmm0-7 */
	if (LONG)
		__asm__ volatile("fxrstor %0" : : "m"(fx_in));
	__asm__ volatile("mov %0, %%dr0" : : "r"(dr));
	dr += 0x1000;
	__asm__ volatile("mov %0, %%dr1" : : "r"(dr));
	dr += 0x1000;
	__asm__ volatile("mov %0, %%dr2" : : "r"(dr));
	dr += 0x1000;
	__asm__ volatile("mov %0, %%dr3" : : "r"(dr));
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		wrmsr(msrs[i].index, msrs[i].value);
}

static void check_state(void)
{
	unsigned long d0, d1, d2, d3;

	if (LONG) {
		GUEST_ASSERT(read_cr4() & CR4_OSFXSR);
		__asm__ volatile("fxsave %0" : "=m"(fx_out));
		GUEST_ASSERT_EQ(fx_out[0] | fx_out[1] << 8, 0x027f);
		GUEST_ASSERT_EQ(fx_out[24] | fx_out[25] << 8, 0x3f80);
		GUEST_ASSERT(memcmp(fx_out + 160, fx_in + 160, 128) == 0);
	}
	__asm__ volatile("mov %%dr0, %0" : "=r"(d0));
	__asm__ volatile("mov %%dr1, %0" : "=r"(d1));
	__asm__ volatile("mov %%dr2, %0" : "=r"(d2));
	__asm__ volatile("mov %%dr3, %0" : "=r"(d3));
	GUEST_ASSERT_EQ(d0, DR0V);
	GUEST_ASSERT_EQ(d1, DR0V + 0x1000);
	GUEST_ASSERT_EQ(d2, DR0V + 0x2000);
	GUEST_ASSERT_EQ(d3, DR0V + 0x3000);
	for (unsigned i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
		GUEST_ASSERT_EQ(rdmsr(msrs[i].index), msrs[i].value);
}

int main(int argc, char **argv)
{
	uint64_t tsc;
	int r;

	set_state();
	check_state();
	tsc = rdtsc();
	r = HC_snapshot(argc > 1 ? argv[1] : "state");
	GUEST_ASSERT(r == 0 || r == 1);
	check_state();
	GUEST_ASSERT(rdtsc() >= tsc);
	if (r == 1 && argc > 2 && !strcmp(argv[2], "busy")) {
		GUEST_ASSERT_EQ(HC_open(argv[1], KVMBOX_O_WRONLY, 0), -KVMBOX_ETXTBSY);
		GUEST_ASSERT_EQ(HC_open(argv[1], KVMBOX_O_RDONLY | KVMBOX_O_TRUNC, 0), -KVMBOX_ETXTBSY);
		GUEST_ASSERT(HC_open(argv[1], KVMBOX_O_RDONLY, 0) >= 0);
	}
	return r == 1 ? 11 : 10;
}
