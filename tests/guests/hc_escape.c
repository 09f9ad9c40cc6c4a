/* Attempts to reach files outside the share; every one must fail. The host made the share
 * DIR inside a parent P holding secret.txt, and in DIR: sub/inner.txt, sub/up -> ../..,
 * to-etc -> /etc, to-parent -> .., to-secret -> ../secret.txt, proc-cwd -> /proc/self/cwd,
 * proc-fd -> /proc/self/fd/0, rel-proc -> ../../../../../../../../proc/self/root,
 * dangling -> ../created-by-link. The host checks that nothing outside DIR was read, created
 * or changed. The guest asserts the exact error of each attempt and ends with
 * HC_exit(number of attempts). Needs the host-filled tail of memory (hc_test.h). */
#include "kvmbox/guest.h"
#include "hc_test.h"

KVMBOX_NO_GUARD_NULL; /* the host's case and results at HCT_*_ADDR, in page 0 */

#define RO KVMBOX_O_RDONLY
#define WR (KVMBOX_O_WRONLY | KVMBOX_O_CREAT | KVMBOX_O_TRUNC)

static char long_path[300];
static unsigned attempts;

static void refused(const char *path, int flags, int err)
{
	GUEST_ASSERT_EQ(HC_open(path, flags, 0644), -err);
	attempts++;
}

int main(void)
{
	struct kvmbox_hc_open a = { .path = HCT_TAIL, .flags = RO, .mode = 0 };
	int fd;

	/* The share itself works. */
	fd = HC_open("sub/inner.txt", RO, 0);
	GUEST_ASSERT(fd >= 0);
	GUEST_ASSERT_EQ(HC_close(fd), 0);

	/* ".." above the share, in every spelling. */
	refused("..", RO, KVMBOX_EXDEV);
	refused("../secret.txt", RO, KVMBOX_EXDEV);
	refused("..//secret.txt", RO, KVMBOX_EXDEV);
	refused("sub/../../secret.txt", RO, KVMBOX_EXDEV);
	refused("sub/./../../secret.txt", RO, KVMBOX_EXDEV);
	refused("sub/../../share/../secret.txt", RO, KVMBOX_EXDEV);
	refused("./../secret.txt", RO, KVMBOX_EXDEV);
	/* Absolute paths, /proc included. */
	refused("/etc/passwd", RO, KVMBOX_EXDEV);
	refused("//etc/passwd", RO, KVMBOX_EXDEV);
	refused("/proc/self/root/etc/passwd", RO, KVMBOX_EXDEV);
	refused("/proc/self/fd/0", RO, KVMBOX_EXDEV);
	/* Symlinks leading out, absolute or relative, directly or from a subdirectory. */
	refused("to-etc/passwd", RO, KVMBOX_EXDEV);
	refused("to-etc", RO, KVMBOX_EXDEV);
	refused("to-parent/secret.txt", RO, KVMBOX_EXDEV);
	refused("to-secret", RO, KVMBOX_EXDEV);
	refused("sub/up/secret.txt", RO, KVMBOX_EXDEV);
	refused("proc-cwd/secret.txt", RO, KVMBOX_EXDEV);
	refused("proc-fd", RO, KVMBOX_EXDEV);
	refused("rel-proc/etc/passwd", RO, KVMBOX_EXDEV);
	/* Writing or creating outside. */
	refused("../created", WR, KVMBOX_EXDEV);
	refused("../secret.txt", WR, KVMBOX_EXDEV);
	refused("to-secret", WR, KVMBOX_EXDEV);
	refused("dangling", WR, KVMBOX_EXDEV);
	refused("to-parent/created", WR, KVMBOX_EXDEV);
	/* Directories: no descriptor for one, for reading or writing. */
	refused(".", RO, KVMBOX_EISDIR);
	refused("sub", RO, KVMBOX_EISDIR);
	refused(".", KVMBOX_O_WRONLY, KVMBOX_EISDIR);
	refused("sub/", KVMBOX_O_RDWR, KVMBOX_EISDIR);
	/* Malformed paths: empty, over-long, unterminated at the end of guest memory. */
	refused("", RO, KVMBOX_ENOENT);
	memset(long_path, 'a', sizeof(long_path) - 1);
	for (unsigned i = 1; i < sizeof(long_path) - 1; i += 2)
		long_path[i] = '/';
	refused(long_path, RO, KVMBOX_ENAMETOOLONG);
	GUEST_ASSERT_EQ(kvmbox_hypercall(KVMBOX_HC_FILE_OPEN, (uintptr_t)&a), -KVMBOX_EFAULT);
	attempts++;

	HC_exit((int)attempts);
}
