/* What the call room's files share: the exports feature (call_exports.c) answers the call
 * itself (call_run.c). Internal: only src/ includes it. */
#ifndef KVMBOX_CALL_INT_H
#define KVMBOX_CALL_INT_H

#include <stdbool.h>
#include "kvmbox/kvmbox.h"
#include "base/addr.h"

struct kvmbox_vm;

/* The address of the function NAME VM's image exports. Returns 0, or -ENOENT (no such export,
 * ERR says why: no image, no exports, not among them), -EINVAL (NULL name) or -ENOMEM. */
int call_export_find(const struct kvmbox_vm *vm, const char *name, gva_t *addr, struct kvmbox_error *err);

/* Does guest-physical [START, END) overlap a segment of VM's loaded image? */
bool call_overlaps_image(const struct kvmbox_vm *vm, gpa_t start, gpa_t end);

#endif
