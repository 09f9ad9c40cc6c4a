/* Reading an image file into memory, with a size cap, for kvmbox_image_parse. */
#ifndef KVMBOX_IMAGE_FILE_H
#define KVMBOX_IMAGE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "kvmbox/kvmbox.h"

/* Read the whole regular file PATH into a new malloc'd buffer. On success returns 0, sets
 * *DATA (never NULL, even for an empty file; the caller frees it) and *SIZE (may be 0: the
 * parser refuses empty images with a clear message). On failure returns a negative errno with
 * *DATA = NULL, *SIZE = 0 and ERR (may be NULL) naming PATH:
 *   -EISDIR (a directory), -EINVAL (not a regular file: device, FIFO, socket; never blocks),
 *   -EFBIG (larger than KVMBOX_IMAGE_MAX_SIZE), -ENOMEM, or the errno of open/fstat/read. */
int image_file_read(const char *path, uint8_t **data, size_t *size, struct kvmbox_error *err);

#endif
