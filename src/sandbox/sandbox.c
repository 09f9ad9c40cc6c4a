/* The process sandbox (include/kvmbox/sandbox.h): no new privileges, no core dumps, no
 * capabilities, Landlock confining file access to the shares, and a seccomp allowlist of the
 * system calls a run makes once its VMs exist, each with the argument checks the kernel
 * interface allows. Every entry is explained in docs/security.md ("The process sandbox");
 * keep the two in step. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include "kvmbox/sandbox.h"
#include "base/rtsig.h"
#include "base/util.h"
#include "hc/hc.h"
#include "sandbox/prebuilt.h"
#include "vm/vm.h"

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

/* ---- Landlock ---------------------------------------------------------------------------
 * The kernel's own file-access control (Documentation/userspace-api/landlock.rst): a
 * ruleset "handles" access rights, which are then denied to the process except beneath the
 * directories a rule names. It judges the path an open resolves to, which seccomp cannot see.
 * The rights of later ABIs, which Debian 12's headers do not have yet: */
#define LL_FS_REFER (1ull << 13)    /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ull << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ull << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)

/* struct landlock_ruleset_attr as of ABI 6; an older kernel is given the prefix it knows. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int kvmbox_sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	/* ENOSYS: a kernel before 5.13; EOPNOTSUPP: built in but not enabled (lsm=). */
	return abi > 0 ? (int)abi : 0;
}

/* Every file right ABI knows: the ruleset handles (denies) them all. */
static uint64_t fs_rights(int abi)
{
	uint64_t r = (1ull << 13) - 1; /* ABI 1: execute .. make_sym */

	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

/* What a share grants: reading its files; in a read-write share also writing them, creating
 * regular files (src/hc/hc_files.c's O_CREAT|O_EXCL) and O_TRUNC. Never a directory listing,
 * a removal, a rename or a link, which no hypercall makes. */
static uint64_t share_rights(int abi, bool readonly)
{
	uint64_t r = LANDLOCK_ACCESS_FS_READ_FILE;

	if (!readonly)
		r |= LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
		     (abi >= 3 ? LL_FS_TRUNCATE : 0);
	return r;
}

static int add_path_rule(int ruleset, int dir_fd, uint64_t rights, struct kvmbox_error *err)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = rights, .parent_fd = dir_fd };

	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return set_error(err, errno, "landlock_add_rule: %s", strerror(errno));
	return 0;
}

/* The threads of this process (1 when only the caller runs), or -errno. */
static int count_threads(void)
{
	char line[128];
	int n = -EIO;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* landlock_restrict_self binds the calling thread and the threads it starts later, not
 * those already running: with another one alive the process would not be confined. The C
 * library knows when no thread was ever started (the first pthread_create clears
 * __libc_single_threaded for good): then /proc is not read, which
 * in a new process costs ~25 us (its /proc entries are made at the first look). A thread
 * made by calling clone directly, which the C library neither sees nor supports, is the
 * caller's to avoid. */
static int check_alone(struct kvmbox_error *err)
{
	int threads = __libc_single_threaded ? 1 : count_threads();

	if (threads < 0)
		return set_error(err, -threads, "Landlock: cannot count this process's threads: %s",
				 strerror(-threads));
	if (threads != 1)
		return set_error(err, EBUSY, "Landlock binds the calling thread only, and %d threads "
				 "run here: enter the sandbox before starting any", threads);
	return 0;
}

/* Deny every file access but beneath each VM's share (and reading /proc in sanitizer
 * builds); with ABI 4 binding and connecting TCP ports too, with ABI 6 signals to other
 * processes and abstract unix sockets outside. */
static int enter_landlock(const struct kvmbox_sandbox_config *cfg, int abi,
			  struct kvmbox_error *err)
{
	struct ll_ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };
	size_t size = sizeof(attr.handled_access_fs);
	int ruleset, ret = 0, dir_fd;
	bool ro;

	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return set_error(err, errno, "landlock_create_ruleset: %s", strerror(errno));
	for (unsigned i = 0; i < cfg->nvms && ret == 0; i++)
		if (hc_files_share(cfg->vms[i], &dir_fd, &ro) == 0)
			ret = add_path_rule(ruleset, dir_fd, share_rights(abi, ro), err);
#ifdef SANITIZER_BUILD
	if (ret == 0) {
		int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

		ret = proc < 0 ? set_error(err, errno, "/proc: %s", strerror(errno))
			       : add_path_rule(ruleset, proc, LANDLOCK_ACCESS_FS_READ_FILE |
							      LANDLOCK_ACCESS_FS_READ_DIR, err);
		if (proc >= 0)
			close(proc);
	}
#endif
	if (ret == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		ret = set_error(err, errno, "landlock_restrict_self: %s", strerror(errno));
	close(ruleset);
	return ret;
}

/* ---- capabilities ----------------------------------------------------------------------- */

/* None left in any set: a process started as root keeps uid 0 but loses what made it
 * special (reading mode-000 files, writing others' files: CAP_DAC_OVERRIDE, CAP_FOWNER ...),
 * so the share's files are opened with the permissions of an ordinary owner. One capset of
 * empty sets does it all: the kernel also drops every ambient capability no longer both
 * permitted and inheritable (capabilities(7), "Ambient capability set"). The bounding set is
 * left as it is: it only limits what an execve may add to the permitted set, and under
 * no_new_privs (set before this) an execve's permitted set is cut to the caller's, which is
 * empty (the kernel's cap_bprm_creds_from_file); a user namespace, the other way to new
 * capabilities, gets a full set whatever the bounding set says. Emptying it would take 41
 * prctl calls, each a new set of credentials: ~55 us of a start (docs/security.md). */
static int drop_capabilities(struct kvmbox_error *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return set_error(err, errno, "capset: %s", strerror(errno));
	return 0;
}

/* ---- the seccomp filter ----------------------------------------------------------------- */

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

/* The caller's hook for a forbidden call (kvmbox_sandbox_config.on_trap): process-wide, as
 * the filter and the SIGSYS handler are; set once, before the filter is loaded. */
static void (*trap_hook)(void *);
static void *trap_hook_ctx;

/* SIGSYS from the filter: say which call, let the caller save its output, then make it again. SIGSYS is blocked inside its
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
	if (trap_hook)
		trap_hook(trap_hook_ctx);
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

/* Argument ARG equal to V; argument ARG with the bits MASK equal to V; argument ARG at most
 * V. (libseccomp's SCMP_An macros leave a field out, which clang's
 * -Wmissing-field-initializers refuses.) */
static struct scmp_arg_cmp arg_eq(unsigned arg, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0 };
}

static struct scmp_arg_cmp arg_masked(unsigned arg, scmp_datum_t mask, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask,
				      .datum_b = v };
}

static struct scmp_arg_cmp arg_le(unsigned arg, scmp_datum_t v)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_LE, .datum_a = v, .datum_b = 0 };
}

/* Allow NR when every one of the N comparisons holds (N = 0: whatever its arguments). */
static int allow(scmp_filter_ctx ctx, int nr, unsigned n, struct scmp_arg_cmp a,
		 struct scmp_arg_cmp b)
{
	struct scmp_arg_cmp cmp[2] = { a, b };

	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

#define NO_ARG arg_eq(0, 0) /* a filler for allow's unused comparisons */

static int allow_all(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++)
		ret = allow(ctx, calls[i], 0, NO_ARG, NO_ARG);
	return ret;
}

/* Calls allowed whatever their arguments, in every run: the console, output files and the
 * share's files through descriptors opened before; the C library's heap; the deadline's
 * signal (blocked but inside KVM_RUN, drained with sigtimedwait: src/vm/vm_deadline.c); the end. */
static const int plain_calls[] = {
	SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(poll),
	SCMP_SYS(munmap), SCMP_SYS(brk),
	SCMP_SYS(sysinfo), /* qsort (the scheduler's latency report) sizes its buffer by RAM */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(timer_delete), SCMP_SYS(gettid),
	SCMP_SYS(exit_group),
};

/* The KVM requests made after setup, each on its own kind of descriptor: the run loop, the
 * deadline's signal mask and --walk's translation on the vCPU; the dirty log of a reset on
 * a VM with a reset point, and the console's coalesced zone (src/vm/vm_run.c,
 * src/vm/vm_deadline.c, src/vm/vm_walk.c, src/mem/mem.c, src/vm/vm_console.c). Creating VMs,
 * vCPUs or memory slots, and the system ioctls on /dev/kvm, are not among them. */
static const unsigned long vcpu_requests[] = { KVM_RUN, KVM_SET_SIGNAL_MASK, KVM_TRANSLATE };
/* A gdb session's, on its VM's vCPU (src/gdb/kvm_target.c, src/kvm/kvm.c). */
static const unsigned long gdb_vcpu_requests[] = {
	KVM_GET_FPU, KVM_SET_FPU, KVM_SET_REGS, KVM_SET_SREGS, KVM_SET_GUEST_DEBUG,
};

/* Reading the vCPU's whole state (src/snap/snap_cpu.c): a save (a guest's HC_snapshot, a
 * --save at the end of the run) and a reset point taken after a run; only reads. */
static const unsigned long state_vcpu_requests[] = {
	KVM_GET_VCPU_EVENTS, KVM_GET_XCRS, KVM_GET_XSAVE, KVM_GET_MSRS, KVM_GET_DEBUGREGS,
	KVM_GET_MP_STATE, KVM_GET_TSC_KHZ, KVM_GET_CPUID2,
};
/* ... and putting it back, at a reset to a point taken after a run (src/vm/vm_reset.c). */
static const unsigned long point_vcpu_requests[] = {
	KVM_SET_XCRS, KVM_SET_XSAVE, KVM_SET_MSRS, KVM_SET_DEBUGREGS,
};

/* Can VM be saved during the run: a guest with a share or a file to save into may ask, and
 * --save saves at the end. */
static bool may_save(const struct kvmbox_vm *vm)
{
	int dir_fd;
	bool ro;

	return vm->save_fd >= 0 || hc_files_share(vm, &dir_fd, &ro) == 0;
}

static int allow_requests(scmp_filter_ctx ctx, int fd, const unsigned long *req, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && ret == 0; i++)
		ret = allow(ctx, SCMP_SYS(ioctl), 2, arg_eq(0, (scmp_datum_t)fd),
			    arg_eq(1, (scmp_datum_t)req[i]));
	return ret;
}

/* Past this many VMs a run's KVM requests are allowed on any descriptor rather than on each
 * VM's own: a rule per request and descriptor passes BPF's 4096 instructions near 300 VMs (a
 * run of count=N copies has thousands), and every system call would walk them all. Each
 * request is still allowed only when some VM of the run needs it. */
#define PIN_FDS_MAX 64

/* The requests of a run too large to pin them to each VM's descriptors (PIN_FDS_MAX). */
static int allow_requests_anywhere(scmp_filter_ctx ctx, const struct kvmbox_sandbox_config *cfg)
{
	bool snap = false, coalesce = false, save = false;
	int ret = 0;

	for (unsigned i = 0; i < cfg->nvms; i++) {
		snap |= cfg->vms[i]->point.taken;
		coalesce |= cfg->vms[i]->coalesce_left != 0;
		save |= may_save(cfg->vms[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(vcpu_requests) && ret == 0; i++)
		ret = allow(ctx, SCMP_SYS(ioctl), 1, arg_eq(1, (scmp_datum_t)vcpu_requests[i]), NO_ARG);
	for (size_t i = 0; i < ARRAY_SIZE(state_vcpu_requests) && ret == 0 && (snap || save); i++)
		ret = allow(ctx, SCMP_SYS(ioctl), 1, arg_eq(1, (scmp_datum_t)state_vcpu_requests[i]),
			    NO_ARG);
	for (size_t i = 0; i < ARRAY_SIZE(point_vcpu_requests) && ret == 0 && snap; i++)
		ret = allow(ctx, SCMP_SYS(ioctl), 1, arg_eq(1, (scmp_datum_t)point_vcpu_requests[i]),
			    NO_ARG);
	if (ret == 0 && snap)
		ret = allow(ctx, SCMP_SYS(ioctl), 1, arg_eq(1, KVM_GET_DIRTY_LOG), NO_ARG);
	if (ret == 0 && coalesce)
		ret = allow(ctx, SCMP_SYS(ioctl), 1, arg_eq(1, KVM_REGISTER_COALESCED_MMIO), NO_ARG);
	for (unsigned i = 0; i < cfg->nvms && ret == 0; i++) /* a gdb stub's VM: a few at most */
		if (kvmbox_vm_gdb_address(cfg->vms[i])[0])
			ret = allow_requests(ctx, cfg->vms[i]->vcpu_fd, gdb_vcpu_requests,
					     ARRAY_SIZE(gdb_vcpu_requests));
	return ret;
}

/* ioctl: each VM's requests on its own descriptors only, and TCGETS anywhere (isatty(): stdio
 * asks it when it first writes to a character device; it only reads a terminal's settings). */
static int allow_ioctls(scmp_filter_ctx ctx, const struct kvmbox_sandbox_config *cfg)
{
	int ret = allow(ctx, SCMP_SYS(ioctl), 1, arg_eq(1, TCGETS), NO_ARG);

	if (cfg->nvms > PIN_FDS_MAX)
		return ret ?: allow_requests_anywhere(ctx, cfg);
	for (unsigned i = 0; i < cfg->nvms && ret == 0; i++) {
		const struct kvmbox_vm *vm = cfg->vms[i];

		ret = allow_requests(ctx, vm->vcpu_fd, vcpu_requests, ARRAY_SIZE(vcpu_requests));
		if (ret == 0 && vm->point.taken)
			ret = allow_requests(ctx, vm->vm_fd, (const unsigned long[]){ KVM_GET_DIRTY_LOG }, 1);
		if (ret == 0 && (vm->point.taken || may_save(vm)))
			ret = allow_requests(ctx, vm->vcpu_fd, state_vcpu_requests,
					     ARRAY_SIZE(state_vcpu_requests));
		if (ret == 0 && vm->point.taken)
			ret = allow_requests(ctx, vm->vcpu_fd, point_vcpu_requests,
					     ARRAY_SIZE(point_vcpu_requests));
		/* The console's coalesced zone, registered during a run once the guest has
		 * printed enough byte by byte (src/vm/vm_console.c), when that is still to come. */
		if (ret == 0 && vm->coalesce_left)
			ret = allow_requests(ctx, vm->vm_fd,
					     (const unsigned long[]){ KVM_REGISTER_COALESCED_MMIO }, 1);
		if (ret == 0 && kvmbox_vm_gdb_address(vm)[0])
			ret = allow_requests(ctx, vm->vcpu_fd, gdb_vcpu_requests,
					     ARRAY_SIZE(gdb_vcpu_requests));
	}
	return ret;
}

/* The rest of every run, with their arguments checked. Memory: private and anonymous, never
 * executable (nothing kvmbox maps after setup holds code, or is shared with anyone); mremap
 * only as realloc moves a block (MREMAP_MAYMOVE, never to a place of the caller's choice).
 * fstat through newfstatat only on a descriptor (AT_EMPTY_PATH). The deadline's signal and
 * timer only: its handler, a CLOCK_MONOTONIC timer, armed at an absolute time. The clocks of
 * this process and the system (the vDSO's fallback), never another process's CPU clock (a
 * negative id). readlink says ENOENT and reads nothing: libdw, when a fault report first
 * symbolizes the image (from memory, fd -1), looks for a debug directory with
 * realpath("/proc/self/fd/-1"), and finds none either way. */
static int allow_with_args(scmp_filter_ctx ctx)
{
	const scmp_datum_t map_kind = MAP_TYPE | MAP_ANONYMOUS;
	int ret = 0;

	ret = ret ?: allow(ctx, SCMP_SYS(mmap), 2, arg_masked(2, PROT_EXEC, 0),
			   arg_masked(3, map_kind, MAP_PRIVATE | MAP_ANONYMOUS));
	ret = ret ?: allow(ctx, SCMP_SYS(mremap), 1, arg_eq(3, MREMAP_MAYMOVE), NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(newfstatat), 1, arg_masked(3, AT_EMPTY_PATH, AT_EMPTY_PATH),
			   NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(rt_sigaction), 1, arg_eq(0, (scmp_datum_t)DEADLINE_SIGNAL),
			   NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(timer_create), 1, arg_eq(0, CLOCK_MONOTONIC), NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(timer_settime), 1, arg_eq(1, TIMER_ABSTIME), NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(clock_gettime), 1, arg_le(0, CLOCK_BOOTTIME), NO_ARG);
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(readlink), 0);
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(readlinkat), 0);
	return ret;
}

/* Share files (src/hc/hc_files.c): openat2 resolves each guest path beneath the share, openat
 * reopens the regular file just checked through /proc/self/fd; then reading, the offset and
 * the status flags (the size caps read O_APPEND). No argument of the opens is checked: a
 * filter sees neither the path nor openat2's struct open_how, and pinning the directory
 * descriptor would confine nothing (an absolute path ignores it). Landlock, which judges the
 * path an open resolves to, is what keeps them in the share. */
static int allow_shares(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		SCMP_SYS(openat2), SCMP_SYS(openat), SCMP_SYS(read), SCMP_SYS(lseek),
	};
	int ret = allow_all(ctx, calls, ARRAY_SIZE(calls));

	return ret ?: allow(ctx, SCMP_SYS(fcntl), 1, arg_eq(1, F_GETFL), NO_ARG);
}

/* The clone flags of the C library's pthread_create: a thread, never a process. */
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | \
		      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

/* The futex operations of the C library's mutexes, condition variables and pthread_join. */
static const scmp_datum_t futex_ops[] = {
	FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAIT_PRIVATE, FUTEX_WAKE_PRIVATE,
	FUTEX_WAIT_BITSET, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, FUTEX_WAIT_BITSET_PRIVATE,
	FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME,
};

/* A gdb stub serves the socket it opened at create: accept its one client, receive and send
 * without blocking (never to an address of the caller's choice), TCP_NODELAY on the client,
 * the watcher thread's eventfd, and the kick (GDB_KICK_SIGNAL to a thread of ours). The
 * watcher starts at the first run, in the sandbox: the thread calls (clone only as a thread,
 * clone3 answered ENOSYS so the C library falls back to clone, whose flags a filter can see),
 * its stack (mprotect of the guard, never executable; madvise DONTNEED at its end), locks. */
static int allow_gdb(scmp_filter_ctx ctx)
{
	static const int calls[] = {
		SCMP_SYS(read), SCMP_SYS(getpid), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
		SCMP_SYS(exit),
	};
	int ret = allow_all(ctx, calls, ARRAY_SIZE(calls));

	ret = ret ?: allow(ctx, SCMP_SYS(accept4), 1, arg_eq(3, SOCK_NONBLOCK | SOCK_CLOEXEC), NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(recvfrom), 2, arg_eq(3, MSG_DONTWAIT), arg_eq(4, 0));
	ret = ret ?: allow(ctx, SCMP_SYS(sendto), 2, arg_eq(3, MSG_DONTWAIT | MSG_NOSIGNAL),
			   arg_eq(4, 0));
	ret = ret ?: allow(ctx, SCMP_SYS(setsockopt), 2, arg_eq(1, IPPROTO_TCP),
			   arg_eq(2, TCP_NODELAY));
	/* The C library's own signal for set*id() across threads, whose handler the first
	 * pthread_create installs (glibc's SIGSETXID; SIGRTMIN starts after it and SIGCANCEL). */
	ret = ret ?: allow(ctx, SCMP_SYS(rt_sigaction), 1, arg_eq(0, __SIGRTMIN + 1), NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(tgkill), 2, arg_eq(0, (scmp_datum_t)getpid()),
			   arg_eq(2, (scmp_datum_t)GDB_KICK_SIGNAL));
	for (size_t i = 0; i < ARRAY_SIZE(futex_ops) && ret == 0; i++)
		ret = allow(ctx, SCMP_SYS(futex), 1, arg_eq(1, futex_ops[i]), NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(clone), 1, arg_eq(0, THREAD_FLAGS), NO_ARG);
	ret = ret ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	ret = ret ?: allow(ctx, SCMP_SYS(mprotect), 1, arg_masked(2, PROT_EXEC, 0), NO_ARG);
	ret = ret ?: allow(ctx, SCMP_SYS(madvise), 1, arg_eq(2, MADV_DONTNEED), NO_ARG);
	return ret;
}

#ifdef SANITIZER_BUILD
/* What ASan and LSan call on their own (at exit, on a report, in their allocator), whatever
 * the arguments. Release builds never have these. */
static const int sanitizer_calls[] = {
	SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(fcntl), SCMP_SYS(ppoll), SCMP_SYS(mmap),
	SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack), SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(futex),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(exit),
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(prctl), SCMP_SYS(openat),
	SCMP_SYS(open), SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(readlink),
	SCMP_SYS(kill), SCMP_SYS(tgkill), SCMP_SYS(pipe2),
};
#endif

/* Writing a snapshot (src/snap/snap_save.c): the pages and the metadata at their offsets,
 * and the file cut to its size when an earlier, longer one was there. */
static int allow_saves(scmp_filter_ctx ctx)
{
	static const int calls[] = { SCMP_SYS(pwrite64), SCMP_SYS(ftruncate) };

	return allow_all(ctx, calls, ARRAY_SIZE(calls));
}

static bool has_share(const struct kvmbox_sandbox_config *cfg)
{
	int dir_fd;
	bool ro;

	for (unsigned i = 0; i < cfg->nvms; i++)
		if (hc_files_share(cfg->vms[i], &dir_fd, &ro) == 0)
			return true;
	return false;
}

static int build_filter(scmp_filter_ctx ctx, const struct kvmbox_sandbox_config *cfg)
{
	bool gdb = false;
	int ret;

	for (unsigned i = 0; i < cfg->nvms; i++)
		gdb |= kvmbox_vm_gdb_address(cfg->vms[i])[0] != 0;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	ret = ret ?: seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* The system calls as a binary tree, not a list: the kernel's action cache, worked out
	 * when the filter is loaded, then walks log(n) instructions for each of the ~450
	 * system call numbers instead of n (docs/performance.md). */
	ret = ret ?: seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
#ifdef SANITIZER_BUILD
	ret = ret ?: allow_all(ctx, sanitizer_calls, ARRAY_SIZE(sanitizer_calls));
#endif
	ret = ret ?: allow_all(ctx, plain_calls, ARRAY_SIZE(plain_calls));
	ret = ret ?: allow_ioctls(ctx, cfg);
	ret = ret ?: allow_with_args(ctx);
	if (has_share(cfg))
		ret = ret ?: allow_shares(ctx);
	for (unsigned i = 0; i < cfg->nvms; i++)
		if (may_save(cfg->vms[i])) {
			ret = ret ?: allow_saves(ctx);
			break;
		}
	if (gdb)
		ret = ret ?: allow_gdb(ctx);
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

/* The prebuilt program with CFG's descriptors (prebuilt.h), loaded as libseccomp would (for
 * all threads: TSYNC). */
static int load_prebuilt(const struct kvmbox_sandbox_config *cfg, struct kvmbox_error *err)
{
	struct sock_filter insns[kvmbox_seccomp_prebuilt_len];
	struct sock_fprog prog = { .len = (unsigned short)sandbox_prebuilt_fill(cfg, insns),
				   .filter = insns };
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);

	if (r < 0)
		return set_error(err, errno, "seccomp filter: %s", strerror(errno));
	if (r > 0) /* TSYNC: the thread that could not take the filter */
		return set_error(err, EAGAIN, "seccomp filter: thread %ld cannot take it", r);
	return 0;
}

/* The filter, loaded: a call outside it traps to on_sigsys. The prebuilt program when it fits
 * the run, else built now by libseccomp. */
static int load_filter(const struct kvmbox_sandbox_config *cfg, struct kvmbox_error *err)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int ret;

	trap_hook = cfg->on_trap;
	trap_hook_ctx = cfg->trap_ctx;
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return set_error(err, errno, "sigaction(SIGSYS): %s", strerror(errno));
	if (sandbox_prebuilt_fits(cfg))
		return load_prebuilt(cfg, err);
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
	int abi = cfg->flags & KVMBOX_SANDBOX_NO_LANDLOCK ? 0 : kvmbox_sandbox_landlock_abi();
	int ret;

	/* Refused before anything changes: a share that nothing but the filter would confine,
	 * or threads Landlock would not bind. */
	if (!abi && !(cfg->flags & KVMBOX_SANDBOX_NO_LANDLOCK) && has_share(cfg))
		return set_error(err, EOPNOTSUPP, "this kernel has no Landlock (Linux 5.13 or later "
				 "with the landlock LSM enabled), so nothing would keep a share's opens "
				 "inside the share; KVMBOX_SANDBOX_NO_LANDLOCK accepts that");
	if (abi && (ret = check_alone(err)) < 0)
		return ret;
	/* No exec of kvmbox or anything else may gain privileges (setuid bits, file
	 * capabilities) from here on; seccomp and Landlock without CAP_SYS_ADMIN require it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return set_error(err, errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	/* A core dump would write guest memory (and the share's data) to disk. */
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return set_error(err, errno, "RLIMIT_CORE: %s", strerror(errno));
	if ((ret = drop_capabilities(err)) < 0)
		return ret;
	if (abi && (ret = enter_landlock(cfg, abi, err)) < 0)
		return ret;
	if (cfg->flags & KVMBOX_SANDBOX_NO_SECCOMP)
		return 0;
	return load_filter(cfg, err);
}
