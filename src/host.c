/* What this host's KVM can do. Modes are found by running a guest, never by the module's
 * name: a mode is "not supported" only when its one-instruction guest faults (e.g.
 * KVM_EXIT_SHUTDOWN); a failing KVM call or a hang is an error, not an answer. The device
 * probe describes the host around /dev/kvm and words the one-line cause when it is unusable. */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "kvmbox/kvmbox.h"
#include "kvm.h"
#include "log.h"

#define PROBE_ADDR 0x1000
#define PROBE_TIMEOUT_NS 2000000000ull

int kvmbox_host_supports_mode(enum kvmbox_mode mode, struct kvmbox_error *err)
{
	static const uint8_t hlt = 0xf4;
	struct kvmbox_vm_config cfg = { .name = "probe", .mode = mode, .mem_size = KVMBOX_MEM_MIN,
					.console_fd = -1 };
	struct kvmbox_run_opts opts = { .flags = KVMBOX_RUN_STOP_AT_DEADLINE };
	struct kvmbox_image img;
	struct kvmbox_result res;
	struct kvmbox_vm *vm;
	struct timespec ts;
	int ret;

	ret = kvmbox_vm_create(&vm, &cfg, err);
	if (ret < 0)
		return ret;
	ret = kvmbox_image_parse(&img, &hlt, 1, true, PROBE_ADDR, PROBE_ADDR, err);
	if (ret == 0)
		ret = kvmbox_vm_load(vm, &img, err);
	if (ret < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	opts.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + PROBE_TIMEOUT_NS;
	ret = kvmbox_vm_run(vm, &opts, &res);
	if (ret < 0)
		goto out;
	if (res.stop == KVMBOX_STOP_HALT) {
		ret = 1;
	} else if (res.stop != KVMBOX_STOP_FAULT) {
		/* Not an answer about the mode: KVM itself failed, or the probe hung. */
		ret = set_error(err, EIO, "probing %s mode: %s", kvmbox_mode_name(mode), res.msg);
	} else {
		set_error(err, ENOTSUP,
			  "this host's KVM cannot run %s mode: a one-instruction %s-mode guest ended in %s instead of halting%s",
			  kvmbox_mode_name(mode), kvmbox_mode_name(mode),
			  kvmbox_exit_name(res.exit_reason),
			  mode == KVMBOX_MODE_PAGED32 ? " (nested/paravirtual KVMs such as kvm_pvm lack 32-bit paging)" : "");
		ret = 0;
	}
out:
	kvmbox_vm_destroy(vm);
	return ret;
}

/* ---- The device and the host around it (kvmbox_host_probe) ------------------------------ */

const char *kvmbox_host_state_name(enum kvmbox_host_state state)
{
	static const char *const names[KVMBOX_HOST_STATE_COUNT] = {
		[KVMBOX_HOST_OK] = "ok",
		[KVMBOX_HOST_NO_MODULE] = "no-module",
		[KVMBOX_HOST_NO_VIRT] = "no-virt",
		[KVMBOX_HOST_NO_DEVICE] = "no-device",
		[KVMBOX_HOST_NO_PERMISSION] = "no-permission",
		[KVMBOX_HOST_NOT_KVM] = "not-kvm",
		[KVMBOX_HOST_BAD_API] = "bad-api",
		[KVMBOX_HOST_NO_CAP] = "no-cap",
		[KVMBOX_HOST_OPEN_FAILED] = "open-failed",
	};

	return (unsigned)state < KVMBOX_HOST_STATE_COUNT ? names[state] : "?";
}

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
	for (i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
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

void host_read_facts(struct kvmbox_host_info *info)
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
static void __attribute__((format(printf, 2, 3))) say(struct kvmbox_host_info *info, const char *fmt, ...)
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

void host_word_cause(struct kvmbox_host_info *info, int errnum)
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

int host_explain(struct kvmbox_host_info *info, int errnum)
{
	host_read_facts(info);
	host_word_cause(info, errnum);
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

int kvmbox_host_probe(const char *device, struct kvmbox_host_info *info)
{
	int fd = kvm_open_device(device ? device : KVMBOX_DEVICE_DEFAULT, NULL, info);

	if (fd < 0)
		return fd;
	close(fd);
	host_read_facts(info);
	return 0;
}
