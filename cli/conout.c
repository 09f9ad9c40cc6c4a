/* Bounded, non-blocking console output for scheduled runs (conout.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "conout.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t conout_put(struct conout *o, const char *p, size_t len, int whole)
{
	size_t room = sizeof(o->buf) - o->len, n = len;

	if (o->err)
		return len; /* nobody will read it: counted as dropped */
	if (n > room)
		n = whole ? 0 : room;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return len - n;
}

/* The next chunk to write: at most PIPE_BUF bytes, ending after its last newline if any. */
static size_t chunk(const struct conout *o)
{
	size_t n = o->len < PIPE_BUF ? o->len : PIPE_BUF;

	for (size_t k = n; k > 0; k--)
		if (o->buf[k - 1] == '\n')
			return k;
	return n;
}

/* Is the fd writable within MS milliseconds (0: now)? A poll error lets write report it. */
static int writable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int n = poll(&pfd, 1, ms);

	return n != 0 && !(n < 0 && errno == EINTR);
}

static int pump(struct conout *o, int ms)
{
	while (o->len && !o->err && writable(o->fd, ms)) {
		ssize_t n = write(o->fd, o->buf, chunk(o));

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0; /* a signal, or an fd someone made O_NONBLOCK that is full */
		if (n <= 0) {
			o->err = n < 0 ? errno : EIO;
			return -o->err;
		}
		memmove(o->buf, o->buf + n, o->len - (size_t)n);
		o->len -= (size_t)n;
		ms = 0;
	}
	return o->err ? -o->err : 0;
}

int conout_pump(struct conout *o)
{
	return pump(o, 0);
}

long conout_drain(struct conout *o, uint64_t until_ns, const volatile int *stop)
{
	pump(o, 0); /* what the fd takes now, even after a signal: a file's tail, a pipe's room */
	while (o->len && !o->err && !*stop) {
		uint64_t now = mono_ns();
		int ms = 100; /* without a limit: wake up now and then to see a signal's flag */

		if (until_ns && now >= until_ns)
			break;
		if (until_ns && (until_ns - now) / 1000000u < 100u)
			ms = (int)((until_ns - now) / 1000000u) + 1;
		if (pump(o, ms) < 0)
			break;
	}
	return o->err ? -o->err : (long)o->len;
}

void conout_salvage(int fd, const char *p, size_t n)
{
	while (n) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t w;

		if (poll(&pfd, 1, 100) <= 0)
			return;
		w = write(fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}
