/* Console output one `out` per byte, as kvm-hello-world's guest writes it, with hypercall
 * output in between: BYTEWISE_BYTES letters 'a'..'z' in turn, and after every hundredth one
 * HC_print32bit of its index and HC_printStr("|"). The host tests (tests/host/test_console.c)
 * build the same text and expect it byte for byte, whenever the console switches from one
 * exit per byte to coalesced output; the guest halts with eax = BYTEWISE_BYTES. */
#include "kvmbox/guest.h"

#define BYTEWISE_BYTES 3000

int main(void)
{
	for (uint32_t i = 0; i < BYTEWISE_BYTES; i++) {
		console_putc((char)('a' + i % 26));
		if (i % 100 == 99) {
			HC_print32bit(i);
			HC_printStr("|");
		}
	}
	kvmbox_halt(BYTEWISE_BYTES);
}
