/* What CPUID tells the guest: leaf 0 (the highest basic leaf, then the vendor string's three
 * registers), leaf 1's EAX (family, model, stepping) and EDX, and leaf 0x80000001's EDX, as
 * "max ebx edx ecx sig edx1 edx81\n" on the console (numbers in decimal). The host tests
 * (tests/host/test_cpuid.c) compare them with the CPU model kvmbox promises. */
#include "kvmbox/guest.h"

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

int main(void)
{
	uint32_t r[4], leaf0[4], sig, edx1, edx81;

	cpuid(0, leaf0);
	cpuid(1, r);
	sig = r[0];
	edx1 = r[3];
	cpuid(0x80000001u, r);
	edx81 = r[3];
	console_printf("%u %u %u %u %u %u %u\n", leaf0[0], leaf0[1], leaf0[3], leaf0[2], sig, edx1,
		       edx81);
	return 0;
}
