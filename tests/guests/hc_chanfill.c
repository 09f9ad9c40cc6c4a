/* kvmbox-modes: protected long */
/* The hub's cap on record bytes (KVMBOX_CHAN_HUB_BYTES_MAX, 64 MiB), run alone with a
 * channel 0 of 65536 records: 4 KiB records fill it up to the cap, then every send that
 * would hold more bytes fails with -ENOSPC, on any channel. HC_exit(records sent / 1024). */
#include "kvmbox/guest.h"

#define REC 4096

static char rec[REC];

int main(void)
{
	long n = 0, r;

	while ((r = HC_chanSend(0, rec, REC)) == REC)
		n++;
	GUEST_ASSERT_EQ(r, -KVMBOX_ENOSPC);
	GUEST_ASSERT_EQ(HC_chanSend(1, rec, 1), -KVMBOX_ENOSPC); /* the hub's total, not channel 0's */
	GUEST_ASSERT_EQ(HC_chanSend(1, rec, 0), 0);              /* an empty record holds nothing */
	GUEST_ASSERT_EQ(HC_chanRecv(0, rec, REC), REC);          /* a receive makes room again */
	GUEST_ASSERT_EQ(HC_chanSend(1, rec, REC), REC);
	HC_exit((int)(n / 1024));
}
