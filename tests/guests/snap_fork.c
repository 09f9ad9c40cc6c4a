/* The parent of forks (tests/host/test_snapshot.c): it fills PAGES pages with a pattern and
 * halts; the host forks the halted VM. Each fork goes on after the halt: it prints
 * "fork GENERATION" (its own number: every fork has a generation of its own), writes its
 * generation over the pattern (copy-on-write: the parent's pages must stay as they were) and
 * checks it reads back what it wrote, then halts. The parent itself, run again, prints
 * "parent". */
/* kvmbox-modes: protected long */
#include "kvmbox/guest.h"

#define PAGES 16

static uint64_t pattern[PAGES][512];

int main(void)
{
	uint64_t g;

	for (unsigned p = 0; p < PAGES; p++)
		for (unsigned i = 0; i < 512; i++)
			pattern[p][i] = (uint64_t)p << 32 | i;
	__asm__ volatile("hlt" : : : "memory");
	g = HC_generation();
	if (!g) {
		HC_printStr("parent\n");
		return 0;
	}
	console_printf("fork %llu\n", (unsigned long long)g);
	for (unsigned p = 0; p < PAGES; p++)
		for (unsigned i = 0; i < 512; i += 64)
			pattern[p][i] = g + p;
	for (unsigned p = 0; p < PAGES; p++)
		GUEST_ASSERT(pattern[p][0] == g + p && pattern[p][1] == ((uint64_t)p << 32 | 1));
	return 0;
}
