/* Bounded-buffer producer: BB_ITEMS items into channel BB_CHAN, which holds 20 (run with
 * --chan 2=20). Each item costs some work first, so who gets the quanta (the schedule file)
 * decides how full the buffer runs; with the buffer full the producer waits. */
#include "kvmbox/guest.h"
#include "pc.h"

static void work(uint32_t n)
{
	for (volatile uint32_t i = 0; i < n; i++)
		;
}

int main(void)
{
	uint32_t item;

	for (item = 1; item <= BB_ITEMS; item++) {
		work(100);
		GUEST_ASSERT_EQ(HC_chanSend(BB_CHAN, &item, sizeof(item)), sizeof(item));
		console_printf("produced %u\n", (unsigned)item);
	}
	return 0;
}
