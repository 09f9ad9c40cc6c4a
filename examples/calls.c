/* Functions the host calls (docs/embedding.md, `kvmbox call`): main sets up a greeting once,
 * then each call is a function of its own. Call them with the command:
 *
 *	build/kvmbox call build/guests/calls-long.elf add 2 40          # prints 42
 *	build/kvmbox call build/guests/calls-long.elf fib 20            # prints 6765
 *	build/kvmbox call -p build/guests/calls-long.elf upcase hello 5 # prints 5, then HELLO
 *	build/kvmbox call build/guests/calls-long.elf greet world       # "Hello, world!" on stderr
 *	build/kvmbox call build/guests/calls-long.elf --list            # what it exports
 *
 * greet asks the host to print its text: the host function `log`, which `kvmbox call` gives
 * every guest (an embedder registers its own with kvmbox_vm_host_fn). */
#include "kvmbox/guest.h"

static char greeting[16];

long add(long a, long b)
{
	return a + b;
}
KVMBOX_EXPORT(add);

long fib(long n)
{
	long a = 0, b = 1;

	for (long i = 0; i < n; i++) {
		long t = a + b;

		a = b;
		b = t;
	}
	return a;
}
KVMBOX_EXPORT(fib);

/* Upper-case the LEN bytes at BUF in place (the host passes a buffer in and copies it back);
 * returns how many letters changed. */
long upcase(char *buf, long len)
{
	long changed = 0;

	for (long i = 0; i < len && buf[i]; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z') {
			buf[i] = (char)(buf[i] - 'a' + 'A');
			changed++;
		}
	return changed;
}
KVMBOX_EXPORT(upcase);

/* "Hello, NAME!" through the host's `log` function: returns what it returned (the bytes it
 * wrote), or its error (-KVMBOX_ENOENT when the host has no `log`). */
long greet(const char *name)
{
	char text[128];
	int n = kvmbox_snprintf(text, sizeof(text), "%s, %s!\n", greeting, name);
	uint64_t args[2] = { kvmbox_gva(text), (uint64_t)(n < (int)sizeof(text) ? n : (int)sizeof(text) - 1) };
	int64_t written = 0;
	int ret = kvmbox_host_call("log", args, 2, &written);

	return ret < 0 ? ret : (long)written;
}
KVMBOX_EXPORT(greet);

int main(void)
{
	memcpy(greeting, "Hello", 6);
	return 0;
}
