/* System calls injected into a running sandboxed kvmbox (docs/security.md, "The process
 * sandbox"): the test stops kvmbox's vCPU thread with ptrace, as a debugger does, makes it
 * call what a subverted kvmbox might, reads the result and lets the guest run on. Opens
 * outside the share fail, for reading and for writing (Landlock); inside it they work; and the
 * run-phase allowlist is exactly the documented one, with its argument checks: every other
 * call traps (the SIGSYS is caught here and discarded, so kvmbox does not die of it). An exec,
 * with the filter and Landlock off, gains no privilege. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <grp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "harness.h"

extern char **environ;

#define WAIT_MS 10000 /* the longest any wait here lasts before the test fails */

/* A kvmbox running a guest that spins in KVM_RUN, and what the test found in it. */
struct kv {
	pid_t pid;
	char errpath[64];             /* its stderr */
	char errtext[4096];
	bool attached;
	struct user_regs_struct saved; /* the thread's registers when it was stopped */
	uint64_t insn;                /* the address of a `syscall` instruction in it */
	uint64_t scratch;             /* a page mapped in it for the calls' strings and structs */
	int share_fd, proc_fd, vm_fd, vcpu_fd; /* its descriptors (-1: none such) */
};

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void read_err(struct kv *k)
{
	FILE *f = fopen(k->errpath, "r");
	size_t n = 0;

	if (f) {
		n = fread(k->errtext, 1, sizeof(k->errtext) - 1, f);
		fclose(f);
	}
	k->errtext[n] = 0;
}

/* Is FIELD of /proc/PID/status VALUE? */
static bool status_is(pid_t pid, const char *field, const char *value)
{
	char path[64], line[256], want[128];
	bool yes = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	snprintf(want, sizeof(want), "%s:\t%s\n", field, value);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		yes |= !strcmp(line, want);
	fclose(f);
	return yes;
}

/* Kill kvmbox (it runs a guest that never ends) and remove its stderr file. */
static void stop(struct kv *k)
{
	kill(k->pid, SIGKILL);
	waitpid(k->pid, NULL, 0);
	unlink(k->errpath);
}

/* Start build/kvmbox run ARGS (stdout to /dev/null, stderr to a file) with ENV added when not
 * NULL, and wait until its filter is on (Seccomp: 2): the guest runs in the sandbox then. A
 * run without the filter (--no-seccomp in ARGS) is waited for until no_new_privs is on and
 * the capabilities are gone. */
static void start(struct kv *k, const char *env, const char *const *args)
{
	bool filtered = true;

	const char *argv[32] = { build_path("kvmbox"), "run" };
	char *envp[256];
	posix_spawn_file_actions_t fa;
	int i, n = 0, err;

	memset(k, 0, sizeof(*k));
	k->share_fd = k->proc_fd = k->vm_fd = k->vcpu_fd = -1;
	for (i = 0; args[i]; i++) {
		argv[i + 2] = args[i];
		filtered &= strcmp(args[i], "--no-seccomp") != 0;
	}
	for (i = 0; environ[i] && n < 254; i++)
		envp[n++] = environ[i];
	if (env)
		envp[n++] = (char *)env;
	envp[n] = NULL;
	snprintf(k->errpath, sizeof(k->errpath), "/tmp/kvmbox-sandbox-err-XXXXXX");
	err = mkstemp(k->errpath);
	assert_true(err >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	assert_int_equal(posix_spawn(&k->pid, argv[0], &fa, NULL, (char **)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(err);
	for (i = 0; i < WAIT_MS && !(filtered ? status_is(k->pid, "Seccomp", "2")
					       : status_is(k->pid, "NoNewPrivs", "1") &&
						 status_is(k->pid, "CapPrm", "0000000000000000"));
	     i++) {
		if (waitpid(k->pid, &err, WNOHANG) == k->pid) {
			read_err(k);
			fail_msg("kvmbox ended before its guest ran: %s", k->errtext);
		}
		sleep_ms(1);
	}
	read_err(k);
	if (i == WAIT_MS) {
		stop(k); /* not left spinning after the test */
		fail_msg("kvmbox never entered its sandbox: %s", k->errtext);
	}
}

/* Wait for the traced thread's next stop; returns its wait status (kvmbox's end fails). */
static int wait_stop(struct kv *k)
{
	int st = 0, i;

	for (i = 0; i < WAIT_MS * 10; i++) {
		pid_t got = waitpid(k->pid, &st, __WALL | WNOHANG);

		if (got == k->pid && WIFSTOPPED(st))
			return st;
		if (got == k->pid)
			fail_msg("kvmbox ended (wait status 0x%x) while traced", st);
		usleep(100);
	}
	fail_msg("kvmbox's thread did not stop within %d ms", WAIT_MS);
	return 0;
}

static void get_regs(struct kv *k, struct user_regs_struct *r)
{
	assert_int_equal(ptrace(PTRACE_GETREGS, k->pid, NULL, r), 0);
}

static void set_regs(struct kv *k, const struct user_regs_struct *r)
{
	assert_int_equal(ptrace(PTRACE_SETREGS, k->pid, NULL, r), 0);
}

/* Step the stopped thread over one instruction; returns the signal of the stop that ends it. */
static int step(struct kv *k)
{
	assert_int_equal(ptrace(PTRACE_SINGLESTEP, k->pid, NULL, NULL), 0);
	return WSTOPSIG(wait_stop(k));
}

/* How an injected call ended: it ran, the filter trapped it (SIGSYS), or the kernel refused
 * the number before any filter saw it (SIGILL: kvm_pvm hosts do so for 335). */
enum outcome { RAN, TRAPPED, REFUSED };

/* Make kvmbox's stopped thread call NR(A[0..5]) from the `syscall` instruction it stopped
 * after; the result goes to *RES when it ran. A SIGSYS (which must name NR) or SIGILL is
 * discarded, so kvmbox runs on as if nothing had happened. orig_rax -1: no system call is
 * restarted on the way back to user mode. */
static enum outcome inject_call(struct kv *k, long nr, const uint64_t a[6], int64_t *res)
{
	struct user_regs_struct r = k->saved;
	siginfo_t si;
	int sig;

	r.rip = k->insn;
	r.rax = (uint64_t)nr;
	r.orig_rax = (uint64_t)-1;
	r.rdi = a[0], r.rsi = a[1], r.rdx = a[2], r.r10 = a[3], r.r8 = a[4], r.r9 = a[5];
	set_regs(k, &r);
	sig = step(k);
	*res = 0;
	if (sig == SIGTRAP) {
		get_regs(k, &r);
		*res = (int64_t)r.rax;
		return RAN;
	}
	if (sig != SIGSYS && sig != SIGILL)
		fail_msg("system call %ld: kvmbox's thread stopped with signal %d", nr, sig);
	assert_int_equal(ptrace(PTRACE_GETSIGINFO, k->pid, NULL, &si), 0);
	if (sig == SIGSYS) {
		assert_int_equal(si.si_code, 1 /* SYS_SECCOMP */);
		assert_int_equal(si.si_syscall, nr);
	}
	/* The step's own trap may wait behind the SIGSYS: one more step, over gettid (allowed in
	 * every run), ends in a SIGTRAP stop whichever way, with nothing left pending. */
	r = k->saved;
	r.rip = k->insn;
	r.rax = SYS_gettid;
	r.orig_rax = (uint64_t)-1;
	set_regs(k, &r);
	assert_int_equal(step(k), SIGTRAP);
	return sig == SIGSYS ? TRAPPED : REFUSED;
}

/* Did NR(A...) run (false: trapped)? A number the kernel refuses outright fails the test. */
static bool inject(struct kv *k, long nr, const uint64_t a[6], int64_t *res)
{
	enum outcome o = inject_call(k, nr, a, res);

	if (o == REFUSED)
		fail_msg("system call %ld: SIGILL, the kernel refused it", nr);
	return o == TRAPPED;
}

#define ARGS(...) ((const uint64_t[6]){ __VA_ARGS__ })

/* NR(A...) must run (not trap); returns its result. */
static int64_t call(struct kv *k, long nr, const uint64_t a[6])
{
	int64_t res;

	if (inject(k, nr, a, &res))
		fail_msg("system call %ld was trapped; the run allows it", nr);
	return res;
}

/* NR(A...) must trap. */
static void traps(struct kv *k, long nr, const uint64_t a[6])
{
	int64_t res;

	if (!inject(k, nr, a, &res))
		fail_msg("system call %ld ran (result %lld); the filter should trap it", nr, (long long)res);
}

/* Move LEN bytes between DATA and kvmbox's scratch page at OFF (WRITE: into kvmbox), through
 * /proc/PID/mem, which a tracer may use on its stopped tracee. */
static void mem_io(struct kv *k, unsigned off, void *data, size_t len, bool write)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)k->pid);
	fd = open(path, write ? O_WRONLY : O_RDONLY);
	assert_true(fd >= 0);
	n = write ? pwrite(fd, data, len, (off_t)(k->scratch + off))
		  : pread(fd, data, len, (off_t)(k->scratch + off));
	assert_int_equal(n, (ssize_t)len);
	close(fd);
}

static void put(struct kv *k, unsigned off, const void *data, size_t len)
{
	mem_io(k, off, (void *)data, len, true);
}

/* The descriptors of kvmbox that matter here, by what they name; SHARE: the share's path. */
static void find_fds(struct kv *k, const char *share)
{
	char dir[64], link[320], target[PATH_MAX], procfd[64];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)k->pid);
	snprintf(procfd, sizeof(procfd), "/proc/%d/fd", (int)k->pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		ssize_t n;
		int fd = atoi(e->d_name);

		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (share && !strcmp(target, share))
			k->share_fd = fd;
		else if (!strcmp(target, procfd))
			k->proc_fd = fd;
		else if (!strcmp(target, "anon_inode:kvm-vm"))
			k->vm_fd = fd;
		else if (!strncmp(target, "anon_inode:kvm-vcpu", 19))
			k->vcpu_fd = fd;
	}
	closedir(d);
	assert_true(k->vm_fd >= 0 && k->vcpu_fd >= 0);
}

/* Stop kvmbox's vCPU thread in a system call (the guest spins, so it sits in KVM_RUN), keep
 * its registers, and map a scratch page in it (a private anonymous mapping: every run may). */
static void attach(struct kv *k, const char *share)
{
	int i;

	find_fds(k, share);
	assert_int_equal(ptrace(PTRACE_SEIZE, k->pid, NULL, (void *)PTRACE_O_EXITKILL), 0);
	k->attached = true;
	for (i = 0; i < 100; i++) {
		long word;

		assert_int_equal(ptrace(PTRACE_INTERRUPT, k->pid, NULL, NULL), 0);
		wait_stop(k);
		get_regs(k, &k->saved);
		errno = 0;
		word = ptrace(PTRACE_PEEKTEXT, k->pid, (void *)(k->saved.rip - 2), NULL);
		if (!errno && (word & 0xffff) == 0x050f) { /* 0f 05: syscall */
			k->insn = k->saved.rip - 2;
			break;
		}
		assert_int_equal(ptrace(PTRACE_CONT, k->pid, NULL, NULL), 0);
		sleep_ms(2);
	}
	if (i == 100)
		fail_msg("kvmbox's thread never stopped in a system call");
	k->scratch = (uint64_t)call(k, SYS_mmap, ARGS(0, 4096, PROT_READ | PROT_WRITE,
						       MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0));
	assert_true(k->scratch > 0 && k->scratch < (uint64_t)-4096);
}

/* Put the thread back as it was and let it go: the guest runs on. */
static void detach(struct kv *k)
{
	set_regs(k, &k->saved);
	assert_int_equal(ptrace(PTRACE_DETACH, k->pid, NULL, NULL), 0);
	k->attached = false;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void read_text(const char *path, char *buf, size_t max)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, max - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* x86-64 only (the registers), and a kernel that lets a parent trace its child. */
static void skip_unless_traceable(void)
{
#ifndef __x86_64__
	printf("SKIP: system calls are injected through x86-64 registers\n");
	skip();
#endif
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = 0;

	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	if (scope >= 3) {
		printf("SKIP: ptrace is disabled on this host (kernel.yama.ptrace_scope = 3)\n");
		skip();
	}
}

/* The test needs Landlock, which this kernel may lack: kvmbox says so on stderr then. */
static void skip_without_landlock(struct kv *k)
{
	if (strstr(k->errtext, "has no Landlock")) {
		stop(k);
		printf("SKIP: this kernel has no Landlock: nothing but the hypercalls' own checks keeps "
		       "a share's opens inside it (docs/security.md); test_harden's "
		       "test_no_landlock_fallback covers what kvmbox does then\n");
		skip();
	}
}

/* Scratch page layout: strings, then struct open_how values, then a read buffer. */
enum { S_SECRET = 0, S_DOTDOT = 256, S_INSIDE = 512, S_NEW = 768, S_UP = 1024, S_FDNAME = 1280,
       S_HOW = 1536, S_BUF = 2048 };
enum { HOW_RD, HOW_RW, HOW_WR, HOW_CREATE, HOW_PATH, HOW_BENEATH_RD, HOW_N };

static void put_str(struct kv *k, unsigned off, const char *s)
{
	put(k, off, s, strlen(s) + 1);
}

static uint64_t at(struct kv *k, unsigned off)
{
	return k->scratch + off;
}

static uint64_t how(struct kv *k, int which)
{
	return k->scratch + S_HOW + (unsigned)which * sizeof(struct open_how);
}

/* Strings and open_how values for the opens below: the secret file outside the share by
 * absolute path, by a ../ path from /proc/self/fd and by a ../ path from the share; a file to
 * create outside; a file inside. */
static void put_paths(struct kv *k, const char *outside)
{
	static const struct open_how hows[HOW_N] = {
		[HOW_RD] = { .flags = O_RDONLY },
		[HOW_RW] = { .flags = O_RDWR },
		[HOW_WR] = { .flags = O_WRONLY },
		[HOW_CREATE] = { .flags = O_WRONLY | O_CREAT, .mode = 0644 },
		[HOW_PATH] = { .flags = O_PATH },
		[HOW_BENEATH_RD] = { .flags = O_RDONLY, .resolve = RESOLVE_BENEATH },
	};
	char s[256];

	snprintf(s, sizeof(s), "%s/secret.txt", outside);
	put_str(k, S_SECRET, s);
	snprintf(s, sizeof(s), "../../..%s/secret.txt", outside); /* from /proc/PID/fd */
	put_str(k, S_DOTDOT, s);
	put_str(k, S_INSIDE, "inside.txt");
	snprintf(s, sizeof(s), "%s/new.txt", outside);
	put_str(k, S_NEW, s);
	snprintf(s, sizeof(s), "..%s/secret.txt", strrchr(outside, '/')); /* from the share */
	put_str(k, S_UP, s);
	put(k, S_HOW, hows, sizeof(hows));
}

/* openat2 of the path at scratch offset PATH on the share's descriptor with open_how H. */
static int64_t open2(struct kv *k, unsigned path, int h)
{
	return call(k, SYS_openat2, ARGS((uint64_t)k->share_fd, at(k, path), how(k, h),
					 sizeof(struct open_how)));
}

static void close_fd(struct kv *k, int64_t fd)
{
	assert_int_equal(call(k, SYS_close, ARGS((uint64_t)fd)), 0);
}

/* Reopen descriptor FD of kvmbox through /proc/self/fd with FLAGS (the hypercalls' reopen). */
static int64_t reopen(struct kv *k, int64_t fd, int flags)
{
	char name[16];

	snprintf(name, sizeof(name), "%lld", (long long)fd);
	put_str(k, S_FDNAME, name);
	return call(k, SYS_openat, ARGS((uint64_t)k->proc_fd, at(k, S_FDNAME), (uint64_t)flags));
}

/* After the injections: DIR/MADE was not created and DIR/KEPT still reads TEXT. */
static void expect_untouched(const char *dir, const char *made, const char *kept, const char *text)
{
	char path[PATH_MAX], data[64];

	snprintf(path, sizeof(path), "%s/%s", dir, made);
	assert_false(exists(path));
	snprintf(path, sizeof(path), "%s/%s", dir, kept);
	read_text(path, data, sizeof(data));
	assert_string_equal(data, text);
}

/* Make a share with inside.txt and, next to it, a directory with secret.txt. */
static void make_dirs(char *share, char *outside)
{
	char path[PATH_MAX];

	assert_non_null(mkdtemp(share));
	assert_non_null(mkdtemp(outside));
	snprintf(path, PATH_MAX, "%s/inside.txt", share);
	write_text(path, "inside\n");
	snprintf(path, PATH_MAX, "%s/secret.txt", outside);
	write_text(path, "secret\n");
}

static void remove_dirs(const char *share, const char *outside)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", share, outside);
	assert_int_equal(system(cmd), 0);
}

/* Make the share and the directory next to it, start kvmbox on a spinning guest with the
 * share (SUFFIX: "" or ":ro"), stop its thread and put the paths in its scratch page. */
static void start_with_share(struct kv *k, char *share, char *outside, const char *suffix)
{
	char spec[64];

	skip_unless_traceable();
	make_dirs(share, outside);
	snprintf(spec, sizeof(spec), "%s%s", share, suffix);
	start(k, NULL, (const char *const[]){ "--share", spec,
		build_path("guests/test-loop-long.elf"), NULL });
	skip_without_landlock(k);
	attach(k, share);
	assert_true(k->share_fd >= 0 && k->proc_fd >= 0);
	put_paths(k, outside);
}

/* A subverted kvmbox with a read-write share opens nothing outside it, for reading or for
 * writing, by any of the ways the filter leaves open: openat on /proc/self/fd with an absolute
 * or a ../ path, openat2 on the share with an absolute or a ../ path and no RESOLVE_ flag, an
 * O_PATH descriptor (which reads nothing) reopened through /proc/self/fd. Inside the share
 * the same calls work, so the injection itself is not what fails. */
static void test_opens_stay_in_share(void **state)
{
	char share[] = "/tmp/kvmbox-sandbox-share-XXXXXX", outside[] = "/tmp/kvmbox-sandbox-out-XXXXXX";
	char data[64];
	int64_t fd, pfd;
	struct kv k;

	(void)state;
	start_with_share(&k, share, outside, "");
	assert_int_equal(call(&k, SYS_openat, ARGS((uint64_t)k.proc_fd, at(&k, S_SECRET), O_RDWR)),
			 -EACCES);
	assert_int_equal(call(&k, SYS_openat, ARGS((uint64_t)k.proc_fd, at(&k, S_SECRET), O_RDONLY)),
			 -EACCES);
	assert_int_equal(call(&k, SYS_openat, ARGS((uint64_t)k.proc_fd, at(&k, S_DOTDOT), O_RDONLY)),
			 -EACCES);
	for (int h = HOW_RD; h <= HOW_WR; h++) {
		assert_int_equal(open2(&k, S_SECRET, h), -EACCES);
		assert_int_equal(open2(&k, S_UP, h), -EACCES);
	}
	assert_int_equal(open2(&k, S_NEW, HOW_CREATE), -EACCES);
	/* O_PATH opens nothing (it is how the hypercalls look before they open); reopening it is. */
	pfd = open2(&k, S_SECRET, HOW_PATH);
	assert_true(pfd >= 0);
	assert_int_equal(reopen(&k, pfd, O_RDONLY), -EACCES);
	assert_int_equal(reopen(&k, pfd, O_WRONLY), -EACCES);
	close_fd(&k, pfd);

	/* Inside: the same calls open, read and reopen for writing. */
	fd = open2(&k, S_INSIDE, HOW_BENEATH_RD);
	assert_true(fd >= 0);
	assert_int_equal(call(&k, SYS_read, ARGS((uint64_t)fd, at(&k, S_BUF), 64)), 7);
	mem_io(&k, S_BUF, data, 7, false);
	assert_memory_equal(data, "inside\n", 7);
	pfd = reopen(&k, fd, O_RDWR);
	assert_true(pfd >= 0);
	close_fd(&k, pfd);
	close_fd(&k, fd);

	detach(&k);
	sleep_ms(10);
	assert_true(status_is(k.pid, "Seccomp", "2")); /* still running its guest */
	stop(&k);
	expect_untouched(outside, "new.txt", "secret.txt", "secret\n");
	remove_dirs(share, outside);
}

/* A read-only share (:ro) is read-only to the process too: no open for writing or creating
 * beneath it, however made; reading works. */
static void test_readonly_share_is_read_only(void **state)
{
	char share[] = "/tmp/kvmbox-sandbox-share-XXXXXX", outside[] = "/tmp/kvmbox-sandbox-out-XXXXXX";
	int64_t fd, pfd;
	struct kv k;

	(void)state;
	start_with_share(&k, share, outside, ":ro");
	put_str(&k, S_NEW, "made.txt");
	for (int h = HOW_RW; h <= HOW_WR; h++)
		assert_int_equal(open2(&k, S_INSIDE, h), -EACCES);
	assert_int_equal(open2(&k, S_NEW, HOW_CREATE), -EACCES);
	fd = open2(&k, S_INSIDE, HOW_RD);
	assert_true(fd >= 0);
	assert_int_equal(reopen(&k, fd, O_RDWR), -EACCES);
	pfd = reopen(&k, fd, O_RDONLY);
	assert_true(pfd >= 0);
	close_fd(&k, pfd);
	close_fd(&k, fd);
	detach(&k);
	stop(&k);
	expect_untouched(share, "made.txt", "inside.txt", "inside\n");
	remove_dirs(share, outside);
}

/* ---- what an exec gains ----------------------------------------------------------------- */

/* What the file capabilities below offer: CAP_DAC_OVERRIDE and CAP_SYS_ADMIN. */
#define FILE_CAPS ((1ull << CAP_DAC_OVERRIDE) | (1ull << CAP_SYS_ADMIN))

/* Copy /bin/cp to DIR/NAME with mode MODE (04755: setuid root, this test being root) and,
 * when CAPS is not 0, file capabilities CAPS, permitted and effective. */
static void make_cp(const char *dir, const char *name, mode_t mode, uint64_t caps)
{
	char path[PATH_MAX], buf[65536];
	int in = open("/bin/cp", O_RDONLY), out;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL, 0700);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	assert_int_equal(chmod(path, mode), 0);
	if (caps) { /* last: a write to the file would take them away again */
		struct vfs_cap_data cap = { .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE };

		cap.data[0].permitted = (uint32_t)caps;
		cap.data[1].permitted = (uint32_t)(caps >> 32);
		assert_int_equal(setxattr(path, "security.capability", &cap, sizeof(cap), 0), 0);
	}
}

/* FIELD's value (after the tab) in the /proc/PID/status text of file PATH. */
static void status_of(const char *path, const char *field, char *val, size_t max)
{
	char text[4096], *line;
	size_t flen = strlen(field);

	read_text(path, text, sizeof(text));
	val[0] = 0;
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, field, flen) && line[flen] == ':')
			snprintf(val, max, "%s", line + flen + 1 + strspn(line + flen + 1, " \t"));
}

static void expect_status(const char *path, const char *field, const char *want)
{
	char val[128];

	status_of(path, field, val, sizeof(val));
	if (strcmp(val, want))
		fail_msg("%s of the exec'd program: '%s', not '%s'", field, val, want);
}

/* Wait up to WAIT_MS for PID, which must end with status 0; WHAT names it. */
static void expect_exit_0(pid_t pid, const char *what, struct kv *k)
{
	int st = 0, i;

	for (i = 0; i < WAIT_MS && waitpid(pid, &st, WNOHANG) != pid; i++)
		sleep_ms(1);
	if (i == WAIT_MS) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		fail_msg("%s still running after %d ms", what, WAIT_MS);
	}
	if (k)
		read_err(k);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("%s ended with wait status 0x%x%s%s", what, st, k ? "; kvmbox said: " : "",
			 k ? k->errtext : "");
}

/* The control: PROG run by this test as PW's user, without no_new_privs, copies its own
 * status to OUT. */
static void run_as(const struct passwd *pw, const char *prog, const char *out)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
			_exit(126);
		execl(prog, "cp", "/proc/self/status", out, (char *)NULL);
		_exit(127);
	}
	expect_exit_0(pid, prog, NULL);
}

/* Scratch page layout of an exec: its path, its three arguments, the argv array. */
enum { E_PATH = 0, E_ARG0 = 1024, E_ARG1 = 1280, E_ARG2 = 1536, E_ARGV = 3072 };

/* Make kvmbox's stopped thread exec PROG as `cp /proc/self/status OUT`, as a subverted kvmbox
 * could, let it go untraced and wait for that program's end: what it copies is its own
 * status, with the privileges the exec gave it. */
static void exec_in(struct kv *k, const char *prog, const char *out)
{
	struct user_regs_struct r = k->saved;
	uint64_t argv[4];

	put_str(k, E_PATH, prog);
	put_str(k, E_ARG0, "cp");
	put_str(k, E_ARG1, "/proc/self/status");
	put_str(k, E_ARG2, out);
	argv[0] = at(k, E_ARG0), argv[1] = at(k, E_ARG1), argv[2] = at(k, E_ARG2), argv[3] = 0;
	put(k, E_ARGV, argv, sizeof(argv));
	r.rip = k->insn;
	r.rax = SYS_execve;
	r.orig_rax = (uint64_t)-1;
	r.rdi = at(k, E_PATH), r.rsi = at(k, E_ARGV), r.rdx = 0;
	set_regs(k, &r);
	assert_int_equal(ptrace(PTRACE_DETACH, k->pid, NULL, NULL), 0);
	k->attached = false;
	expect_exit_0(k->pid, "the program kvmbox exec'd", k);
	unlink(k->errpath);
}

/* The host gave the control run of WHAT nothing (it saw GOT): skip, naming the reason (the
 * checks made before it stand). */
static void skip_exec_test(const char *dir, const char *what, const char *got)
{
	char cmd[PATH_MAX + 16];

	printf("SKIP: this host does not honour %s in %s (run as nobody without no_new_privs it "
	       "got '%s'; a nosuid mount?), so no exec could show what the sandbox withholds\n",
	       what, dir, got);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	skip();
}

/* The sandbox leaves the bounding set full (src/sandbox/sandbox.c says why): what keeps an
 * exec from gaining privileges is no_new_privs with empty capability sets. A kvmbox whose
 * filter and Landlock are off (--no-seccomp, KVMBOX_TEST_NO_LANDLOCK: both would refuse an
 * exec) is made to exec, as a subverted one could, a copy of cp that copies its own
 * /proc/self/status: as root (whose exec would otherwise get every capability of the bounding
 * set), a copy with file capabilities; after --user nobody, a copy that is setuid root. The
 * program runs with no capability in any set and nobody's ids, while its bounding set is
 * full. The control: the same copies run by this test as nobody, without no_new_privs, do
 * gain the capabilities and uid 0; a host that does not honour one of them (the QEMU lane's
 * setuid) skips that half, naming why. */
static void test_exec_gains_nothing(void **state)
{
	char dir[] = "/tmp/kvmbox-sandbox-exec-XXXXXX", caps_cp[PATH_MAX], suid_cp[PATH_MAX];
	char out[PATH_MAX], want[64], val[128], cmd[PATH_MAX + 16];
	const struct passwd *nobody = getpwnam("nobody");
	struct kv k;

	(void)state;
	if (geteuid() != 0) {
		printf("SKIP: needs root: only root can give a file capabilities or make it setuid "
		       "root, and only root's exec would gain the whole bounding set\n");
		skip();
	}
	if (!nobody) {
		printf("SKIP: no user 'nobody' on this host\n");
		skip();
	}
	skip_unless_traceable();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(chmod(out, 0777), 0); /* nobody writes the status copies there */
	make_cp(dir, "cp-caps", 0755, FILE_CAPS);
	make_cp(dir, "cp-suid", 04755, 0);
	snprintf(caps_cp, sizeof(caps_cp), "%s/cp-caps", dir);
	snprintf(suid_cp, sizeof(suid_cp), "%s/cp-suid", dir);

	/* The controls: where the host does not honour them (a filesystem mounted nosuid, as
	 * the QEMU lane's is), nothing below could show that the sandbox is what stops them. */
	snprintf(out, sizeof(out), "%s/out/control-caps", dir);
	run_as(nobody, caps_cp, out);
	snprintf(want, sizeof(want), "%016llx", (unsigned long long)FILE_CAPS);
	status_of(out, "CapPrm", val, sizeof(val));
	if (strcmp(val, want))
		skip_exec_test(dir, "file capabilities", val);
	expect_status(out, "CapEff", want);

	start(&k, "KVMBOX_TEST_NO_LANDLOCK=1", (const char *const[]){ "--no-seccomp",
		build_path("guests/test-loop-long.elf"), NULL });
	attach(&k, NULL);
	snprintf(out, sizeof(out), "%s/out/root-caps", dir);
	exec_in(&k, caps_cp, out);
	expect_status(out, "Uid", "0\t0\t0\t0");
	for (const char *const *f = (const char *const[]){ "CapInh", "CapPrm", "CapEff", "CapAmb",
							   NULL }; *f; f++)
		expect_status(out, *f, "0000000000000000");
	expect_status(out, "NoNewPrivs", "1");
	status_of(out, "CapBnd", want, sizeof(want));
	assert_string_not_equal(want, "0000000000000000"); /* not what protects */

	snprintf(out, sizeof(out), "%s/out/control-suid", dir);
	run_as(nobody, suid_cp, out);
	snprintf(want, sizeof(want), "%u\t0\t0\t0", (unsigned)nobody->pw_uid);
	status_of(out, "Uid", val, sizeof(val));
	if (strcmp(val, want))
		skip_exec_test(dir, "a setuid-root program", val);

	start(&k, "KVMBOX_TEST_NO_LANDLOCK=1", (const char *const[]){ "--no-seccomp", "--user",
		"nobody", build_path("guests/test-loop-long.elf"), NULL });
	attach(&k, NULL);
	snprintf(out, sizeof(out), "%s/out/nobody-suid", dir);
	exec_in(&k, suid_cp, out);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", (unsigned)nobody->pw_uid,
		 (unsigned)nobody->pw_uid, (unsigned)nobody->pw_uid, (unsigned)nobody->pw_uid);
	expect_status(out, "Uid", want);
	for (const char *const *f = (const char *const[]){ "CapInh", "CapPrm", "CapEff", "CapAmb",
							   NULL }; *f; f++)
		expect_status(out, *f, "0000000000000000");

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- the allowlist ---------------------------------------------------------------------- */

enum { PLAIN = 1, SHARE = 2, GDB = 4, SAVE = 8, ALL = PLAIN | SHARE | GDB | SAVE };

/* Each call a run allows (IN: in which runs) and, but for the four whose call would end or
 * fork the thread (NOT_PROBED), arguments that pass its checks yet do nothing: a bad
 * descriptor, a zero length, a NULL that fails with EFAULT. -1 marks a descriptor or id the
 * test fills in; "answered" calls return an error without running. */
struct allowed {
	long nr;
	const char *name;
	unsigned in;
	uint64_t a[6];
};

#define NOT_PROBED ((uint64_t)-2)
#define VCPU_FD ((uint64_t)-3)
#define PID ((uint64_t)-4)
#define BAD ((uint64_t)-1)

static const struct allowed allowlist[] = {
	{ SYS_ioctl, "ioctl", ALL, { VCPU_FD, KVM_TRANSLATE, 0 } },
	{ SYS_write, "write", ALL, { BAD, 0, 0 } },
	{ SYS_close, "close", ALL, { BAD } },
	{ SYS_poll, "poll", ALL, { 0, 0, 0 } },
	{ SYS_mmap, "mmap", ALL, { 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, BAD, 0 } },
	{ SYS_munmap, "munmap", ALL, { 0, 0 } },
	{ SYS_mremap, "mremap", ALL, { 0, 0, 0, MREMAP_MAYMOVE } },
	{ SYS_brk, "brk", ALL, { 0 } },
	{ SYS_newfstatat, "newfstatat", ALL, { BAD, 0, 0, AT_EMPTY_PATH } },
	{ SYS_sysinfo, "sysinfo", ALL, { 0 } },
	{ SYS_rt_sigaction, "rt_sigaction", ALL, { 0 /* SIGRTMIN + 4 */, 0, 0, 8 } },
	{ SYS_rt_sigprocmask, "rt_sigprocmask", ALL, { SIG_BLOCK, 0, 0, 8 } },
	{ SYS_rt_sigreturn, "rt_sigreturn", ALL, { NOT_PROBED } },
	{ SYS_rt_sigtimedwait, "rt_sigtimedwait", ALL, { 0, 0, 0, 8 } },
	{ SYS_timer_create, "timer_create", ALL, { CLOCK_MONOTONIC, BAD, 0 } },
	{ SYS_timer_settime, "timer_settime", ALL, { BAD, TIMER_ABSTIME, 0, 0 } },
	{ SYS_timer_delete, "timer_delete", ALL, { BAD } },
	{ SYS_clock_gettime, "clock_gettime", ALL, { CLOCK_MONOTONIC, 0 } },
	{ SYS_gettid, "gettid", ALL, { 0 } },
	{ SYS_exit_group, "exit_group", ALL, { NOT_PROBED } },
	{ SYS_read, "read", SHARE | GDB, { BAD, 0, 0 } },
	{ SYS_lseek, "lseek", SHARE, { BAD, 0, 0 } },
	{ SYS_fcntl, "fcntl", SHARE, { BAD, F_GETFL } },
	{ SYS_openat2, "openat2", SHARE, { BAD, 0, 0, 24 } },
	{ SYS_openat, "openat", SHARE, { BAD, 0, O_RDONLY } },
	{ SYS_pwrite64, "pwrite64", SHARE | SAVE, { BAD, 0, 0, 0 } },
	{ SYS_ftruncate, "ftruncate", SHARE | SAVE, { BAD, 0 } },
	{ SYS_accept4, "accept4", GDB, { BAD, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC } },
	{ SYS_recvfrom, "recvfrom", GDB, { BAD, 0, 0, MSG_DONTWAIT, 0, 0 } },
	{ SYS_sendto, "sendto", GDB, { BAD, 0, 0, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0 } },
	{ SYS_setsockopt, "setsockopt", GDB, { BAD, IPPROTO_TCP, TCP_NODELAY, 0, 0 } },
	{ SYS_getpid, "getpid", GDB, { 0 } },
	{ SYS_tgkill, "tgkill", GDB, { PID, 0, 0 /* SIGRTMIN + 5 */ } },
	{ SYS_futex, "futex", GDB, { 0, FUTEX_WAKE_PRIVATE, 0 } },
	{ SYS_clone, "clone", GDB, { NOT_PROBED } },
	{ SYS_set_robust_list, "set_robust_list", GDB, { 0, 0 } },
	{ SYS_rseq, "rseq", GDB, { 0, 0, 0, 0 } },
	{ SYS_mprotect, "mprotect", GDB, { 0, 0, PROT_READ } },
	{ SYS_madvise, "madvise", GDB, { 0, 0, MADV_DONTNEED } },
	{ SYS_exit, "exit", GDB, { NOT_PROBED } },
};

/* Calls answered with an error and not run (IN: in which runs). */
static const struct {
	long nr;
	unsigned in;
	int64_t answer;
} answered[] = {
	{ SYS_readlink, ALL, -ENOENT },
	{ SYS_readlinkat, ALL, -ENOENT },
	{ SYS_clone3, GDB, -ENOSYS },
};

/* Does this kernel serve NR (arguments all ones) before any seccomp filter? Asked in a child
 * under a filter that answers every call but exit_group with ENOTRECOVERABLE: kvm_pvm hosts
 * take 335 and 336 for their paravirtual interface that way, which no filter of kvmbox's can
 * change. */
static bool served_before_filters(long nr)
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOTRECOVERABLE));
		long r;

		if (!ctx || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0) || seccomp_load(ctx))
			_exit(2);
		errno = 0;
		r = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
		_exit(r == -1 && errno == ENOTRECOVERABLE ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	return !WIFEXITED(st) || WEXITSTATUS(st) == 1;
}

static const struct allowed *find_allowed(long nr, unsigned run)
{
	for (size_t i = 0; i < sizeof(allowlist) / sizeof(allowlist[0]); i++)
		if (allowlist[i].nr == nr && (allowlist[i].in & run))
			return &allowlist[i];
	return NULL;
}

/* Every system call number up to 511 injected into kvmbox running RUN: an allowed call runs
 * (with arguments its checks pass), an answered one returns its answer, everything else
 * (with arguments of all ones, which no check of the documented list lets through) traps.
 * Prints the count. */
static void scan(struct kv *k, unsigned run, const char *what)
{
	unsigned allowed = 0, probed = 0;
	char names[2048] = "";

	for (long nr = 0; nr < 512; nr++) {
		const struct allowed *ok = find_allowed(nr, run);
		uint64_t a[6] = { BAD, BAD, BAD, BAD, BAD, BAD };
		int64_t res;
		enum outcome o;
		bool trapped;
		size_t j;

		for (j = 0; j < sizeof(answered) / sizeof(answered[0]); j++)
			if (answered[j].nr == nr && (answered[j].in & run))
				break;
		if (j < sizeof(answered) / sizeof(answered[0])) {
			assert_false(inject(k, nr, a, &res));
			if (res != answered[j].answer)
				fail_msg("%s: system call %ld answered %lld, not %lld", what, nr,
					 (long long)res, (long long)answered[j].answer);
			continue;
		}
		if (ok) {
			allowed++;
			snprintf(names + strlen(names), sizeof(names) - strlen(names), " %s", ok->name);
			if (ok->a[0] == NOT_PROBED)
				continue;
			for (int i = 0; i < 6; i++)
				a[i] = ok->a[i] == VCPU_FD ? (uint64_t)k->vcpu_fd
				     : ok->a[i] == PID ? (uint64_t)k->pid : ok->a[i];
			if (nr == SYS_rt_sigaction)
				a[0] = (uint64_t)(SIGRTMIN + 4);
			if (nr == SYS_tgkill)
				a[2] = (uint64_t)(SIGRTMIN + 5);
			if (nr == SYS_ioctl)
				a[2] = 1; /* KVM_TRANSLATE of a bad pointer: EFAULT */
		}
		o = inject_call(k, nr, a, &res);
		probed++;
		if (o == REFUSED && !ok)
			continue; /* a number this kernel does not even take: nothing ran */
		trapped = o != RAN;
		if (ok && trapped)
			fail_msg("%s: %s (%ld) is allowed, with arguments its checks pass, but it trapped",
				 what, ok->name, nr);
		if (!ok && !trapped && served_before_filters(nr)) {
			printf("%s: system call %ld ran (result %lld), as it does under any seccomp "
			       "filter on this kernel\n", what, nr, (long long)res);
			continue;
		}
		if (!ok && !trapped)
			fail_msg("%s: system call %ld ran (result %lld): not on the documented allowlist",
				 what, nr, (long long)res);
	}
	printf("%s: %u system calls allowed:%s (%u numbers probed)\n", what, allowed, names, probed);
}

static void skip_in_sanitizer_builds(void)
{
#ifdef HARNESS_ASAN
	printf("SKIP: sanitizer builds allow their runtime's calls too (docs/security.md)\n");
	skip();
#endif
}

/* Can this build and host trace a kvmbox run? A test that makes a temporary directory asks
 * before it does, so that a skip leaves nothing behind. */
static void skip_unless_scannable(void)
{
	skip_unless_traceable();
	skip_in_sanitizer_builds();
}

/* Start kvmbox with ARGS (a spinning guest), SHARE naming its share or NULL, and scan it. */
static void scan_run(const char *const *args, const char *share, unsigned run, const char *what)
{
	struct kv k;

	skip_unless_scannable();
	start(&k, NULL, args);
	attach(&k, share);
	scan(&k, run, what);
	detach(&k);
	stop(&k);
}

/* A plain run allows exactly its 20 calls. */
static void test_allowlist_plain(void **state)
{
	(void)state;
	scan_run((const char *const[]){ build_path("guests/test-loop-long.elf"), NULL }, NULL, PLAIN,
		 "plain run");
}

/* With a share: the 20, and read, lseek, fcntl, openat2, openat; pwrite64 and ftruncate
 * (a snapshot the guest asks for, into its share). */
static void test_allowlist_share(void **state)
{
	char share[] = "/tmp/kvmbox-sandbox-share-XXXXXX";

	(void)state;
	skip_unless_scannable();
	assert_non_null(mkdtemp(share));
	scan_run((const char *const[]){ "--share", share, build_path("guests/test-loop-long.elf"),
		NULL }, share, SHARE, "with a share");
	assert_int_equal(rmdir(share), 0);
}

/* With a file to save into (--save): the 20, and pwrite64 and ftruncate (writing it). */
static void test_allowlist_save(void **state)
{
	char dir[] = "/tmp/kvmbox-sandbox-save-XXXXXX", file[64];

	(void)state;
	skip_unless_scannable();
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/snap", dir);
	scan_run((const char *const[]){ "--save", file, build_path("guests/test-loop-long.elf"),
		NULL }, NULL, SAVE, "with a file to save into");
	unlink(file);
	assert_int_equal(rmdir(dir), 0);
}

/* With a gdb server: the 20, and what serving gdb and its watcher thread need. */
static void test_allowlist_gdb(void **state)
{
	char dir[] = "/tmp/kvmbox-sandbox-gdb-XXXXXX", spec[96];

	(void)state;
	skip_unless_scannable();
	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "unix:%s/gdb.sock", dir);
	scan_run((const char *const[]){ "--gdb", spec, build_path("guests/test-loop-long.elf"),
		NULL }, NULL, GDB, "with a gdb server");
	/* The socket's remover takes it away once kvmbox is gone. */
	for (int i = 0; i < 100 && exists(spec + 5); i++)
		sleep_ms(100);
	assert_int_equal(rmdir(dir), 0);
}

/* The argument checks, with the arguments a subverted kvmbox would use: ioctl only with a
 * VM's requests on its own descriptors (no new memory slot, no dirty log without a reset point,
 * no vCPU request on the VM), memory never executable or shared, madvise not at all without
 * gdb, signals and timers only the deadline's, no futex without threads, no other process's
 * clock. With --repeat (a reset point) the dirty log is allowed, on the VM only, and
 * putting the vCPU's state back, on the vCPU only; with --save reading it. */
static void test_argument_checks(void **state)
{
	struct kvm_userspace_memory_region region = { .slot = 1, .guest_phys_addr = 1ull << 32,
						      .memory_size = 4096 };
	char dir[] = "/tmp/kvmbox-sandbox-save-XXXXXX", file[64];
	struct kv k;

	(void)state;
	skip_unless_scannable();
	start(&k, NULL, (const char *const[]){ build_path("guests/test-loop-long.elf"), NULL });
	attach(&k, NULL);
	region.userspace_addr = k.scratch;
	put(&k, 0, &region, sizeof(region));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vm_fd, KVM_SET_USER_MEMORY_REGION, at(&k, 0)));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vm_fd, KVM_GET_DIRTY_LOG, at(&k, 512)));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vm_fd, KVM_RUN, 0));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_SET_REGS, at(&k, 512)));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_GET_VCPU_EVENTS, at(&k, 512)));
	/* A translation of guest address 0 is allowed and harmless: it runs. */
	assert_int_equal(call(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_TRANSLATE, at(&k, 512))), 0);
	traps(&k, SYS_mmap, ARGS(0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, BAD, 0));
	traps(&k, SYS_mmap, ARGS(0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, BAD, 0));
	traps(&k, SYS_mmap, ARGS(0, 4096, PROT_READ, MAP_PRIVATE, (uint64_t)k.vm_fd, 0));
	traps(&k, SYS_mprotect, ARGS(k.scratch, 4096, PROT_READ | PROT_EXEC));
	traps(&k, SYS_mremap, ARGS(k.scratch, 4096, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, 1ull << 40));
	traps(&k, SYS_madvise, ARGS(k.scratch, 4096, MADV_MERGEABLE));
	traps(&k, SYS_madvise, ARGS(k.scratch, 4096, MADV_DONTNEED));
	traps(&k, SYS_rt_sigaction, ARGS(SIGUSR1, 0, at(&k, 512), 8));
	traps(&k, SYS_rt_sigaction, ARGS(SIGSYS, 0, at(&k, 512), 8));
	traps(&k, SYS_timer_create, ARGS(CLOCK_REALTIME, 0, at(&k, 512)));
	traps(&k, SYS_timer_settime, ARGS(0, 0, at(&k, 512), 0));
	traps(&k, SYS_futex, ARGS(k.scratch, FUTEX_WAKE_PRIVATE, 1));
	traps(&k, SYS_clock_gettime, ARGS((uint64_t)-((int64_t)k.pid * 8 + 6), at(&k, 512)));
	traps(&k, SYS_tgkill, ARGS((uint64_t)k.pid, (uint64_t)k.pid, SIGRTMIN + 5));
	detach(&k);
	stop(&k);

	start(&k, NULL, (const char *const[]){ "--repeat", "2",
		build_path("guests/test-loop-long.elf"), NULL });
	attach(&k, NULL);
	assert_int_equal(call(&k, SYS_ioctl, ARGS((uint64_t)k.vm_fd, KVM_GET_DIRTY_LOG, 1)), -EFAULT);
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_GET_DIRTY_LOG, 1));
	region.userspace_addr = k.scratch;
	put(&k, 0, &region, sizeof(region));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vm_fd, KVM_SET_USER_MEMORY_REGION, at(&k, 0)));
	/* A reset point puts the vCPU's state back, on its vCPU only. */
	assert_int_equal(call(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_SET_DEBUGREGS, 1)), -EFAULT);
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vm_fd, KVM_SET_DEBUGREGS, 1));
	detach(&k);
	stop(&k);

	/* A VM that may save reads its vCPU's state, on its vCPU only, and writes none of it. */
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/snap", dir);
	start(&k, NULL, (const char *const[]){ "--save", file,
		build_path("guests/test-loop-long.elf"), NULL });
	attach(&k, NULL);
	assert_int_equal(call(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_GET_DEBUGREGS, 1)), -EFAULT);
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vm_fd, KVM_GET_DEBUGREGS, 1));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_SET_DEBUGREGS, 1));
	traps(&k, SYS_ioctl, ARGS((uint64_t)k.vcpu_fd, KVM_SET_XSAVE, 1));
	detach(&k);
	stop(&k);
	unlink(file);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opens_stay_in_share),
		cmocka_unit_test(test_readonly_share_is_read_only),
		cmocka_unit_test(test_allowlist_plain),
		cmocka_unit_test(test_allowlist_share),
		cmocka_unit_test(test_allowlist_save),
		cmocka_unit_test(test_allowlist_gdb),
		cmocka_unit_test(test_argument_checks),
		cmocka_unit_test(test_exec_gains_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
