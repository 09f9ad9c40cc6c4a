/* kvmbox-modes: protected paged32 long */
/* A guest that cannot be 16-bit, to show the mode declaration above: a 60 KiB table does not
 * fit below a real-mode image's limit (0xC000, docs/sdk.md), so `make` builds it for the
 * three other modes only and says so once. It fills the table with the cubes of 0..7679,
 * adds them up, checks the sum against (n(n-1)/2)^2 and prints the mean, a 64-bit division
 * (the SDK's __udivdi3 in 32-bit code). Halts with eax = 0 when the sum is right, 1 if not. */
#include "kvmbox/guest.h"

#define N 7680 /* 7680 * 8 bytes = 60 KiB */

static uint64_t cubes[N];

int main(void)
{
	uint64_t sum = 0, half = (uint64_t)N * (N - 1) / 2;

	for (uint32_t i = 0; i < N; i++)
		cubes[i] = (uint64_t)i * i * i;
	for (uint32_t i = 0; i < N; i++)
		sum += cubes[i];
	console_printf("sum of %u cubes: %llu, mean %llu\n", N, (unsigned long long)sum,
		       (unsigned long long)(sum / N));
	return sum == half * half ? 0 : 1;
}
