/* errstr(): the text of the negative error numbers hypercalls return (include/kvmbox/abi.h,
 * docs/abi.md), worded like the C library's strerror but in lower case. */
#include "kvmbox/guest.h"

static const char *const texts[] = {
	[KVMBOX_EPERM] = "operation not permitted",
	[KVMBOX_ENOENT] = "no such file or directory",
	[KVMBOX_EIO] = "input/output error",
	[KVMBOX_EBADF] = "bad file descriptor",
	[KVMBOX_EAGAIN] = "resource temporarily unavailable",
	[KVMBOX_EACCES] = "permission denied",
	[KVMBOX_EFAULT] = "bad address",
	[KVMBOX_EEXIST] = "file exists",
	[KVMBOX_EXDEV] = "path leaves the share",
	[KVMBOX_ENOTDIR] = "not a directory",
	[KVMBOX_EISDIR] = "is a directory",
	[KVMBOX_EINVAL] = "invalid argument",
	[KVMBOX_EMFILE] = "too many open files",
	[KVMBOX_ETXTBSY] = "the VM's memory is mapped from this file",
	[KVMBOX_EFBIG] = "file too large",
	[KVMBOX_ENOSPC] = "no space left on device",
	[KVMBOX_ESPIPE] = "illegal seek",
	[KVMBOX_EROFS] = "read-only file system",
	[KVMBOX_ERANGE] = "result out of range",
	[KVMBOX_ENAMETOOLONG] = "file name too long",
	[KVMBOX_ENOSYS] = "function not implemented",
	[KVMBOX_ELOOP] = "too many levels of symbolic links",
};

const char *errstr(int err)
{
	unsigned n;

	if (err >= 0)
		return "success";
	n = 0u - (unsigned)err;
	if (n == KVMBOX_EDQUOT) /* far above the others: not worth a table of 123 */
		return "share quota exceeded";
	if (n < sizeof(texts) / sizeof(texts[0]) && texts[n])
		return texts[n];
	return "unknown error";
}
