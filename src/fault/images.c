/* Shared symbolizers (images.h): a short list, searched by size and then bytes, under one
 * lock (VMs may be created, destroyed and report faults on several threads). A load compares
 * at most the few distinct images a process runs; nothing on the run path looks here. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "../debuginfo/debuginfo.h"
#include "../util.h"
#include "images.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct image_copy *copies;

static bool same_image(const struct image_copy *c, const void *data, size_t size)
{
	size_t n;
	const void *bytes = debuginfo_image(c->di, &n);

	return n == size && !memcmp(bytes, data, size);
}

const struct image_copy *image_copy_get(const void *data, size_t size)
{
	struct image_copy *c;

	pthread_mutex_lock(&lock);
	for (c = copies; c; c = c->next)
		if (same_image(c, data, size))
			break;
	if (!c && (c = calloc(1, sizeof(*c)))) {
		if (debuginfo_open(&c->di, data, size, NULL) < 0) {
			free(c);
			c = NULL;
		} else {
			c->next = copies;
			copies = c;
		}
	}
	if (c)
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
	if (debuginfo_lookup(c->di, addr, &where) == 0)
		n = debuginfo_describe(c->di, addr, buf, len);
	pthread_mutex_unlock(&lock);
	/* The names come from the image: the guest's text, filtered as all of it is. */
	text_printable(buf, len, buf);
	return n < len ? n : len ? len - 1 : 0;
}
