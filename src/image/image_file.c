/* kvmbox_image_read_file: read an image file into a malloc'd buffer, regular files only, at
 * most KVMBOX_IMAGE_MAX_SIZE bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmbox/kvmbox.h"

static int fail(struct kvmbox_error *err, int rc, const char *path, const char *what)
{
	if (err)
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, what);
	return rc;
}

/* Open PATH for reading and check it is a regular file of an acceptable size. Returns the
 * descriptor (the caller closes it) with *LEN set, or a negative errno. */
static int open_image(const char *path, size_t *len, struct kvmbox_error *err)
{
	struct stat st;
	int fd, rc;

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before the
	 * fstat below could refuse it. It changes nothing for regular files. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(err, -errno, path, strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = fail(err, -errno, path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = fail(err, -EISDIR, path, "is a directory, not an image file");
	else if (!S_ISREG(st.st_mode))
		rc = fail(err, -EINVAL, path, "not a regular file");
	else if ((uint64_t)st.st_size > KVMBOX_IMAGE_MAX_SIZE) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: file too large (%lld bytes, at most %llu)",
				 path, (long long)st.st_size, KVMBOX_IMAGE_MAX_SIZE);
		rc = -EFBIG;
	} else {
		*len = (size_t)st.st_size;
		return fd;
	}
	close(fd);
	return rc;
}

/* Read up to LEN bytes (the size fstat saw) into BUF; a file that shrinks meanwhile yields
 * what is left. Returns the count or a negative errno. */
static ssize_t read_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int kvmbox_image_read_file(const char *path, uint8_t **data, size_t *size, struct kvmbox_error *err)
{
	uint8_t *buf;
	ssize_t got;
	size_t len = 0;
	int fd;

	if (!path || !data || !size)
		return fail(err, -EINVAL, path ? path : "(null)", "kvmbox_image_read_file: NULL argument");
	*data = NULL;
	*size = 0;
	fd = open_image(path, &len, err);
	if (fd < 0)
		return fd;
	buf = malloc(len ? len : 1);
	if (!buf) {
		close(fd);
		return fail(err, -ENOMEM, path, strerror(ENOMEM));
	}
	got = read_all(fd, buf, len);
	close(fd);
	if (got < 0) {
		free(buf);
		return fail(err, (int)got, path, strerror((int)-got));
	}
	*data = buf;
	*size = (size_t)got;
	return 0;
}
