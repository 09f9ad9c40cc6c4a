/* Read-only copies of the images VMs loaded, kept for the symbolizer of a later fault report
 * and shared: a thousand VMs of one image hold one copy, not a thousand. */
#ifndef KVMBOX_FAULT_IMAGES_H
#define KVMBOX_FAULT_IMAGES_H

#include <stddef.h>
#include <stdint.h>

struct image_copy {
	struct image_copy *next; /* the process's list of copies (images.c) */
	unsigned refs;
	size_t size;
	uint8_t data[];
};

/* A copy of the SIZE bytes at DATA: an existing one with the same bytes (one more reference)
 * or a new one. NULL when memory runs out. Thread-safe. */
const struct image_copy *image_copy_get(const void *data, size_t size);

/* Drop a reference from image_copy_get (NULL is fine); the last one frees the copy. */
void image_copy_put(const struct image_copy *c);

#endif
