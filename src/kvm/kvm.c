/* The ioctl function every KVM call goes through, the one table of capabilities kvmbox uses,
 * the device checks done once per VM (and by kvmbox_host_probe), and the one place a device
 * that cannot be used is explained, from the facts around it (modules, CPU, owner, group). */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "kvm/kvm.h"
#include "kvm/kvm_explain.h"
#include "base/log.h"
#include "kvm/kvm_trace.h"
#include "base/util.h"

int kvm_ioctl_named(const struct kvmbox_log *log, const char *who, int fd, unsigned long req,
		    const char *name, unsigned long arg, struct kvmbox_error *err)
{
	int ret = ioctl(fd, req, arg);
	int saved = errno;

	if (log_on(log, KVMBOX_LOG_TRACE))
		trace_ioctl(log, who, fd, req, name, arg, ret, saved);
	if (ret < 0)
		return set_error(err, saved, "%s: %s", name, strerror(saved));
	return ret;
}

void kvm_guest_debug_init(struct kvm_guest_debug *dbg, uint32_t control, const uint64_t dr[4],
			  uint64_t dr7)
{
	*dbg = (struct kvm_guest_debug){ .control = control };
	for (int i = 0; i < 4; i++)
		dbg->arch.debugreg[i] = dr[i];
	dbg->arch.debugreg[7] = dr7;
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
_Static_assert(ARRAY_SIZE(kvm_caps) <= KVMBOX_HOST_CAPS_MAX,
	       "struct kvmbox_host_info has room for every capability");

/* ---- The facts around the device, and why it cannot be used ------------------------- */

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Is WORD one of the space-separated words of LINE? */
static bool has_word(const char *line, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = line; (p = strstr(p, word)) != NULL; p += n)
		if ((p == line || isspace((unsigned char)p[-1])) &&
		    (p[n] == 0 || isspace((unsigned char)p[n])))
			return true;
	return false;
}

/* The CPU flags the kernel shows: vmx/svm (virtualization it can use) and hypervisor. */
static void read_cpu_flags(struct kvmbox_host_info *info)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "flags", 5))
			continue;
		info->cpu_virt = has_word(line, "vmx") || has_word(line, "svm");
		info->nested = has_word(line, "hypervisor");
		break;
	}
	free(line);
	fclose(f);
}

/* The hypervisor's vendor signature, CPUID leaf 0x40000000 (EBX, ECX, EDX), valid only when
 * the hypervisor bit (CPUID.1:ECX[31]) is set. */
static void read_hypervisor(struct kvmbox_host_info *info)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	if (!info->nested)
		return;
	__cpuid(0x40000000, a, b, c, d);
	(void)a;
	memcpy(info->hypervisor, &b, 4);
	memcpy(info->hypervisor + 4, &c, 4);
	memcpy(info->hypervisor + 8, &d, 4);
	info->hypervisor[12] = 0;
#else
	(void)info;
#endif
}

static void read_modules(struct kvmbox_host_info *info)
{
	static const char *const vendors[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	char path[64];
	size_t i;

	info->kvm_module = path_exists("/sys/module/kvm");
	for (i = 0; i < ARRAY_SIZE(vendors); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", vendors[i]);
		if (path_exists(path)) {
			snprintf(info->module, sizeof(info->module), "%s", vendors[i]);
			break;
		}
	}
	/* A device that answers as KVM without a vendor module we know: another one drives it. */
	if (!info->module[0] && info->kvm_module && info->api_version == KVM_API_VERSION)
		snprintf(info->module, sizeof(info->module), "other");
	info->paravirtual = !strcmp(info->module, "kvm_pvm");
}

static void id_name(char *buf, size_t len, uint32_t id, bool group)
{
	char tmp[1024];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	if (group ? getgrgid_r(id, &gr, tmp, sizeof(tmp), &grp) == 0 && grp
		  : getpwuid_r(id, &pw, tmp, sizeof(tmp), &pwp) == 0 && pwp)
		snprintf(buf, len, "%s", group ? gr.gr_name : pw.pw_name);
	else
		snprintf(buf, len, "%u", id);
}

void kvm_read_facts(struct kvmbox_host_info *info)
{
	struct stat st;

	if (stat(info->device, &st) == 0) {
		info->exists = true;
		info->is_chardev = S_ISCHR(st.st_mode);
		info->st_mode = st.st_mode;
		info->uid = st.st_uid;
		info->gid = st.st_gid;
		id_name(info->owner, sizeof(info->owner), st.st_uid, false);
		id_name(info->group, sizeof(info->group), st.st_gid, true);
	}
	id_name(info->user, sizeof(info->user), geteuid(), false);
	read_modules(info);
	read_cpu_flags(info);
	read_hypervisor(info);
}

/* Set INFO->cause (one line, truncated to fit). */
static void say(struct kvmbox_host_info *info, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct kvmbox_host_info *info, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(info->cause, sizeof(info->cause), fmt, ap);
	va_end(ap);
}

/* Why there is no driver: the end of a NO_MODULE / NO_VIRT / NO_DEVICE sentence. */
static const char *virt_reason(const struct kvmbox_host_info *info, char *buf, size_t len)
{
	if (info->cpu_virt)
		return "";
	if (info->nested)
		snprintf(buf, len, ": the CPU shows no VMX/SVM: this kernel runs under a hypervisor%s%s%s "
			 "without nested virtualization", info->hypervisor[0] ? " (" : "",
			 info->hypervisor, info->hypervisor[0] ? ")" : "");
	else
		snprintf(buf, len, ": the CPU shows no VMX/SVM (absent, or disabled in the firmware)");
	return buf;
}

/* No device node, or a node no driver answers (ERRNUM ENOENT, or ENODEV/ENXIO). */
static void word_no_driver(struct kvmbox_host_info *info, int errnum)
{
	const char *what = errnum == ENOENT ? "does not exist" : "exists but no KVM driver answers it";
	char why[160];

	if (!info->kvm_module) {
		info->state = info->cpu_virt ? KVMBOX_HOST_NO_MODULE : KVMBOX_HOST_NO_VIRT;
		say(info, "%s %s and the kvm module is not loaded%s", info->device, what,
		    info->cpu_virt ? " (modprobe kvm_intel or kvm_amd)" : virt_reason(info, why, sizeof(why)));
	} else if (!info->module[0]) {
		info->state = KVMBOX_HOST_NO_DEVICE;
		say(info, "%s %s: the kvm module is loaded but no vendor module (kvm_intel, kvm_amd)%s",
		    info->device, what, virt_reason(info, why, sizeof(why)));
	} else {
		info->state = KVMBOX_HOST_NO_DEVICE;
		say(info, "%s %s although the kvm module is loaded (%s): the device node is missing "
		    "(a container without the device, or udev did not make it)", info->device, what,
		    info->module);
	}
}

/* Name the group that owns the device and what suffices: joining it when the group may read
 * and write, otherwise giving the device a group first. */
static void word_permission(struct kvmbox_host_info *info)
{
	const char *dev = info->device, *g = info->group, *u = info->user;
	unsigned mode = info->st_mode & 07777;

	info->state = KVMBOX_HOST_NO_PERMISSION;
	if ((mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP))
		say(info, "permission denied: %s is mode %04o owner %s group %s and user %s is not in "
		    "group %s; joining it suffices: usermod -aG %s %s (then log in again)",
		    dev, mode, info->owner, g, u, g, g, u);
	else
		say(info, "permission denied: %s is mode %04o owner %s group %s, so group %s cannot "
		    "open it; make it 0660 group kvm (as Debian's udev rule does), then usermod -aG kvm %s",
		    dev, mode, info->owner, g, g, u);
}

static void word_no_cap(struct kvmbox_host_info *info)
{
	unsigned i;

	for (i = 0; i < info->ncaps; i++) {
		const struct kvmbox_host_cap *c = &info->caps[i];

		if ((c->value & c->need) != c->need) {
			say(info, "this host's KVM lacks %s (KVM_CHECK_EXTENSION: %d, kvmbox needs %d), "
			    "used for %s", c->name, c->value, c->need, c->use);
			return;
		}
	}
	say(info, "this host's KVM lacks a capability kvmbox needs");
}

void kvm_word_cause(struct kvmbox_host_info *info, int errnum)
{
	const char *dev = info->device;

	info->cause[0] = 0;
	switch (info->state) {
	case KVMBOX_HOST_OK:
		return;
	case KVMBOX_HOST_NOT_KVM:
		if (info->exists && !info->is_chardev)
			say(info, "%s is not a KVM device: not a character device", dev);
		else
			say(info, "%s is not a KVM device (KVM_GET_API_VERSION: %s)", dev, strerror(errnum));
		return;
	case KVMBOX_HOST_BAD_API:
		say(info, "%s answers KVM_GET_API_VERSION with %d; kvmbox needs %d", dev,
		    info->api_version, KVM_API_VERSION);
		return;
	case KVMBOX_HOST_NO_CAP:
		word_no_cap(info);
		return;
	default:
		break;
	}
	if (errnum == ENOENT || ((errnum == ENODEV || errnum == ENXIO) && !info->kvm_module))
		word_no_driver(info, errnum);
	else if (errnum == EACCES || errnum == EPERM)
		word_permission(info);
	else
		say(info, "%s: %s", dev, strerror(errnum));
}

/* Read the facts, word the cause; returns the -errno the failure maps to. */
static int explain(struct kvmbox_host_info *info, int errnum)
{
	kvm_read_facts(info);
	kvm_word_cause(info, errnum);
	switch (info->state) {
	case KVMBOX_HOST_NO_MODULE:
	case KVMBOX_HOST_NO_VIRT:
	case KVMBOX_HOST_NO_DEVICE:
		return -ENODEV;
	case KVMBOX_HOST_NOT_KVM:
		return -ENOTTY;
	case KVMBOX_HOST_BAD_API:
	case KVMBOX_HOST_NO_CAP:
		return -ENOTSUP;
	default:
		return -(errnum ? errnum : EIO);
	}
}

/* ---- Opening the device -------------------------------------------------------------- */

/* INFO before anything is known: the capability table, no value asked yet. */
static void info_init(struct kvmbox_host_info *info, const char *path)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	info->state = KVMBOX_HOST_OK;
	info->device = path;
	info->open_errno = -1;
	info->api_version = -1;
	info->ncaps = ARRAY_SIZE(kvm_caps);
	for (i = 0; i < info->ncaps; i++)
		info->caps[i] = (struct kvmbox_host_cap){ .name = kvm_caps[i].name,
							  .use = kvm_caps[i].use,
							  .need = kvm_caps[i].need, .value = -1 };
}

/* Ask every capability; the first required one lacking bits makes the state NO_CAP. */
static void check_caps(const struct kvmbox_log *log, int fd, struct kvmbox_host_info *info)
{
	size_t i;

	explain_step(log, NULL, "KVM_CHECK_EXTENSION");
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
		return explain(info, info->open_errno);
	}
	info->open_errno = 0;
	trace_step(log, NULL, "open /dev/kvm", "open(\"%s\", O_RDWR | O_CLOEXEC) = %d (the system fd)",
		   path, fd);
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
	return explain(info, ret < 0 ? -ret : 0);
}

int kvm_open_checked(const struct kvmbox_log *log, struct kvmbox_error *err)
{
	struct kvmbox_host_info info;
	int fd = kvm_open_device(KVMBOX_DEVICE_DEFAULT, log, &info);

	if (fd < 0)
		return set_error(err, -fd, "%s", info.cause);
	return fd;
}
