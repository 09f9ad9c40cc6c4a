/* A student's NULL pointer, three ways, picked by the host's case word at NULL_CASE_ADDR
 * (0: read, 1: write, 2: a call through a NULL function pointer). With the NULL guard (the
 * SDK's default) every one stops the guest with a report naming the function and the line:
 * a not-present #PF in the paged modes, a KVM_EXIT_MMIO (or, for the call, an instruction
 * fetch KVM cannot emulate) in protected mode; in real mode there is no guard (page 0 is the
 * interrupt vector table), the accesses succeed and the guest exits with status 1.
 * The pointer comes through kvmbox_ptr, so the compiler cannot prove it NULL (null_trap.c
 * is the case where it can). */
#include "kvmbox/guest.h"

#define NULL_CASE_ADDR 0x2000u /* outside page 0: the host writes the case before the run */

struct node {
	int value;
	struct node *next;
};

__attribute__((noinline)) int first_value(const struct node *list)
{
	return list->value; /* null-read-line */
}

__attribute__((noinline)) void set_value(struct node *list, int v)
{
	list->value = v; /* null-write-line */
}

__attribute__((noinline)) int call_hook(int (*hook)(int))
{
	return hook(7) + 1; /* null-call-line */
}

int main(void)
{
	struct node *list = kvmbox_ptr(0);
	int seen = 0;

	/* Results are used: an unused call to a pure function would be dropped. */
	switch (*(volatile uint32_t *)kvmbox_ptr(NULL_CASE_ADDR)) {
	case 0:
		seen = first_value(list);
		break;
	case 1:
		set_value(list, 42);
		break;
	default:
		seen = call_hook((int (*)(int))kvmbox_ptr(0));
		break;
	}
	return seen == 12345 ? 3 : 1;
}
