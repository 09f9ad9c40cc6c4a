/* Read an image file into a malloc'd buffer: regular files only, at most KVMBOX_IMAGE_MAX_SIZE. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_file.h"

static int fail(struct kvmbox_error *err, int rc, const char *path, const char *what)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, what);
	return rc;
}

int image_file_read(const char *path, uint8_t **data, size_t *size, struct kvmbox_error *err)
{
	struct stat st;
	uint8_t *buf;
	size_t len, got = 0;
	int fd, rc;

	if (!path || !data || !size)
		return fail(err, -EINVAL, path ? path : "(null)", "image_file_read: NULL argument");
	*data = NULL;
	*size = 0;
	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before the
	 * fstat below could refuse it. It changes nothing for regular files. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		return fail(err, rc, path, strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fail(err, rc, path, strerror(-rc));
		goto close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = fail(err, -EISDIR, path, "is a directory, not an image file");
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(err, -EINVAL, path, "not a regular file");
		goto close_fd;
	}
	if ((uint64_t)st.st_size > KVMBOX_IMAGE_MAX_SIZE) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: file too large (%lld bytes, at most %llu)",
				 path, (long long)st.st_size, KVMBOX_IMAGE_MAX_SIZE);
		rc = -EFBIG;
		goto close_fd;
	}
	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf) {
		rc = fail(err, -ENOMEM, path, strerror(ENOMEM));
		goto close_fd;
	}
	/* Read up to the size fstat saw; a file that shrinks meanwhile yields what is left. */
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			fail(err, rc, path, strerror(-rc));
			goto free_buf;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*size = got;
	return 0;

free_buf:
	free(buf);
close_fd:
	close(fd);
	return rc;
}
