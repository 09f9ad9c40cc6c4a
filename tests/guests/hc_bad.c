/* Malformed console and statistics hypercalls: bad pointers, bad lengths, unterminated
 * strings, unknown numbers, wrong port widths and directions. Each one must come back as an
 * error code (checked here with GUEST_ASSERT) and be counted by the host as a bad call; the
 * guest ends with HC_exit(number of bad calls it made) for the host to compare. Calls that
 * merely fail (an invalid GVA) are not bad calls. Needs the host to fill the last
 * HCT_TAIL_LEN bytes of memory (hc_test.h). */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_GUARD_NULL; /* the host's case and results at HCT_*_ADDR, in page 0 */

#define HC_PORT(nr) ((uint16_t)(KVMBOX_PORT_HC_BASE + (nr)))
#define SENTINEL 0x5a

static char long_str[KVMBOX_STR_MAX + 1];
static char exits_buf[64];
static unsigned nbad;

/* A call that must be refused as a bad call with error ERR. */
#define BAD(call, err)                                   \
	do {                                             \
		GUEST_ASSERT_EQ((call), -(err));         \
		nbad++;                                  \
	} while (0)

static int32_t hc(uint32_t nr, uintptr_t arg)
{
	return kvmbox_hypercall(nr, arg);
}

int main(void)
{
	struct kvmbox_hc_buf b;
	struct kvmbox_hc_xlate x;
	struct kvmbox_hc_time *t_tail = kvmbox_ptr(HCT_MEM_END - 4);
	uint32_t nr;

	GUEST_ASSERT_EQ(HC_abiVersion(), KVMBOX_ABI_VERSION);

	/* printStr: unmapped address, a string running off the end of memory, no NUL within
	 * KVMBOX_STR_MAX bytes; then the longest string that fits, which is printed. */
	BAD(hc(KVMBOX_HC_PRINTSTR, HCT_BAD_ADDR), KVMBOX_EFAULT);
	BAD(hc(KVMBOX_HC_PRINTSTR, HCT_TAIL), KVMBOX_EFAULT);
	memset(long_str, 'x', KVMBOX_STR_MAX);
	BAD(hc(KVMBOX_HC_PRINTSTR, (uintptr_t)long_str), KVMBOX_ENAMETOOLONG);
	long_str[KVMBOX_STR_MAX - 1] = 0;
	GUEST_ASSERT_EQ(hc(KVMBOX_HC_PRINTSTR, (uintptr_t)long_str), KVMBOX_STR_MAX - 1);
	GUEST_ASSERT_EQ(hc(KVMBOX_HC_PRINTSTR, (uintptr_t)"\n"), 1);

	/* numExitsByType: bad struct, buffer too small (left untouched), bad buffer, buffer
	 * running off the end of memory (nothing of it may be written). */
	BAD(hc(KVMBOX_HC_EXITS_BY_TYPE, HCT_BAD_ADDR), KVMBOX_EFAULT);
	memset(exits_buf, SENTINEL, sizeof(exits_buf));
	b.addr = kvmbox_gva(exits_buf);
	b.len = 5;
	b.pad = 0;
	BAD(hc(KVMBOX_HC_EXITS_BY_TYPE, (uintptr_t)&b), KVMBOX_ERANGE);
	GUEST_ASSERT_EQ(exits_buf[0], SENTINEL);
	b.addr = HCT_BAD_ADDR;
	b.len = sizeof(exits_buf);
	BAD(hc(KVMBOX_HC_EXITS_BY_TYPE, (uintptr_t)&b), KVMBOX_EFAULT);
	b.addr = HCT_MEM_END - 8;
	BAD(hc(KVMBOX_HC_EXITS_BY_TYPE, (uintptr_t)&b), KVMBOX_EFAULT);
	b.addr = kvmbox_gva(exits_buf);
	GUEST_ASSERT(hc(KVMBOX_HC_EXITS_BY_TYPE, (uintptr_t)&b) > 0);
	GUEST_ASSERT(strncmp(exits_buf, "IO in: ", 7) == 0);

	/* gvaToHva: invalid addresses are an ordinary answer (0, "Invalid GVA"), not bad calls. */
	GUEST_ASSERT_EQ(HC_gvaToHva(HCT_BAD_ADDR), 0);
	GUEST_ASSERT_EQ(HC_gvaToHva(HCT_MEM_END), 0);
	GUEST_ASSERT(HC_gvaToHva(HCT_MEM_END - 1) != 0);
	x.gva = HCT_BAD_ADDR;
	x.hva = 1;
	GUEST_ASSERT_EQ(hc(KVMBOX_HC_GVA_TO_HVA64, (uintptr_t)&x), -KVMBOX_EFAULT);
	GUEST_ASSERT_EQ(x.hva, 0);
	BAD(hc(KVMBOX_HC_GVA_TO_HVA64, HCT_BAD_ADDR), KVMBOX_EFAULT);

	/* getTimestamp: bad struct, and one whose last 4 bytes lie past the end of memory. */
	BAD(hc(KVMBOX_HC_TIMESTAMP, HCT_BAD_ADDR), KVMBOX_EFAULT);
	BAD(hc(KVMBOX_HC_TIMESTAMP, (uintptr_t)t_tail), KVMBOX_EFAULT);

#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
	/* A non-canonical address and one whose sum with the length wraps. */
	BAD(hc(KVMBOX_HC_PRINTSTR, 0x8000000000000000ull), KVMBOX_EFAULT);
	BAD(hc(KVMBOX_HC_TIMESTAMP, 0xfffffffffffffffcull), KVMBOX_EFAULT);
#endif

	/* Numbers nothing serves. */
	for (nr = HCT_UNKNOWN_FIRST; nr < KVMBOX_HC_MAX; nr++)
		BAD(hc(nr, 0), KVMBOX_ENOSYS);

	/* Wrong width or direction on a hypercall port: an IN gets the error's low bytes. */
	GUEST_ASSERT_EQ(inb(HC_PORT(KVMBOX_HC_NUM_EXITS)), (uint8_t)-KVMBOX_EINVAL);
	nbad++;
	GUEST_ASSERT_EQ(inw(HC_PORT(KVMBOX_HC_NUM_EXITS)), (uint16_t)-KVMBOX_EINVAL);
	nbad++;
	outb(HC_PORT(KVMBOX_HC_PRINT32), 1);
	outw(HC_PORT(KVMBOX_HC_PRINT32), 2);
	outl(HC_PORT(KVMBOX_HC_PRINT32), 3);
	nbad += 3;

	/* Still served normally afterwards. */
	GUEST_ASSERT_EQ(HC_abiVersion(), KVMBOX_ABI_VERSION);
	HC_exit((int)nbad);
}
