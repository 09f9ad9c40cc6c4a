/* main's return value is the guest's status: returns the number its first argument spells
 * (decimal, optional '-'), 0 without one. Arguments beyond the first are printed, one a line,
 * so the host can check what reached main. tests/host/test_sdk.c runs it. */
#include "kvmbox/guest.h"

/* The decimal number S spells (no overflow check: the host passes small numbers). */
static int parse_int(const char *s)
{
	int sign = 1, v = 0;

	if (*s == '-') {
		sign = -1;
		s++;
	}
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return sign * v;
}

int main(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		console_printf("%s\n", argv[i]);
	GUEST_ASSERT(argv[argc] == 0);
	return argc > 1 ? parse_int(argv[1]) : 0;
}
