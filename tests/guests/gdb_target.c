/* The guest tests/host/test_gdb_session.c debugs with a real gdb in every mode: a string to
 * read (x/s), variables to print, watch and change (set var), source lines to step through
 * (next, step) and a function to break at. Its output shows what gdb changed; it exits with
 * the status kvmbox must pass on. Lines the test names carry a `gdb:` comment. */
/* Stepping by source line needs code in source order: no optimisation here (the SDK builds
 * with -Os, which moves the next line's loads ahead of a call). */
#pragma GCC optimize("O0")
#include "kvmbox/guest.h"

static const char greeting[] = "gdb greets";
volatile uint32_t counter;    /* written once, by add_one: the watchpoint's target */
volatile uint32_t answer = 7; /* the test sets it to 99 before it is printed */

static __attribute__((noinline)) void newline(void)
{
	console_putc('\n');
}

static __attribute__((noinline)) uint32_t add_one(uint32_t x)
{
	counter = x + 1; /* gdb: the watched store */
	return counter;
}

int main(void)
{
	uint32_t v;

	/* gdb: first line */
	console_puts(greeting);
	newline(); /* gdb: after next */
	v = add_one(answer); /* gdb: step into add_one */
	console_puts("answer ");
	console_put_u32(answer);
	newline();
	HC_exit(v == 8 ? 5 : 6);
}
