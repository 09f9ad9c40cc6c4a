/* kvmbox-modes: long */
/* Functions for the call benchmarks (bench/kvmbox_bench.c `call`; bench/floor.c `call` runs
 * the same instructions by hand): a trivial one, one that calls one host function ("h", with
 * its argument), and one that writes memory, for a call followed by a reset. Each is as few
 * instructions as C makes it: where KVM emulates guest instructions every one costs. */
#include "kvmbox/guest.h"

KVMBOX_NO_ARGS;

static long counter;
static struct kvmbox_hc_host_call req = { .name = (uint64_t)(uintptr_t)"h", .nargs = 1 };

long b_add(long a, long b)
{
	return a + b;
}
KVMBOX_EXPORT(b_add);

long b_count(void)
{
	return ++counter;
}
KVMBOX_EXPORT(b_count);

long b_host(long a)
{
	req.args[0] = (uint64_t)a;
	if (kvmbox_hypercall(KVMBOX_HC_HOST_CALL, (uintptr_t)&req))
		return -1;
	return (long)req.ret;
}
KVMBOX_EXPORT(b_host);

int main(void)
{
	return 0;
}
