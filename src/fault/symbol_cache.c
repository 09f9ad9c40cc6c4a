/* Shared symbolizers (symbol_cache.h): a short list, searched by size and then bytes, under one
 * lock (VMs may be created, destroyed and report faults on several threads). A load compares
 * at most the few distinct images a process runs; nothing on the run path looks here. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "fault/symbolize.h"
#include "base/util.h"
#include "fault/symbol_cache.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct image_copy *copies;

const void *image_copy_bytes(const struct image_copy *c, size_t *size)
{
	if (c && c->bytes) {
		*size = c->size;
		return c->bytes;
	}
	return debuginfo_image(c ? c->di : NULL, size);
}

static bool same_image(const struct image_copy *c, const void *data, size_t size)
{
	size_t n;
	const void *bytes = image_copy_bytes(c, &n);

	return n == size && !memcmp(bytes, data, size);
}

/* A new copy of DATA: its symbolizer opened now, or only the bytes kept (image_copy_get). */
static struct image_copy *copy_new(const void *data, size_t size, bool kept)
{
	struct image_copy *c = calloc(1, sizeof(*c));
	void *copy;

	if (!c)
		return NULL;
	if (!debuginfo_may_name_other_files(data, size)) {
		c->size = size;
		if (kept) { /* the caller's bytes outlive the reference: no copy */
			c->bytes = data;
			c->kept = true;
			return c;
		}
		if ((copy = malloc(size ? size : 1))) {
			memcpy(copy, data, size);
			c->bytes = copy;
			return c;
		}
	} else if (debuginfo_open(&c->di, data, size, NULL) == 0) {
		return c;
	}
	free(c);
	return NULL;
}

const struct image_copy *image_copy_get(const void *data, size_t size, bool kept)
{
	struct image_copy *c;

	pthread_mutex_lock(&lock);
	/* Caller's bytes are shared only by callers of the very same bytes: another buffer
	 * with equal contents may be freed earlier. A copy of kvmbox's own serves anyone. */
	for (c = copies; c; c = c->next)
		if (c->kept ? kept && c->bytes == data && c->size == size : same_image(c, data, size))
			break;
	if (!c && (c = copy_new(data, size, kept))) {
		c->next = copies;
		copies = c;
	}
	if (c)
		c->refs++;
	pthread_mutex_unlock(&lock);
	return c;
}

const struct image_copy *image_copy_ref(const struct image_copy *cc)
{
	struct image_copy *c = (struct image_copy *)cc;

	if (!c)
		return NULL;
	pthread_mutex_lock(&lock);
	c->refs++;
	pthread_mutex_unlock(&lock);
	return c;
}

void image_copy_put(const struct image_copy *cc)
{
	struct image_copy **p;

	if (!cc)
		return;
	pthread_mutex_lock(&lock);
	for (p = &copies; *p && *p != cc; p = &(*p)->next)
		;
	if (*p && --(*p)->refs == 0) {
		struct image_copy *dead = *p;

		*p = dead->next;
		debuginfo_close(dead->di);
		if (!dead->kept)
			free((void *)dead->bytes);
		free(dead);
	}
	pthread_mutex_unlock(&lock);
}

bool image_copy_refused(const struct image_copy *c)
{
	return c && debuginfo_refused(c->di);
}

size_t image_copy_describe(const struct image_copy *c, uint64_t addr, char *buf, size_t len)
{
	struct debuginfo_where where;
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	if (!c)
		return 0;
	pthread_mutex_lock(&lock);
	/* A deferred symbolizer opens now, from the copy alone (no file: image_copy_get). */
	if (!c->di && c->bytes)
		debuginfo_open(&((struct image_copy *)c)->di, c->bytes, c->size, NULL);
	if (c->di && debuginfo_lookup(c->di, addr, &where) == 0)
		n = debuginfo_describe(c->di, addr, buf, len);
	pthread_mutex_unlock(&lock);
	/* The names come from the image: the guest's text, filtered as all of it is. */
	text_printable(buf, len, buf);
	return n < len ? n : len ? len - 1 : 0;
}
