/* Opening what is not a regular file in the share: the host made DIR/fifo (a FIFO with a
 * reader waiting), DIR/chardev and DIR/blockdev (device nodes, as root) and DIR/plain.txt.
 * Every non-regular open must fail with -EACCES, for reading, writing and creating alike; the
 * host checks nothing was opened (the FIFO's reader never saw a writer). The regular file and
 * a new file still work. Ends with HC_exit(number of refusals). */
#include "kvmbox/guest.h"

#define RO KVMBOX_O_RDONLY
#define WO KVMBOX_O_WRONLY
#define RW KVMBOX_O_RDWR
#define CREATE (KVMBOX_O_WRONLY | KVMBOX_O_CREAT)

static unsigned refusals;

static void refused(const char *path, int flags)
{
	GUEST_ASSERT_EQ(HC_open(path, flags, 0644), -KVMBOX_EACCES);
	refusals++;
}

int main(void)
{
	static const char *const special[] = { "fifo", "chardev", "blockdev" };
	int fd;

	for (unsigned i = 0; i < 3; i++) {
		refused(special[i], RO);
		refused(special[i], WO);
		refused(special[i], RW);
		refused(special[i], CREATE);
		refused(special[i], CREATE | KVMBOX_O_TRUNC);
	}
	GUEST_ASSERT_EQ(HC_open("fifo", CREATE | KVMBOX_O_EXCL, 0644), -KVMBOX_EEXIST);
	fd = HC_open("plain.txt", RO, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	fd = HC_open("new.txt", CREATE | KVMBOX_O_EXCL, 0644);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, "new\n", 4), 4);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	HC_exit((int)refusals);
}
