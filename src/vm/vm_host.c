/* What this host's KVM can do. Modes are found by running a guest, never by the module's
 * name: a mode is "not supported" only when its one-instruction guest faults (e.g.
 * KVM_EXIT_SHUTDOWN); a failing KVM call or a hang is an error, not an answer. The device
 * probe is kvm/kvm.c's open and check, plus the facts around the device (kvm_read_facts). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "kvmbox/kvmbox.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "base/util.h"

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
	int ret;

	ret = kvmbox_vm_create(&vm, &cfg, err);
	if (ret < 0)
		return ret;
	ret = kvmbox_image_parse(&img, &hlt, 1, true, PROBE_ADDR, PROBE_ADDR, err);
	if (ret == 0)
		ret = kvmbox_vm_load(vm, &img, err);
	if (ret < 0)
		goto out;
	opts.deadline_ns = now_ns() + PROBE_TIMEOUT_NS;
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

/* ---- The device (kvmbox_host_probe) ------------------------------------------------------ */

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

int kvmbox_host_probe(const char *device, struct kvmbox_host_info *info)
{
	int fd = kvm_open_device(device ? device : KVMBOX_DEVICE_DEFAULT, NULL, info);

	if (fd < 0)
		return fd;
	close(fd);
	kvm_read_facts(info);
	return 0;
}
