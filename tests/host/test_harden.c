/* The hardened host process (docs/security.md, "The process sandbox"): seccomp and
 * no-new-privs on in both run styles, a call outside the allowlist ends kvmbox by SIGSYS,
 * inherited descriptors are closed, --user drops root, the share's file-size cap, the
 * --sandbox profile, and hypercalls refused to ring 3. Each test runs build/kvmbox. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/single_threaded.h>
#include <sys/wait.h>
#include "kvmbox/sandbox.h"
#include "harness.h"
#include "../../cli/status.h"

extern char **environ;

struct run {
	pid_t pid;
	int out;        /* read end of the child's stdout */
	FILE *err;      /* the child's stderr */
	char errtext[OUT_MAX];
	char outtext[OUT_MAX];
};

/* Start build/kvmbox ARGS (NULL-terminated) with ENV added to the environment when not
 * NULL; stdout on a pipe, stderr in a temporary file. */
static void start(struct run *r, const char *env, const char *const *args)
{
	const char *argv[32] = { build_path("kvmbox") };
	char *envp[256];
	posix_spawn_file_actions_t fa;
	int out[2], i, n = 0;

	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	for (i = 0; environ[i] && n < 254; i++)
		envp[n++] = environ[i];
	if (env)
		envp[n++] = (char *)env;
	envp[n] = NULL;
	r->err = tmpfile();
	assert_non_null(r->err);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fileno(r->err), 2);
	assert_int_equal(posix_spawn(&r->pid, argv[0], &fa, NULL, (char **)argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	r->out = out[0];
}

/* Wait up to 10 s for the child; returns its wait status (a hang fails the test). */
static int finish(struct run *r)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int st = 0, waited;
	size_t n;

	for (waited = 0; waited < 1000 && waitpid(r->pid, &st, WNOHANG) != r->pid; waited++)
		nanosleep(&tick, NULL);
	if (waited == 1000) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &st, 0);
		fail_msg("kvmbox still running after 10 s");
	}
	read_all_fd(r->out, r->outtext, sizeof(r->outtext));
	rewind(r->err);
	n = fread(r->errtext, 1, sizeof(r->errtext) - 1, r->err);
	r->errtext[n] = 0;
	fclose(r->err);
	return st;
}

/* Run to the end; the exit status (a death by signal fails the test). */
static int run_status(struct run *r, const char *env, const char *const *args)
{
	int st;

	start(r, env, args);
	st = finish(r);
	if (!WIFEXITED(st))
		fail_msg("kvmbox ended by signal %d; stderr:\n%s", WTERMSIG(st), r->errtext);
	return WEXITSTATUS(st);
}

/* Read the child's stdout until NEEDLE has appeared (the guest is running then). */
static void wait_output(struct run *r, const char *needle)
{
	char buf[512];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(r->out, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, needle))
			return;
	}
	kill(r->pid, SIGKILL);
	fail_msg("kvmbox never printed '%s'", needle);
}

/* The value of FIELD ("Seccomp") in /proc/PID/status, as text. */
static void proc_field(pid_t pid, const char *field, char *val, size_t max)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	val[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			snprintf(val, max, "%s", line + flen + 1 + strspn(line + flen + 1, " \t"));
			val[strcspn(val, "\n")] = 0;
		}
	fclose(f);
}

/* Does any descriptor of PID name PATH? */
static bool has_fd_on(pid_t pid, const char *path)
{
	char dir[64], link[340], target[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			found |= !strcmp(target, path);
		}
	}
	closedir(d);
	return found;
}

static void stop(struct run *r)
{
	kill(r->pid, SIGKILL);
	finish(r);
}

/* A running guest's kvmbox, started with ARGS, that inherited a descriptor (no CLOEXEC):
 * sandboxed (seccomp filter mode 2, no-new-privs, no capability, no core dumps), the
 * descriptor closed. */
static void expect_confined(const char *const *args, const char *started)
{
	char marker[] = "/tmp/kvmbox-harden-XXXXXX", val[64];
	struct rlimit core;
	struct run r;
	int fd = mkstemp(marker);

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_SETFD, 0), 0); /* inherited across exec */
	start(&r, NULL, args);
	close(fd);
	wait_output(&r, started);
	proc_field(r.pid, "Seccomp", val, sizeof(val));
	assert_string_equal(val, "2");
	proc_field(r.pid, "NoNewPrivs", val, sizeof(val));
	assert_string_equal(val, "1");
	/* Every set an exec's capabilities come from (with no_new_privs, no more than the
	 * permitted set: test_sandbox's test_exec_gains_nothing), not the bounding set. */
	for (const char *const *f = (const char *const[]){ "CapEff", "CapPrm", "CapInh", "CapAmb",
							   NULL }; *f; f++) {
		proc_field(r.pid, *f, val, sizeof(val));
		assert_string_equal(val, "0000000000000000");
	}
	assert_int_equal(prlimit(r.pid, RLIMIT_CORE, NULL, &core), 0);
	assert_int_equal(core.rlim_cur, 0);
	assert_int_equal(core.rlim_max, 0);
	assert_false(has_fd_on(r.pid, marker));
	stop(&r);
	unlink(marker);
}

static void test_confined_single(void **state)
{
	(void)state;
	expect_confined((const char *const[]){ "run", guest_image("test-chatter",
								   KVMBOX_MODE_LONG), NULL },
			"chatter\n");
}

/* --repeat takes its reset point before the sandbox; its resets are test_cli's --repeat test. */
static void test_confined_repeat(void **state)
{
	(void)state;
	expect_confined((const char *const[]){ "run", "--repeat", "3", guest_image("test-chatter",
			KVMBOX_MODE_PROTECTED), NULL }, "chatter\n");
}

static void test_confined_several(void **state)
{
	char a[300], b[300];

	(void)state;
	snprintf(a, sizeof(a), "a=%s", guest_image("test-chatter", KVMBOX_MODE_LONG));
	snprintf(b, sizeof(b), "b=%s", guest_image("test-loop", KVMBOX_MODE_PROTECTED));
	expect_confined((const char *const[]){ "run", "--vm", a, "--vm", b, NULL }, "[a] chatter");
}

/* --no-seccomp: no filter, said on stderr; the rest of the sandbox stays. */
static void test_no_seccomp_is_loud(void **state)
{
	char val[64];
	struct run r;

	(void)state;
	start(&r, NULL, (const char *const[]){ "run", "--no-seccomp",
		guest_image("test-chatter", KVMBOX_MODE_LONG), NULL });
	wait_output(&r, "chatter\n");
	proc_field(r.pid, "Seccomp", val, sizeof(val));
	assert_string_equal(val, "0");
	proc_field(r.pid, "NoNewPrivs", val, sizeof(val));
	assert_string_equal(val, "1");
	stop(&r);
	assert_non_null(strstr(r.errtext, "--no-seccomp: the guest runs WITHOUT the system-call filter"));
}

/* A call outside the allowlist (the test hook makes a KVM_CREATE_VM after the sandbox is on)
 * ends kvmbox by SIGSYS, with one line that names the call; in both run styles. */
static void expect_sigsys(const char *const *args)
{
	struct run r;
	int st;

	start(&r, "KVMBOX_TEST_FORBIDDEN_CALL=1", args);
	st = finish(&r);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	assert_non_null(strstr(r.errtext, "kvmbox: seccomp: forbidden system call 16 "));
	assert_string_equal(r.outtext, ""); /* the guest never ran */
}

static void test_forbidden_call_kills(void **state)
{
	char vm[300];
	struct run r;

	(void)state;
	snprintf(vm, sizeof(vm), "x=%s", build_path("guests/hello-long.elf"));
	expect_sigsys((const char *const[]){ "run", NULL });
	expect_sigsys((const char *const[]){ "run", "--vm", vm, NULL });
	/* Without the filter the same call fails harmlessly and the guest runs. */
	assert_int_equal(run_status(&r, "KVMBOX_TEST_FORBIDDEN_CALL=1",
				    (const char *const[]){ "run", "--no-seccomp", NULL }), EXIT_OK);
	assert_string_equal(r.outtext, "Hello, world!\n");
}

static void *thread_fn(void *arg)
{
	return arg;
}

/* The library's sandbox, entered by a child of the test: what a run may still do (heap
 * memory, both the brk kind and a block large enough for mmap) works; a socket, which it may
 * not, ends it by SIGSYS, with the line on its stderr (into TEXT); so does a thread, which no
 * run without a gdb server starts (the C library's first step towards one is trapped). */
static int sandboxed_child(int forbidden, char *text, size_t max)
{
	struct kvmbox_sandbox_config cfg = { .vms = NULL, .nvms = 0, .flags = 0 };
	pthread_t t;
	int st, err[2];
	pid_t pid;

	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *small, *big;

		dup2(err[1], 2);
		if (kvmbox_sandbox_enter(&cfg, NULL) < 0)
			_exit(2);
		small = malloc(100);
		big = malloc(8 << 20);
		if (!small || !big)
			_exit(3);
		memset(big, 1, 8 << 20);
		free(big);
		free(small);
		if (forbidden == 1)
			(void)socket(AF_INET, SOCK_STREAM, 0);
		if (forbidden == 2 && pthread_create(&t, NULL, thread_fn, &cfg) == 0)
			pthread_join(t, NULL);
		_exit(0);
	}
	close(err[1]);
	read_all_fd(err[0], text, max);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_library_sandbox(void **state)
{
	char text[512];
	int st;

	(void)state;
	st = sandboxed_child(0, text, sizeof(text));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(text, "");
	st = sandboxed_child(1, text, sizeof(text));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	assert_non_null(strstr(text, "kvmbox: seccomp: forbidden system call 41 ")); /* socket */
#ifndef HARNESS_ASAN /* there the filter allows the runtime's clone and rt_sigaction */
	st = sandboxed_child(2, text, sizeof(text));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	assert_non_null(strstr(text, "kvmbox: seccomp: forbidden system call "));
#endif
}

/* Does a line of this process's /proc/self/status read LINE? */
static bool status_says(const char *line)
{
	char buf[256];
	bool yes = false;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f))
		yes |= !strcmp(buf, line);
	fclose(f);
	return yes;
}

static void *wait_pipe(void *arg)
{
	char c;

	return read(*(int *)arg, &c, 1) < 0 ? arg : NULL;
}

/* Landlock binds the calling thread and the threads it starts later, not those running:
 * entered with a second thread alive, the sandbox refuses (-EBUSY) rather than leave that
 * thread unconfined. */
static void test_library_sandbox_one_thread(void **state)
{
	struct kvmbox_sandbox_config cfg = { .vms = NULL, .nvms = 0, .flags = 0 };
	int st, p[2];
	pid_t pid;

	(void)state;
	if (kvmbox_sandbox_landlock_abi() == 0) {
		printf("SKIP: this kernel has no Landlock (the rule is Landlock's)\n");
		skip();
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kvmbox_error err = { "" };
		pthread_t t;
		char c = 0;

		if (pipe(p) < 0 || pthread_create(&t, NULL, wait_pipe, &p[0]))
			_exit(2);
		if (kvmbox_sandbox_enter(&cfg, &err) != -EBUSY || !strstr(err.msg, "2 threads"))
			_exit(3);
		if (write(p[1], &c, 1) != 1 || pthread_join(t, NULL))
			_exit(4);
		/* Alone now (once the kernel has let the thread go, a moment after the join): it
		 * works; the refusal changed nothing. */
		for (int i = 0; i < 10000 && !status_says("Threads:\t1\n"); i++)
			usleep(1000);
		_exit(kvmbox_sandbox_enter(&cfg, &err) == 0 ? 0 : 5);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* A process that never started a thread enters the sandbox without looking into /proc (the C
 * library's __libc_single_threaded answers for it; a new process's first look there costs a
 * cold start ~25 us): shown with /proc hidden under an empty tmpfs, in a mount namespace of
 * the child's own. */
static void test_library_sandbox_without_proc(void **state)
{
	struct kvmbox_sandbox_config cfg = { .vms = NULL, .nvms = 0, .flags = 0 };
	int st, err[2];
	char text[512];
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		printf("SKIP: needs root (a mount namespace hides /proc)\n");
		skip();
	}
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kvmbox_error e = { "" };

		dup2(err[1], 2);
		if (!__libc_single_threaded)
			_exit(5); /* this test program started a thread: the test cannot show it */
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("none", "/proc", "tmpfs", 0, NULL) < 0 || access("/proc/self", F_OK) == 0)
			_exit(2);
		if (kvmbox_sandbox_enter(&cfg, &e) < 0) {
			fprintf(stderr, "%s", e.msg);
			_exit(3);
		}
		_exit(0);
	}
	close(err[1]);
	read_all_fd(err[0], text, sizeof(text));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 5)
		fail_msg("this test program started a thread before: nothing is shown");
	if (WEXITSTATUS(st))
		fail_msg("status %d: %s", WEXITSTATUS(st), text);
}

/* A temporary share directory (removed by the caller with rm -rf). */
static char *temp_share(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/kvmbox-harden-share-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_share(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* --file-size-max: writes stop at the cap, then -EFBIG (the guest asserts each); the file
 * on the host is exactly the cap long. Both spellings of the option. */
static void test_file_size_cap(void **state)
{
	char *dir = temp_share(), path[128], vm[512];
	struct stat st;
	struct run r;

	(void)state;
	snprintf(path, sizeof(path), "%s/capped.bin", dir);
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--share", dir,
		"--file-size-max", "4K", guest_image("test-hc_fsize", KVMBOX_MODE_LONG), NULL }), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4096);
	snprintf(vm, sizeof(vm), "f=%s,share=%s,file-size-max=4096",
		 guest_image("test-hc_fsize", KVMBOX_MODE_PROTECTED), dir);
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--vm", vm, NULL }), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4096);
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--file-size-max", "0",
		NULL }), EXIT_USAGE);
	assert_non_null(strstr(r.errtext, "--file-size-max"));
	remove_share(dir);
}

/* Write TEXT to DIR/NAME with MODE, owned by UID. */
static void make_file(const char *dir, const char *name, const char *text, mode_t mode, uid_t uid)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chown(path, uid, (gid_t)-1), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void expect_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX], data[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(data, sizeof(data), f));
	fclose(f);
	assert_string_equal(data, text);
}

/* Started as root without --user, kvmbox keeps no capability for the run: the guest's file
 * hypercalls meet the permissions of an ordinary owner. A mode-000 file is not read, another
 * user's 0444 file is not truncated or written; root's own file is (test-hc_files_perm
 * asserts each). */
static void test_root_is_an_ordinary_owner(void **state)
{
	const struct passwd *pw = getpwnam("nobody");
	char *dir;
	struct run r;

	(void)state;
	if (geteuid() != 0 || !pw) {
		printf("SKIP: test_root_is_an_ordinary_owner: needs root and a user 'nobody'\n");
		skip();
	}
	dir = temp_share();
	make_file(dir, "locked.txt", "locked\n", 0000, 0);
	make_file(dir, "theirs.txt", "theirs\n", 0444, pw->pw_uid);
	make_file(dir, "mine.txt", "mine\n", 0644, 0);
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--share", dir,
		guest_image("test-hc_files_perm", KVMBOX_MODE_LONG), NULL }), 0);
	expect_file(dir, "theirs.txt", "theirs\n");
	expect_file(dir, "mine.txt", "mine\n"); /* the first line; "+" was appended after it */
	remove_share(dir);
}

/* Does PATH exist (as anything, a dangling link too)? */
static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Wait up to 10 s for PATH to appear (WANT) or go; returns whether it did. */
static bool wait_path(const char *path, bool want)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 1000; i++) {
		if (exists(path) == want)
			return true;
		nanosleep(&tick, NULL);
	}
	return false;
}

/* A gdb unix socket that root made before --user dropped to a user who may not write its
 * directory is removed all the same when kvmbox ends, so the next run on that path is not
 * refused; also when kvmbox is killed outright (SIGKILL), which runs no code of its own. */
static void test_gdb_socket_removed_after_user_drop(void **state)
{
	char dir[] = "/tmp/kvmbox-harden-gdb-XXXXXX", path[128], spec[160];
	struct run r;

	(void)state;
	if (geteuid() != 0 || !getpwnam("nobody")) {
		printf("SKIP: test_gdb_socket_removed_after_user_drop: needs root and a user 'nobody'\n");
		skip();
	}
	assert_non_null(mkdtemp(dir)); /* mode 0700, root's: nobody cannot remove anything here */
	snprintf(path, sizeof(path), "%s/gdb.sock", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--user", "nobody",
			"--gdb", spec, build_path("guests/hello-long.elf"), NULL }), 0);
		assert_string_equal(r.outtext, "Hello, world!\n");
		assert_false(exists(path));
	}
	start(&r, NULL, (const char *const[]){ "run", "--user", "nobody", "--gdb", spec,
		guest_image("test-chatter", KVMBOX_MODE_LONG), NULL });
	wait_output(&r, "chatter\n");
	assert_true(exists(path));
	stop(&r); /* SIGKILL */
	assert_true(wait_path(path, false));
	assert_int_equal(rmdir(dir), 0);
}

/* The number of entries in DIR and their sizes added up. */
static void dir_totals(const char *dir, unsigned *files, long long *bytes)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(dir);

	assert_non_null(d);
	*files = 0;
	*bytes = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_int_equal(stat(path, &st), 0);
		(*files)++;
		*bytes += st.st_size;
	}
	closedir(d);
}

/* The share's totals: a guest creates files until it is refused and grows one until it is
 * refused (test-hc_files_quota asserts each step: exactly the caps, then -EDQUOT); the share
 * then holds exactly that many files and bytes. Both spellings of the options, and the
 * --sandbox profile's file count. */
static void test_share_totals(void **state)
{
	char *dir = temp_share(), vm[512];
	long long bytes;
	unsigned files;
	struct run r;

	(void)state;
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--share", dir,
		"--share-files-max", "5", "--share-bytes-max", "10000",
		guest_image("test-hc_files_quota", KVMBOX_MODE_LONG), "--", "5", "10000", NULL }), 0);
	dir_totals(dir, &files, &bytes);
	assert_int_equal(files, 5);
	assert_int_equal(bytes, 10000);
	remove_share(dir);
	dir = temp_share();
	snprintf(vm, sizeof(vm), "q=%s,share=%s,share-files-max=3,share-bytes-max=5000",
		 guest_image("test-hc_files_quota", KVMBOX_MODE_PROTECTED), dir);
	/* --vm gives the guest no arguments: it exits with the count it could create. */
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--vm", vm, NULL }), 3);
	dir_totals(dir, &files, &bytes);
	assert_int_equal(files, 3);
	remove_share(dir);
	/* --sandbox: 256 files (its 256M of bytes is docs/security.md's, not written here). */
	dir = temp_share();
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--sandbox", "--share",
		dir, guest_image("test-hc_files_quota", KVMBOX_MODE_PROTECTED), "--", "256", "0",
		NULL }), 0);
	dir_totals(dir, &files, &bytes);
	assert_int_equal(files, 256);
	remove_share(dir);
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--share-files-max", "0",
		NULL }), EXIT_USAGE);
	assert_non_null(strstr(r.errtext, "--share-files-max"));
}

/* Where the kernel has no Landlock (KVMBOX_TEST_NO_LANDLOCK makes this one look so), a share
 * is not confined against a subverted kvmbox: a course run says so in one line and goes on;
 * --sandbox refuses to run a share that way (status 70, the reason on stderr) but runs
 * without one. */
static void test_no_landlock_fallback(void **state)
{
	const char *env = "KVMBOX_TEST_NO_LANDLOCK=1";
	char *dir = temp_share();
	const char *img = guest_image("test-hc_files_quota", KVMBOX_MODE_LONG);
	struct run r;

	(void)state;
	assert_int_equal(run_status(&r, env, (const char *const[]){ "run", "--share", dir,
		"--share-files-max", "2", img, "--", "2", "0", NULL }), 0);
	assert_non_null(strstr(r.errtext, "kvmbox: this kernel has no Landlock: only the hypercalls' "
					  "own checks keep the share's opens inside it"));
	assert_int_equal(run_status(&r, env, (const char *const[]){ "run", "--sandbox", "--share", dir,
		img, "--", "2", "0", NULL }), EXIT_UNSUPPORTED);
	assert_non_null(strstr(r.errtext, "kvmbox: --sandbox with a share needs Landlock"));
	assert_string_equal(r.outtext, "");
	assert_int_equal(run_status(&r, env, (const char *const[]){ "run", "--sandbox", NULL }), 0);
	assert_null(strstr(r.errtext, "Landlock"));
	remove_share(dir);
}

/* --sandbox: no host address reaches the guest; without it the course interface gives them. */
static void test_sandbox_hides_host_addresses(void **state)
{
	char img[300], vm[300];
	struct run r;

	(void)state;
	snprintf(img, sizeof(img), "%s", guest_image("test-hc_hide", KVMBOX_MODE_LONG));
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", img, NULL }), 11);
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--sandbox", img, NULL }),
			 10);
	snprintf(vm, sizeof(vm), "h=%s", guest_image("test-hc_hide", KVMBOX_MODE_PROTECTED));
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--sandbox", "--vm", vm,
		NULL }), 10);
	/* The profile for untrusted code never runs without its filter. */
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--sandbox",
		"--no-seccomp", img, NULL }), EXIT_USAGE);
	assert_non_null(strstr(r.errtext, "--no-seccomp"));
}

/* The channel hub holds at most 64 MiB of records over all channels: 16384 records of
 * 4 KiB, then -ENOSPC (the guest asserts it and exits with 16384 / 1024). */
static void test_channel_bytes_capped(void **state)
{
	char vm[300];
	struct run r;

	(void)state;
	snprintf(vm, sizeof(vm), "fill=%s", guest_image("test-hc_chanfill", KVMBOX_MODE_LONG));
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--vm", vm, "--chan",
		"0=65536", NULL }), 16);
}

/* Started as root, --user drops to that user's uid, gid and groups before the guest runs;
 * -v says root is not needed, a non-interactive run without -v does not. */
static void test_user_drop(void **state)
{
	const struct passwd *pw = getpwnam("nobody");
	char val[128], want[128];
	struct run r;

	(void)state;
	if (geteuid() != 0 || !pw) {
		printf("SKIP: test_user_drop: needs root and a user 'nobody' to drop to\n");
		skip();
	}
	start(&r, NULL, (const char *const[]){ "run", "--user", "nobody",
		guest_image("test-chatter", KVMBOX_MODE_LONG), NULL });
	wait_output(&r, "chatter\n");
	proc_field(r.pid, "Uid", val, sizeof(val));
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", pw->pw_uid, pw->pw_uid, pw->pw_uid, pw->pw_uid);
	assert_string_equal(val, want);
	proc_field(r.pid, "Gid", val, sizeof(val));
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", pw->pw_gid, pw->pw_gid, pw->pw_gid, pw->pw_gid);
	assert_string_equal(val, want);
	proc_field(r.pid, "Groups", val, sizeof(val));
	for (char *g = strtok(val, " "); g; g = strtok(NULL, " "))
		assert_string_not_equal(g, "0"); /* root's group is gone */
	stop(&r);
	assert_null(strstr(r.errtext, "root is not needed"));
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "--user",
		"no-such-user-kvmbox", NULL }), EXIT_USAGE);
	assert_non_null(strstr(r.errtext, "no such user"));
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", "-v", NULL }), 0);
	assert_non_null(strstr(r.errtext, "running as root is not needed"));
	assert_int_equal(run_status(&r, NULL, (const char *const[]){ "run", NULL }), 0);
	assert_null(strstr(r.errtext, "root is not needed"));
}

/* Ring 3 with IOPL 3 reaches the hypercall ports, but every call is refused with -EPERM:
 * nothing printed, no supervisor buffer filled, no file written, no address given. */
static void expect_ring3_refused(enum kvmbox_mode mode)
{
	char *dir = temp_share(), path[128], data[64] = "";
	FILE *f;
	struct run r;
	int st;

	skip_unless_host_runs(mode);
	snprintf(path, sizeof(path), "%s/data.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("original file content\n", f);
	fclose(f);
	st = run_status(&r, NULL, (const char *const[]){ "run", "--share", dir,
		guest_image("test-hc_ring3", mode), NULL });
	/* kvm_pvm runs ring 3 with IOPL 0 whatever iret loads, so the first `in` faults: a
	 * triple fault without kvmbox's handlers, a #GP in kvmbox_hypercall with them. */
	if (st == EXIT_GUEST_FAULT && !strstr(r.outtext, "print=") &&
	    (strstr(r.errtext, "KVM_EXIT_INTERNAL_ERROR") || strstr(r.errtext, "KVM_EXIT_SHUTDOWN") ||
	     strstr(r.errtext, "general protection (#GP, error code 0: not a selector) at rip"))) {
		remove_share(dir);
		printf("SKIP: test_ring3_refused/%s: this host's KVM cannot run ring-3 code with IOPL 3 "
		       "(kvm_pvm: %s); the QEMU lane runs it\n", kvmbox_mode_name(mode),
		       strstr(r.errtext, "INTERNAL") ? "the iret fails" : "its `in` faults");
		skip();
	}
	assert_int_equal(st, EXIT_GUEST_FAULT);
	assert_string_equal(r.outtext, "ring 0 may\nprint=-1 read=-1 write=-1 open=-1 xlate=-1 "
				       "exit=-1 kbuf=intact\n");
	assert_non_null(strstr(r.errtext, "unknown port 0x3f8")); /* ring 3 ran to its end */
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(data, sizeof(data), f));
	fclose(f);
	assert_string_equal(data, "original file content\n");
	snprintf(path, sizeof(path), "%s/new.txt", dir);
	assert_int_equal(access(path, F_OK), -1);
	remove_share(dir);
}

static void test_ring3_refused_protected(void **state)
{
	(void)state;
	expect_ring3_refused(KVMBOX_MODE_PROTECTED);
}

static void test_ring3_refused_long(void **state)
{
	(void)state;
	expect_ring3_refused(KVMBOX_MODE_LONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_single),
		cmocka_unit_test(test_confined_repeat),
		cmocka_unit_test(test_confined_several),
		cmocka_unit_test(test_no_seccomp_is_loud),
		cmocka_unit_test(test_forbidden_call_kills),
		cmocka_unit_test(test_library_sandbox),
		cmocka_unit_test(test_library_sandbox_one_thread),
		cmocka_unit_test(test_library_sandbox_without_proc),
		cmocka_unit_test(test_file_size_cap),
		cmocka_unit_test(test_share_totals),
		cmocka_unit_test(test_root_is_an_ordinary_owner),
		cmocka_unit_test(test_gdb_socket_removed_after_user_drop),
		cmocka_unit_test(test_no_landlock_fallback),
		cmocka_unit_test(test_sandbox_hides_host_addresses),
		cmocka_unit_test(test_channel_bytes_capped),
		cmocka_unit_test(test_user_drop),
		cmocka_unit_test(test_ring3_refused_protected),
		cmocka_unit_test(test_ring3_refused_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
