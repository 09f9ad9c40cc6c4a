/* The ioctl wrapper every KVM call goes through, and the /dev/kvm checks done once per VM. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "kvm.h"
#include "log.h"

int kvm_ioctl_named(const struct kvmbox_log *log, const char *who, int fd, unsigned long req,
		    const char *name, unsigned long arg, struct kvmbox_error *err)
{
	int ret = ioctl(fd, req, arg);
	int saved = errno;

	if (log_on(log, KVMBOX_LOG_TRACE))
		log_msg(log, KVMBOX_LOG_TRACE, who, "ioctl(fd %d, %s) = %d%s%s", fd, name, ret,
			ret < 0 ? " " : "", ret < 0 ? strerror(saved) : "");
	if (ret < 0)
		return set_error(err, saved, "%s: %s", name, strerror(saved));
	return ret;
}

int kvm_cap(const struct kvmbox_log *log, int fd, long cap)
{
	int ret = kvm_ioctl(log, NULL, fd, KVM_CHECK_EXTENSION, cap, NULL);

	return ret < 0 ? 0 : ret;
}

/* Capabilities every VM needs. KVM_CAP_COALESCED_PIO is optional (console falls back to
 * one exit per byte) and checked where it is used. */
static const struct {
	long cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
};

int kvm_open_checked(const struct kvmbox_log *log, struct kvmbox_error *err)
{
	int fd, ret;
	size_t i;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return set_error(err, e == ENOENT ? ENODEV : e, "/dev/kvm: %s%s", strerror(e),
				 e == ENOENT ? " (is the kvm module loaded?)" : "");
	}
	ret = kvm_ioctl(log, NULL, fd, KVM_GET_API_VERSION, 0, err);
	if (ret < 0)
		goto close_fd;
	if (ret != KVM_API_VERSION) {
		ret = set_error(err, ENOTSUP, "KVM_GET_API_VERSION: %d, kvmbox needs %d", ret,
				KVM_API_VERSION);
		goto close_fd;
	}
	for (i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (kvm_cap(log, fd, required_caps[i].cap) <= 0) {
			ret = set_error(err, ENOTSUP, "KVM_CHECK_EXTENSION: %s is missing on this host",
					required_caps[i].name);
			goto close_fd;
		}
	}
	if ((kvm_cap(log, fd, KVM_CAP_SYNC_REGS) & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) !=
	    (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
		ret = set_error(err, ENOTSUP, "KVM_CAP_SYNC_REGS lacks REGS/SREGS on this host");
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return ret;
}
