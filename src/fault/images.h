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
	struct image_copy *next; /* the process's list of copies (images.c) */
	unsigned refs;
	struct debuginfo *di;    /* the symbolizer, holding its own copy of the bytes */
};

/* The symbolizer of the SIZE bytes at DATA: an existing one for the same bytes (one more
 * reference) or a new one, opened now. Opening it here, when the VM is loaded, means every
 * file libdw may want is looked at before the process sandbox forbids opening files (and
 * debug data that names other files is refused then: src/debuginfo/debuginfo.h), never at a
 * fault. NULL when memory runs out. Thread-safe. */
const struct image_copy *image_copy_get(const void *data, size_t size);

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
