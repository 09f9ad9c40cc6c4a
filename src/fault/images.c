/* Shared image copies (images.h): a short list, searched by size and then bytes, under one
 * lock (VMs may be created and destroyed on several threads). A load compares at most the
 * few distinct images a process runs; nothing on the run path looks here. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "images.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct image_copy *copies;

const struct image_copy *image_copy_get(const void *data, size_t size)
{
	struct image_copy *c;

	pthread_mutex_lock(&lock);
	for (c = copies; c; c = c->next)
		if (c->size == size && !memcmp(c->data, data, size))
			break;
	if (!c && (c = malloc(sizeof(*c) + size))) {
		memcpy(c->data, data, size);
		c->size = size;
		c->refs = 0;
		c->next = copies;
		copies = c;
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
		free(dead);
	}
	pthread_mutex_unlock(&lock);
}
