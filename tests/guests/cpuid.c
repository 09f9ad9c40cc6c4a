/* What CPUID tells the guest: leaf 0 (the highest basic leaf, then the vendor string),
 * leaf 1's EAX (family, model, stepping) and EDX, and leaf 0x80000001's EDX, as
 * "max vendor sig edx1 edx81\n" on the console (numbers in decimal). The host tests
 * (tests/host/test_cpuid.c) compare them with the CPU model kvmbox promises. */
#include "kvmbox/guest.h"

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

int main(void)
{
	uint32_t r[4], vendor[4] = { 0, 0, 0, 0 };
	uint32_t max, sig, edx1, edx81;

	cpuid(0, r);
	max = r[0];
	vendor[0] = r[1];
	vendor[1] = r[3];
	vendor[2] = r[2];
	cpuid(1, r);
	sig = r[0];
	edx1 = r[3];
	cpuid(0x80000001u, r);
	edx81 = r[3];
	console_printf("%u %s %u %u %u\n", max, (const char *)vendor, sig, edx1, edx81);
	return 0;
}
