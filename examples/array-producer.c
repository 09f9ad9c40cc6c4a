/* Array producer (a protected-mode C guest; builds for every mode): sends ARR_COUNT arrays of
 * ARR_LEN 32-bit values, each array one record of 1 KiB on channel ARR_CHAN. */
#include "kvmbox/guest.h"
#include "pc.h"

static uint32_t arr[ARR_LEN];

int main(void)
{
	uint32_t k, j;

	for (k = 0; k < ARR_COUNT; k++) {
		for (j = 0; j < ARR_LEN; j++)
			arr[j] = ARR_VALUE(k, j);
		GUEST_ASSERT_EQ(HC_chanSend(ARR_CHAN, arr, sizeof(arr)), sizeof(arr));
	}
	console_printf("sent %u arrays of %u values\n", (unsigned)ARR_COUNT, (unsigned)ARR_LEN);
	return 0;
}
