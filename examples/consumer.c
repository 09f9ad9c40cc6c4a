/* Consumer of the producer/consumer pair: receives PC_COUNT values on channel PC_CHAN and
 * asserts that each arrives once and in order (1, 2, 3 ...), then prints their sum. */
#include "kvmbox/guest.h"
#include "pc.h"

int main(void)
{
	uint32_t want, v, sum = 0;

	for (want = 1; want <= PC_COUNT; want++) {
		GUEST_ASSERT_EQ(HC_chanRecv(PC_CHAN, &v, sizeof(v)), sizeof(v));
		GUEST_ASSERT_EQ(v, want);
		sum += v;
	}
	console_printf("received %u values, sum %u\n", (unsigned)PC_COUNT, (unsigned)sum);
	return 0;
}
