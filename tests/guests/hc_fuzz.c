/* Hypercall fuzzer: FUZZ_CALLS accesses to random hypercall ports (every number 0..63 but
 * those that end the run, HCT_ENDS_RUN) with random widths and directions and random
 * arguments: arbitrary values, small values, pointers to freshly randomized bytes, and
 * well-formed argument structs with random fields. A fixed-seed xorshift makes every run
 * the same. The host must survive every call; the guest halts normally with eax = 0 and
 * leaves at HCT_RESULT_ADDR: [0] hypercall-port accesses, [1] of them INs, [2] OUTs. */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_ARGS; /* the host counts its exits exactly */
KVMBOX_NO_GUARD_NULL; /* the host's case and results at HCT_*_ADDR, in page 0 */

#define FUZZ_CALLS 5000
#define SCRATCH 2048

static uint32_t rng = 0x2545F491u;

/* xorshift32 (Marsaglia 2003). */
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint8_t scratch[SCRATCH];
static uint8_t iobuf[128];
static char textbuf[64];
static struct kvmbox_stat statbuf;
static const char *const paths[] = { "fuzz.txt", "", "../fuzz", "/etc/passwd", "sub/x" };

/* A well-formed argument struct for NR with random fields, in its own storage. */
static uintptr_t wellformed(uint32_t nr)
{
	static union {
		struct kvmbox_hc_buf buf;
		struct kvmbox_hc_xlate xlate;
		struct kvmbox_hc_time time;
		struct kvmbox_hc_open open;
		struct kvmbox_hc_rw rw;
		struct kvmbox_hc_lseek lseek;
		struct kvmbox_hc_fstat fstat;
		struct kvmbox_hc_chan chan;
		uint8_t bytes[32];
	} a;

	memset(&a, 0, sizeof(a));
	switch (nr) {
	case KVMBOX_HC_EXITS_BY_TYPE:
		a.buf.addr = kvmbox_gva(textbuf);
		a.buf.len = rnd() % (sizeof(textbuf) + 1);
		break;
	case KVMBOX_HC_GVA_TO_HVA64:
		a.xlate.gva = rnd() % (2 * HCT_MEM_END);
		break;
	case KVMBOX_HC_FILE_OPEN:
		a.open.path = kvmbox_gva(paths[rnd() % (sizeof(paths) / sizeof(paths[0]))]);
		a.open.flags = rnd() & (KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_APPEND |
					(rnd() % 8 == 0 ? KVMBOX_O_TRUNC : 0));
		a.open.mode = 0600;
		break;
	case KVMBOX_HC_FILE_READ:
	case KVMBOX_HC_FILE_WRITE:
	case KVMBOX_HC_CHAN_SEND:
	case KVMBOX_HC_CHAN_RECV:
		a.rw.fd = rnd() % 20;
		a.rw.buf = kvmbox_gva(iobuf);
		a.rw.len = rnd() % (sizeof(iobuf) + 1);
		break;
	case KVMBOX_HC_FILE_LSEEK:
		a.lseek.fd = rnd() % 20;
		a.lseek.whence = rnd() % 4;
		a.lseek.offset = (int32_t)(rnd() % 512) - 64;
		break;
	case KVMBOX_HC_FILE_FSTAT:
		a.fstat.fd = rnd() % 20;
		a.fstat.stat = kvmbox_gva(&statbuf);
		break;
	default:
		for (unsigned i = 0; i < sizeof(a.bytes); i++)
			a.bytes[i] = (uint8_t)rnd();
	}
	return (uintptr_t)&a;
}

/* Fresh random bytes at P: a struct the host reads there has random fields, so its
 * addresses are (all but certainly) not guest memory. Refilled before every use, because
 * what the host wrote there earlier (host addresses, times) is not random enough: a field
 * read across two of them could point into this guest's own code. */
static uintptr_t randomized(uint8_t *p)
{
	for (unsigned i = 0; i < 32; i++)
		p[i] = (uint8_t)rnd();
	return (uintptr_t)p;
}

static uintptr_t random_arg(uint32_t nr)
{
	switch (rnd() % 4) {
	case 0: /* anything; almost never guest memory */
#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
		return ((uintptr_t)rnd() << 32) | rnd();
#else
		return rnd() | 0x80000000u;
#endif
	case 1: /* small: fds, values, and addresses in the free low page (0x0-0x11f) */
		return randomized(kvmbox_ptr(rnd() % 256));
	case 2: /* inside the scratch bytes */
		return randomized(&scratch[rnd() % (SCRATCH - 32)]);
	default:
		return wellformed(nr);
	}
}

int main(void)
{
	volatile uint32_t *result = kvmbox_ptr(HCT_RESULT_ADDR);
	uint32_t calls = 0, ins = 0, outs = 0;

	for (unsigned i = 0; i < FUZZ_CALLS; i++) {
		uint32_t nr, op = rnd() % 8;
		uint16_t port;
		uintptr_t arg;

		/* Half the time among the numbers that exist (and one above), else any. */
		do
			nr = rnd() % (rnd() & 1 ? HCT_UNKNOWN_FIRST + 1 : KVMBOX_HC_MAX);
		while (HCT_ENDS_RUN(nr));
		port = (uint16_t)(KVMBOX_PORT_HC_BASE + nr);
		arg = random_arg(nr);
		calls++;
		if (op <= 4) { /* mostly the real thing: one 32-bit IN */
			__asm__ volatile("inl %w1, %0" : "=a"(op) : "d"(port), "b"(arg) : "memory");
			ins++;
		} else if (op == 5) {
			uint8_t v;
			__asm__ volatile("inb %w1, %0" : "=a"(v) : "d"(port), "b"(arg) : "memory");
			ins++;
		} else if (op == 6) {
			uint16_t v;
			__asm__ volatile("inw %w1, %0" : "=a"(v) : "d"(port), "b"(arg) : "memory");
			ins++;
		} else {
			uint32_t v = rnd();

			switch (v % 3) {
			case 0:
				__asm__ volatile("outb %b0, %w1" : : "a"(v), "d"(port), "b"(arg) : "memory");
				break;
			case 1:
				__asm__ volatile("outw %w0, %w1" : : "a"(v), "d"(port), "b"(arg) : "memory");
				break;
			default:
				__asm__ volatile("outl %0, %w1" : : "a"(v), "d"(port), "b"(arg) : "memory");
			}
			outs++;
		}
	}
	/* The host still answers properly. */
	calls++;
	ins++;
	GUEST_ASSERT_EQ(HC_abiVersion(), KVMBOX_ABI_VERSION);
	result[0] = calls;
	result[1] = ins;
	result[2] = outs;
	return 0;
}
