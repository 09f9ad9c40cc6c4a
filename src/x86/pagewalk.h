/* The described walk: the software walker (pagewalk.c) recording every level it reads, segment
 * arithmetic before it, and the two renderings of the result (x86 internal; the generic side
 * is src/vm/vm_walk.c, which adds the memslot and host address). */
#ifndef KVMBOX_X86_WALK_H
#define KVMBOX_X86_WALK_H

#include "x86/x86.h"

/* Segment step for GVA, an offset in DS (SDM Vol 3A 3.4; real mode 20.1.1): fills W's
 * segment fields and W->linear. In 64-bit code segmentation is flat: linear = GVA,
 * W->segment NULL. Returns 0, or -EFAULT with W->why set ("ds is unusable", "beyond the ds
 * limit") and W->mapped false. */
int x86_walk_segment(const struct kvm_sregs *sregs, gva_t gva, struct kvmbox_walk *w);

/* Translate LINEAR with paging state P as x86_walk does (same result, same refusals),
 * recording into W: paging, cr3, each level read (levels, nlevels), mapped, why, gpa and
 * page_size. The segment and memory fields of W are left alone. Returns 0 or -EFAULT. */
int x86_walk_describe(const struct gmem *mem, const struct x86_paging *p, gva_t linear,
		      unsigned access, struct kvmbox_walk *w);

/* The renderings of kvmbox_walk_format: BRIEF one line of levels, else the full text. */
size_t x86_walk_format(const struct kvmbox_walk *w, bool short_form, char *buf, size_t len);

#endif
