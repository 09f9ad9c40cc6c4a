/* The GDB stub's output: replies built in place, framed, and queued for the connection. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gdb/stub_int.h"

void gdb_queue(struct gdb_stub *s, const uint8_t *buf, size_t len)
{
	if (len > sizeof(s->out) - s->out_len) {
		s->stats.overflow++;
		return;
	}
	memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
}

size_t gdb_stub_output(const struct gdb_stub *s, const uint8_t **data)
{
	*data = s->out;
	return s->out_len;
}

void gdb_stub_consume(struct gdb_stub *s, size_t n)
{
	if (n > s->out_len)
		n = s->out_len;
	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
}

void gdb_rp_reset(struct gdb_stub *s)
{
	s->reply_len = 0;
	s->reply_full = false;
	s->reply[0] = 0;
}

void gdb_rp_fmt(struct gdb_stub *s, const char *fmt, ...)
{
	size_t room = sizeof(s->reply) - s->reply_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->reply + s->reply_len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		s->reply_full = true;
		s->reply[s->reply_len] = 0;
		return;
	}
	s->reply_len += (size_t)n;
}

void gdb_rp_str(struct gdb_stub *s, const char *str)
{
	gdb_rp_fmt(s, "%s", str);
}

void gdb_rp_hex(struct gdb_stub *s, const uint8_t *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	if (2 * len > sizeof(s->reply) - 1 - s->reply_len) {
		s->reply_full = true;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		s->reply[s->reply_len++] = hex[buf[i] >> 4];
		s->reply[s->reply_len++] = hex[buf[i] & 0xf];
	}
	s->reply[s->reply_len] = 0;
}

void gdb_rp_send(struct gdb_stub *s, unsigned flags)
{
	int n;

	if (s->reply_full) {
		/* Our own limits are sized so this does not happen; never send half a reply. */
		gdb_rp_reset(s);
		gdb_rp_fmt(s, "E%02d", E2BIG);
	}
	n = gdb_pkt_encode(s->reply, s->reply_len, flags, s->last, sizeof(s->last));
	if (n < 0) {
		s->stats.overflow++;
		s->last_len = 0;
		return;
	}
	s->last_len = (size_t)n;
	gdb_queue(s, s->last, s->last_len);
}

void gdb_reply(struct gdb_stub *s, const char *str)
{
	gdb_rp_reset(s);
	gdb_rp_str(s, str);
	gdb_rp_send(s, 0);
}

void gdb_reply_error(struct gdb_stub *s, int err)
{
	err = abs(err);
	gdb_rp_reset(s);
	gdb_rp_fmt(s, "E%02d", err > 99 ? 99 : err);
	gdb_rp_send(s, 0);
}
