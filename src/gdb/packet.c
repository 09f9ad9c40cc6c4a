/* GDB remote protocol framing: an incremental parser for "$data#cs" and the encoder of replies. */
#include <errno.h>
#include <string.h>
#include "gdb/packet.h"

enum { S_IDLE, S_DATA, S_SUM1, S_SUM2 };

/* Characters the "Binary Data" section says must be escaped, and the escape itself. */
#define ESC '}'
#define ESC_XOR 0x20
#define RLE '*'

/* Run-length encoding: a count character is 29 + the extra repeats; '#' and '$' may not be
 * count characters and nothing above '~' is printable ("Overview", run-length encoding). */
#define RLE_BIAS 29
#define RLE_MIN_EXTRA 3
#define RLE_MAX_EXTRA ('~' - RLE_BIAS)

int gdb_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gdb_parse_hex(const char **p, const char *end, uint64_t *v)
{
	const char *q = *p;
	uint64_t x = 0;
	int d;

	while (q < end && (d = gdb_hex_digit((unsigned char)*q)) >= 0) {
		if (q - *p == 16)
			return -EINVAL;
		x = x << 4 | (uint64_t)d;
		q++;
	}
	if (q == *p)
		return -EINVAL;
	*p = q;
	*v = x;
	return 0;
}

int gdb_decode_hex(const char *p, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = gdb_hex_digit((unsigned char)p[2 * i]);
		int lo = gdb_hex_digit((unsigned char)p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void gdb_pkt_parser_init(struct gdb_pkt_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = S_IDLE;
}

static void packet_start(struct gdb_pkt_parser *p)
{
	p->state = S_DATA;
	p->raw_len = 0;
	p->len = 0;
	p->sum = 0;
	p->got_sum = 0;
	p->escaped = false;
	p->fault = GDB_PKT_OK;
}

static void set_fault(struct gdb_pkt_parser *p, enum gdb_pkt_fault f)
{
	if (p->fault == GDB_PKT_OK)
		p->fault = f;
}

/* One byte between '$' and '#'. The checksum covers the bytes as sent; the payload keeps
 * them unescaped. Oversized packets are consumed to their end but not stored. */
static void data_byte(struct gdb_pkt_parser *p, uint8_t c)
{
	p->sum += c;
	if (++p->raw_len > GDB_PACKET_MAX) {
		set_fault(p, GDB_PKT_TOO_LONG);
		return;
	}
	if (p->escaped) {
		p->escaped = false;
		p->data[p->len++] = c ^ ESC_XOR;
	} else if (c == ESC) {
		p->escaped = true;
	} else {
		p->data[p->len++] = c;
	}
}

/* The packet ended (its second checksum digit arrived): which event is it? */
static enum gdb_pkt_event packet_end(struct gdb_pkt_parser *p)
{
	p->state = S_IDLE;
	p->data[p->len] = 0;
	if (p->fault == GDB_PKT_OK && p->got_sum != p->sum)
		p->fault = GDB_PKT_CHECKSUM;
	return p->fault == GDB_PKT_OK ? GDB_PKT_PACKET : GDB_PKT_BAD;
}

static enum gdb_pkt_event idle_byte(struct gdb_pkt_parser *p, uint8_t c)
{
	switch (c) {
	case '$':
		packet_start(p);
		return GDB_PKT_NONE;
	case '+':
		return GDB_PKT_ACK;
	case '-':
		return GDB_PKT_NACK;
	case 0x03:
		return GDB_PKT_INTERRUPT;
	default:
		return GDB_PKT_NONE; /* noise between packets */
	}
}

size_t gdb_pkt_feed(struct gdb_pkt_parser *p, const uint8_t *buf, size_t len, enum gdb_pkt_event *ev)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		int d;

		if (p->state != S_IDLE && c == '$') {
			/* A new packet before this one ended: refuse the truncated one and let
			 * the next call start the new packet with this '$'. */
			set_fault(p, GDB_PKT_TRUNCATED);
			p->state = S_IDLE;
			p->data[p->len] = 0;
			*ev = GDB_PKT_BAD;
			return i;
		}
		switch (p->state) {
		case S_IDLE:
			*ev = idle_byte(p, c);
			if (*ev != GDB_PKT_NONE)
				return i + 1;
			break;
		case S_DATA:
			if (c != '#') {
				data_byte(p, c);
				break;
			}
			if (p->escaped)
				set_fault(p, GDB_PKT_ESCAPE);
			p->state = S_SUM1;
			break;
		case S_SUM1:
		case S_SUM2:
			d = gdb_hex_digit(c);
			if (d < 0)
				set_fault(p, GDB_PKT_CHECKSUM);
			p->got_sum = (uint8_t)(p->got_sum << 4 | (d < 0 ? 0 : d));
			if (p->state == S_SUM1) {
				p->state = S_SUM2;
				break;
			}
			*ev = packet_end(p);
			return i + 1;
		}
	}
	*ev = GDB_PKT_NONE;
	return len;
}

/* Appends bytes to a bounded output while summing them; remembers overflow. */
struct sink {
	uint8_t *out;
	size_t cap, len;
	uint8_t sum;
	bool full;
};

static void put(struct sink *s, uint8_t c)
{
	if (s->len >= s->cap) {
		s->full = true;
		return;
	}
	s->out[s->len++] = c;
	s->sum += c;
}

static bool needs_escape(uint8_t c)
{
	return c == '$' || c == '#' || c == ESC || c == RLE;
}

/* How many extra repeats of in[i] follow it (capped at what one count character can say). */
static size_t run_extra(const uint8_t *in, size_t len, size_t i)
{
	size_t n = 0;

	while (i + 1 + n < len && in[i + 1 + n] == in[i] && n < RLE_MAX_EXTRA)
		n++;
	return n;
}

/* Text reply with runs compressed. Counts 6 and 7 would be '#' and '$': say 5 instead and
 * let the rest follow as plain characters (or the next run). */
static void put_rle(struct sink *s, const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t extra = run_extra(in, len, i);

		put(s, in[i]);
		if (extra < RLE_MIN_EXTRA) {
			i++;
			continue;
		}
		if (extra == 6 || extra == 7)
			extra = 5;
		put(s, RLE);
		put(s, (uint8_t)(RLE_BIAS + extra));
		i += 1 + extra;
	}
}

int gdb_pkt_encode(const void *payload, size_t len, unsigned flags, uint8_t *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *in = payload;
	struct sink s = { .out = out, .cap = cap };
	uint8_t sum;

	put(&s, '$');
	s.sum = 0;
	if (flags & GDB_ENC_RLE && !(flags & GDB_ENC_BINARY)) {
		put_rle(&s, in, len);
	} else {
		for (size_t i = 0; i < len; i++) {
			if (flags & GDB_ENC_BINARY && needs_escape(in[i])) {
				put(&s, ESC);
				put(&s, in[i] ^ ESC_XOR);
			} else {
				put(&s, in[i]);
			}
		}
	}
	sum = s.sum;
	put(&s, '#');
	put(&s, (uint8_t)hex[sum >> 4]);
	put(&s, (uint8_t)hex[sum & 0xf]);
	return s.full ? -ENOSPC : (int)s.len;
}
