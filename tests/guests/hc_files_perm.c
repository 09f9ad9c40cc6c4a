/* kvmbox-modes: protected long */
/* Run by root without --user (test_harden's test_root_is_an_ordinary_owner): the share holds
 * root's mode-000 "locked.txt", another user's mode-0444 "theirs.txt" and root's mode-0644
 * "mine.txt". kvmbox runs with no capability, so root is an ordinary owner: the first is
 * refused for reading, the second for writing and truncating (-EACCES), and its own file
 * opens for writing. Ends with HC_exit(0); a broken promise is a GUEST_ASSERT (status 64). */
#include "kvmbox/guest.h"

int main(void)
{
	int fd;

	GUEST_ASSERT_EQ(HC_open("locked.txt", KVMBOX_O_RDONLY, 0), -KVMBOX_EACCES);
	GUEST_ASSERT_EQ(HC_open("theirs.txt", KVMBOX_O_WRONLY | KVMBOX_O_TRUNC, 0), -KVMBOX_EACCES);
	GUEST_ASSERT_EQ(HC_open("theirs.txt", KVMBOX_O_RDWR, 0), -KVMBOX_EACCES);
	fd = HC_open("theirs.txt", KVMBOX_O_RDONLY, 0); /* readable by all: that stays */
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	fd = HC_open("mine.txt", KVMBOX_O_WRONLY | KVMBOX_O_APPEND, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_write(fd, "+", 1), 1);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	HC_exit(0);
}
