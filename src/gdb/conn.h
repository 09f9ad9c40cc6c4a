/* Where gdb connects: "tcp:[HOST:]PORT" (loopback unless HOST is given) or "unix:PATH". One
 * listening socket, one client at a time, non-blocking reads for a poll loop. */
#ifndef KVMBOX_GDB_CONN_H
#define KVMBOX_GDB_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>
#include "kvmbox/kvmbox.h"

struct gdb_stub;

enum gdb_conn_kind { GDB_CONN_TCP, GDB_CONN_UNIX };

struct gdb_conn_spec {
	enum gdb_conn_kind kind;
	char host[256];   /* TCP: numeric address or name; "127.0.0.1" when the spec has none */
	uint16_t port;    /* TCP: 0 lets the kernel choose (see gdb_conn_port) */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* UNIX */
};

/* Parse SPEC: "tcp:PORT", "tcp:HOST:PORT", "tcp:[IPV6]:PORT" or "unix:PATH". Returns 0, or
 * -EINVAL with ERR saying what is wrong (unknown scheme, bad port, path too long). */
int gdb_conn_parse(const char *spec, struct gdb_conn_spec *out, struct kvmbox_error *err);

struct gdb_conn {
	int listen_fd; /* -1 when the connection was made from a descriptor */
	int fd;        /* the client, or -1 */
	struct gdb_conn_spec spec;
	/* A unix socket we bound: its remover's pipes (conn.c), or -1. Closing remover_go asks
	 * for the removal; remover_done reads EOF once it is done. */
	int remover_go, remover_done;
};

/* Listen on SPEC (from gdb_conn_parse). A port or path in use is -EADDRINUSE, an unresolvable
 * host -EINVAL, other socket errors their -errno; ERR says which spec and why. An existing
 * unix socket file is never removed: it may be another program's. A unix socket we bind is
 * removed by gdb_conn_close, or when the process ends however it ends: a small process
 * forked here (and left running, outside any sandbox entered later) does that. */
int gdb_conn_listen(struct gdb_conn *c, const struct gdb_conn_spec *spec, struct kvmbox_error *err);

/* Use the connected socket FD as the client (no listening socket): socketpairs in tests,
 * or a descriptor inherited from a supervisor. Takes ownership of FD. */
void gdb_conn_from_fd(struct gdb_conn *c, int fd);

/* The port actually bound (after listening on port 0), or 0 for a unix socket. */
uint16_t gdb_conn_port(const struct gdb_conn *c);

/* Wait up to TIMEOUT_MS (-1: forever) for a client and accept it. Only one client at a time:
 * -EBUSY while one is connected. 0, -ETIMEDOUT, or -errno with ERR set. */
int gdb_conn_accept(struct gdb_conn *c, int timeout_ms, struct kvmbox_error *err);

/* Read what is available from the client without blocking. Returns the bytes read (> 0),
 * -EAGAIN when there is nothing, -ECONNRESET when the client has gone (its socket is then
 * closed; the listening socket stays for the next gdb_conn_accept), or another -errno. */
ssize_t gdb_conn_read(struct gdb_conn *c, void *buf, size_t len);

/* Write all LEN bytes, waiting (poll) up to TIMEOUT_MS for room each time the socket is full.
 * 0, -ETIMEDOUT, -ECONNRESET (client gone, socket closed) or -errno. */
int gdb_conn_write(struct gdb_conn *c, const void *buf, size_t len, int timeout_ms);

/* Serve one round for a poll loop: read what the client sent, feed it to STUB, and send what the
 * stub queued. Returns 0, -ECONNRESET when the client left, or -errno. Call it when the client's
 * fd is readable; after gdb_stub_stopped, gdb_conn_flush sends the stop reply. */
int gdb_conn_pump(struct gdb_conn *c, struct gdb_stub *stub);
int gdb_conn_flush(struct gdb_conn *c, struct gdb_stub *stub);

/* Close the client (gdb detached), keeping the listening socket for the next one. */
void gdb_conn_drop_client(struct gdb_conn *c);

/* Close the client and the listening socket, and remove a unix socket we created (its
 * remover does; this returns once the name is gone). */
void gdb_conn_close(struct gdb_conn *c);

#endif
