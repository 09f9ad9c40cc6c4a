/* Console output and number formatting for guests: everything is formatted in the guest and
 * written to port 0xE9, one outb per byte (console_write in kvmbox/guest.h sends a whole
 * buffer with one rep outsb). Only 32-bit division is used, because -m16/-m32
 * guests link no libgcc (which is where __udivdi3/__umoddi3 would come from). */
#include "kvmbox/guest.h"

/* Where formatted bytes go: the console, or a bounded buffer (snprintf). */
struct sink {
	char *buf;    /* NULL: the console */
	size_t size;
	size_t len;   /* bytes produced so far (may exceed size for a buffer) */
};

static void sink_put(struct sink *s, char c)
{
	if (!s->buf)
		outb(KVMBOX_PORT_CONSOLE, (uint8_t)c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

/* Divide *V by 10 in place, return the remainder: long division by 16-bit digits, where
 * every intermediate fits in 32 bits because the carried remainder is below 10. */
static uint32_t div10(uint64_t *v)
{
	uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
	uint32_t qhi = hi / 10, r = hi % 10, t, q1, q0;

	t = (r << 16) | (lo >> 16);
	q1 = t / 10;
	r = t % 10;
	t = (r << 16) | (lo & 0xffff);
	q0 = t / 10;
	r = t % 10;
	*v = ((uint64_t)qhi << 32) | (q1 << 16) | q0;
	return r;
}

/* V in base 10 or 16 (lowercase), left-padded to WIDTH with PAD. */
static void put_num(struct sink *s, uint64_t v, unsigned base, bool neg, unsigned width, char pad)
{
	char digits[24];
	unsigned n = 0;

	do {
		if (base == 16) {
			digits[n++] = "0123456789abcdef"[v & 0xf];
			v >>= 4;
		} else {
			digits[n++] = (char)('0' + div10(&v));
		}
	} while (v);
	if (neg && pad == '0')
		sink_put(s, '-');
	for (unsigned w = n + (neg ? 1 : 0); w < width; w++)
		sink_put(s, pad);
	if (neg && pad != '0')
		sink_put(s, '-');
	while (n)
		sink_put(s, digits[--n]);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		unsigned width = 0, lng = 0;
		bool size_t_arg = false;
		char pad = ' ';
		uint64_t u;
		int64_t i;

		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		for (; *fmt == 'l'; fmt++)
			lng++;
		if (*fmt == 'z') {
			size_t_arg = true;
			fmt++;
		}
		switch (*fmt) {
		case 'c':
			sink_put(s, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			while (*str)
				sink_put(s, *str++);
			break;
		}
		case 'd':
		case 'i':
			if (size_t_arg)
				i = (int64_t)va_arg(ap, ptrdiff_t);
			else if (lng >= 2)
				i = va_arg(ap, long long);
			else if (lng == 1)
				i = va_arg(ap, long);
			else
				i = va_arg(ap, int);
			put_num(s, i < 0 ? 0 - (uint64_t)i : (uint64_t)i, 10, i < 0, width, pad);
			break;
		case 'u':
		case 'x':
			if (size_t_arg)
				u = va_arg(ap, size_t);
			else if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			put_num(s, u, *fmt == 'x' ? 16 : 10, false, width, pad);
			break;
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			put_num(s, (uintptr_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case '%':
			sink_put(s, '%');
			break;
		case '\0':
			return;
		default:
			/* Unknown conversion: show it rather than guess at its argument. */
			sink_put(s, '%');
			sink_put(s, *fmt);
			break;
		}
	}
}

int kvmbox_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	char dummy;
	struct sink s = { .buf = size ? buf : &dummy, .size = size, .len = 0 };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int kvmbox_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvmbox_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int console_printf(const char *fmt, ...)
{
	struct sink s = { .buf = NULL, .size = 0, .len = 0 };
	va_list ap;

	va_start(ap, fmt);
	format(&s, fmt, ap);
	va_end(ap);
	return (int)s.len;
}

void console_putc(char c)
{
	outb(KVMBOX_PORT_CONSOLE, (uint8_t)c);
}

void console_put_u32(uint32_t v)
{
	struct sink s = { .buf = NULL, .size = 0, .len = 0 };

	put_num(&s, v, 10, false, 0, ' ');
}

void console_put_u64(uint64_t v)
{
	struct sink s = { .buf = NULL, .size = 0, .len = 0 };

	put_num(&s, v, 10, false, 0, ' ');
}

void console_put_i64(int64_t v)
{
	struct sink s = { .buf = NULL, .size = 0, .len = 0 };

	put_num(&s, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10, v < 0, 0, ' ');
}

void console_put_hex(uint64_t v)
{
	struct sink s = { .buf = NULL, .size = 0, .len = 0 };

	console_putc('0');
	console_putc('x');
	put_num(&s, v, 16, false, 0, ' ');
}
