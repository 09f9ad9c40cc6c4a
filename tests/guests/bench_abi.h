/* The test ABI of the guest tests/guests/bench_hc.c: which operation to repeat and how often,
 * in a small struct the host writes at BENCH_PARAMS_GPA before the run. It lives with the
 * guest it describes (like hc_test.h) and is shared by its hosts, the benchmarks (bench/) and
 * tests/host/test_reset.c. Not public API: the guest is a test program. Freestanding C. */
#ifndef KVMBOX_BENCH_ABI_H
#define KVMBOX_BENCH_ABI_H

#include <stdint.h>

#define BENCH_PARAMS_GPA 0x500 /* below the image (0x1000), clear of the hello word at 0x400 */

/* The loops that measure one exit repeat their I/O instruction this many times per turn, in
 * the floor's guests and in tests/guests/bench_hc.c alike; their counts are multiples of it. */
#define BENCH_UNROLL 16
#define BENCH_STR_(x) #x
#define BENCH_STR(x) BENCH_STR_(x)

enum bench_op {
	BENCH_OP_PUTC = 0,       /* one outb on port 0xE9 per byte */
	BENCH_OP_ABI_VERSION,    /* the hypercalls, one exit each */
	BENCH_OP_PRINT32,
	BENCH_OP_PRINTSTR,       /* a 16-byte string */
	BENCH_OP_NUM_EXITS,
	BENCH_OP_EXITS_BY_TYPE,
	BENCH_OP_GVA_TO_HVA,
	BENCH_OP_GVA_TO_HVA64,
	BENCH_OP_TIMESTAMP,
	BENCH_OP_PRINTSTR_4K,    /* a 4095-byte string (console throughput) */
	BENCH_OP_DIRTY,          /* for reset tests: writes memory, calls that write guest memory */
	BENCH_OP_WRITE_4K,       /* console_write of 4095 bytes: one rep outsb on port 0xE9 */
	BENCH_OP_COUNT
};

struct bench_params {
	uint32_t op;    /* enum bench_op */
	uint32_t count; /* repetitions; a multiple of BENCH_UNROLL for the one-exit loops */
};

#endif
