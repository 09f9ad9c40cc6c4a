/* 64-bit division and remainder, signed and unsigned, in every mode: in real, protected and
 * paged32 mode they are calls into the SDK's __udivdi3 family (guest/lib/div64.c), in long
 * mode native instructions, and the answers must agree. The cases reach both of the
 * helper's paths (a divisor below 2^32, a wider one) and the edges: quotients wider than
 * 32 bits, INT64_MIN, a dividend smaller than the divisor. Each case computes the quotient
 * alone, the remainder alone, and both together (which gcc turns into __udivmoddi4 or
 * __divmoddi4). Halts with eax = 0; a wrong answer fails a GUEST_ASSERT_EQ. */
#include "kvmbox/guest.h"

struct ucase {
	uint64_t n, d, q, r;
};

struct scase {
	int64_t n, d, q, r;
};

/* Answers computed with Python's integers (C99 6.5.5 truncation for the signed ones). */
static const struct ucase ucases[] = {
	{ 0x0ull, 0x1ull, 0x0ull, 0x0ull },
	{ 0xaull, 0x3ull, 0x3ull, 0x1ull },
	{ 0xffffffffffffffffull, 0x1ull, 0xffffffffffffffffull, 0x0ull },
	{ 0xffffffffffffffffull, 0xffffffffull, 0x100000001ull, 0x0ull },
	{ 0x123456789abcdef0ull, 0x10ull, 0x123456789abcdefull, 0x0ull },
	{ 0x123456789abcdef0ull, 0x12345ull, 0x100005b00205ull, 0xa497ull },
	{ 0x123456789abcdef0ull, 0x100000000ull, 0x12345678ull, 0x9abcdef0ull },
	{ 0x123456789abcdef0ull, 0x123456789ull, 0x10000000ull, 0xabcdef0ull },
	{ 0xffffffffffffffffull, 0x8000000000000000ull, 0x1ull, 0x7fffffffffffffffull },
	{ 0x8000000000000000ull, 0xffffffffffffffffull, 0x0ull, 0x8000000000000000ull },
	{ 0x5ull, 0x100000000ull, 0x0ull, 0x5ull },
	{ 0xfedcba9876543210ull, 0xfedcba9876543210ull, 0x1ull, 0x0ull },
	{ 0xfedcba9876543211ull, 0x7f6e5d4c3b2a1908ull, 0x2ull, 0x1ull },
	{ 0xffffffff00000000ull, 0xffffffffull, 0x100000000ull, 0x0ull },
	{ 0x100000000ull, 0x3ull, 0x55555555ull, 0x1ull },
};

static const struct scase scases[] = {
	{ -7ll, 2ll, -3ll, -1ll },
	{ 7ll, -2ll, -3ll, 1ll },
	{ -7ll, -2ll, 3ll, -1ll },
	{ INT64_MIN, 1ll, INT64_MIN, 0ll },
	{ INT64_MIN, 3ll, -3074457345618258602ll, -2ll },
	{ INT64_MIN, -4294967296ll, 2147483648ll, 0ll },
	{ -1311768467463790320ll, 4886718345ll, -268435456ll, -180150000ll },
	{ INT64_MAX, INT64_MIN, 0ll, INT64_MAX },
	{ -1ll, INT64_MAX, 0ll, -1ll },
};

/* V, through memory the optimizer cannot see into: keeps it from folding the divisions. */
#define OPAQUE(v) ({ __typeof__((v) + 0) v_ = (v); __asm__("" : "+m"(v_)); v_; })

/* Case C (a struct ucase or scase): the quotient alone, the remainder alone, then both from
 * the same operands. */
#define CHECK_CASE(c)                                                          \
	do {                                                                   \
		__typeof__((c).n + 0) n = OPAQUE((c).n), d = OPAQUE((c).d), q, r; \
		GUEST_ASSERT_EQ(n / d, (c).q);                                 \
		GUEST_ASSERT_EQ(OPAQUE(n) % d, (c).r);                         \
		q = OPAQUE(n) / d;                                             \
		r = n % d;                                                     \
		GUEST_ASSERT_EQ(q, (c).q);                                     \
		GUEST_ASSERT_EQ(r, (c).r);                                     \
	} while (0)

int main(void)
{
	for (size_t i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++)
		CHECK_CASE(ucases[i]);
	for (size_t i = 0; i < sizeof(scases) / sizeof(scases[0]); i++)
		CHECK_CASE(scases[i]);
	return 0;
}
