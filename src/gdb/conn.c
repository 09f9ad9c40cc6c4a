/* gdb's connection: parsing "tcp:[HOST:]PORT" / "unix:PATH", listening, accepting one client,
 * non-blocking reads and bounded writes. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gdb/conn.h"
#include "gdb/stub.h"
#include "log.h"

#define DEFAULT_HOST "127.0.0.1"
#define USAGE "expected tcp:[HOST:]PORT or unix:PATH"
#define READ_CHUNK 4096 /* bytes taken from the socket per read */

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9' || strlen(s) > 5)
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "PORT", "HOST:PORT", ":PORT" or "[V6ADDR]:PORT" after "tcp:". */
static int parse_tcp(const char *spec, const char *rest, struct gdb_conn_spec *out,
		     struct kvmbox_error *err)
{
	const char *host = rest, *port = rest, *host_end = rest;

	if (rest[0] == '[') {
		host = rest + 1;
		host_end = strchr(host, ']');
		if (!host_end || host_end[1] != ':')
			return set_error(err, EINVAL, "gdb %s: unclosed [ or no :PORT after ]", spec);
		port = host_end + 2;
	} else if (strrchr(rest, ':')) {
		host_end = strrchr(rest, ':');
		port = host_end + 1;
	}
	if ((size_t)(host_end - host) >= sizeof(out->host))
		return set_error(err, EINVAL, "gdb %s: host name too long", spec);
	if (host_end == host)
		strcpy(out->host, DEFAULT_HOST);
	else
		snprintf(out->host, sizeof(out->host), "%.*s", (int)(host_end - host), host);
	if (parse_port(port, &out->port))
		return set_error(err, EINVAL, "gdb %s: bad port '%s' (0-65535)", spec, port);
	out->kind = GDB_CONN_TCP;
	return 0;
}

int gdb_conn_parse(const char *spec, struct gdb_conn_spec *out, struct kvmbox_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!strncmp(spec, "tcp:", 4))
		return parse_tcp(spec, spec + 4, out, err);
	if (strncmp(spec, "unix:", 5))
		return set_error(err, EINVAL, "gdb '%s': %s", spec, USAGE);
	if (!spec[5])
		return set_error(err, EINVAL, "gdb %s: empty path", spec);
	if (strlen(spec + 5) >= sizeof(out->path))
		return set_error(err, EINVAL, "gdb %s: path longer than %zu bytes", spec,
				 sizeof(out->path) - 1);
	strcpy(out->path, spec + 5);
	out->kind = GDB_CONN_UNIX;
	return 0;
}

static int listen_error(const struct gdb_conn_spec *spec, int e, const char *what,
			struct kvmbox_error *err)
{
	if (spec->kind == GDB_CONN_UNIX)
		return set_error(err, e, "gdb unix:%s: %s: %s%s", spec->path, what, strerror(e),
				 e == EADDRINUSE ? " (an existing socket file is not removed)" : "");
	return set_error(err, e, "gdb tcp:%s:%u: %s: %s", spec->host, spec->port, what,
			 e == EADDRINUSE ? "port in use" : strerror(e));
}

/* Bind FD to ADDR and listen for one client; closes FD on failure. */
static int bind_listen(int fd, const struct sockaddr *addr, socklen_t len,
		       const struct gdb_conn_spec *spec, struct kvmbox_error *err)
{
	int e;

	if (bind(fd, addr, len) == 0 && listen(fd, 1) == 0)
		return fd;
	e = errno;
	close(fd);
	return listen_error(spec, e, "listen", err);
}

static int listen_tcp(const struct gdb_conn_spec *spec, struct kvmbox_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[8];
	int fd, one = 1, rc;

	snprintf(port, sizeof(port), "%u", spec->port);
	rc = getaddrinfo(spec->host, port, &hints, &ai);
	if (rc)
		return set_error(err, EINVAL, "gdb tcp:%s:%u: %s", spec->host, spec->port,
				 gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = listen_error(spec, errno, "socket", err);
		freeaddrinfo(ai);
		return rc;
	}
	/* Lets a new kvmbox reuse the port at once after the last one ended (TIME_WAIT); a port
	 * some program listens on is still refused. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind_listen(fd, ai->ai_addr, ai->ai_addrlen, spec, err);
	freeaddrinfo(ai);
	return rc;
}

static int listen_unix(const struct gdb_conn_spec *spec, struct kvmbox_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return listen_error(spec, errno, "socket", err);
	memcpy(sun.sun_path, spec->path, sizeof(sun.sun_path));
	return bind_listen(fd, (struct sockaddr *)&sun, sizeof(sun), spec, err);
}

/* The remover of our unix socket: a process forked right after bind that waits for the
 * pipe from us to close (gdb_conn_close, or our death, even by SIGKILL) and then removes the
 * name if it still is that socket (device and inode as bound, no symlink followed). By the
 * time the VM goes, kvmbox itself may no longer be able to: the process sandbox's Landlock
 * domain grants no removal anywhere, and after --user the directory root bound it in may not
 * be the new user's to write. Two forks, so that the remover is nobody's child here (the
 * sandbox allows no wait4 to reap it); it leaves the terminal's session, so a Ctrl-C meant
 * for kvmbox does not kill it first. Only async-signal-safe calls after fork. */
static void remover_main(int go, int done, const char *dir, const char *base, dev_t dev, ino_t ino)
{
	struct stat st;
	char b;
	int dfd;

	if (fork() != 0)
		_exit(0);
	setsid();
	if (dup2(go, 0) < 0 || dup2(done, 1) < 0)
		_exit(1);
	if (syscall(SYS_close_range, 2u, ~0u, 0u) < 0)
		for (int fd = 2; fd < 1024; fd++)
			close(fd);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	while (read(0, &b, 1) < 0 && errno == EINTR)
		; /* nobody writes: EOF (or an error) is the cue */
	if (dfd >= 0 && fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == dev && st.st_ino == ino)
		unlinkat(dfd, base, 0);
	_exit(0);
}

static int start_remover(struct gdb_conn *c, struct kvmbox_error *err)
{
	char dir[sizeof(c->spec.path)], base[sizeof(c->spec.path)];
	const char *slash = strrchr(c->spec.path, '/');
	int go[2], done[2], e, st;
	struct stat sock;
	pid_t pid;

	if (lstat(c->spec.path, &sock) < 0)
		return listen_error(&c->spec, errno, "stat", err);
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : c->spec.path);
	if (!slash)
		strcpy(dir, ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == c->spec.path ? 1 : (int)(slash - c->spec.path),
			 c->spec.path);
	if (pipe2(go, O_CLOEXEC) < 0)
		return listen_error(&c->spec, errno, "pipe", err);
	if (pipe2(done, O_CLOEXEC) < 0) {
		e = errno;
		close(go[0]);
		close(go[1]);
		return listen_error(&c->spec, e, "pipe", err);
	}
	pid = fork();
	if (pid == 0)
		remover_main(go[0], done[1], dir, base, sock.st_dev, sock.st_ino);
	e = errno;
	close(go[0]);
	close(done[1]);
	if (pid < 0) {
		close(go[1]);
		close(done[0]);
		return listen_error(&c->spec, e, "fork (the socket's remover)", err);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	c->remover_go = go[1];
	c->remover_done = done[0];
	return 0;
}

int gdb_conn_listen(struct gdb_conn *c, const struct gdb_conn_spec *spec, struct kvmbox_error *err)
{
	int fd = spec->kind == GDB_CONN_UNIX ? listen_unix(spec, err) : listen_tcp(spec, err);
	int rc;

	memset(c, 0, sizeof(*c));
	c->listen_fd = -1;
	c->fd = -1;
	c->remover_go = c->remover_done = -1;
	if (fd < 0)
		return fd;
	c->listen_fd = fd;
	c->spec = *spec;
	if (spec->kind == GDB_CONN_UNIX && (rc = start_remover(c, err)) < 0) {
		close(fd);
		unlink(spec->path);
		c->listen_fd = -1;
		return rc;
	}
	return 0;
}

void gdb_conn_from_fd(struct gdb_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->listen_fd = -1;
	c->fd = fd;
	c->spec.kind = GDB_CONN_UNIX;
	c->remover_go = c->remover_done = -1;
}

uint16_t gdb_conn_port(const struct gdb_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (c->spec.kind != GDB_CONN_TCP || c->listen_fd < 0 ||
	    getsockname(c->listen_fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int gdb_conn_accept(struct gdb_conn *c, int timeout_ms, struct kvmbox_error *err)
{
	struct pollfd pfd = { .fd = c->listen_fd, .events = POLLIN };
	int fd, one = 1, rc;

	if (c->fd >= 0)
		return set_error(err, EBUSY, "gdb: a client is already connected");
	if (c->listen_fd < 0)
		return set_error(err, EINVAL, "gdb: not listening");
	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		return set_error(err, ETIMEDOUT, "gdb: no client within %d ms", timeout_ms);
	fd = rc < 0 ? -1 : accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return set_error(err, errno, "gdb: accept: %s", strerror(errno));
	/* Packets are small and interactive: do not let Nagle hold a reply back. */
	if (c->spec.kind == GDB_CONN_TCP)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
}

void gdb_conn_drop_client(struct gdb_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

ssize_t gdb_conn_read(struct gdb_conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->fd < 0)
		return -ECONNRESET;
	n = recv(c->fd, buf, len, MSG_DONTWAIT);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return -EAGAIN;
	if (n < 0 && errno != ECONNRESET)
		return -errno;
	gdb_conn_drop_client(c);
	return -ECONNRESET;
}

/* Wait until FD has room to write, up to TIMEOUT_MS. */
static int wait_writable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc > 0 ? 0 : rc == 0 ? -ETIMEDOUT : -errno;
}

int gdb_conn_write(struct gdb_conn *c, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = c->fd < 0 ? -1 : send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		int rc;

		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (c->fd < 0 || errno == EPIPE || errno == ECONNRESET) {
			gdb_conn_drop_client(c);
			return -ECONNRESET;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		rc = wait_writable(c->fd, timeout_ms);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* How long a flush waits for gdb to take our bytes before giving up on it. */
#define FLUSH_TIMEOUT_MS 5000

int gdb_conn_flush(struct gdb_conn *c, struct gdb_stub *stub)
{
	const uint8_t *data;
	size_t n = gdb_stub_output(stub, &data);
	int rc;

	if (!n)
		return 0;
	rc = gdb_conn_write(c, data, n, FLUSH_TIMEOUT_MS);
	if (rc == 0)
		gdb_stub_consume(stub, n);
	return rc;
}

int gdb_conn_pump(struct gdb_conn *c, struct gdb_stub *stub)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n;
	int rc;

	while ((n = gdb_conn_read(c, buf, sizeof(buf))) > 0) {
		/* Send as we go: the stub takes bytes only while its queue has room. */
		for (size_t off = 0; off < (size_t)n;) {
			off += gdb_stub_feed(stub, buf + off, (size_t)n - off);
			rc = gdb_conn_flush(c, stub);
			if (rc < 0)
				return rc;
		}
	}
	return n == -EAGAIN ? 0 : (int)n;
}

void gdb_conn_close(struct gdb_conn *c)
{
	char b;

	gdb_conn_drop_client(c);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	c->listen_fd = -1;
	if (c->remover_go < 0)
		return;
	/* The remover's cue; its end (EOF) says the name is gone. */
	close(c->remover_go);
	while (read(c->remover_done, &b, 1) < 0 && errno == EINTR)
		;
	close(c->remover_done);
	c->remover_go = c->remover_done = -1;
}
