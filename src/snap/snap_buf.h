/* The bytes a feature keeps in a snapshot (its FEATURE section) or in a reset point: written
 * with sbuf_put*, read back with srd_get*, which never read past the end (a short read marks
 * the reader bad, so a feature checks once at the end). Little-endian, as the host. Header
 * only, so that the features below the snapshot code can use it. */
#ifndef KVMBOX_SNAP_BUF_H
#define KVMBOX_SNAP_BUF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct snap_buf {
	uint8_t *data; /* malloc'd; the owner frees it */
	size_t len, cap;
	int err;       /* ENOMEM once a put failed (what follows is dropped) */
};

static inline void sbuf_put(struct snap_buf *b, const void *p, size_t n)
{
	if (b->err || !n)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap - b->len < n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->err = ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void sbuf_u32(struct snap_buf *b, uint32_t v)
{
	sbuf_put(b, &v, sizeof(v));
}

static inline void sbuf_u64(struct snap_buf *b, uint64_t v)
{
	sbuf_put(b, &v, sizeof(v));
}

static inline void sbuf_free(struct snap_buf *b)
{
	free(b->data);
	*b = (struct snap_buf){ 0 };
}

struct snap_reader {
	const uint8_t *p;
	size_t len, off;
	bool bad; /* a read went past the end */
};

static inline bool srd_get(struct snap_reader *r, void *dst, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		memset(dst, 0, n);
		return false;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return true;
}

static inline uint32_t srd_u32(struct snap_reader *r)
{
	uint32_t v;

	srd_get(r, &v, sizeof(v));
	return v;
}

static inline uint64_t srd_u64(struct snap_reader *r)
{
	uint64_t v;

	srd_get(r, &v, sizeof(v));
	return v;
}

/* Is everything read, and nothing past the end? */
static inline bool srd_done(const struct snap_reader *r)
{
	return !r->bad && r->off == r->len;
}

#endif
