/* Producer of the producer/consumer pair: sends the single values 1..PC_COUNT on channel
 * PC_CHAN, one 32-bit record per HC_chanSend, then halts. A full channel blocks it until the
 * consumer makes room (the host does not schedule it meanwhile). */
#include "kvmbox/guest.h"
#include "pc.h"

int main(void)
{
	uint32_t v;

	for (v = 1; v <= PC_COUNT; v++)
		GUEST_ASSERT_EQ(HC_chanSend(PC_CHAN, &v, sizeof(v)), sizeof(v));
	console_printf("sent %u values\n", (unsigned)PC_COUNT);
	return 0;
}
