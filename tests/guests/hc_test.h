/* Shared by the hc_* test guests, tests/host/test_hypercalls.c and fuzz/hc.c: what they know of
 * the hypercalls, and the addresses where the host prepares guest memory before a run and
 * where guests leave results. Freestanding C. */
#ifndef KVMBOX_HC_TEST_H
#define KVMBOX_HC_TEST_H

#include "kvmbox/abi.h"

/* What the hostile guest (hc_bad.c), the fuzzing guest (hc_fuzz.c), the libFuzzer target
 * (fuzz/hc.c) and test_hypercalls.c know of the calls, in one place, so that a new call that
 * returns a count or -errno touches none of them: every number below KVMBOX_HC_COUNT is
 * served (tests/unit/test_core.c checks it) and every number from it up is one nothing
 * serves. Only a call of the kinds below adds itself to a list here. */
#define HCT_UNKNOWN_FIRST KVMBOX_HC_COUNT
#define HCT_UNKNOWN_COUNT (KVMBOX_HC_MAX - KVMBOX_HC_COUNT)
/* Calls that end the run: a fuzzer that made one would stop there. */
#define HCT_ENDS_RUN(nr) ((nr) == KVMBOX_HC_EXIT || (nr) == KVMBOX_HC_ASSERT_FAIL)
/* Calls whose eax is a 32-bit value (a host address's low half, an exit count), which may
 * look like any negative number, rather than a count or -KVMBOX_E*. */
#define HCT_RETURNS_VALUE(nr) ((nr) == KVMBOX_HC_GVA_TO_HVA || (nr) == KVMBOX_HC_NUM_EXITS)

/* The hc_* guests run with the default 2 MiB of memory. */
#define HCT_MEM_END 0x200000u
/* The host fills the last HCT_TAIL_LEN bytes of guest memory with HCT_TAIL_BYTE (no NUL), so
 * a string starting there runs off the end of guest memory. The bytes lie in the unused end
 * of the system area (docs/memory.md) in every mode; the host checks afterwards that no
 * refused call wrote into them. */
#define HCT_TAIL_LEN 64u
#define HCT_TAIL (HCT_MEM_END - HCT_TAIL_LEN)
#define HCT_TAIL_BYTE 'A'
/* A u32 the host writes before the run to pick a case (0 by default). */
#define HCT_CASE_ADDR 0x500u
/* u32 results a guest leaves for the host. */
#define HCT_RESULT_ADDR 0x800u
/* Never guest memory (memory ends below 3 GiB) and never mapped by kvmbox's page tables. */
#define HCT_BAD_ADDR 0xFFFFF000u

/* hc_strict.c cases: the one bad call the guest makes. */
enum hct_strict_case {
	HCT_STRICT_BAD_POINTER,
	HCT_STRICT_UNKNOWN_NR,
	HCT_STRICT_OUTB,
	HCT_STRICT_INW,
	HCT_STRICT_CASES
};

#endif
