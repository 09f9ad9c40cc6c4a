/* Files through --share: reads input.txt from the share directory, writes output.txt with
 * its letters in upper case, and prints the line, word and byte counts (like wc). Run it
 * (docs/sdk.md) on a copy of examples/share/ so that output.txt lands outside the tree:
 *
 *	share=$(mktemp -d) && cp examples/share/input.txt "$share" &&
 *	build/kvmbox run --share "$share" build/guests/upcase-long.elf && cat "$share/output.txt"
 *
 * Halts with eax = 0; on an error prints "upcase: FILE: <errstr text>" and ends with
 * HC_exit(1), so that `kvmbox run` exits with status 1. */
#include "kvmbox/guest.h"

#define INPUT "input.txt"
#define OUTPUT "output.txt"

struct counts {
	uint32_t lines, words, bytes;
	bool in_word;
};

static char buf[512];

/* Upper-case BUF[0..LEN) in place and count what it holds. */
static void transform(char *p, size_t len, struct counts *c)
{
	for (size_t i = 0; i < len; i++) {
		bool space = p[i] == ' ' || p[i] == '\t' || p[i] == '\n';

		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] = (char)(p[i] - 'a' + 'A');
		c->lines += p[i] == '\n';
		c->words += !space && !c->in_word;
		c->in_word = !space;
	}
	c->bytes += (uint32_t)len;
}

/* ERR (a hypercall's negative result) ends the run: which file, what went wrong. */
static KVMBOX_NORETURN void fail(const char *file, long err)
{
	console_printf("upcase: %s: %s\n", file, errstr((int)err));
	HC_exit(1);
}

int main(void)
{
	struct counts c = { 0, 0, 0, false };
	int in, out;
	long n, w;

	in = HC_open(INPUT, KVMBOX_O_RDONLY, 0);
	if (in < 0)
		fail(INPUT, in);
	out = HC_open(OUTPUT, KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_TRUNC, 0644);
	if (out < 0)
		fail(OUTPUT, out);
	while ((n = HC_read(in, buf, sizeof(buf))) > 0) {
		transform(buf, (size_t)n, &c);
		w = HC_write(out, buf, (size_t)n);
		if (w != n)
			fail(OUTPUT, w < 0 ? w : -KVMBOX_EIO); /* a short write: the share is full */
	}
	if (n < 0)
		fail(INPUT, n);
	HC_close(in);
	if ((w = HC_close(out)) < 0)
		fail(OUTPUT, w);
	console_printf("%s -> %s: %u lines, %u words, %u bytes\n", INPUT, OUTPUT,
		       c.lines, c.words, c.bytes);
	return 0;
}
