/* File hypercalls on a writable share the host prepared with src.bin (random bytes, not a
 * multiple of any chunk size), sub/inner.txt ("inner\n") and link-inside -> sub/inner.txt.
 * The guest copies src.bin to copy.bin in odd-sized chunks with three files open at once,
 * checks fstat, lseek and EOF, copies it again in one call each way (copy2.bin, not in real
 * mode: its data segment is 64 KiB), appends "ab" + "cd" to log.txt, and checks ordinary
 * failures. Ends with HC_exit(number of bad calls it made: 1, a double close). */
#include "kvmbox/guest.h"

#define CHUNK 3001
#define S_IFMT 0170000
#define S_IFREG 0100000

static uint8_t buf[CHUNK], head1[16], head2[16];
#if KVMBOX_GUEST_MODE != KVMBOX_NOTE_MODE_REAL
static uint8_t big[256 << 10];
#endif

int main(void)
{
	struct kvmbox_stat st;
	long long total = 0;
	int in, in2, out, fd;
	long n;

	in = HC_open("src.bin", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT(in >= 0);
	GUEST_ASSERT_EQ(HC_fstat(in, &st), 0);
	GUEST_ASSERT_EQ(st.mode & S_IFMT, S_IFREG);
	GUEST_ASSERT(st.size > CHUNK);
	GUEST_ASSERT_EQ(HC_lseek(in, 0, KVMBOX_SEEK_END), (long long)st.size);
	GUEST_ASSERT_EQ(HC_lseek(in, 0, KVMBOX_SEEK_SET), 0);

	out = HC_open("copy.bin", KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_TRUNC, 0644);
	in2 = HC_open("src.bin", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT(out >= 0 && in2 >= 0);
	GUEST_ASSERT(out != in && in2 != in && in2 != out);

	/* Descriptors have their own offsets. */
	GUEST_ASSERT_EQ(HC_read(in2, head2, sizeof(head2)), sizeof(head2));
	GUEST_ASSERT_EQ(HC_lseek(in, 0, KVMBOX_SEEK_CUR), 0);

	for (;;) {
		n = HC_read(in, buf, CHUNK);
		GUEST_ASSERT(n >= 0);
		if (n == 0)
			break;
		if (total == 0)
			memcpy(head1, buf, sizeof(head1));
		GUEST_ASSERT_EQ(HC_write(out, buf, (size_t)n), n);
		total += n;
	}
	GUEST_ASSERT_EQ(total, (long long)st.size);
	GUEST_ASSERT_EQ(HC_read(in, buf, CHUNK), 0);
	GUEST_ASSERT_EQ(HC_lseek(out, 0, KVMBOX_SEEK_CUR), total);
	GUEST_ASSERT(memcmp(head1, head2, sizeof(head1)) == 0);
	GUEST_ASSERT_EQ(HC_fstat(out, &st), 0);
	GUEST_ASSERT_EQ((long long)st.size, total);

#if KVMBOX_GUEST_MODE != KVMBOX_NOTE_MODE_REAL
	/* One call each way, larger than the host's bounce buffer. */
	GUEST_ASSERT(total <= (long long)sizeof(big));
	GUEST_ASSERT_EQ(HC_lseek(in, 0, KVMBOX_SEEK_SET), 0);
	GUEST_ASSERT_EQ(HC_read(in, big, sizeof(big)), total);
	fd = HC_open("copy2.bin", KVMBOX_O_RDWR | KVMBOX_O_CREAT | KVMBOX_O_EXCL, 0600);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, big, (size_t)total), total);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
#endif

	GUEST_ASSERT_EQ(HC_close(in), 0);
	GUEST_ASSERT_EQ(HC_close(in2), 0);
	GUEST_ASSERT_EQ(HC_close(out), 0);
	GUEST_ASSERT_EQ(HC_close(out), -KVMBOX_EBADF); /* the one bad call */

	/* O_APPEND writes at the end whatever the offset. */
	fd = HC_open("log.txt", KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_APPEND, 0600);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, "ab", 2), 2);
	GUEST_ASSERT_EQ(HC_lseek(fd, 0, KVMBOX_SEEK_SET), 0);
	GUEST_ASSERT_EQ(HC_write(fd, "cd", 2), 2);
	GUEST_ASSERT_EQ(HC_close(fd), 0);

	/* Symlinks and ".." that stay inside the share are fine. */
	fd = HC_open("link-inside", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_read(fd, buf, sizeof(buf)), 6);
	GUEST_ASSERT(memcmp(buf, "inner\n", 6) == 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	fd = HC_open("sub/../sub/./inner.txt", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);

	/* Ordinary failures, with Linux's errno: not bad calls. */
	GUEST_ASSERT_EQ(HC_open("missing", KVMBOX_O_RDONLY, 0), -KVMBOX_ENOENT);
	GUEST_ASSERT_EQ(HC_open("src.bin", KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_EXCL, 0600),
			-KVMBOX_EEXIST);
	GUEST_ASSERT_EQ(HC_open("src.bin/x", KVMBOX_O_RDONLY, 0), -KVMBOX_ENOTDIR);
	fd = HC_open("src.bin", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, "x", 1), -KVMBOX_EBADF); /* opened read-only */
	GUEST_ASSERT_EQ(HC_lseek(fd, -1, KVMBOX_SEEK_SET), -KVMBOX_EINVAL);
	GUEST_ASSERT_EQ(HC_read(fd, buf, 0), 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);

	HC_exit(1);
}
