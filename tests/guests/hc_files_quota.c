/* kvmbox-modes: protected long */
/* The share's totals (test_harden's test_share_totals), run with the caps it should meet as
 * its arguments, FILES BYTES: it creates q0, q1, ... until an open fails, and exactly FILES
 * are made before -EDQUOT (an existing file still opens, O_CREAT or not). With BYTES not 0 it
 * then grows q0 in 4 KiB writes until one fails: exactly BYTES bytes in all, the last write
 * short, then -EDQUOT; overwriting what exists still works, growing any file does not. Ends
 * with HC_exit(0); a broken promise is a GUEST_ASSERT (status 64). Without arguments (--vm
 * gives none) it exits with the number of files it could create (a cap below 64). */
#include "kvmbox/guest.h"

static char buf[4096];

static uint32_t number(const char *s)
{
	uint32_t n = 0;

	while (*s >= '0' && *s <= '9')
		n = n * 10 + (uint32_t)(*s++ - '0');
	return n;
}

int main(int argc, char **argv)
{
	uint32_t files, bytes, n, total = 0;
	char name[16];
	long r;
	int fd;

	files = argc == 3 ? number(argv[1]) : 0;
	bytes = argc == 3 ? number(argv[2]) : 0;
	for (n = 0;; n++) {
		kvmbox_snprintf(name, sizeof(name), "q%u", (unsigned)n);
		fd = HC_open(name, KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_EXCL, 0600);
		if (fd < 0)
			break;
		GUEST_ASSERT_EQ(HC_close(fd), 0);
	}
	GUEST_ASSERT_EQ(fd, -KVMBOX_EDQUOT);
	if (argc != 3)
		HC_exit((int)n);
	GUEST_ASSERT_EQ(n, files);
	fd = HC_open("q0", KVMBOX_O_WRONLY | KVMBOX_O_CREAT, 0600);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	if (!bytes)
		HC_exit(0);
	fd = HC_open("q0", KVMBOX_O_WRONLY, 0);
	GUEST_ASSERT(fd >= 0);
	while ((r = HC_write(fd, buf, sizeof(buf))) > 0)
		total += (uint32_t)r;
	GUEST_ASSERT_EQ(r, -KVMBOX_EDQUOT);
	GUEST_ASSERT_EQ(total, bytes);
	GUEST_ASSERT_EQ(HC_lseek(fd, 0, KVMBOX_SEEK_SET), 0);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 100), 100);
	GUEST_ASSERT_EQ(HC_lseek(fd, 0, KVMBOX_SEEK_END), bytes);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 1), -KVMBOX_EDQUOT);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	fd = HC_open("q1", KVMBOX_O_WRONLY | KVMBOX_O_APPEND, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, buf, 1), -KVMBOX_EDQUOT);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	HC_exit(0);
}
