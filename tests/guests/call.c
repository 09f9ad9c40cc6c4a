/* Functions the host calls (tests/host/test_call.c): integer arguments and results, buffers
 * in and out, host functions from inside a call, state that a reset takes away, a fault and a
 * function that never returns. main runs first and sets what get_init returns. */
#include "kvmbox/guest.h"

#define REAL (KVMBOX_GUEST_MODE == KVMBOX_NOTE_MODE_REAL)

static long init_value;
static long counter;

long add(long a, long b)
{
	return a + b;
}
KVMBOX_EXPORT(add);

/* The six arguments in order: each one's own weight, so a swap shows. */
long sum6(long a, long b, long c, long d, long e, long f)
{
	return a + 10 * b + 100 * c + 1000 * d + 10000 * e + 100000 * f;
}
KVMBOX_EXPORT(sum6);

static long minus_five(void)
{
	return -5;
}
KVMBOX_EXPORT(minus_five);

long fib(long n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
KVMBOX_EXPORT(fib);

/* Upper-case BUF[0..LEN) in place; returns how many letters changed. */
long upcase(char *buf, long len)
{
	long changed = 0;

	for (long i = 0; i < len; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z') {
			buf[i] = (char)(buf[i] - 'a' + 'A');
			changed++;
		}
	return changed;
}
KVMBOX_EXPORT(upcase);

/* OUT[0..LEN) = C, C+1, ...; returns the sum of what it wrote. */
long fill(unsigned char *out, long len, long c)
{
	long sum = 0;

	for (long i = 0; i < len; i++) {
		out[i] = (unsigned char)(c + i);
		sum += out[i];
	}
	return sum;
}
KVMBOX_EXPORT(fill);

/* The length of the NUL-terminated string S, and whether the buffer is 16-byte aligned. */
long str_len(const char *s)
{
	long n = 0;

	while (s[n])
		n++;
	return ((uintptr_t)s % 16 == 0) ? n : -1;
}
KVMBOX_EXPORT(str_len);

long get_init(void)
{
	return init_value;
}
KVMBOX_EXPORT(get_init);

/* The count of calls this VM has seen since its reset point. */
long count(void)
{
	return ++counter;
}
KVMBOX_EXPORT(count);

/* vCPU state beyond memory and the general registers, which a call can leave behind: the
 * debug register DR0 and the MSR IA32_SYSENTER_ESP (0x175), each set to V; returns what was
 * there before. */
long dr0_swap(long v)
{
	unsigned long old;

	__asm__ volatile("mov %%dr0, %0" : "=r"(old));
	__asm__ volatile("mov %0, %%dr0" : : "r"((unsigned long)v));
	return (long)old;
}
KVMBOX_EXPORT(dr0_swap);

long msr_swap(long v)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x175u));
	__asm__ volatile("wrmsr" : : "a"((uint32_t)v), "d"(0u), "c"(0x175u));
	return (long)lo | (long)((uint64_t)hi << 16 << 16);
}
KVMBOX_EXPORT(msr_swap);

/* The host function "hadd"(A, B), or its error. */
long host_add(long a, long b)
{
	uint64_t args[2] = { (uint64_t)a, (uint64_t)b };
	int64_t ret = 0;
	int r = kvmbox_host_call("hadd", args, 2, &ret);

	return r < 0 ? r : (long)ret;
}
KVMBOX_EXPORT(host_add);

/* The host function "hupper"(S, LEN): the host upper-cases S in guest memory. */
long host_upper(char *s, long len)
{
	uint64_t args[2] = { kvmbox_gva(s), (uint64_t)len };
	int64_t ret = 0;
	int r = kvmbox_host_call("hupper", args, 2, &ret);

	return r < 0 ? r : (long)ret;
}
KVMBOX_EXPORT(host_upper);

/* What the guest gets for an unknown host function, too many arguments and a name outside
 * guest memory. */
long host_errors(void)
{
	uint64_t args[7] = { 0 };
	struct kvmbox_hc_host_call bad = { .name = 0xfffffff0u, .nargs = 0 };
	int unknown = kvmbox_host_call("no_such_fn", args, 0, NULL);
	int many = kvmbox_host_call("hadd", args, 7, NULL);
	int badname = kvmbox_hypercall(KVMBOX_HC_HOST_CALL, (uintptr_t)&bad);

	GUEST_ASSERT_EQ(unknown, -KVMBOX_ENOENT);
	GUEST_ASSERT_EQ(many, -KVMBOX_EINVAL);
	GUEST_ASSERT_EQ(badname, -KVMBOX_EFAULT);
	return 0;
}
KVMBOX_EXPORT(host_errors);

/* A fault: a NULL write where the NULL guard catches it, an invalid opcode in real mode
 * (which keeps page 0 for its interrupt vector table). */
long crash(void)
{
#if REAL
	__asm__ volatile("ud2"); /* crash-real: fault line */
#else
	*(volatile long *)kvmbox_ptr(0) = 1; /* crash-null: fault line */
#endif
	return 0;
}
KVMBOX_EXPORT(crash);

long spin(void)
{
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 0;
}
KVMBOX_EXPORT(spin);

int main(void)
{
	init_value = 42;
	return 0;
}
