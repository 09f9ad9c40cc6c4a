/* Benchmark and reset-test guest: repeats the operation the host put in struct bench_params
 * at BENCH_PARAMS_GPA (bench_abi.h) COUNT times and halts with eax = COUNT (-1 for an
 * unknown op; BENCH_OP_DIRTY: a checksum of what the calls returned). BENCH_OP_DIRTY writes a large buffer and uses hypercalls that write
 * guest memory, so a reset has much to restore. */
#include "kvmbox/guest.h"
#include "bench_abi.h"

KVMBOX_NO_ARGS; /* only the calls under test exit */
KVMBOX_NO_GUARD_NULL; /* its parameters at 0x500 and translations of 0x400 */

#if KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_LONG
#define DIRTY_SIZE (256u << 10)
#else
#define DIRTY_SIZE (16u << 10)
#endif

/* 4095 bytes, 'a' + i % 26, as a literal: filling it at run time would cost ~20,000 guest
 * instructions per run, each emulated on kvm_pvm (docs/performance.md). */
#define L26 "abcdefghijklmnopqrstuvwxyz"
#define L130 L26 L26 L26 L26 L26
#define L1300 L130 L130 L130 L130 L130 L130 L130 L130 L130 L130
static const char big[] = L1300 L1300 L1300 L130 L26 L26 "abcdefghijklm";
_Static_assert(sizeof(big) == 4096, "big: 4095 bytes and the NUL");
static uint8_t dirty[DIRTY_SIZE];
static char by_type[8][64];

static uint32_t dirty_run(uint32_t count)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < count; i++) {
		struct kvmbox_hc_buf b = { .addr = kvmbox_gva(by_type[i % 8]), .len = sizeof(by_type[0]) };

		for (uint32_t k = 0; k < DIRTY_SIZE; k += 64)
			dirty[k] = (uint8_t)(dirty[k] + i + k / 64);
		sum += (uint32_t)kvmbox_hypercall(KVMBOX_HC_EXITS_BY_TYPE, (uintptr_t)&b);
		sum += HC_numExits();
		HC_print32bit(sum);
		HC_printStr(by_type[i % 8]);
		console_putc('.');
	}
	console_putc('\n');
	for (uint32_t k = 0; k < DIRTY_SIZE; k += 4096)
		sum += dirty[k];
	return sum;
}

/* N (a multiple of BENCH_UNROLL) hypercalls NR with ARG, in the loop of the floor's
 * (bench/floor.c): the figures then differ only by what the host does per exit. */
static void hc_loop(uint32_t nr, uintptr_t arg, uint32_t n)
{
	n /= BENCH_UNROLL;
	__asm__ volatile("1: .rept " BENCH_STR(BENCH_UNROLL) "\n\tinl %%dx, %%eax\n\t.endr\n\t"
			 "dec %%ecx\n\tjnz 1b"
			 : "+c"(n)
			 : "d"((uint16_t)(KVMBOX_PORT_HC_BASE + nr)), "b"(arg)
			 : "eax", "memory", "cc");
}

/* N (a multiple of BENCH_UNROLL) bytes on the console port, one outb each. */
static void putc_loop(uint32_t n)
{
	n /= BENCH_UNROLL;
	__asm__ volatile("1: .rept " BENCH_STR(BENCH_UNROLL) "\n\toutb %%al, %1\n\t.endr\n\t"
			 "dec %%ecx\n\tjnz 1b"
			 : "+c"(n)
			 : "N"((uint16_t)KVMBOX_PORT_CONSOLE), "a"('x')
			 : "memory", "cc");
}

int main(void)
{
	const volatile struct bench_params *p = kvmbox_ptr(BENCH_PARAMS_GPA);
	uint32_t op = p->op, n = p->count;
	static struct kvmbox_hc_buf b;
	static struct kvmbox_hc_xlate x = { .gva = 0x400 };
	static struct kvmbox_hc_time t;
	static const char str16[] = "kvmbox bench 15\n";

	if (!n)
		return 0;
	switch (op) {
	case BENCH_OP_PUTC:
		putc_loop(n);
		break;
	case BENCH_OP_ABI_VERSION:
		hc_loop(KVMBOX_HC_ABI_VERSION, 0, n);
		break;
	case BENCH_OP_PRINT32:
		hc_loop(KVMBOX_HC_PRINT32, 4096, n);
		break;
	case BENCH_OP_PRINTSTR:
		hc_loop(KVMBOX_HC_PRINTSTR, (uintptr_t)str16, n);
		break;
	case BENCH_OP_NUM_EXITS:
		hc_loop(KVMBOX_HC_NUM_EXITS, 0, n);
		break;
	case BENCH_OP_EXITS_BY_TYPE:
		/* Set here only: a store in every op's run would dirty a page the run without
		 * calls never touches, and its fault would be charged to the calls. */
		b.addr = kvmbox_gva(by_type[0]);
		b.len = sizeof(by_type[0]);
		hc_loop(KVMBOX_HC_EXITS_BY_TYPE, (uintptr_t)&b, n);
		break;
	case BENCH_OP_GVA_TO_HVA:
		hc_loop(KVMBOX_HC_GVA_TO_HVA, 0x400, n);
		break;
	case BENCH_OP_GVA_TO_HVA64:
		hc_loop(KVMBOX_HC_GVA_TO_HVA64, (uintptr_t)&x, n);
		break;
	case BENCH_OP_TIMESTAMP:
		hc_loop(KVMBOX_HC_TIMESTAMP, (uintptr_t)&t, n);
		break;
	case BENCH_OP_PRINTSTR_4K:
	case BENCH_OP_WRITE_4K:
		if (op == BENCH_OP_PRINTSTR_4K)
			hc_loop(KVMBOX_HC_PRINTSTR, (uintptr_t)big, n);
		else
			for (uint32_t i = 0; i < n; i++)
				console_write(big, sizeof(big) - 1);
		break;
	case BENCH_OP_DIRTY:
		kvmbox_halt(dirty_run(n));
	default:
		kvmbox_halt((uint32_t)-1);
	}
	kvmbox_halt(n); /* main's own return would be an HC_exit */
}
