/* A reset point after main's setup (tests/host/test_reset.c): the guest sets vCPU state a
 * fresh vCPU does not have (SYSENTER_ESP, DR0; in long mode the x87 control word and MXCSR
 * through FXRSTOR) and memory, and halts: the host takes its reset point there. Each run
 * from the point is a "call": it checks the state is the point's, prints the counter,
 * then changes all of it, as a function called on a guest would, and exits with 7. */
#include "kvmbox/guest.h"

#define LONG (KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG)

static volatile uint32_t counter;
static uint8_t fx[512] __attribute__((aligned(16)));

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

static void set_fcw(uint16_t fcw)
{
	unsigned long cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1u << 9)));
	__asm__ volatile("fxsave %0" : "=m"(fx));
	fx[0] = (uint8_t)fcw;
	fx[1] = (uint8_t)(fcw >> 8);
	__asm__ volatile("fxrstor %0" : : "m"(fx));
}

static uint16_t get_fcw(void)
{
	__asm__ volatile("fxsave %0" : "=m"(fx));
	return (uint16_t)(fx[0] | fx[1] << 8);
}

int main(void)
{
	unsigned long dr = 0x100000;

	counter = 5;
	wrmsr(0x175, 0x1000);
	__asm__ volatile("mov %0, %%dr0" : : "r"(dr));
	if (LONG)
		set_fcw(0x027f);
	__asm__ volatile("hlt" : : : "memory");
	/* A call: the state must be the point's. */
	__asm__ volatile("mov %%dr0, %0" : "=r"(dr));
	GUEST_ASSERT_EQ(dr, 0x100000);
	GUEST_ASSERT_EQ(rdmsr(0x175), 0x1000);
	if (LONG)
		GUEST_ASSERT_EQ(get_fcw(), 0x027f);
	HC_print32bit(counter);
	counter++;
	wrmsr(0x175, 0x2000);
	dr = 0x200000;
	__asm__ volatile("mov %0, %%dr0" : : "r"(dr));
	if (LONG)
		set_fcw(0x037f);
	return 7;
}
