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

int kvm_cap_named(const struct kvmbox_log *log, int fd, long cap, const char *name)
{
	int ret = kvm_ioctl(NULL, NULL, fd, KVM_CHECK_EXTENSION, cap, NULL);

	log_msg(log, KVMBOX_LOG_TRACE, NULL, "ioctl(fd %d, KVM_CHECK_EXTENSION(%s)) = %d", fd, name, ret);
	return ret < 0 ? 0 : ret;
}

/* Capabilities every VM needs. KVM_CAP_COALESCED_PIO is optional (console falls back to
 * one exit per byte) and checked where it is used. */
static const struct {
	long cap;
	const char *name;
	int need; /* bits the capability's value must have */
} required_caps[] = {
#define CAP(c, need) { c, #c, need }
	CAP(KVM_CAP_USER_MEMORY, 1),
	CAP(KVM_CAP_SET_TSS_ADDR, 1),
	/* Registers on every exit without KVM_GET_REGS/SREGS (KVM API doc, 5 "kvm_run"). */
	CAP(KVM_CAP_SYNC_REGS, KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS),
	CAP(KVM_CAP_EXT_CPUID, 1),
#undef CAP
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
		int have = kvm_cap_named(log, fd, required_caps[i].cap, required_caps[i].name);

		if ((have & required_caps[i].need) != required_caps[i].need) {
			ret = set_error(err, ENOTSUP, "KVM_CHECK_EXTENSION: %s is %s on this host",
					required_caps[i].name, have ? "incomplete" : "missing");
			goto close_fd;
		}
	}
	return fd;

close_fd:
	close(fd);
	return ret;
}
