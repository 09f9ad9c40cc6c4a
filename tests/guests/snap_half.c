/* A guest that saves itself halfway (tests/host/test_snapshot.c): it prints LINES lines, half
 * through a hypercall and half as console bytes, and writes each to out.txt in its share;
 * after line LINES/2 it asks for a snapshot into the share's "snap" (or, with an argument,
 * into that path: "" is the file the host named). The saver goes on with 0 from HC_snapshot
 * and ends with status 10; a VM restored from the snapshot gets 1, prints and writes exactly
 * the rest, sees a new generation and ends with 11. A refused snapshot prints
 * "snapshot: -ERRNO" and ends the guest with status 30. */
#include "kvmbox/guest.h"

#define LINES 20

int main(int argc, char **argv)
{
	uint64_t g0 = HC_generation();
	char line[32];
	int r = -1, fd;

	fd = HC_open("out.txt", KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_TRUNC, 0644);
	GUEST_ASSERT(fd >= 0);
	for (int i = 1; i <= LINES; i++) {
		int n = kvmbox_snprintf(line, sizeof(line), "line %d\n", i);

		if (i % 2)
			HC_printStr(line);
		else
			console_write(line, (size_t)n);
		GUEST_ASSERT_EQ(HC_write(fd, line, (size_t)n), n);
		if (i == LINES / 2) {
			r = HC_snapshot(argc > 1 ? argv[1] : "snap");
			if (r < 0) {
				console_printf("snapshot: %d\n", r);
				return 30;
			}
			GUEST_ASSERT(r == 0 || r == 1);
			if (r == 1)
				GUEST_ASSERT(HC_generation() != g0);
			else
				GUEST_ASSERT(HC_generation() == g0);
		}
	}
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	return r == 1 ? 11 : 10;
}
