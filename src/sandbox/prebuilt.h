/* The seccomp filter prebuilt when kvmbox is built (src/sandbox/prebuilt_gen.c): the one a
 * run whose VMs have no share and no gdb stub loads, so that kvmbox_sandbox_enter need not
 * build it again with libseccomp at every start. Internal to the sandbox and its generator. */
#ifndef KVMBOX_SANDBOX_PREBUILT_H
#define KVMBOX_SANDBOX_PREBUILT_H

#include <linux/filter.h>
#include "kvmbox/sandbox.h"

/* Defined by the generated $(BUILD)/gen/seccomp_prebuilt.c, which only the kvmbox command
 * links; weak, so that the library alone (embedders, the generator) has none and builds the
 * filter at run time. */
extern const struct sock_filter kvmbox_seccomp_prebuilt[] __attribute__((weak));
extern const unsigned short kvmbox_seccomp_prebuilt_len __attribute__((weak));

/* Write the BPF program kvmbox_sandbox_enter would load for CFG, as libseccomp generates it
 * (struct sock_filter entries, host byte order), to FD. Returns 0 or -errno. */
int sandbox_export_bpf(const struct kvmbox_sandbox_config *cfg, int fd);

#endif
