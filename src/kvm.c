/* The ioctl wrapper every KVM call goes through, the one table of capabilities kvmbox uses,
 * and the device checks done once per VM (and by kvmbox_host_probe). */
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

/* Every capability kvmbox uses. NEED: the bits the value must have for any VM to be created;
 * 0 marks an optional one, checked again where it is used (kvmbox works without it). */
static const struct {
	long cap;
	const char *name;
	int need;
	const char *use;
} kvm_caps[] = {
#define CAP(c, need, use) { c, #c, need, use }
	CAP(KVM_CAP_USER_MEMORY, 1, "guest memory from an mmap (KVM_SET_USER_MEMORY_REGION)"),
	CAP(KVM_CAP_SET_TSS_ADDR, 1, "KVM_SET_TSS_ADDR (Intel needs the TSS area)"),
	/* Registers on every exit without KVM_GET_REGS/SREGS (KVM API doc, 5 "kvm_run"). */
	CAP(KVM_CAP_SYNC_REGS, KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS,
	    "registers in kvm_run at every exit (REGS|SREGS; EVENTS for fast reset)"),
	CAP(KVM_CAP_EXT_CPUID, 1, "KVM_GET_SUPPORTED_CPUID for the guest's CPUID"),
	CAP(KVM_CAP_COALESCED_PIO, 0, "console bytes on port 0xE9 without an exit"),
	CAP(KVM_CAP_COALESCED_MMIO, 0, "the ring coalesced PIO writes into"),
	CAP(KVM_CAP_IMMEDIATE_EXIT, 0, "kvmbox_vm_reset after a run that ended in an I/O exit"),
#undef CAP
};
_Static_assert(sizeof(kvm_caps) / sizeof(kvm_caps[0]) <= KVMBOX_HOST_CAPS_MAX,
	       "struct kvmbox_host_info has room for every capability");

/* INFO before anything is known: the capability table, no value asked yet. */
static void info_init(struct kvmbox_host_info *info, const char *path)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	info->state = KVMBOX_HOST_OK;
	info->device = path;
	info->open_errno = -1;
	info->api_version = -1;
	info->ncaps = sizeof(kvm_caps) / sizeof(kvm_caps[0]);
	for (i = 0; i < info->ncaps; i++)
		info->caps[i] = (struct kvmbox_host_cap){ .name = kvm_caps[i].name,
							  .use = kvm_caps[i].use,
							  .need = kvm_caps[i].need, .value = -1 };
}

/* Ask every capability; the first required one lacking bits makes the state NO_CAP. */
static void check_caps(const struct kvmbox_log *log, int fd, struct kvmbox_host_info *info)
{
	size_t i;

	for (i = 0; i < info->ncaps; i++) {
		struct kvmbox_host_cap *c = &info->caps[i];

		c->value = kvm_cap_named(log, fd, kvm_caps[i].cap, c->name);
		if ((c->value & c->need) != c->need && info->state == KVMBOX_HOST_OK)
			info->state = KVMBOX_HOST_NO_CAP;
	}
}

int kvm_open_device(const char *path, const struct kvmbox_log *log, struct kvmbox_host_info *info)
{
	int fd, ret;

	info_init(info, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		info->open_errno = errno;
		info->state = KVMBOX_HOST_OPEN_FAILED;
		return host_explain(info, info->open_errno);
	}
	info->open_errno = 0;
	ret = kvm_ioctl(log, NULL, fd, KVM_GET_API_VERSION, 0, NULL);
	if (ret < 0) {
		info->state = KVMBOX_HOST_NOT_KVM;
		goto close_fd;
	}
	info->api_version = ret;
	if (ret != KVM_API_VERSION) {
		info->state = KVMBOX_HOST_BAD_API;
		goto close_fd;
	}
	check_caps(log, fd, info);
	if (info->state == KVMBOX_HOST_OK)
		return fd;
	ret = 0;

close_fd:
	close(fd);
	return host_explain(info, ret < 0 ? -ret : 0);
}

int kvm_open_checked(const struct kvmbox_log *log, struct kvmbox_error *err)
{
	struct kvmbox_host_info info;
	int fd = kvm_open_device(KVMBOX_DEVICE_DEFAULT, log, &info);

	if (fd < 0)
		return set_error(err, -fd, "%s", info.cause);
	return fd;
}
