/* `kvmbox run --walk GVA`: the translation of each address under the guest's state at the end
 * of its run (docs/page-walks.md). */
#ifndef KVMBOX_CLI_WALK_H
#define KVMBOX_CLI_WALK_H

#include "kvmbox/kvmbox.h"
#include "opts.h"

/* Print the full walk of each of V's --walk addresses for VM on stderr, each preceded by
 * "[NAME] " lines when PREFIX (several VMs). */
void cli_print_walks(const struct kvmbox_vm *vm, const struct vm_opts *v, bool prefix);

#endif
