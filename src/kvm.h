/* The one door to KVM: every ioctl goes through kvm_ioctl(), which knows the ioctl's name
 * (errors read "KVM_SET_SREGS: Invalid argument") and traces each call with --trace. */
#ifndef KVMBOX_KVM_H
#define KVMBOX_KVM_H

#include "kvmbox/kvmbox.h"

/* Issue ioctl REQ on FD. Returns the ioctl's non-negative result, or -errno with ERR set to
 * "NAME: strerror". EINTR is returned to the caller (KVM_RUN uses it), never retried here.
 * LOG may be NULL; at TRACE level every call and its result are logged. */
int kvm_ioctl_named(const struct kvmbox_log *log, const char *who, int fd, unsigned long req,
		    const char *name, unsigned long arg, struct kvmbox_error *err);

#define kvm_ioctl(log, who, fd, req, arg, err) \
	kvm_ioctl_named((log), (who), (fd), (req), #req, (unsigned long)(arg), (err))

/* Open /dev/kvm (O_CLOEXEC), check KVM_GET_API_VERSION == 12 and the capabilities kvmbox
 * needs. Returns the fd or -errno with ERR naming what is missing. */
int kvm_open_checked(const struct kvmbox_log *log, struct kvmbox_error *err);

/* KVM_CHECK_EXTENSION on FD; returns the capability's value (0 = absent). The trace names
 * the capability: "KVM_CHECK_EXTENSION(KVM_CAP_SYNC_REGS) = 7". */
int kvm_cap_named(const struct kvmbox_log *log, int fd, long cap, const char *name);
#define kvm_cap(log, fd, cap) kvm_cap_named((log), (fd), (cap), #cap)

#endif
