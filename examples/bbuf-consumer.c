/* Bounded-buffer consumer: takes BB_ITEMS items from channel BB_CHAN, in order, working on
 * each; with the buffer empty it waits. */
#include "kvmbox/guest.h"
#include "pc.h"

static void work(uint32_t n)
{
	for (volatile uint32_t i = 0; i < n; i++)
		;
}

int main(void)
{
	uint32_t want, item;

	for (want = 1; want <= BB_ITEMS; want++) {
		GUEST_ASSERT_EQ(HC_chanRecv(BB_CHAN, &item, sizeof(item)), sizeof(item));
		GUEST_ASSERT_EQ(item, want);
		console_printf("consumed %u\n", (unsigned)item);
		work(200);
	}
	return 0;
}
