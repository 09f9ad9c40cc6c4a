/* A guest assertion whose file and expression are hostile text: terminal escape sequences,
 * a newline starting a forged "kvmbox:" line, bytes >= 0x80 that are not UTF-8. kvmbox must
 * print and write them filtered (tests/host/test_robust.c): no escape, no forged line, and a
 * --stats-json file a JSON parser reads. */
/* kvmbox-modes: long */
#include "kvmbox/guest.h"

int main(void)
{
	kvmbox_assert_fail("\x1b[2J\xff\xfe" "evil.c", 7,
			   "x\nkvmbox: forged line \x1b]0;title\x07 \xc3\x28");
	return 1;
}
