/* The process sandbox (include/kvmbox/sandbox.h): no new privileges, no core dumps, and a
 * seccomp allowlist of the system calls a run makes once its VMs exist. Every entry is
 * explained in docs/security.md ("The process sandbox"); keep the two in step. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <ucontext.h>
#include <unistd.h>
#include "kvmbox/sandbox.h"
#include "../hc/hc.h"
#include "../util.h"
#include "prebuilt.h"

/* Sanitizer runtimes make calls of their own (LSan's leak check at exit stops the process
 * with a ptrace-ing clone that reads /proc/self/task with the legacy open and getdents);
 * their builds allow those too. The tracer blocks every signal, so a call missing here
 * kills it silently and leaves kvmbox waiting for it: check-asan then hangs. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

/* Calls allowed whatever their arguments. */
static const int plain_calls[] = {
	/* console, output files and share files, on descriptors opened before */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(poll),
	SCMP_SYS(ppoll),
	/* malloc and the C library's stdio buffers */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(sysinfo), /* qsort (the scheduler's latency report) sizes its buffer by RAM */
	/* run deadlines: a timer signal, blocked but while in KVM_RUN (src/deadline.c) */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(timer_create), SCMP_SYS(timer_settime),
	SCMP_SYS(timer_gettime), SCMP_SYS(timer_delete), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	/* threads a run may start (a console writer): locks, and their own bookkeeping */
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	/* the end */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
#ifdef SANITIZER_BUILD
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(prctl), SCMP_SYS(openat),
	SCMP_SYS(open), SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(sigaltstack), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(readlink), SCMP_SYS(getppid), SCMP_SYS(kill), SCMP_SYS(tgkill), SCMP_SYS(mmap),
	SCMP_SYS(mprotect), SCMP_SYS(newfstatat), SCMP_SYS(fcntl), SCMP_SYS(pipe2),
#endif
};

/* The KVM requests made after setup: the run loop, reset and snapshot (src/run.c,
 * src/snapshot.c, src/mem.c), register dumps and the deadline's signal mask. Creating VMs,
 * vCPUs or memory slots, and the system ioctls on /dev/kvm, are not among them. */
static const unsigned long kvm_requests[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_FPU,
	KVM_SET_FPU, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_SET_SIGNAL_MASK,
	KVM_GET_DIRTY_LOG, KVM_SET_USER_MEMORY_REGION, KVM_TRANSLATE,
	KVM_REGISTER_COALESCED_MMIO, /* the console's zone, once a guest printed enough (console.c) */
	TCGETS, /* isatty(): stdio asks it when it first writes to a character device */
};

/* What a gdb stub adds: its debug registers, and serving the socket it already has. */
static const unsigned long gdb_requests[] = {
	KVM_SET_GUEST_DEBUG, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS,
};
static const int gdb_calls[] = {
	SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(shutdown), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	/* a unix socket of the stub's own is removed when the VM is destroyed (src/gdb/); tgkill,
	 * for the watcher thread's pthread_kill, is allowed in load_rules, on our process only */
	SCMP_SYS(unlink),
};

/* Append the unsigned decimal V at P; returns the end. For the signal handler, which may
 * not call snprintf. */
static char *put_u(char *p, unsigned long v)
{
	char rev[24];
	int n = 0;

	do
		rev[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = rev[--n];
	return p;
}

static char *put_s(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* SIGSYS from the filter: say which call, then make it again. SIGSYS is blocked inside its
 * own handler, so the kernel delivers the second trap with the default action (force_sig
 * resets a blocked forced signal): the process ends by SIGSYS as if killed outright, and its
 * parent sees that, while stderr says why. */
static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	char line[200], *p = line;
	ucontext_t *uc = uc_;
	long nr = si->si_syscall;

	(void)sig;
	p = put_s(p, "kvmbox: seccomp: forbidden system call ");
	p = put_u(p, (unsigned long)nr);
	p = put_s(p, " (name it with `scmp_sys_resolver ");
	p = put_u(p, (unsigned long)nr);
	p = put_s(p, "`; the allowlist: docs/security.md): killed by SIGSYS\n");
	if (write(2, line, (size_t)(p - line)) < 0)
		line[0] = 0;
#ifdef __x86_64__
	syscall(nr, uc->uc_mcontext.gregs[REG_RDI], uc->uc_mcontext.gregs[REG_RSI],
		uc->uc_mcontext.gregs[REG_RDX], uc->uc_mcontext.gregs[REG_R10],
		uc->uc_mcontext.gregs[REG_R8], uc->uc_mcontext.gregs[REG_R9]);
#else
	(void)uc;
	syscall(nr);
#endif
	_exit(128 + SIGSYS); /* not reached: the repeated call is trapped again */
}

/* Argument ARG equal to V; argument ARG with the bits MASK equal to V. (libseccomp's
 * SCMP_An macros leave a field out, which clang's -Wmissing-field-initializers refuses.) */
static struct scmp_arg_cmp arg_eq(unsigned arg, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0 };
}

static struct scmp_arg_cmp arg_masked(unsigned arg, scmp_datum_t mask, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask,
				      .datum_b = v };
}

static int allow_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	return ret;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *req, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       arg_eq(1, (scmp_datum_t)req[i]));
	return ret;
}

/* Memory, but never executable memory: nothing kvmbox maps after setup holds code. fstat
 * through newfstatat only on a descriptor (AT_EMPTY_PATH); fcntl only to read flags and to
 * set status flags (O_NONBLOCK on a console), never to duplicate or lock. A
 * thread only as a thread; clone3 says ENOSYS, so the C library falls back to clone, whose
 * flags a filter can see. readlink says ENOENT and reads nothing: libdw, when a fault report
 * first symbolizes the image (from memory, fd -1), looks for a debug directory with
 * realpath("/proc/self/fd/-1"), and finds none either way. */
static int allow_with_args(scmp_filter_ctx ctx)
{
	int ret = 0;

	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      arg_masked(2, PROT_EXEC, 0));
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				      arg_masked(2, PROT_EXEC, 0));
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				      arg_masked(3, AT_EMPTY_PATH, AT_EMPTY_PATH));
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      arg_eq(1, F_GETFL));
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      arg_eq(1, F_GETFD));
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      arg_eq(1, F_SETFL));
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				      arg_masked(0, CLONE_THREAD, CLONE_THREAD));
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(readlink), 0);
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(readlinkat), 0);
	return ret;
}

/* Share files: openat2 only beneath a share (src/hc/files.c resolves every guest path
 * there), openat only in /proc/self/fd (the reopen of a checked regular file). */
static int allow_shares(scmp_filter_ctx ctx, const struct kvmbox_sandbox_config *cfg)
{
	int ret = 0, dir_fd, proc_fd;

	for (unsigned i = 0; i < cfg->nvms && ret == 0; i++) {
		if (hc_files_sandbox_fds(cfg->vms[i], &dir_fd, &proc_fd) < 0)
			continue;
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat2), 1,
				       arg_eq(0, (scmp_datum_t)dir_fd));
		ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
					      arg_eq(0, (scmp_datum_t)proc_fd));
	}
	return ret;
}

static int build_filter(scmp_filter_ctx ctx, const struct kvmbox_sandbox_config *cfg)
{
	int ret;

	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	ret = ret ?: seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* The system calls as a binary tree, not a list: the kernel's action cache, worked
	 * out when the filter is loaded, then walks log(n) instructions for each of the ~450
	 * syscall numbers instead of n (96 to 70 us here). */
	ret = ret ?: seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	ret = ret ?: allow_all(ctx, plain_calls, ARRAY_SIZE(plain_calls));
	ret = ret ?: allow_ioctls(ctx, kvm_requests, ARRAY_SIZE(kvm_requests));
	ret = ret ?: allow_with_args(ctx);
	ret = ret ?: allow_shares(ctx, cfg);
	if (cfg->flags & KVMBOX_SANDBOX_GDB) {
		ret = ret ?: allow_all(ctx, gdb_calls, ARRAY_SIZE(gdb_calls));
		ret = ret ?: allow_ioctls(ctx, gdb_requests, ARRAY_SIZE(gdb_requests));
		/* the stub's watcher kicks the vCPU thread out of KVM_RUN: a thread of ours */
		ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
					      arg_eq(0, (uint64_t)getpid()));
	}
	return ret;
}

int sandbox_export_bpf(const struct kvmbox_sandbox_config *cfg, int fd)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int ret;

	if (!ctx)
		return -ENOMEM;
	ret = build_filter(ctx, cfg);
	if (ret == 0)
		ret = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return ret;
}

/* Whether CFG's filter is the prebuilt one: the rules that depend on the run (each share's
 * descriptors, the gdb stub's calls) have no part in it. */
static bool prebuilt_fits(const struct kvmbox_sandbox_config *cfg)
{
	int dir_fd, proc_fd;

	if (!kvmbox_seccomp_prebuilt || (cfg->flags & KVMBOX_SANDBOX_GDB))
		return false;
	for (unsigned i = 0; i < cfg->nvms; i++)
		if (hc_files_sandbox_fds(cfg->vms[i], &dir_fd, &proc_fd) == 0)
			return false;
	return true;
}

/* The filter, loaded: a call outside it traps to on_sigsys. The prebuilt program when it
 * fits, as libseccomp would load it (all threads: TSYNC); else built now. Building it takes
 * libseccomp ~0.1 ms, a twentieth of a hello run (docs/performance.md). */
static int load_filter(const struct kvmbox_sandbox_config *cfg, struct kvmbox_error *err)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int ret;

	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return set_error(err, errno, "sigaction(SIGSYS): %s", strerror(errno));
	if (prebuilt_fits(cfg)) {
		struct sock_fprog prog = { .len = kvmbox_seccomp_prebuilt_len,
					   .filter = (struct sock_filter *)kvmbox_seccomp_prebuilt };

		long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
				 &prog);

		if (r < 0)
			return set_error(err, errno, "seccomp filter: %s", strerror(errno));
		if (r > 0) /* TSYNC: the thread that could not take the filter */
			return set_error(err, EAGAIN, "seccomp filter: thread %ld cannot take it", r);
		return 0;
	}
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return set_error(err, ENOMEM, "seccomp_init failed");
	ret = build_filter(ctx, cfg);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret < 0)
		return set_error(err, -ret, "seccomp filter: %s", strerror(-ret));
	return 0;
}

int kvmbox_sandbox_enter(const struct kvmbox_sandbox_config *cfg, struct kvmbox_error *err)
{
	const struct rlimit no_core = { 0, 0 };

	/* No exec of kvmbox or anything else may gain privileges (setuid bits, file
	 * capabilities) from here on; seccomp without CAP_SYS_ADMIN requires it too. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return set_error(err, errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	/* A core dump would write guest memory (and the share's data) to disk. */
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return set_error(err, errno, "RLIMIT_CORE: %s", strerror(errno));
	if (cfg->flags & KVMBOX_SANDBOX_NO_SECCOMP)
		return 0;
	return load_filter(cfg, err);
}
