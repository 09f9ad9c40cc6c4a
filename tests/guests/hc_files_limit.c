/* The per-VM open-file limit: opens src.bin until the host says -EMFILE, checks that a freed
 * descriptor is handed out again, closes everything, and ends with HC_exit(number of files
 * it could hold open at once) for the host to compare with the VM's limit. */
#include "kvmbox/guest.h"

#define MOST 64

int main(void)
{
	int fds[MOST], n, fd;

	for (n = 0; n < MOST; n++) {
		fds[n] = HC_open("src.bin", KVMBOX_O_RDONLY, 0);
		if (fds[n] < 0)
			break;
	}
	GUEST_ASSERT(n > 0 && n < MOST);
	GUEST_ASSERT_EQ(fds[n], -KVMBOX_EMFILE);
	/* At the limit nothing is created either. */
	GUEST_ASSERT_EQ(HC_open("new.txt", KVMBOX_O_WRONLY | KVMBOX_O_CREAT, 0600), -KVMBOX_EMFILE);

	GUEST_ASSERT_EQ(HC_close(fds[0]), 0);
	fd = HC_open("src.bin", KVMBOX_O_RDONLY, 0);
	GUEST_ASSERT_EQ(fd, fds[0]);
	for (int i = 0; i < n; i++)
		GUEST_ASSERT_EQ(HC_close(fds[i]), 0);
	HC_exit(n);
}
