/* The 64-bit division helpers gcc and clang call from -m16 and -m32 code (__udivdi3 and
 * friends: GCC internals manual, "Routines for integer arithmetic"). They are ours rather
 * than libgcc's: the i386 libgcc is 32-bit code that a real-mode CPU decodes wrongly (its
 * default operand size is 16 bits), and Debian's gcc has no 32-bit libgcc without
 * gcc-multilib. Long mode divides natively, so there this file is empty. */
#include "kvmbox/guest.h"

#ifndef __x86_64__

uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem);
int64_t __divdi3(int64_t a, int64_t b);
int64_t __moddi3(int64_t a, int64_t b);
int64_t __divmoddi4(int64_t a, int64_t b, int64_t *rem);

/* (HI:LO) / D with one `divl`; HI < D so the quotient fits in 32 bits (SDM Vol. 2A, DIV).
 * D == 0 raises #DE, as a native division by zero would. */
static inline uint32_t divl(uint32_t hi, uint32_t lo, uint32_t d, uint32_t *rem)
{
	uint32_t q;

	__asm__("divl %4" : "=a"(q), "=d"(*rem) : "a"(lo), "d"(hi), "rm"(d));
	return q;
}

/* N / D, remainder in *REM. A divisor that fits in 32 bits takes two `divl` (long division
 * by 32-bit digits); a wider one gives a quotient below 2^32, found by shift and subtract.
 * Few instructions matter: where KVM emulates every guest instruction (kvm_pvm) each one
 * costs about a microsecond. */
static uint64_t udivmod(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0;
	uint32_t r;
	int shift = 0;

	if (d >> 32 == 0) {
		uint32_t q_hi = divl(0, (uint32_t)(n >> 32), (uint32_t)d, &r);
		uint32_t q_lo = divl(r, (uint32_t)n, (uint32_t)d, &r);

		*rem = r;
		return (uint64_t)q_hi << 32 | q_lo;
	}
	if (n < d) {
		*rem = n;
		return 0;
	}
	/* Align D's top bit with N's, then one quotient bit per step. */
	while (!(d >> 63) && d << 1 <= n) {
		d <<= 1;
		shift++;
	}
	for (;;) {
		q <<= 1;
		if (n >= d) {
			n -= d;
			q |= 1;
		}
		if (shift-- == 0)
			break;
		d >>= 1;
	}
	*rem = n;
	return q;
}

/* |A| as unsigned: correct for INT64_MIN too. */
static uint64_t uabs(int64_t a)
{
	return a < 0 ? 0 - (uint64_t)a : (uint64_t)a;
}

/* -U in two's complement without signed overflow. */
static int64_t neg_if(uint64_t u, bool neg)
{
	return (int64_t)(neg ? 0 - u : u);
}

uint64_t __udivmoddi4(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t r, q = udivmod(n, d, &r);

	if (rem)
		*rem = r;
	return q;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	uint64_t r;

	return udivmod(n, d, &r);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;

	udivmod(n, d, &r);
	return r;
}

/* C99 6.5.5: the quotient truncates toward zero, the remainder takes the dividend's sign. */
int64_t __divmoddi4(int64_t a, int64_t b, int64_t *rem)
{
	uint64_t r, q = udivmod(uabs(a), uabs(b), &r);

	if (rem)
		*rem = neg_if(r, a < 0);
	return neg_if(q, (a < 0) != (b < 0));
}

int64_t __divdi3(int64_t a, int64_t b)
{
	return __divmoddi4(a, b, NULL);
}

int64_t __moddi3(int64_t a, int64_t b)
{
	int64_t r;

	__divmoddi4(a, b, &r);
	return r;
}

#endif
