/* torture-run: run every guest that torture-gen listed through the kvmbox command, classify
 * each end by exit status and message (docs/security.md, "Torture"), print a table per mode
 * and class, and fail on a signal death, a hang past the timeout, an undocumented status or
 * a message kvmbox must never print (a crash, a sanitizer report).
 * Usage: torture-run KVMBOX DIR TIMEOUT MARGIN JOBS, DIR holding torture-gen's guests.list.
 * Status 0 clean, 1 failures, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "status.h"

#define JOBS_MAX 16
#define MSG_MAX 8192
#define NMODES 4

static const char *const modes[NMODES] = { "real", "protected", "paged32", "long" };

/* The documented ends (kvmbox --help, cli/status.h) and the failures of the harness. */
enum class {
	C_HALT,     /* EXIT_OK, silent: hlt or HC_EXIT(0) */
	C_EXIT,     /* HC_EXIT(n): "the guest exited with status n", exit_status_of_guest(n) */
	C_ASSERT,   /* EXIT_CHECK: a guest assertion (HC_ASSERT_FAIL) */
	C_TRIPLE,   /* EXIT_GUEST_FAULT: triple fault (KVM_EXIT_SHUTDOWN) */
	C_PORT,     /* EXIT_GUEST_FAULT: unknown port */
	C_MMIO,     /* EXIT_GUEST_FAULT: unbacked guest-physical memory */
	C_INTERNAL, /* EXIT_GUEST_FAULT: KVM internal error (emulation failed ...) */
	C_FAULT,    /* EXIT_GUEST_FAULT: any other (failed entry, bad hypercall under --strict) */
	C_TIMEOUT,  /* EXIT_TIMEOUT: stopped by --timeout */
	C_UNSUP,    /* EXIT_UNSUPPORTED: this host's KVM cannot run the mode: a skip, never a pass */
	C_FAIL,     /* anything else: the torture run fails */
	C_COUNT
};

static const char *const class_names[C_COUNT] = {
	"halt", "exit", "assert", "triple", "port", "mmio", "internal", "fault", "timeout",
	"unsupp", "FAIL",
};

struct guest {
	char mode[16], kind[16], load[24], mem[16], flags[16], path[4096];
};

struct job {
	pid_t pid;
	int fd;                 /* read end of the child's stderr; -1 after EOF */
	double deadline;        /* monotonic seconds: SIGKILL and a hang after it */
	bool hung;
	size_t len;
	char msg[MSG_MAX];
	struct guest g;
};

struct tally {
	unsigned count[NMODES][C_COUNT];
	char unsupported[NMODES][256]; /* the first reason a mode was skipped */
	unsigned failures;
};

struct config {
	const char *kvmbox;
	const char *timeout; /* passed to kvmbox --timeout as written */
	double limit;        /* timeout + margin: past it the run is a hang */
	unsigned jobs;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The command line that runs G: ARGV has room for ARGV_MAX words, NULL included. */
#define ARGV_MAX 14
static void guest_argv(const struct config *c, const struct guest *g, const char **argv)
{
	unsigned n = 0;

	argv[n++] = c->kvmbox;
	argv[n++] = "run";
	argv[n++] = "-m";
	argv[n++] = g->mode;
	argv[n++] = "--load";
	argv[n++] = g->load;
	argv[n++] = "--mem";
	argv[n++] = g->mem;
	argv[n++] = "--timeout";
	argv[n++] = c->timeout;
	if (!strcmp(g->flags, "strict"))
		argv[n++] = "--strict";
	argv[n++] = g->path;
	argv[n] = NULL;
}

/* Start kvmbox on G: stdout (the guest's console) to /dev/null, stderr into a pipe. */
static int start(const struct config *c, const struct guest *g, struct job *j)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	j->pid = fork();
	if (j->pid < 0) {
		int e = errno;

		j->pid = 0; /* not running: run_all counts busy jobs by pid */
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (j->pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		const char *argv[ARGV_MAX];

		dup2(null, STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		guest_argv(c, g, argv);
		execv(c->kvmbox, (char *const *)argv); /* execv does not change the strings */
		_exit(127);
	}
	close(p[1]);
	j->fd = p[0];
	j->deadline = now() + c->limit;
	j->hung = false;
	j->len = 0;
	j->msg[0] = 0;
	j->g = *g;
	return 0;
}

/* Messages no run may print, whatever the guest did. */
static const char *forbidden(const char *msg)
{
	static const char *const bad[] = {
		"Sanitizer", "runtime error:", "stack smashing", "double free", "free(): ",
		"malloc(): ", "corrupted", "Segmentation fault", "Assertion `", "host error",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(msg, bad[i]))
			return bad[i];
	return NULL;
}

/* The class of a guest fault from its message (cli/main.c: "kvmbox: guest fault: ..."). */
static enum class fault_class(const char *msg)
{
	if (strstr(msg, "triple fault"))
		return C_TRIPLE;
	if (strstr(msg, "unknown port"))
		return C_PORT;
	if (strstr(msg, "unbacked guest-physical"))
		return C_MMIO;
	if (strstr(msg, "KVM internal error"))
		return C_INTERNAL;
	return C_FAULT;
}

/* kvmbox's verdicts on a guest run and the message each comes with (cli/single.c); a guest's
 * own HC_EXIT statuses are recognised by their message first. */
static const struct {
	int status;
	const char *message;
	enum class cl; /* C_FAULT: refined by fault_class() */
} documented[] = {
	{ EXIT_CHECK, "kvmbox: guest assertion failed", C_ASSERT },
	{ EXIT_GUEST_FAULT, "kvmbox: guest fault: ", C_FAULT },
	{ EXIT_TIMEOUT, "kvmbox: timeout: ", C_TIMEOUT },
	{ EXIT_UNSUPPORTED, "this host's KVM cannot run ", C_UNSUP }, /* after "kvmbox: IMAGE: " */
};

/* A failure whatever the status: a hang, a signal death, a message no run may print. */
static const char *failure(const struct job *j, int status)
{
	if (j->hung)
		return "hang: still running past the timeout and the margin";
	if (WIFSIGNALED(status))
		return strsignal(WTERMSIG(status));
	return forbidden(j->msg);
}

/* Classify one end; *WHY gets the reason of a failure (NULL otherwise). */
static enum class classify(const struct job *j, int status, const char **why)
{
	const char *exited = strstr(j->msg, "kvmbox: the guest exited with status ");
	int code = WEXITSTATUS(status);

	*why = failure(j, status);
	if (*why)
		return C_FAIL;
	if (exited && exit_status_of_guest(atoi(exited + strlen("kvmbox: the guest exited with status "))) ==
			      code)
		return C_EXIT;
	if (code == 0) {
		*why = j->len ? "status 0 with a message" : NULL;
		return j->len ? C_FAIL : C_HALT;
	}
	*why = "undocumented status for a guest run";
	for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++) {
		if (documented[i].status != code)
			continue;
		if (!strstr(j->msg, documented[i].message)) {
			*why = "a documented status without its message";
			break;
		}
		*why = NULL;
		return documented[i].cl == C_FAULT ? fault_class(j->msg) : documented[i].cl;
	}
	return C_FAIL;
}

static int mode_index(const char *mode)
{
	for (int m = 0; m < NMODES; m++)
		if (!strcmp(mode, modes[m]))
			return m;
	return 0;
}

/* Reap a finished (or hung) job, count it, and say what failed with a reproducer. */
static void finish(const struct config *c, struct job *j, struct tally *t)
{
	const char *why, *argv[ARGV_MAX];
	enum class cl;
	int status = 0, m = mode_index(j->g.mode);

	if (j->hung)
		kill(j->pid, SIGKILL);
	waitpid(j->pid, &status, 0);
	if (j->fd >= 0)
		close(j->fd);
	j->pid = 0;
	cl = classify(j, status, &why);
	t->count[m][cl]++;
	if (cl == C_UNSUP && !t->unsupported[m][0])
		snprintf(t->unsupported[m], sizeof(t->unsupported[m]), "%.*s", (int)strcspn(j->msg, "\n"),
			 j->msg);
	if (cl != C_FAIL)
		return;
	t->failures++;
	printf("FAIL %s %s %s: %s (status 0x%x)\n  reproduce:", j->g.mode, j->g.kind, j->g.path, why,
	       status);
	guest_argv(c, &j->g, argv);
	for (const char **w = argv; *w; w++)
		printf(" %s", *w);
	printf("\n");	if (j->len)
		printf("  stderr: %.*s\n", (int)strcspn(j->msg, "\n"), j->msg);
}

/* Read what a job wrote to stderr (keeping the first MSG_MAX-1 bytes); EOF closes the pipe. */
static void drain(struct job *j)
{
	char sink[4096];
	ssize_t n;

	if (j->len < sizeof(j->msg) - 1)
		n = read(j->fd, j->msg + j->len, sizeof(j->msg) - 1 - j->len);
	else
		n = read(j->fd, sink, sizeof(sink));
	if (n > 0 && j->len < sizeof(j->msg) - 1) {
		j->len += (size_t)n;
		j->msg[j->len] = 0;
	} else if (n == 0 || (n < 0 && errno != EINTR)) {
		close(j->fd);
		j->fd = -1;
	}
}

/* Has PID ended? (Without reaping it: finish() collects its status.) */
static bool ended(pid_t pid)
{
	siginfo_t si = { 0 };

	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Wait until some running job has news; finish those that ended or hung. */
static void step(const struct config *c, struct job *jobs, struct tally *t)
{
	struct pollfd pfd[JOBS_MAX];
	unsigned i, k, n = 0;

	for (i = 0; i < c->jobs; i++)
		if (jobs[i].pid && jobs[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = jobs[i].fd, .events = POLLIN };
	poll(pfd, n, 20);
	for (i = 0; i < c->jobs; i++) {
		struct job *j = &jobs[i];

		if (!j->pid)
			continue;
		for (k = 0; k < n && j->fd >= 0; k++)
			if (pfd[k].fd == j->fd && pfd[k].revents)
				drain(j);
		if (now() > j->deadline)
			j->hung = true;
		if (j->hung || (j->fd < 0 && ended(j->pid)))
			finish(c, j, t);
	}
}

static int read_guest(FILE *list, struct guest *g)
{
	return fscanf(list, "%15s %15s %*u %23s %15s %15s %4095s", g->mode, g->kind, g->load, g->mem,
		      g->flags, g->path) == 6;
}

/* Run every guest of LIST, at most c->jobs at a time. Returns 0, or -errno when a child
 * could not be started. */
static int run_all(const struct config *c, FILE *list, struct tally *t)
{
	struct job *jobs = calloc(c->jobs, sizeof(*jobs));
	struct guest g;
	bool more = true;
	unsigned i, busy;
	int ret = 0;

	if (!jobs)
		return -ENOMEM;
	do {
		busy = 0;
		for (i = 0; i < c->jobs; i++) {
			if (!jobs[i].pid && more && !ret && (more = read_guest(list, &g)))
				ret = start(c, &g, &jobs[i]);
			busy += jobs[i].pid != 0;
		}
		if (busy)
			step(c, jobs, t);
	} while (busy);
	free(jobs);
	return ret;
}

/* One row per mode: the count of each class; a mode that could not run says why. */
static void print_table(const struct tally *t)
{
	int m, c;

	printf("%-10s", "mode");
	for (c = 0; c < C_COUNT; c++)
		printf(" %8s", class_names[c]);
	printf("\n");
	for (m = 0; m < NMODES; m++) {
		printf("%-10s", modes[m]);
		for (c = 0; c < C_COUNT; c++)
			printf(" %8u", t->count[m][c]);
		printf("\n");
	}
	for (m = 0; m < NMODES; m++)
		if (t->count[m][C_UNSUP])
			printf("SKIPPED %s: %u guest(s) not run: %s\n", modes[m], t->count[m][C_UNSUP],
			       t->unsupported[m]);
}

int main(int argc, char **argv)
{
	struct config c;
	struct tally t;
	char *end, path[4096];
	FILE *list;
	int ret;

	if (argc != 6) {
		fprintf(stderr, "usage: torture-run KVMBOX DIR TIMEOUT MARGIN JOBS\n");
		return 2;
	}
	c = (struct config){ .kvmbox = argv[1], .timeout = argv[3] };
	c.limit = strtod(argv[3], &end) + strtod(argv[4], NULL);
	c.jobs = (unsigned)atoi(argv[5]);
	if (*end || !(c.limit > 0) || c.jobs < 1 || c.jobs > JOBS_MAX) {
		fprintf(stderr, "torture-run: TIMEOUT and MARGIN are seconds, JOBS 1..%d\n", JOBS_MAX);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/guests.list", argv[2]);
	list = fopen(path, "r");
	if (!list) {
		fprintf(stderr, "torture-run: %s: %s\n", path, strerror(errno));
		return 2;
	}
	memset(&t, 0, sizeof(t));
	ret = run_all(&c, list, &t);
	fclose(list);
	print_table(&t);
	if (ret < 0)
		fprintf(stderr, "torture-run: cannot start kvmbox: %s\n", strerror(-ret));
	printf("torture: %u failure(s)\n", t.failures);
	return ret < 0 || t.failures ? 1 : 0;
}
