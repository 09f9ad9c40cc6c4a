/* The seccomp filter prebuilt when kvmbox is built (src/sandbox/prebuilt_gen.c): the program
 * libseccomp makes from the sandbox's rules for the common run, one VM with no share, no gdb
 * stub and no reset point, whose console may still switch to the coalesced ring. Only its two
 * descriptors differ from run to run; they are written into it at load, so that a start need
 * not build the filter with libseccomp again (~0.1 ms of a hello run: docs/performance.md).
 * Internal to the sandbox, its generator and tests/unit/test_prebuilt.c. */
#ifndef KVMBOX_SANDBOX_PREBUILT_H
#define KVMBOX_SANDBOX_PREBUILT_H

#include <linux/filter.h>
#include "kvmbox/sandbox.h"

/* Which descriptor an instruction's constant is. */
enum { PREBUILT_VM_FD, PREBUILT_VCPU_FD };

struct prebuilt_patch {
	unsigned short insn; /* index into the program */
	unsigned short fd;   /* PREBUILT_*_FD: its k becomes that descriptor */
};

/* Defined by the generated $(BUILD)/gen/seccomp_prebuilt.c, which only the kvmbox command
 * links; weak, so that the library alone (embedders, the generator itself) has none and builds
 * every filter at run time. */
extern const struct sock_filter kvmbox_seccomp_prebuilt[] __attribute__((weak));
extern const unsigned short kvmbox_seccomp_prebuilt_len __attribute__((weak));
extern const struct prebuilt_patch kvmbox_seccomp_prebuilt_patch[] __attribute__((weak));
extern const unsigned short kvmbox_seccomp_prebuilt_npatch __attribute__((weak));

/* Write the BPF program kvmbox_sandbox_enter would build for CFG, as libseccomp generates it
 * (struct sock_filter entries, host byte order), to FD. Returns 0 or -errno. */
int sandbox_export_bpf(const struct kvmbox_sandbox_config *cfg, int fd);

/* Is CFG the run the prebuilt program is for (whatever its descriptors)? */
bool sandbox_prebuilt_fits(const struct kvmbox_sandbox_config *cfg);

/* The prebuilt program with CFG's descriptors in PROG (room for kvmbox_seccomp_prebuilt_len
 * instructions); CFG must fit (sandbox_prebuilt_fits). Returns the program's length. */
unsigned sandbox_prebuilt_fill(const struct kvmbox_sandbox_config *cfg, struct sock_filter *prog);

#endif
