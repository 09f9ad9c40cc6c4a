/* A GDB server over the fake target, for driving the real gdb in tests/unit/test_gdb.c:
 *   gdb_fake_server MODE SPEC     (MODE real|protected|paged32|long, SPEC as --gdb takes it)
 * prints "port N" (0 for a unix socket) on stdout, serves one gdb session with the stub and
 * the connection layer as kvmbox will, and exits 0 when gdb detaches, kills or the toy guest
 * ends; 1 on any error, or when no gdb comes within 30 s. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gdb/conn.h"
#include "gdb_fake_target.h"

#define WAIT_MS 30000

/* The poll loop: serve gdb's bytes; run the toy target whenever gdb resumes it. */
static int serve(struct gdb_conn *c, struct gdb_stub *stub, struct fake_target *t)
{
	while (gdb_stub_state(stub) != GDB_STUB_CLOSED) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		struct gdb_stop stop;
		int rc = poll(&pfd, 1, WAIT_MS);

		if (rc <= 0)
			return rc == 0 ? -ETIMEDOUT : -errno;
		rc = gdb_conn_pump(c, stub);
		if (rc < 0)
			return rc == -ECONNRESET ? 0 : rc; /* gdb went away: the session is over */
		if (gdb_stub_state(stub) == GDB_STUB_RUNNING) {
			fake_target_run(t, t->last_how, &stop);
			gdb_stub_stopped(stub, &stop);
			rc = gdb_conn_flush(c, stub);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct fake_target t;
	struct gdb_conn_spec spec;
	struct kvmbox_error err = { { 0 } };
	struct gdb_stub *stub;
	struct gdb_conn c;
	enum kvmbox_mode mode;
	int rc;

	if (argc != 3 || kvmbox_mode_parse(argv[1], &mode) || mode == KVMBOX_MODE_AUTO) {
		fprintf(stderr, "usage: %s real|protected|paged32|long tcp:[HOST:]PORT|unix:PATH\n", argv[0]);
		return 1;
	}
	if (gdb_conn_parse(argv[2], &spec, &err) || gdb_conn_listen(&c, &spec, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	fake_target_init(&t, mode);
	printf("port %u\n", gdb_conn_port(&c));
	fflush(stdout);
	rc = gdb_conn_accept(&c, WAIT_MS, &err);
	if (rc == 0 && (rc = gdb_stub_create(&fake_target_ops, &t, t.tdesc, &stub)) == 0) {
		rc = serve(&c, stub, &t);
		if (rc == 0)
			rc = gdb_conn_flush(&c, stub);
		gdb_stub_destroy(stub);
	}
	gdb_conn_close(&c);
	if (rc < 0)
		fprintf(stderr, "gdb_fake_server: %s\n", err.msg[0] ? err.msg : strerror(-rc));
	return rc < 0 ? 1 : 0;
}
