/* The gdb stub over a real vCPU, as a user drives it: Debian's gdb in batch mode against
 * `kvmbox run -S --gdb ...` for tests/guests/gdb_target.c in every mode (break, registers,
 * x/s, print, next, step, watch, set var, hbreak, the end and the exit status), and the
 * session edges through the raw protocol (attach to a running guest, Ctrl-C, kill, detach,
 * a port in use). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

extern char **environ;

#define GUEST "gdb_target"
#define GUEST_SRC "tests/guests/gdb_target.c"
#define WAIT_S 60

/* A kvmbox run with a gdb server, its stdout and stderr in temporary files. */
struct kv {
	pid_t pid;
	unsigned port;
	char out_path[64], err_path[64];
	char out[OUT_MAX], err[OUT_MAX];
	int status;
};

/* The kvmbox of the running test, killed by the teardown should an assertion end the test
 * before kv_wait: no server is left waiting for a gdb that never comes. */
static pid_t live_kvmbox;

static int kill_leftover(void **state)
{
	(void)state;
	if (live_kvmbox > 0 && waitpid(live_kvmbox, NULL, WNOHANG) == 0) {
		kill(live_kvmbox, SIGKILL);
		waitpid(live_kvmbox, NULL, 0);
	}
	live_kvmbox = 0;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void read_file(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY);

	buf[0] = 0;
	if (fd >= 0)
		read_all_fd(fd, buf, max);
}

/* Start build/kvmbox run -v [FLAG [FLAG2 [FLAG3]]] --gdb tcp:127.0.0.1:0 IMAGE and wait for
 * its address line. */
static void kv_start_with(struct kv *k, const char *flag, const char *flag2, const char *flag3,
			  const char *image)
{
	const char *argv[] = { build_path("kvmbox"), "run", "-v", "--gdb", "tcp:127.0.0.1:0",
			       image, flag, flag2, flag3, NULL };
	posix_spawn_file_actions_t fa;
	char *line;
	int i;

	strcpy(k->out_path, "/tmp/kvmbox-gdb-out-XXXXXX");
	strcpy(k->err_path, "/tmp/kvmbox-gdb-err-XXXXXX");
	int ofd = mkstemp(k->out_path), efd = mkstemp(k->err_path);

	assert_true(ofd >= 0 && efd >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	assert_int_equal(posix_spawn(&k->pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	live_kvmbox = k->pid;
	posix_spawn_file_actions_destroy(&fa);
	close(ofd);
	close(efd);
	for (i = 0; i < WAIT_S * 10; i++) {
		read_file(k->err_path, k->err, sizeof(k->err));
		line = strstr(k->err, "gdb server on tcp:127.0.0.1:");
		if (line && strchr(line, '\n') && sscanf(line, "gdb server on tcp:127.0.0.1:%u", &k->port) == 1)
			return;
		sleep_ms(100);
	}
	kill(k->pid, SIGKILL);
	fail_msg("kvmbox printed no gdb address: %s", k->err);
}

static void kv_start(struct kv *k, const char *flag, const char *image)
{
	kv_start_with(k, flag, NULL, NULL, image);
}

/* Wait for kvmbox to end (killing it after WAIT_S) and collect its output and status. */
static void kv_wait(struct kv *k)
{
	int st = 0, i;

	for (i = 0; i < WAIT_S * 10 && waitpid(k->pid, &st, WNOHANG) == 0; i++)
		sleep_ms(100);
	if (i == WAIT_S * 10) {
		kill(k->pid, SIGKILL);
		waitpid(k->pid, &st, 0);
	}
	live_kvmbox = 0;
	read_file(k->out_path, k->out, sizeof(k->out));
	read_file(k->err_path, k->err, sizeof(k->err));
	unlink(k->out_path);
	unlink(k->err_path);
	assert_true(WIFEXITED(st));
	k->status = WEXITSTATUS(st);
}

static void skip_without_gdb(void)
{
	if (system("gdb -nx -batch -ex quit >/dev/null 2>&1") != 0) {
		printf("SKIP: gdb does not run here (Debian package gdb, or the lane's gdb-minimal)\n");
		skip();
	}
}

/* gdb -batch with CMDS (one -ex each) against K, with IMAGE's symbols; its output, malloc'd. */
static char *run_gdb(const struct kv *k, enum kvmbox_mode mode, const char *image,
		     const char *const *cmds)
{
	size_t cap = 1 << 16, len = 0, n;
	char cmd[8192], *out = malloc(cap);
	int pos;
	FILE *f;

	assert_non_null(out);
	pos = snprintf(cmd, sizeof(cmd), "timeout %d gdb -nx -batch -ex 'set pagination off' "
		       "-ex 'set confirm off' -ex 'target remote 127.0.0.1:%u'%s", WAIT_S, k->port,
		       mode == KVMBOX_MODE_REAL ? " -ex 'set architecture i8086'" : "");
	for (; *cmds; cmds++)
		pos += snprintf(cmd + pos, sizeof(cmd) - (size_t)pos, " -ex '%s'", *cmds);
	snprintf(cmd + pos, sizeof(cmd) - (size_t)pos, " %s 2>&1", image);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (len + 1 < cap && (n = fread(out + len, 1, cap - 1 - len, f)) > 0)
		len += n;
	out[len] = 0;
	pclose(f);
	return out;
}

static void assert_has(const char *out, const char *want)
{
	if (!strstr(out, want)) {
		printf("gdb's output:\n%s\n", out); /* whole: cmocka truncates its messages */
		fail_msg("gdb's output lacks \"%s\"", want);
	}
}

/* A whole debugging session in one gdb run: breakpoints, next and step, registers, memory,
 * a watchpoint, a variable changed. */
static void test_gdb_debug_session(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	const char *image = guest_image("test-" GUEST, mode);
	int line = marker_line(GUEST_SRC, "gdb: first line");
	char tbreak[64], *out;
	struct kv k;
	const char *cmds[] = {
		tbreak, "continue", "info registers", "p/x $cr0 & 1", "x/s greeting", "print answer",
		"next", "next", "step",
		"set can-use-hw-watchpoints 0", "watch counter", "continue",
		"delete", "set var answer = 99",
		"hbreak console_put_u32", "continue", "break newline", "continue", "continue", NULL,
	};

	skip_without_gdb();
	skip_unless_host_runs(mode);
	assert_true(line > 0);
	snprintf(tbreak, sizeof(tbreak), "tbreak " GUEST ".c:%d", line);
	kv_start(&k, "-S", image);
	out = run_gdb(&k, mode, image, cmds);
	kv_wait(&k);
	assert_has(out, "main () at " GUEST_SRC);
	assert_has(out, mode == KVMBOX_MODE_LONG ? "rip " : "eip ");
	assert_has(out, mode == KVMBOX_MODE_LONG ? "efer " : "cr0 ");
	assert_has(out, mode == KVMBOX_MODE_REAL ? "$1 = 0x0" : "$1 = 0x1"); /* CR0.PE */
	assert_has(out, "\"gdb greets\"");
	assert_has(out, "$2 = 7");
	assert_has(out, "newline(); /* gdb: after next */");
	assert_has(out, "v = add_one(answer); /* gdb: step into add_one */");
	assert_has(out, "add_one (x=7) at " GUEST_SRC);
	assert_has(out, "Old value = 0");
	assert_has(out, "New value = 8");
	assert_has(out, "console_put_u32 (");
	assert_has(out, "newline () at " GUEST_SRC);
	assert_has(out, "exited with code 05");
	free(out);
	assert_int_equal(k.status, 5); /* the guest's HC_exit(5), through gdb's session */
	assert_non_null(strstr(k.out, "gdb greets\nanswer 99\n")); /* set var changed the output */
}

/* kvmbox -S for IMAGE in MODE, or a skip with REASON unless the probe's verdict on data
 * breakpoints (the -v line "watchpoints: debug registers") is WANT_DR. */
static void kv_start_watch(struct kv *k, enum kvmbox_mode mode, const char *image, bool want_dr,
			   const char *reason)
{
	skip_without_gdb();
	skip_unless_host_runs(mode);
	kv_start(k, "-S", image);
	if ((strstr(k->err, "watchpoints: debug registers") != NULL) != want_dr) {
		kill(k->pid, SIGTERM);
		kv_wait(k);
		printf("SKIP: %s\n", reason);
		skip();
	}
}

/* A hardware watchpoint (Z2) where this host's debug registers fire for data. */
static void test_gdb_hw_watchpoint(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	const char *image = guest_image("test-" GUEST, mode);
	const char *cmds[] = { "watch counter", "continue", "kill", NULL };
	char *out;
	struct kv k;

	kv_start_watch(&k, mode, image, true,
		       "hardware watchpoints: this host's KVM does not fire DR0-DR3 for data "
		       "(probed; gdb's software watchpoints work, see test_gdb_debug_session)");
	out = run_gdb(&k, mode, image, cmds);
	kv_wait(&k);
	assert_has(out, "Hardware watchpoint 1: counter");
	assert_has(out, "New value = 8");
	free(out);
}

/* Where the debug registers do not fire for data, gdb's `watch` fails with gdb's own
 * misleading "too many hardware breakpoints": kvmbox says why on stderr, and how to get
 * software watchpoints, once however often gdb tries. */
static void test_gdb_watchpoint_unsupported(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	const char *image = guest_image("test-" GUEST, mode);
	const char *cmds[] = { "watch counter", "continue", "continue", "kill", NULL };
	const char *hint = "`set can-use-hw-watchpoints 0`", *first;
	char *out;
	struct kv k;

	kv_start_watch(&k, mode, image, false, "this host's KVM fires DR0-DR3 for data: hardware "
		       "watchpoints work (test_gdb_hw_watchpoint)");
	out = run_gdb(&k, mode, image, cmds);
	kv_wait(&k);
	assert_has(out, "Could not insert hardware watchpoint 1"); /* gdb's side, unchanged */
	free(out);
	first = strstr(k.err, hint);
	if (!first) {
		printf("kvmbox's stderr:\n%s\n", k.err); /* whole: cmocka truncates */
		fail_msg("kvmbox's stderr lacks %s", hint);
	}
	assert_non_null(strstr(k.err, "this host has no data breakpoints"));
	assert_null(strstr(first + 1, hint)); /* once */
}

/* A guest exception (kvmbox's crash-report handlers) is a SIGILL stop at the faulting
 * instruction, with its source line and backtrace; continuing ends the guest with it. */
static void test_gdb_exception_stop(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	const char *image = guest_image("test-exc_ud", mode);
	const char *cmds[] = { "continue", "bt", "continue", NULL };
	char *out;
	struct kv k;

	skip_without_gdb();
	skip_unless_host_runs(mode);
	kv_start(&k, "-S", image);
	out = run_gdb(&k, mode, image, cmds);
	kv_wait(&k);
	assert_has(out, "Program received signal SIGILL");
	assert_has(out, "bad_opcode () at tests/guests/exc_ud.c");
	assert_has(out, "in main () at tests/guests/exc_ud.c");
	assert_has(out, "terminated with signal SIGILL");
	free(out);
	assert_int_equal(k.status, 65); /* a guest fault, as without gdb */
	assert_non_null(strstr(k.err, "#UD"));
}

/* ---- the raw protocol ------------------------------------------------------------------ */

static int rsp_connect(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void rsp_send(int fd, const char *payload)
{
	char buf[256];
	unsigned cs = 0;

	for (const char *p = payload; *p; p++)
		cs += (unsigned char)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", payload, cs & 0xff);
	assert_int_equal(write(fd, buf, strlen(buf)), (ssize_t)strlen(buf));
}

/* The next reply's payload (acks skipped) must start with WANT. */
static void rsp_expect(int fd, const char *want)
{
	char buf[4096];
	size_t len = 0;
	char *start, *end;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		buf[len] = 0;
		start = strchr(buf, '$');
		end = start ? strchr(start, '#') : NULL;
		if (end && strlen(end) >= 3)
			break;
		assert_true(poll(&p, 1, WAIT_S * 1000) == 1);
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
	}
	*end = 0;
	if (strncmp(start + 1, want, strlen(want)))
		fail_msg("expected a reply starting \"%s\", got \"%s\"", want, start + 1);
}

/* gdb attaches to a running guest (it stops where it is), continues, interrupts it with
 * Ctrl-C (a guest spinning without exits) and kills it: status 137, as SIGKILL. */
static void test_gdb_attach_interrupt_kill(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	struct kv k;
	int fd;

	skip_unless_host_runs(mode);
	kv_start(&k, NULL, guest_image("test-loop", mode));
	fd = rsp_connect(k.port);
	rsp_send(fd, "?");
	rsp_expect(fd, "T05");
	rsp_send(fd, "c");
	sleep_ms(200);
	assert_int_equal(write(fd, "\x03", 1), 1);
	rsp_expect(fd, "T02");
	rsp_send(fd, "g");
	rsp_expect(fd, "");
	rsp_send(fd, "k");
	kv_wait(&k);
	close(fd);
	assert_int_equal(k.status, 128 + 9);
	assert_non_null(strstr(k.err, "killed from gdb"));
}

/* Detach: breakpoints gone, the guest runs to its end with its own status. */
static void test_gdb_detach(void **state)
{
	struct kv k;
	int fd;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	kv_start(&k, "-S", guest_image("test-" GUEST, KVMBOX_MODE_LONG));
	fd = rsp_connect(k.port);
	rsp_send(fd, "?");
	rsp_expect(fd, "T05");
	rsp_send(fd, "m1000,4"); /* the start code's first bytes: call kvmbox_start_main (e8) */
	rsp_expect(fd, "e8");
	rsp_send(fd, "mffffffff00000000,4"); /* non-canonical: an error reply, never a crash */
	rsp_expect(fd, "E");
	rsp_send(fd, "D");
	rsp_expect(fd, "OK");
	kv_wait(&k);
	close(fd);
	assert_int_equal(k.status, 5);
	assert_non_null(strstr(k.out, "answer 7"));
}

/* A gdb that connects and then says nothing: --timeout counts while the vCPU is stopped
 * for it (docs/debugging.md), so the run still ends at its deadline, status 66. */
static void test_gdb_silent_client_timeout(void **state)
{
	struct kv k;
	int fd;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	kv_start_with(&k, "-S", "--timeout", "2", guest_image("test-" GUEST, KVMBOX_MODE_LONG));
	fd = rsp_connect(k.port);
	kv_wait(&k);
	close(fd);
	assert_int_equal(k.status, 66);
	assert_non_null(strstr(k.err, "timeout"));
}

/* A guest exception with gdb attached stops the vCPU at the faulting instruction for gdb;
 * a gdb that then says nothing does not hold kvmbox: SIGTERM ends it at once, with the
 * fault's status (the guest had ended before the signal). */
static void test_gdb_exception_stop_signal(void **state)
{
	struct kv k;
	int fd;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	kv_start(&k, "-S", guest_image("test-exc_ud", KVMBOX_MODE_LONG));
	fd = rsp_connect(k.port);
	rsp_send(fd, "?");
	rsp_expect(fd, "T05");
	rsp_send(fd, "c");
	rsp_expect(fd, "T04"); /* SIGILL: the #UD */
	sleep_ms(200);
	kill(k.pid, SIGTERM);
	kv_wait(&k);
	close(fd);
	assert_int_equal(k.status, 65);
	assert_non_null(strstr(k.err, "#UD"));
}

/* One random packet for the fuzz: a command the stub knows (never one that resumes the guest:
 * the guest would run away from the test) with random arguments, escapes and binary bytes,
 * then one of: a correct checksum, a wrong one, no end (truncated), or far too long. */
static size_t fuzz_packet(char *buf, size_t max, unsigned *seed)
{
	static const char cmds[] = "gGpPmMXzZqQHT?";
	/* No '$' in a body (it would start a packet of the noise, maybe a 'c') and no lower-case
	 * c, k, s: the guest stays stopped and the fuzz reaches all its packets. */
	static const char chars[] = "0123456789ABEF,:;}#*xX-";
	size_t len = 0, n = (size_t)(rand_r(seed) % 40), i;
	unsigned cs = 0, how = (unsigned)rand_r(seed) % 8;
	char body[8192];

	if (how == 0)
		n = sizeof(body) - 1; /* oversized */
	body[len++] = cmds[rand_r(seed) % (int)(sizeof(cmds) - 1)];
	if (rand_r(seed) % 2)
		len += (size_t)snprintf(body + len, 32, "%x,%x", rand_r(seed) % 0x3000, rand_r(seed) % 64);
	for (i = 0; i < n && len < sizeof(body) - 1; i++)
		body[len++] = rand_r(seed) % 4 ? chars[rand_r(seed) % (int)(sizeof(chars) - 1)]
					      : (char)(0x80 | (rand_r(seed) & 0x7f)); /* binary */
	for (i = 0; i < len; i++)
		cs += (unsigned char)body[i];
	if (len + 8 > max)
		len = max - 8;
	buf[0] = '$';
	memcpy(buf + 1, body, len);
	if (how == 1)
		return len + 1; /* truncated: no '#' */
	return len + 1 + (size_t)snprintf(buf + len + 1, 8, "#%02x", (how == 2 ? cs + 1 : cs) & 0xff);
}

/* Malformed, truncated, oversized and binary packets against the real target: kvmbox answers
 * or refuses each, never crashes, and when gdb goes away the guest runs to its end. */
static void test_gdb_fuzz_real_target(void **state)
{
	unsigned seed = 1414;
	char pkt[9000], sink[65536];
	struct kv k;
	int fd, i;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	kv_start(&k, "-S", guest_image("test-" GUEST, KVMBOX_MODE_LONG));
	fd = rsp_connect(k.port);
	for (i = 0; i < 3000; i++) {
		size_t n = fuzz_packet(pkt, sizeof(pkt), &seed);

		/* A '$c' inside the noise is a continue: the guest may run off and end, and
		 * kvmbox close the session. Then the fuzz is over. */
		if (send(fd, pkt, n, MSG_NOSIGNAL) != (ssize_t)n)
			break;
		while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			; /* keep the replies flowing */
	}
	close(fd); /* gdb gone: as a detach */
	kv_wait(&k); /* exited (a signal fails it), whatever the random writes did to the guest */
	printf("fuzz: %d packets, kvmbox status %d\n", i, k.status);
	assert_true(k.status <= 71);
	assert_null(strstr(k.err, "host error")); /* kvmbox itself never failed */
}

/* A port in use is bad input: one clear line, status 2, nothing run. */
static void test_gdb_port_in_use(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	char spec[64], cmd[512];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), st;
	FILE *f;
	char err[1024] = "";

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", ntohs(a.sin_port));
	snprintf(cmd, sizeof(cmd), "%s run --gdb %s %s 2>&1", build_path("kvmbox"), spec,
		 guest_image("test-" GUEST, KVMBOX_MODE_LONG));
	f = popen(cmd, "r");
	assert_non_null(f);
	err[fread(err, 1, sizeof(err) - 1, f)] = 0;
	st = pclose(f);
	close(fd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
	assert_non_null(strstr(err, "in use"));
	assert_null(strstr(err, "answer")); /* nothing ran */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE_WITH(test_gdb_debug_session, NULL, kill_leftover),
		PER_MODE_WITH(test_gdb_hw_watchpoint, NULL, kill_leftover),
		{ "test_gdb_watchpoint_unsupported/long", test_gdb_watchpoint_unsupported, NULL,
		  kill_leftover, (void *)&all_modes[3] },
		PER_MODE_WITH(test_gdb_exception_stop, NULL, kill_leftover),
		PER_MODE_WITH(test_gdb_attach_interrupt_kill, NULL, kill_leftover),
		cmocka_unit_test_teardown(test_gdb_detach, kill_leftover),
		cmocka_unit_test(test_gdb_port_in_use),
		cmocka_unit_test_teardown(test_gdb_fuzz_real_target, kill_leftover),
		cmocka_unit_test_teardown(test_gdb_silent_client_timeout, kill_leftover),
		cmocka_unit_test_teardown(test_gdb_exception_stop_signal, kill_leftover),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
