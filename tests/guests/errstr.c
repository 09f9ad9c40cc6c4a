/* errstr() in every mode: the texts of a few -KVMBOX_E* numbers, one that a real hypercall
 * returned (a missing file without a share is -KVMBOX_EPERM), success and an unknown number.
 * Halts with eax = 0; a wrong text fails a GUEST_ASSERT. */
#include "kvmbox/guest.h"

int main(void)
{
	GUEST_ASSERT(strcmp(errstr(-KVMBOX_ENOENT), "no such file or directory") == 0);
	GUEST_ASSERT(strcmp(errstr(-KVMBOX_EPERM), "operation not permitted") == 0);
	GUEST_ASSERT(strcmp(errstr(-KVMBOX_EBADF), "bad file descriptor") == 0);
	GUEST_ASSERT(strcmp(errstr(-KVMBOX_EXDEV), "path leaves the share") == 0);
	GUEST_ASSERT(strcmp(errstr(-KVMBOX_ELOOP), "too many levels of symbolic links") == 0);
	GUEST_ASSERT(strcmp(errstr(-KVMBOX_EDQUOT), "share quota exceeded") == 0);
	GUEST_ASSERT(strcmp(errstr(-KVMBOX_ETXTBSY), "the VM's memory is mapped from this file") == 0);
	GUEST_ASSERT(strcmp(errstr(0), "success") == 0);
	GUEST_ASSERT(strcmp(errstr(7), "success") == 0);
	GUEST_ASSERT(strcmp(errstr(-3), "unknown error") == 0);
	GUEST_ASSERT(strcmp(errstr(-4096), "unknown error") == 0);
	GUEST_ASSERT(strcmp(errstr(INT32_MIN), "unknown error") == 0);
	/* No share: every file call is -KVMBOX_EPERM (docs/abi.md). */
	GUEST_ASSERT(strcmp(errstr(HC_open("x", KVMBOX_O_RDONLY, 0)), "operation not permitted") == 0);
	return 0;
}
