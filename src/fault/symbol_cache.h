/* The symbolizers of the images VMs loaded, opened at kvmbox_vm_load for a later fault report
 * and shared: a thousand VMs of one image hold one copy of it and one libdw session, not a
 * thousand. */
#ifndef KVMBOX_FAULT_IMAGES_H
#define KVMBOX_FAULT_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct debuginfo;

struct image_copy {
	struct image_copy *next; /* the process's list of copies (symbol_cache.c) */
	unsigned refs;
	struct debuginfo *di;    /* the symbolizer, holding its own copy of the bytes; NULL
				  * until the first lookup when BYTES is set */
	const void *bytes;       /* a deferred symbolizer's image: a copy, or the caller's
				  * own bytes (KEPT); NULL when DI was opened at once */
	size_t size;
	bool kept;               /* BYTES are the caller's, not to be freed */
};

/* The symbolizer of the SIZE bytes at DATA: an existing one for the same bytes (one more
 * reference) or a new one. Debug data that might name other files (an image that
 * debuginfo_may_name_other_files cannot clear) is opened here, when the VM is loaded, so
 * that every file libdw may want is looked at, and such DWARF refused, before the process
 * sandbox forbids opening files, never at a fault. Any other image is only copied, and its
 * symbolizer opened at the first lookup: libdw's open reads nothing but the copy then, and
 * costs a start that never faults 70-150 us less (docs/performance.md). NULL when memory
 * runs out. KEPT: the caller keeps DATA valid and unchanged while the reference is held
 * (kvmbox_image.data_kept), so a deferred symbolizer reads it in place, with no copy.
 * Thread-safe. */
const struct image_copy *image_copy_get(const void *data, size_t size, bool kept);

/* One more reference to C (NULL is fine): the same symbolizer for a VM forked from one that
 * has it. */
const struct image_copy *image_copy_ref(const struct image_copy *c);

/* The image C holds a copy of (its size in *SIZE); valid while the reference is held. */
const void *image_copy_bytes(const struct image_copy *c, size_t *size);

/* Drop a reference from image_copy_get (NULL is fine); the last one frees the copy. */
void image_copy_put(const struct image_copy *c);

/* Was C's DWARF refused because it names other files (debuginfo_refused)? false for NULL. */
bool image_copy_refused(const struct image_copy *c);

/* debuginfo_describe of C's image for ADDR into BUF (LEN bytes), or "" when nothing is known
 * about ADDR (C may be NULL), through text_printable (names are the image's, the guest's
 * text). Serialized: libdw fills its caches at lookups, and VMs of one image may fault on
 * several threads at once. Returns the length written. */
size_t image_copy_describe(const struct image_copy *c, uint64_t addr, char *buf, size_t len);

#endif
