/* /proc magic links, run with the share set to the host's /proc/self (read-only): the one
 * setup in which they sit inside the share. Following one (cwd, root, exe, fd/N) would hand
 * the guest any file of the host, so every path through one must fail with -ELOOP
 * (RESOLVE_NO_MAGICLINKS), while an ordinary proc file opens. HC_exit(attempts). */
#include "kvmbox/guest.h"

static unsigned attempts;

static void refused(const char *path, int err)
{
	GUEST_ASSERT_EQ(HC_open(path, KVMBOX_O_RDONLY, 0), -err);
	attempts++;
}

int main(void)
{
	int fd = HC_open("status", KVMBOX_O_RDONLY, 0);

	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);
	refused("cwd/secret.txt", KVMBOX_ELOOP);
	refused("root/etc/passwd", KVMBOX_ELOOP);
	refused("exe", KVMBOX_ELOOP);
	refused("fd/0", KVMBOX_ELOOP);
	refused("fd/1", KVMBOX_ELOOP);
	refused("../1/root/etc/passwd", KVMBOX_EXDEV);
	HC_exit((int)attempts);
}
