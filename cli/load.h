/* What both forms of `kvmbox run` do with one VM: read its image (or take the built-in hello
 * guest) under the one mode rule, create and load the VM, and speak about it afterwards
 * (registers, counters, the hello check). Each returns an exit status (cli/status.h) after
 * printing one line on stderr when it is not EXIT_OK. */
#ifndef KVMBOX_CLI_LOAD_H
#define KVMBOX_CLI_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"
#include "opts.h"

/* Read and parse V's image into IMG (the built-in hello guest of V's mode, default long,
 * when V has none) and set *MODE to the mode it runs in. The mode rule: an ELF runs in its
 * own mode (its mode note, else long for ELF64, protected for ELF32) and --mode may only
 * repeat it; a flat binary runs in --mode, which it needs. *FILE holds the bytes IMG
 * borrows; the caller frees it (also on failure). EXIT_USAGE for a bad image. */
int cli_image_read(const struct vm_opts *v, uint8_t **file, struct kvmbox_image *img,
		   enum kvmbox_mode *mode);

/* Create the VM of CFG (mode set) and load IMG into it: EXIT_NO_KVM (doctor's line printed),
 * EXIT_UNSUPPORTED (this host cannot run the mode), EXIT_HOST, or EXIT_USAGE (the image
 * does not fit). WHO names the VM in messages. On failure *VMP may be set: destroy it. */
int cli_vm_start(const struct kvmbox_vm_config *cfg, const struct kvmbox_image *img,
		 const char *who, struct kvmbox_vm **vmp);

/* Make the VM of CFG from V's snapshot file (V->restore; kvmbox_vm_restore, in the mode V
 * asks for if any; COPY: read its pages rather than map them, for a file that may change while
 * the VM runs): EXIT_USAGE (not a snapshot, corrupt, another mode or size than asked, a
 * share file CFG's share cannot give back), EXIT_UNSUPPORTED (this host cannot restore some
 * of its state, or run its mode), EXIT_NO_KVM or EXIT_HOST. WHO names the VM in messages. */
int cli_vm_restore(const struct kvmbox_vm_config *cfg, const struct vm_opts *v, bool copy,
		   const char *who, struct kvmbox_vm **vmp);

/* --save FILE when the run has ended with STATUS: unless the guest asked for a snapshot
 * during the run (it has more than ASKED_BEFORE, stats.snapshots at its start: FILE holds
 * that one), save VM (WHO in messages) into FD (the open FILE) and say so,
 * or say why not (a fault leaves nothing to resume). Returns STATUS, or EXIT_HOST when the
 * save failed after a run that ended well. */
int cli_save_after(struct kvmbox_vm *vm, const char *who, const char *file, int fd, int status,
		   uint64_t asked_before);

/* The built-in hello guest passes when rax and memory[0x400] both hold 42: EXIT_OK (with an
 * "Ok" line on stderr unless QUIET) or EXIT_CHECK. */
int cli_check_hello(const struct kvmbox_vm *vm, bool quiet);

/* The guest's argv for V into ARGV (KVMBOX_ARGC_MAX entries, which run_parse keeps it
 * within): the image ("hello" for the built-in guest), then the words after `--`. Returns
 * argc. The strings are borrowed from V and the command line. */
unsigned cli_guest_argv(const struct vm_opts *v, const char **argv);

/* The general registers / the exit counters of VM, on stderr. */
void cli_print_regs(const struct kvmbox_vm *vm);
void cli_print_stats(const struct kvmbox_vm *vm);

/* The end of a command's last VM: left to the kernel, which releases it at the process's
 * exit (cli_vm_leave says why); destroyed in a sanitizer build, so that LeakSanitizer still
 * checks the library's teardown. The caller exits soon after, writing nothing more through
 * VM (its console was flushed when its run ended). */
void cli_vm_leave(struct kvmbox_vm *vm);

#endif
