/* A NULL dereference the compiler can prove: gcc replaces it by a trap (`ud2`, with
 * -fisolate-erroneous-paths-dereference, on from -O2 and -Os), so the guest stops with #UD
 * in every mode (gcc keeps the load before the trap: this guest opts out of the NULL guard,
 * which would stop that load first). kvmbox names the ud2 as the compiler's trap. */
#include "kvmbox/guest.h"

KVMBOX_NO_GUARD_NULL;

struct node {
	int value;
};

static struct node *lookup(int key)
{
	return key == 42 ? (struct node *)0 : (struct node *)0;
}

__attribute__((noinline)) int value_of(int key)
{
	return lookup(key)->value; /* null-trap-line */
}

int main(void)
{
	return value_of(42);
}
