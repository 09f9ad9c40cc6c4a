/* The one door to KVM: every ioctl goes through kvm_ioctl_named(), which knows the ioctl's
 * name (errors read "KVM_SET_SREGS: Invalid argument") and traces each call with --trace.
 * Callers reach it through macros that check the argument against the request at compile
 * time: vm_ioctl, vcpu_ioctl and kvm_sys_ioctl on a VM's descriptors (vm/vm.h), kvm_ioctl on
 * a bare descriptor. Opening the device checks it once against the one table of
 * capabilities kvmbox uses. */
#ifndef KVMBOX_KVM_H
#define KVMBOX_KVM_H

#include <linux/ioctl.h>
#include "kvmbox/kvmbox.h"

/* Issue ioctl REQ on FD. Returns the ioctl's non-negative result, or -errno with ERR set to
 * "NAME: strerror". EINTR is returned to the caller (KVM_RUN uses it), never retried here.
 * LOG may be NULL; at TRACE level every call and its result are logged. Call it through
 * kvm_ioctl_checked (or a macro built on it), never directly: ARG is unchecked here. */
int kvm_ioctl_named(const struct kvmbox_log *log, const char *who, int fd, unsigned long req,
		    const char *name, unsigned long arg, struct kvmbox_error *err);

/* The argument a request takes, from the size its number encodes (_IOC_SIZE: the struct
 * named in its _IOR/_IOW/_IOWR in <linux/kvm.h>, the "Parameters" of the KVM API doc): a
 * request with a size takes a pointer to exactly that many bytes (a flexible-array request
 * such as KVM_SET_CPUID2 a pointer to its header struct, the entries following it); a request
 * without one (_IO: KVM_RUN, KVM_CREATE_VM, KVM_CHECK_EXTENSION ...) takes an integer or
 * nothing (0). A void pointer is refused: its size says nothing. GCC's and clang's
 * __builtin_classify_type tells a pointer (type class 5, arrays decay) from an integer;
 * __builtin_choose_expr keeps sizeof(*ARG) valid when ARG is an integer. */
#define KVM_ARG_IS_PTR(arg) (__builtin_classify_type(arg) == 5)
#define KVM_ARG_IS_VOID_PTR(arg) _Generic((arg), void *: 1, const void *: 1, default: 0)
#define KVM_ARG_PTR_SIZE(arg) sizeof(*__builtin_choose_expr(KVM_ARG_IS_PTR(arg), (arg), (char *)0))
#define KVM_ARG_FITS(req, arg)                                                               \
	(_IOC_SIZE(req) ? KVM_ARG_IS_PTR(arg) && !KVM_ARG_IS_VOID_PTR(arg) &&                \
				  KVM_ARG_PTR_SIZE(arg) == _IOC_SIZE(req)                    \
			: !KVM_ARG_IS_PTR(arg))

/* kvm_ioctl_named with REQ (a constant) and ARG checked at compile time: a mismatch stops
 * the build with "NAME: ...". The scoped macros pass NAME, the request as written (#REQ),
 * so that errors and traces name it rather than its number. */
#define kvm_ioctl_checked(log, who, fd, req, name, arg, err)                                 \
	({                                                                                   \
		_Static_assert(KVM_ARG_FITS(req, arg),                                       \
			       name ": the argument is not what the request encodes: a "     \
				    "pointer to its _IOC_SIZE bytes, or an integer");        \
		kvm_ioctl_named((log), (who), (fd), (req), (name), (unsigned long)(arg), (err)); \
	})

/* REQ on a bare descriptor FD, for the code that has no kvmbox VM around its descriptors
 * (opening /dev/kvm, the gdb feature's probe VM). A VM's code uses vm/vm.h's helpers. */
#define kvm_ioctl(log, who, fd, req, arg, err) kvm_ioctl_checked(log, who, fd, req, #req, arg, err)

/* Fill DBG for KVM_SET_GUEST_DEBUG: CONTROL (KVM_GUESTDBG_* bits, 0 turns debugging off),
 * the breakpoint addresses DR[0..3] and DR7 (Intel SDM Vol. 3, 18.2). */
void kvm_guest_debug_init(struct kvm_guest_debug *dbg, uint32_t control, const uint64_t dr[4],
			  uint64_t dr7);

/* Open PATH (O_RDWR | O_CLOEXEC) and check it: KVM_GET_API_VERSION == 12 and every
 * capability in kvm/kvm.c's table (INFO->caps gets each value, required or optional). Returns
 * the fd with INFO->state OK; otherwise closes what it opened, reads the facts and words the
 * cause (kvm_read_facts, kvm_word_cause: INFO->state and ->cause) and returns -ENODEV (no
 * device or driver), -EACCES/-EPERM, -ENOTTY (not KVM), -ENOTSUP (API or capability) or
 * open's -errno. Facts are read only on failure: success costs one open and the ioctls. */
int kvm_open_device(const char *path, const struct kvmbox_log *log, struct kvmbox_host_info *info);

/* kvm_open_device on KVMBOX_DEVICE_DEFAULT with ERR set to INFO's cause on failure (the
 * sentence `kvmbox doctor` prints). Returns the fd or -errno. */
int kvm_open_checked(const struct kvmbox_log *log, struct kvmbox_error *err);

/* KVM_CHECK_EXTENSION on FD; returns the capability's value (0 = absent). The trace names
 * the capability: "KVM_CHECK_EXTENSION(KVM_CAP_SYNC_REGS) = 7". */
int kvm_cap_named(const struct kvmbox_log *log, int fd, long cap, const char *name);
#define kvm_cap(log, fd, cap) kvm_cap_named((log), (fd), (cap), #cap)

/* Fill INFO's stat fields (exists, mode, owner, group), user, modules, CPU flags and
 * hypervisor from INFO->device, /sys/module, /proc/cpuinfo and CPUID. Never fails: what
 * cannot be read stays 0/"". */
void kvm_read_facts(struct kvmbox_host_info *info);

/* From INFO's facts alone (no system access: tests call it with made-up facts), ERRNUM (the
 * failing step's errno) and INFO->state, set the final state and the one-line INFO->cause.
 * OPEN_FAILED (open failed) is refined here: ENOENT into NO_MODULE, NO_VIRT or NO_DEVICE,
 * ENODEV/ENXIO (a node without a driver) into NO_MODULE or NO_VIRT, EACCES/EPERM into
 * NO_PERMISSION. NO_CAP names the first required capability INFO->caps lacks. */
void kvm_word_cause(struct kvmbox_host_info *info, int errnum);

#endif
