/* Array consumer: receives ARR_COUNT arrays on channel ARR_CHAN, checks every element and
 * prints a checksum (the sum of all elements, modulo 2^32). */
#include "kvmbox/guest.h"
#include "pc.h"

static uint32_t arr[ARR_LEN];

int main(void)
{
	uint32_t k, j, sum = 0;

	for (k = 0; k < ARR_COUNT; k++) {
		GUEST_ASSERT_EQ(HC_chanRecv(ARR_CHAN, arr, sizeof(arr)), sizeof(arr));
		for (j = 0; j < ARR_LEN; j++) {
			GUEST_ASSERT_EQ(arr[j], ARR_VALUE(k, j));
			sum += arr[j];
		}
	}
	console_printf("received %u arrays, checksum %u\n", (unsigned)ARR_COUNT, (unsigned)sum);
	return 0;
}
