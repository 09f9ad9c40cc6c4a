/* The raw-KVM floor: the least a KVM program must do for each figure kvmbox is measured on,
 * with the fewest syscalls (no GET_SREGS: the initial special registers are built here and
 * handed over through kvm_run sync_regs; a four-leaf CPUID with PAE and LM instead of
 * GET_SUPPORTED_CPUID; no teardown at exit). Hand-written guests, no library. bench/run.sh
 * runs it.
 *
 *   floor hello long|real [VARIANT]  whole-process cold start: print "Hello, world!", check,
 *                                    exit. Without VARIANT the minimal program (no coalesced
 *                                    console: the floor kvmbox is held to); VARIANT, for the
 *                                    cost of a coalesced console and ways around it:
 *                                    coalesce (zone registered at bring-up), unregister (...
 *                                    and unregistered before exit), reaper (... and the VM's
 *                                    last close left to a forked child); sandbox: the
 *                                    least kvmbox's process sandbox needs (floor_sandbox)
 *   floor hold SECONDS              keep one VM open (a host that already runs a VM)
 *   floor spawn R NAME CMD... [+ NAME CMD...]  R whole-process runs of each CMD, in turn
 *                                   (output to /dev/null)
 *   floor phases R                  each bring-up and teardown step of a hello VM (long mode)
 *   floor exits R N                 bare OUT and hypercall-like IN exit round trips
 *   floor insn R N                  one guest instruction at CPL 0 and at CPL 3
 *   floor coalesced R N             one byte on a coalesced-PIO port (N rounded up to 16s)
 *   floor crd R                     create-run-destroy of a hello VM
 *   floor rerun R                   rerun the hello guest with only its registers put back
 *   floor call R                    R calls of a function that returns through one exit (a hlt
 *                                   at a return stub), of one that calls a host function
 *                                   (two exits), and of one that writes memory followed by a
 *                                   reset (the pages it dirtied copied back), once with the
 *                                   registers alone and once with the rest of the vCPU put
 *                                   back too (XCR0, XSAVE area, MSRs, debug registers)
 *   floor rss                       RSS per VM with 1, 100 and 1000 idle VMs
 *   floor many N                    N hello VMs in one process: all created, each run to its
 *                                   halt, all destroyed; per VM create, run and destroy
 *                                   time, RSS and descriptors */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include "../tests/guests/bench_abi.h"
#include "common.h"

#define MEM_SIZE (2u << 20)
#define CODE_GPA 0x1000u
#define PML4_GPA 0x10000u
#define PDPT_GPA 0x11000u
#define PD_GPA 0x12000u
#define RESULT_GPA 0x400u
#define TSS_ADDR 0xfffbd000u
#define PORT_OUT 0x10u
#define PORT_IN 0x600u
#define PORT_CONSOLE 0xe9u

/* Guests, assembled into this program's rodata and copied to CODE_GPA. They run the same
 * instructions as kvmbox's guests for the same figure (the hello guest as the SDK compiles it,
 * the loops of tests/guests/bench_hc.c), because where KVM emulates guest instructions (kvm_pvm:
 * about 0.75 us each) the guest's instruction count is part of every figure. The loops repeat
 * their I/O instruction BENCH_UNROLL (16) times per turn, so the loop's own instructions add
 * 1/8 of an instruction per exit. */
__asm__(".pushsection .rodata\n"
	/* 64-bit hello: "Hello, world!\n" with one rep outsb on port 0xE9, 42 at 0x400, hlt
	 * with eax = 42. */
	".code64\n"
	"g64_hello: mov $(9f - g64_hello + 0x1000), %esi\n mov $(8f - 9f), %ecx\n"
	" mov $0xe9, %edx\n rep outsb\n"
	" movl $42, 0x400\n mov $42, %eax\n hlt\n"
	"9: .ascii \"Hello, world!\\n\"\n 8:\n"
	"g64_hello_end:\n"
	/* Bare OUTs to port 0x10 (ecx starts at 0: 2^32 turns, endless for a benchmark). */
	"g64_out: 1: .rept " BENCH_STR(BENCH_UNROLL) "\n out %al, $0x10\n .endr\n dec %ecx\n jnz 1b\n hlt\n"
	"g64_out_end:\n"
	/* Hypercall-like 32-bit INs from port 0x600. */
	"g64_in: mov $0x600, %dx\n 1: .rept " BENCH_STR(BENCH_UNROLL) "\n in %dx, %eax\n .endr\n"
	" dec %ecx\n jnz 1b\n hlt\n"
	"g64_in_end:\n"
	/* rbx (a multiple of BENCH_UNROLL) bytes on port 0xE9, one out each, then hlt. */
	"g64_e9: 1: .rept " BENCH_STR(BENCH_UNROLL) "\n out %al, $0xe9\n .endr\n"
	" sub $" BENCH_STR(BENCH_UNROLL) ", %rbx\n jnz 1b\n hlt\n g64_e9_end:\n"
	/* rbx turns of 8 nops, dec and jnz (10 instructions), then hlt. */
	"g64_nops: 1: .rept 8\n nop\n .endr\n dec %rbx\n jnz 1b\n hlt\n g64_nops_end:\n"
	/* Functions called by setting the registers, as tests/guests/bench_call.c compiles them,
	 * and the return stub they return to. */
	"g64_call:\n"
	"g64_call_add: lea (%rdi,%rsi,1), %rax\n ret\n"
	"g64_call_count: mov 0x3000, %rax\n inc %rax\n mov %rax, 0x3000\n ret\n"
	"g64_call_host: push %rbx\n mov $0x615, %edx\n mov $0x3100, %ebx\n mov %rdi, 0x3110\n"
	" in (%dx), %eax\n mov 0x3140, %rdx\n test %eax, %eax\n je 1f\n or $-1, %rdx\n"
	"1: mov %rdx, %rax\n pop %rbx\n ret\n"
	"g64_call_stub: hlt\n"
	"g64_call_end:\n"
	/* 16-bit hello, loaded at 0x1000 with CS base 0. */
	".code16\n"
	"g16_hello: mov $(9f - g16_hello + 0x1000), %si\n mov $(8f - 9f), %cx\n"
	" mov $0xe9, %dx\n rep outsb\n"
	" movl $42, (0x400)\n mov $42, %eax\n hlt\n"
	"9: .ascii \"Hello, world!\\n\"\n 8:\n"
	"g16_hello_end:\n"
	".code64\n"
	".popsection\n");
extern const uint8_t g64_hello[], g64_hello_end[], g64_out[], g64_out_end[], g64_in[],
	g64_in_end[], g64_e9[], g64_e9_end[], g64_nops[], g64_nops_end[], g16_hello[],
	g16_hello_end[], g64_call[], g64_call_add[], g64_call_count[], g64_call_host[],
	g64_call_stub[], g64_call_end[];

struct guest {
	const uint8_t *start, *end;
	bool long_mode;
};
static const struct guest hello_long = { g64_hello, g64_hello_end, true };
static const struct guest hello_real = { g16_hello, g16_hello_end, false };
static const struct guest loop_out = { g64_out, g64_out_end, true };
static const struct guest loop_in = { g64_in, g64_in_end, true };
static const struct guest loop_e9 = { g64_e9, g64_e9_end, true };
static const struct guest loop_nops = { g64_nops, g64_nops_end, true };
static const struct guest call_fns = { g64_call, g64_call_end, true };

struct fvm {
	int vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
	struct kvm_coalesced_mmio_ring *ring;
};

/* Phases recorded by fvm_create when asked. */
enum { PH_CREATE_VM, PH_MEMORY, PH_VCPU, PH_CPUID, PH_REGS, PH_COUNT };

static void xioctl_fail(const char *what)
{
	BENCH_DIE("%s: %s", what, strerror(errno));
}
#define XIOCTL(fd, req, arg)                                         \
	({                                                           \
		int r_ = ioctl((fd), (req), (arg));                  \
		if (r_ < 0)                                          \
			xioctl_fail(#req);                           \
		r_;                                                  \
	})

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool long_mode)
{
	return (struct kvm_segment){
		.base = 0, .limit = long_mode ? 0xffffffffu : 0xffffu, .selector = sel,
		.type = type, .present = 1, .s = 1,
		.l = long_mode && (type & 8), .db = long_mode && !(type & 8), .g = long_mode,
	};
}

/* Initial special registers built from nothing (no KVM_GET_SREGS). */
static void make_sregs(struct kvm_sregs *s, bool long_mode)
{
	memset(s, 0, sizeof(*s));
	s->cs = seg(long_mode ? 8 : 0, 11, long_mode);
	s->ds = s->es = s->fs = s->gs = s->ss = seg(long_mode ? 16 : 0, 3, long_mode);
	s->tr = (struct kvm_segment){ .limit = 0xffff, .type = 11, .present = 1 };
	s->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	s->gdt.limit = s->idt.limit = 0xffff;
	s->apic_base = 0xfee00900u;
	if (long_mode) {
		s->cr0 = 0x80050033u; /* PG AM WP NE ET MP PE */
		s->cr3 = PML4_GPA;
		s->cr4 = 0x20;        /* PAE */
		s->efer = 0x500;      /* LMA LME */
	} else {
		s->cr0 = 0x60000010u; /* the reset value */
	}
}

static void set_min_cpuid(int vcpu)
{
	static const struct kvm_cpuid_entry2 entries[] = {
		{ .function = 0, .eax = 1 },
		{ .function = 1, .edx = 1u << 6 | 1u << 5 | 1u << 3 }, /* PAE MSR PSE */
		{ .function = 0x80000000u, .eax = 0x80000001u },
		{ .function = 0x80000001u, .edx = 1u << 29 },          /* LM */
	};
	/* kvm_cpuid2 ends in a flexible array: a byte buffer holds it and its entries. */
	union {
		struct kvm_cpuid2 c;
		uint8_t bytes[sizeof(struct kvm_cpuid2) + sizeof(entries)];
	} cpuid = { .c.nent = sizeof(entries) / sizeof(entries[0]) };

	memcpy(cpuid.c.entries, entries, sizeof(entries));
	XIOCTL(vcpu, KVM_SET_CPUID2, &cpuid.c);
}

/* The console port's zone in the coalesced ring: KVM queues its bytes instead of exiting. */
static void fvm_coalesce(struct fvm *v)
{
	struct kvm_coalesced_mmio_zone z = { .addr = PORT_CONSOLE, .size = 1, .pio = 1 };

	XIOCTL(v->vm, KVM_REGISTER_COALESCED_MMIO, &z);
	v->ring = (void *)((char *)v->run + KVM_COALESCED_MMIO_PAGE_OFFSET * 4096);
}

static void fvm_uncoalesce(struct fvm *v)
{
	struct kvm_coalesced_mmio_zone z = { .addr = PORT_CONSOLE, .size = 1, .pio = 1 };

	XIOCTL(v->vm, KVM_UNREGISTER_COALESCED_MMIO, &z);
}

/* Create a VM running G from CODE_GPA, without a coalesced zone (fvm_coalesce adds it). PH
 * (may be NULL) gets a timestamp after each phase. */
static void fvm_create(struct fvm *v, int kvm, size_t run_size, const struct guest *g,
		       uint64_t *ph)
{
	struct kvm_userspace_memory_region region = { .memory_size = MEM_SIZE };

	v->vm = XIOCTL(kvm, KVM_CREATE_VM, 0);
	XIOCTL(v->vm, KVM_SET_TSS_ADDR, TSS_ADDR);
	if (ph)
		ph[PH_CREATE_VM] = bench_now_ns();
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->mem == MAP_FAILED)
		BENCH_DIE("mmap: %s", strerror(errno));
	region.userspace_addr = (uintptr_t)v->mem;
	XIOCTL(v->vm, KVM_SET_USER_MEMORY_REGION, &region);
	if (ph)
		ph[PH_MEMORY] = bench_now_ns();
	v->vcpu = XIOCTL(v->vm, KVM_CREATE_VCPU, 0);
	v->run_size = run_size;
	v->run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		BENCH_DIE("mmap kvm_run: %s", strerror(errno));
	v->ring = NULL;
	if (ph)
		ph[PH_VCPU] = bench_now_ns();
	if (g->long_mode)
		set_min_cpuid(v->vcpu);
	if (ph)
		ph[PH_CPUID] = bench_now_ns();
	memcpy(v->mem + CODE_GPA, g->start, (size_t)(g->end - g->start));
	if (g->long_mode) {
		uint64_t *pml4 = (uint64_t *)(v->mem + PML4_GPA);
		uint64_t *pdpt = (uint64_t *)(v->mem + PDPT_GPA);
		uint64_t *pd = (uint64_t *)(v->mem + PD_GPA);

		pml4[0] = PDPT_GPA | 7;
		pdpt[0] = PD_GPA | 7;
		pd[0] = 0x87; /* 2 MiB page at 0: P RW US PS (US: cmd_insn runs it at CPL 3) */
	}
	make_sregs(&v->run->s.regs.sregs, g->long_mode);
	memset(&v->run->s.regs.regs, 0, sizeof(v->run->s.regs.regs));
	v->run->s.regs.regs.rip = CODE_GPA;
	v->run->s.regs.regs.rflags = 2;
	v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	v->run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	if (ph)
		ph[PH_REGS] = bench_now_ns();
}

static void fvm_destroy(struct fvm *v)
{
	munmap(v->run, v->run_size);
	close(v->vcpu);
	munmap(v->mem, MEM_SIZE);
	if (v->vm >= 0)
		close(v->vm);
}

static void drain(struct fvm *v, char *buf, size_t *len, size_t cap)
{
	struct kvm_coalesced_mmio_ring *r = v->ring;
	const uint32_t max = (4096 - sizeof(*r)) / sizeof(struct kvm_coalesced_mmio);

	while (r->first != r->last) {
		if (*len < cap)
			buf[(*len)++] = (char)r->coalesced_mmio[r->first].data[0];
		__atomic_store_n(&r->first, (r->first + 1) % max, __ATOMIC_RELEASE);
	}
}

/* Run the hello guest to its halt, collecting the console bytes. Returns 0 when it passed. */
static int run_hello(struct fvm *v, char *out, size_t *len, size_t cap)
{
	for (;;) {
		XIOCTL(v->vcpu, KVM_RUN, 0);
		if (v->ring)
			drain(v, out, len, cap);
		if (v->run->exit_reason == KVM_EXIT_HLT)
			break;
		if (v->run->exit_reason != KVM_EXIT_IO || v->run->io.port != PORT_CONSOLE)
			return -1;
		if (*len < cap)
			out[(*len)++] = *((char *)v->run + v->run->io.data_offset);
	}
	return v->run->s.regs.regs.rax == 42 && *(uint32_t *)(v->mem + RESULT_GPA) == 42 ? 0 : -1;
}

static int open_kvm(size_t *run_size)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int api;

	/* The floor links no library: the cause in full is `kvmbox doctor`'s. */
	if (kvm < 0)
		BENCH_SKIP_NO_KVM("/dev/kvm: %s", strerror(errno));
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		BENCH_SKIP_NO_KVM("/dev/kvm: KVM_GET_API_VERSION: %s", api < 0 ? strerror(errno) : "not 12");
	if (run_size)
		*run_size = (size_t)XIOCTL(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	return kvm;
}

/* The least a process must do for the guarantees kvmbox's sandbox gives (docs/security.md),
 * before the guest runs: no new privileges, no core dump, no capability (one capset; the
 * bounding set stays, as kvmbox's does), Landlock denying every file access (ABI 1's
 * rights: no probe of the kernel's ABI), and a seccomp filter (hand-written BPF: the vCPU's
 * KVM_RUN, write, munmap, close and exit_group; anything else kills). What kvmbox's costs
 * beyond this is its own. */
static void floor_sandbox(int vcpu)
{
#define ALLOW_NR(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		     BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		ALLOW_NR(SYS_write), ALLOW_NR(SYS_munmap), ALLOW_NR(SYS_close),
		ALLOW_NR(SYS_exit_group),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)vcpu, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KVM_RUN, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
#undef ALLOW_NR
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	struct landlock_ruleset_attr ll = { .handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1 };
	const struct rlimit no_core = { 0, 0 };
	int ruleset;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &no_core) < 0)
		BENCH_DIE("sandbox: %s", strerror(errno));
	memset(caps, 0, sizeof(caps));
	if (syscall(SYS_capset, &hdr, caps) < 0)
		BENCH_DIE("sandbox: capabilities: %s", strerror(errno));
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &ll, sizeof(ll), 0);
	if (ruleset < 0 || syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		BENCH_DIE("sandbox: Landlock: %s", strerror(errno));
	close(ruleset);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
		BENCH_DIE("sandbox: seccomp: %s", strerror(errno));
}

/* Whole process: the fewest syscalls that run the hello guest, print its output and check
 * it, then exit (the kernel releases the VM at exit, as it would at close). VARIANT adds a
 * coalesced console ("coalesce") and ways around the wait its release then costs:
 * "unregister" takes the zone out again before exiting, "reaper" forks a child that holds
 * the VM's descriptors until this process has let go of its own, so that the last close,
 * and the wait, happen in the child after the caller has the status. */
static int cmd_hello(const struct guest *g, const char *variant)
{
	char out[64];
	size_t len = 0, run_size;
	struct fvm v;
	int kvm, gate[2];

	if (*variant && strcmp(variant, "coalesce") && strcmp(variant, "unregister") &&
	    strcmp(variant, "reaper") && strcmp(variant, "sandbox"))
		BENCH_DIE("hello: no variant '%s' (coalesce, unregister, reaper, sandbox)", variant);
	kvm = open_kvm(&run_size);
	fvm_create(&v, kvm, run_size, g, NULL);
	if (!strcmp(variant, "sandbox")) {
		close(kvm);
		floor_sandbox(v.vcpu);
	} else if (*variant) {
		fvm_coalesce(&v);
	}
	if (run_hello(&v, out, &len, sizeof(out)) < 0)
		return 1;
	if (write(1, out, len) != (ssize_t)len)
		return 1;
	if (!strcmp(variant, "unregister"))
		fvm_uncoalesce(&v);
	if (!strcmp(variant, "reaper")) {
		if (pipe(gate) < 0)
			return 1;
		switch (fork()) {
		case -1:
			return 1;
		case 0: /* the reaper: no stdio of the caller's; wait for the parent's exit */
			close(0);
			close(1);
			close(2);
			close(gate[1]);
			if (read(gate[0], out, 1) < 0)
				_exit(1);
			_exit(0); /* the last close of the VM is this exit's */
		default:
			/* Drop every reference of ours now, the kvm_run mapping's included (at exit
			 * it would be released after the descriptors, so it could be the last one
			 * after all), and only then let the reaper go. */
			close(gate[0]);
			fvm_destroy(&v);
			close(gate[1]);
		}
	}
	return 0;
}

static int cmd_hold(double seconds)
{
	size_t run_size;
	struct fvm v;
	int kvm = open_kvm(&run_size);

	fvm_create(&v, kvm, run_size, &hello_long, NULL);
	usleep((useconds_t)(seconds * 1e6));
	return 0;
}

static double tv_us(struct timeval tv)
{
	return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

/* One command of `floor spawn` and its samples. */
struct spawned {
	const char *name;
	char **argv;
	double *t, *c, *done, *oc;
	int failures;
};

/* One whole-process run of S (sample I): wall time from spawn to the reaped status and the
 * child's CPU time; then every descendant it left (a reaper; this process is a subreaper,
 * so they come back here): their CPU time, and when the last one was reaped. */
static void spawn_one(struct spawned *s, int i, const posix_spawn_file_actions_t *fa)
{
	extern char **environ;
	uint64_t t0 = bench_now_ns();
	struct rusage ru;
	pid_t pid;
	int st;

	if (posix_spawn(&pid, s->argv[0], fa, NULL, s->argv, environ) != 0)
		BENCH_DIE("spawn %s: %s", s->argv[0], strerror(errno));
	if (wait4(pid, &st, 0, &ru) < 0)
		BENCH_DIE("wait4: %s", strerror(errno));
	s->t[i] = (double)(bench_now_ns() - t0) / 1e3;
	/* The child's own CPU time (user + system), precise in total (getrusage(2)). */
	s->c[i] = tv_us(ru.ru_utime) + tv_us(ru.ru_stime);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		s->failures++;
	while (wait4(-1, NULL, 0, &ru) > 0)
		s->oc[i] += tv_us(ru.ru_utime) + tv_us(ru.ru_stime);
	s->done[i] = (double)(bench_now_ns() - t0) / 1e3;
}

/* Whole-process runs, stdout and stderr on /dev/null, of one command or several: ARGV is
 * NAME CMD... [+ NAME CMD...]... Several are run in turn, one run of each per round, so that
 * the shared host's slow spells fall on all of them alike: their medians compare. Each
 * round's order is shuffled (a fixed seed: the same orders every time): a run pays part of
 * what the run before it left the kernel to finish (a VM's teardown, a seccomp filter freed
 * by a worker), so in a fixed order a command would always pay for the same neighbour.
 * Each command's figure has "done_median" and "orphan_cpu_median" too (a reaper's time and
 * CPU, spawn_one). */
static int cmd_spawn(int reps, int argc, char **argv)
{
	struct spawned s[8];
	posix_spawn_file_actions_t fa;
	uint64_t seed = 0x6b766d626f78ull; /* "kvmbox" */
	int n = 0, i, k;
	char extra[128];

	for (i = 0; i < argc && n < 8; n++) {
		s[n] = (struct spawned){ .name = argv[i], .argv = argv + i + 1 };
		for (i++; i < argc && strcmp(argv[i], "+"); i++)
			;
		if (i == 0 || argv[i - 1] == s[n].name)
			BENCH_DIE("spawn: %s: no command", s[n].name);
		if (i < argc)
			argv[i++] = NULL; /* the "+" ends this command's argv */
		s[n].t = bench_xcalloc((size_t)reps, sizeof(double));
		s[n].c = bench_xcalloc((size_t)reps, sizeof(double));
		s[n].done = bench_xcalloc((size_t)reps, sizeof(double));
		s[n].oc = bench_xcalloc((size_t)reps, sizeof(double));
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (i = 0; i < reps; i++) {
		int order[8];

		for (k = 0; k < n; k++)
			order[k] = k;
		for (k = n - 1; k > 0; k--) { /* Fisher-Yates */
			int j = (int)(bench_rand(&seed) % (uint64_t)(k + 1)), t = order[k];

			order[k] = order[j];
			order[j] = t;
		}
		for (k = 0; k < n; k++)
			spawn_one(&s[order[k]], i, &fa);
	}
	for (k = 0; k < n; k++) {
		if (s[k].failures)
			BENCH_DIE("%s: %d of %d runs failed", s[k].name, s[k].failures, reps);
		snprintf(extra, sizeof(extra), "\"done_median\":%.6g,\"orphan_cpu_median\":%.6g",
			 bench_pct(s[k].done, (size_t)reps, 50), bench_pct(s[k].oc, (size_t)reps, 50));
		bench_emit2(s[k].name, "us", s[k].t, s[k].c, (size_t)reps, extra);
	}
	return 0;
}

/* Each step of a hello VM's life, timed alone (bench/run.sh reports every one, so that a
 * step that grows cannot hide in a total). The VMs take turns at three teardowns: plain;
 * with the console's coalesced zone registered before the run; registered and then taken
 * out again before the close. Besides the floor's own four-leaf CPUID, each VM also pays
 * for the host's full CPUID (KVM_GET_SUPPORTED_CPUID and KVM_SET_CPUID2 with it), set
 * first and then replaced (both are allowed before the first KVM_RUN). */
enum {
	ST_OPEN, ST_CREATE_VM, ST_MEMORY, ST_VCPU, ST_HOST_CPUID, ST_CPUID, ST_REGS, ST_REGISTER,
	ST_FIRST_RUN, ST_UNREGISTER, ST_DESTROY, ST_DESTROY_COALESCED, ST_DESTROY_UNREGISTERED,
	ST_COUNT
};
static const char *const step_names[ST_COUNT] = {
	"open", "create_vm", "memory", "vcpu", "host_cpuid", "cpuid", "regs_and_load",
	"coalesce_register", "first_run", "coalesce_unregister", "destroy", "destroy_coalesced",
	"destroy_unregistered",
};

static void set_host_cpuid(int kvm, int vcpu)
{
	struct kvm_cpuid2 *c = bench_xcalloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	c->nent = 256;
	XIOCTL(kvm, KVM_GET_SUPPORTED_CPUID, c);
	XIOCTL(vcpu, KVM_SET_CPUID2, c);
	free(c);
}

static int cmd_phases(int reps)
{
	double *t[ST_COUNT];
	size_t n[ST_COUNT] = { 0 };
	char name[64], out[64];
	size_t run_size;
	int kvm = open_kvm(&run_size), i, p;

	for (p = 0; p < ST_COUNT; p++)
		t[p] = bench_xcalloc((size_t)reps, sizeof(double));
	for (i = 0; i < reps; i++) {
		uint64_t ph[PH_COUNT], t0, t1;
		int variant = i % 3, k;
		size_t len = 0;
		struct fvm v;

#define STEP(id, expr)                                                         \
	do {                                                                   \
		t0 = bench_now_ns();                                           \
		expr;                                                          \
		t[id][n[id]++] = (double)(bench_now_ns() - t0) / 1e3;          \
	} while (0)
		STEP(ST_OPEN, close(open_kvm(NULL)));
		t0 = bench_now_ns();
		fvm_create(&v, kvm, run_size, &hello_long, ph);
		for (p = PH_CREATE_VM; p <= PH_REGS; p++) {
			static const int id[PH_COUNT] = { ST_CREATE_VM, ST_MEMORY, ST_VCPU, ST_CPUID,
							  ST_REGS };

			t[id[p]][n[id[p]]++] = (double)(ph[p] - (p ? ph[p - 1] : t0)) / 1e3;
		}
		STEP(ST_HOST_CPUID, set_host_cpuid(kvm, v.vcpu));
		set_min_cpuid(v.vcpu);
		if (variant)
			STEP(ST_REGISTER, fvm_coalesce(&v));
		t1 = bench_now_ns();
		if (run_hello(&v, out, &len, sizeof(out)) < 0 || len != 14)
			BENCH_DIE("hello failed");
		t[ST_FIRST_RUN][n[ST_FIRST_RUN]++] = (double)(bench_now_ns() - t1) / 1e3;
		if (variant == 2)
			STEP(ST_UNREGISTER, fvm_uncoalesce(&v));
		k = variant == 0 ? ST_DESTROY : variant == 1 ? ST_DESTROY_COALESCED
							     : ST_DESTROY_UNREGISTERED;
		STEP(k, fvm_destroy(&v));
#undef STEP
	}
	for (p = 0; p < ST_COUNT; p++) {
		snprintf(name, sizeof(name), "floor.phase.%s", step_names[p]);
		if (n[p])
			bench_emit(name, "us", t[p], n[p], "");
		free(t[p]);
	}
	return 0;
}

/* R batches of N exits of the OUT and IN loops, the three variants interleaved batch by
 * batch (as kvmbox_bench interleaves its figures); a sample is one batch's mean. */
static int cmd_exits(int reps, int n)
{
	const struct guest *g[3] = { &loop_out, &loop_in, &loop_in };
	const char *names[3] = { "floor.exit_out", "floor.exit_in", "floor.exit_in_sync" };
	double *t[3], *c[3];
	size_t run_size;
	int kvm = open_kvm(&run_size);
	struct fvm v[3];

	for (int k = 0; k < 3; k++) {
		t[k] = bench_xcalloc((size_t)reps, sizeof(double));
		c[k] = bench_xcalloc((size_t)reps, sizeof(double));
		fvm_create(&v[k], kvm, run_size, g[k], NULL);
		/* The last variant also has KVM copy the registers out at every exit (sync_regs). */
		v[k].run->kvm_valid_regs = k == 2 ? KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS : 0;
	}
	for (int i = -reps / 10; i < reps; i++) { /* the first tenth warms up */
		for (int k = 0; k < 3; k++) {
			uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();

			for (int j = 0; j < n; j++) {
				XIOCTL(v[k].vcpu, KVM_RUN, 0);
				if (v[k].run->exit_reason != KVM_EXIT_IO)
					BENCH_DIE("unexpected exit %u", v[k].run->exit_reason);
				if (k >= 1) /* answer the IN as a hypercall would */
					memcpy((char *)v[k].run + v[k].run->io.data_offset, &j, 4);
			}
			if (i >= 0) {
				t[k][i] = (double)(bench_now_ns() - t0) / n;
				c[k][i] = (double)(bench_cpu_ns() - c0) / n;
			}
		}
	}
	for (int k = 0; k < 3; k++) {
		bench_emit2(names[k], "ns", t[k], c[k], (size_t)reps, "");
		fvm_destroy(&v[k]);
		free(t[k]);
		free(c[k]);
	}
	return 0;
}

/* What one guest instruction costs: R runs of N turns of the 10-instruction nop loop, at
 * CPL 0 (where every kvmbox guest runs) and at CPL 3 (N * 1000 turns). kvm_pvm runs guest user
 * mode natively but emulates the guest kernel's instructions; on VMX/SVM both are native. At
 * CPL 3 the final hlt raises #GP, which with no IDT ends in KVM_EXIT_SHUTDOWN. */
static int cmd_insn(int reps, int n)
{
	static const int cpl[2] = { 0, 3 };
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));
	size_t run_size;
	int kvm = open_kvm(&run_size);

	for (int k = 0; k < 2; k++) {
		uint64_t turns = (uint64_t)n * (cpl[k] ? 1000 : 1);
		char name[64], extra[64];

		for (int i = 0; i < reps; i++) {
			struct fvm v;
			struct kvm_sregs *s;
			uint64_t t0, c0;

			fvm_create(&v, kvm, run_size, &loop_nops, NULL);
			s = &v.run->s.regs.sregs;
			if (cpl[k]) {
				s->cs.selector = 0x1b;
				s->ss.selector = s->ds.selector = s->es.selector = 0x23;
				s->cs.dpl = s->ss.dpl = s->ds.dpl = s->es.dpl = 3;
			}
			v.run->s.regs.regs.rbx = turns;
			t0 = bench_now_ns();
			c0 = bench_cpu_ns();
			XIOCTL(v.vcpu, KVM_RUN, 0);
			t[i] = (double)(bench_now_ns() - t0) / ((double)turns * 10);
			c[i] = (double)(bench_cpu_ns() - c0) / ((double)turns * 10);
			if (v.run->exit_reason != (cpl[k] ? KVM_EXIT_SHUTDOWN : KVM_EXIT_HLT) ||
			    v.run->s.regs.regs.rbx != 0)
				BENCH_DIE("nop loop at CPL %d: exit %u, rbx %llu", cpl[k],
					  v.run->exit_reason, (unsigned long long)v.run->s.regs.regs.rbx);
			fvm_destroy(&v);
		}
		snprintf(name, sizeof(name), "floor.guest_insn_cpl%d", cpl[k]);
		snprintf(extra, sizeof(extra), "\"instructions\":%llu", (unsigned long long)turns * 10);
		bench_emit2(name, "ns", t, c, (size_t)reps, extra);
	}
	return 0;
}

/* R runs of N bytes on coalesced port 0xE9; a sample is one run's time per byte. */
static int cmd_coalesced(int reps, int n)
{
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));
	char *out = bench_xcalloc((size_t)n, 1), extra[64];
	uint64_t exits = 0, bytes = 0;
	size_t run_size;
	int kvm = open_kvm(&run_size);
	struct fvm v;

	fvm_create(&v, kvm, run_size, &loop_e9, NULL);
	fvm_coalesce(&v);
	for (int i = -reps / 10; i < reps; i++) {
		uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();
		size_t len = 0;

		v.run->s.regs.regs.rip = CODE_GPA;
		v.run->s.regs.regs.rbx = (uint64_t)n;
		v.run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		for (;;) {
			XIOCTL(v.vcpu, KVM_RUN, 0);
			drain(&v, out, &len, (size_t)n);
			if (i >= 0)
				exits++;
			if (v.run->exit_reason == KVM_EXIT_HLT)
				break;
			if (v.run->exit_reason != KVM_EXIT_IO)
				BENCH_DIE("unexpected exit %u (suberror %u) after %zu bytes, rbx %llu", v.run->exit_reason, v.run->internal.suberror, len, (unsigned long long)v.run->s.regs.regs.rbx);
			if ((size_t)len < (size_t)n)
				out[len++] = *((char *)v.run + v.run->io.data_offset);
		}
		if (len != (size_t)n)
			BENCH_DIE("coalesced: %zu of %d bytes", len, n);
		if (i >= 0) {
			t[i] = (double)(bench_now_ns() - t0) / n;
			c[i] = (double)(bench_cpu_ns() - c0) / n;
			bytes += (uint64_t)n;
		}
	}
	snprintf(extra, sizeof(extra), "\"exits_per_byte\":%.6g", (double)exits / (double)bytes);
	bench_emit2("floor.coalesced_byte", "ns", t, c, (size_t)reps, extra);
	fvm_destroy(&v);
	return 0;
}

/* Create, run the hello guest and destroy, R times; a sample is one cycle. */
static void crd_loop(int kvm, size_t run_size, int reps, const char *name)
{
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));
	char out[64];

	for (int i = 0; i < reps; i++) {
		uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();
		size_t len = 0;
		struct fvm v;

		fvm_create(&v, kvm, run_size, &hello_long, NULL);
		if (run_hello(&v, out, &len, sizeof(out)) < 0)
			BENCH_DIE("hello failed");
		fvm_destroy(&v);
		t[i] = (double)(bench_now_ns() - t0) / 1e3;
		c[i] = (double)(bench_cpu_ns() - c0) / 1e3;
	}
	bench_emit2(name, "us", t, c, (size_t)reps, "");
	free(t);
	free(c);
}

static int cmd_crd(int reps)
{
	size_t run_size;
	int kvm = open_kvm(&run_size);
	struct fvm hold;

	crd_loop(kvm, run_size, reps, "floor.crd_alone");
	fvm_create(&hold, kvm, run_size, &hello_long, NULL);
	crd_loop(kvm, run_size, reps, "floor.crd");
	fvm_destroy(&hold);
	return 0;
}

/* The least a reset can cost: run the hello guest again with only its registers put back
 * (memory is not restored; the hello guest does not depend on it), and print what it wrote
 * (to /dev/null), as every hello run must. A sample is one rerun. */
static int cmd_rerun(int reps)
{
	double *t = bench_xcalloc((size_t)reps, sizeof(double));
	double *c = bench_xcalloc((size_t)reps, sizeof(double));
	uint64_t t0, c0;
	char out[64], extra[96];
	size_t run_size;
	int kvm = open_kvm(&run_size), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct kvm_regs regs0;
	struct fvm v;

	fvm_create(&v, kvm, run_size, &hello_long, NULL);
	fvm_coalesce(&v); /* a VM run again and again: coalescing pays */
	regs0 = v.run->s.regs.regs;
	t0 = bench_now_ns();
	c0 = bench_cpu_ns();
	for (int i = 0; i < reps; i++) {
		uint64_t t1 = bench_now_ns(), c1 = bench_cpu_ns();
		size_t len = 0;

		v.run->s.regs.regs = regs0;
		v.run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		if (run_hello(&v, out, &len, sizeof(out)) < 0 || write(devnull, out, len) != (ssize_t)len)
			BENCH_DIE("hello failed");
		t[i] = (double)(bench_now_ns() - t1) / 1e3;
		c[i] = (double)(bench_cpu_ns() - c1) / 1e3;
	}
	snprintf(extra, sizeof(extra), "\"cycles_per_s\":%.6g,\"cpu_cycles_per_s\":%.6g",
		 (double)reps * 1e9 / (double)(bench_now_ns() - t0),
		 (double)reps * 1e9 / (double)(bench_cpu_ns() - c0));
	bench_emit2("floor.rerun", "us", t, c, (size_t)reps, extra);
	fvm_destroy(&v);
	return 0;
}

/* One call of the function at FN (an offset into g64_call) with A and B: the registers set
 * through sync_regs, the return address written on the stack, KVM_RUN until the stub's hlt.
 * The host function's IN (port 0x615, a struct at 0x3100 naming "h") is served as kvmbox
 * serves one: the struct and the name read, the function called, its result written back. */
#define CALL_STACK 0x80000u
#define CALL_REQ 0x3100u
static int64_t floor_call(struct fvm *v, const uint8_t *fn, uint64_t a, uint64_t b)
{
	struct kvm_regs *r = &v->run->s.regs.regs;
	uint64_t ret = CODE_GPA + (uint64_t)(g64_call_stub - g64_call);

	memset(r, 0, sizeof(*r));
	r->rip = CODE_GPA + (uint64_t)(fn - g64_call);
	r->rsp = CALL_STACK - 8;
	r->rdi = a;
	r->rsi = b;
	r->rflags = 2;
	memcpy(v->mem + r->rsp, &ret, sizeof(ret));
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	for (;;) {
		XIOCTL(v->vcpu, KVM_RUN, 0);
		if (v->run->exit_reason == KVM_EXIT_HLT)
			break;
		if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x615) {
			uint64_t req[9];
			int32_t zero = 0;

			memcpy(req, v->mem + v->run->s.regs.regs.rbx, sizeof(req));
			if (req[0] >= MEM_SIZE || strnlen((char *)v->mem + req[0], 64) != 1 ||
			    v->mem[req[0]] != 'h')
				BENCH_DIE("host call: bad name");
			req[8] = req[2] + 1;
			memcpy(v->mem + v->run->s.regs.regs.rbx + 64, &req[8], 8);
			memcpy((char *)v->run + v->run->io.data_offset, &zero, 4);
			continue;
		}
		BENCH_DIE("call: unexpected exit %u", v->run->exit_reason);
	}
	if (v->run->s.regs.regs.rip != ret + 1)
		BENCH_DIE("call: halted at 0x%llx, not the stub", (unsigned long long)v->run->s.regs.regs.rip);
	return (int64_t)v->run->s.regs.regs.rax;
}

/* R calls of each kind, interleaved call by call; a sample is one call (and, for the last
 * kind, its reset: the dirty log read and each page it names copied back from the state
 * before the calls, with the stack page the host wrote the return address to). */
/* The vCPU state beyond the registers that a reset after a run must put back for one call
 * to see nothing of another's (a call can leave data in the SSE registers, an MSR or a debug
 * register): what kvmbox's reset point keeps when taken after the guest's main. Read once,
 * written after every call of "floor.call.reset_vcpu". */
struct vcpu_rest {
	struct kvm_xcrs xcrs;
	bool has_xcrs;
	struct kvm_xsave xsave;
	struct kvm_debugregs dbg;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[11];
	} msrs;
};

static void vcpu_rest_get(int vcpu, struct vcpu_rest *r)
{
	/* The MSRs a guest can set that kvmbox's snapshots keep, less those of the host's CPUID. */
	static const uint32_t idx[11] = { 0x174, 0x175, 0x176, 0x1a0, 0x277, 0xc0000081,
					  0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102,
					  0xc0000103 };

	r->has_xcrs = ioctl(vcpu, KVM_GET_XCRS, &r->xcrs) == 0;
	XIOCTL(vcpu, KVM_GET_XSAVE, &r->xsave);
	XIOCTL(vcpu, KVM_GET_DEBUGREGS, &r->dbg);
	r->msrs.h.nmsrs = 11;
	for (int i = 0; i < 11; i++)
		r->msrs.e[i] = (struct kvm_msr_entry){ .index = idx[i] };
	r->msrs.h.nmsrs = (uint32_t)ioctl(vcpu, KVM_GET_MSRS, &r->msrs.h);
}

static void vcpu_rest_put(int vcpu, struct vcpu_rest *r)
{
	if (r->has_xcrs)
		XIOCTL(vcpu, KVM_SET_XCRS, &r->xcrs);
	XIOCTL(vcpu, KVM_SET_XSAVE, &r->xsave);
	XIOCTL(vcpu, KVM_SET_MSRS, &r->msrs.h);
	XIOCTL(vcpu, KVM_SET_DEBUGREGS, &r->dbg);
}

static int cmd_call(int reps)
{
	const char *names[4] = { "floor.call.plain", "floor.call.host", "floor.call.reset",
				 "floor.call.reset_vcpu" };
	double *t[4], *c[4];
	struct vcpu_rest rest;
	size_t run_size;
	int kvm = open_kvm(&run_size);
	struct fvm v;
	struct kvm_userspace_memory_region region = { .memory_size = MEM_SIZE,
						      .flags = KVM_MEM_LOG_DIRTY_PAGES };
	uint64_t bitmap[MEM_SIZE / 4096 / 64];
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };
	uint8_t *copy = bench_xcalloc(MEM_SIZE, 1);
	uint64_t name = CALL_REQ + 0x100, nargs = 1;

	fvm_create(&v, kvm, run_size, &call_fns, NULL);
	region.userspace_addr = (uintptr_t)v.mem;
	XIOCTL(v.vm, KVM_SET_USER_MEMORY_REGION, &region);
	memcpy(v.mem + CALL_REQ, &name, 8);
	memcpy(v.mem + CALL_REQ + 8, &nargs, 8);
	v.mem[name] = 'h';
	v.run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS; /* as kvmbox has it */
	memcpy(copy, v.mem, MEM_SIZE);
	XIOCTL(v.vm, KVM_GET_DIRTY_LOG, &log);
	vcpu_rest_get(v.vcpu, &rest);
	for (int k = 0; k < 4; k++) {
		t[k] = bench_xcalloc((size_t)reps, sizeof(double));
		c[k] = bench_xcalloc((size_t)reps, sizeof(double));
	}
	for (int i = -reps / 10; i < reps; i++) {
		for (int k = 0; k < 4; k++) {
			uint64_t t0 = bench_now_ns(), c0 = bench_cpu_ns();
			int64_t got, want;

			if (k == 0)
				got = floor_call(&v, g64_call_add, 40, 2), want = 42;
			else if (k == 1)
				got = floor_call(&v, g64_call_host, 41, 0), want = 42;
			else
				got = floor_call(&v, g64_call_count, 0, 0), want = 1;
			if (k >= 2) {
				XIOCTL(v.vm, KVM_GET_DIRTY_LOG, &log);
				bitmap[(CALL_STACK - 8) / 4096 / 64] |= 1ull << ((CALL_STACK - 8) / 4096 % 64);
				for (size_t w = 0; w < sizeof(bitmap) / 8; w++)
					for (uint64_t bits = bitmap[w]; bits; bits &= bits - 1) {
						size_t pg = w * 64 + (size_t)__builtin_ctzll(bits);

						memcpy(v.mem + pg * 4096, copy + pg * 4096, 4096);
					}
			}
			if (k == 3)
				vcpu_rest_put(v.vcpu, &rest);
			if (i >= 0) {
				t[k][i] = (double)(bench_now_ns() - t0) / 1e3;
				c[k][i] = (double)(bench_cpu_ns() - c0) / 1e3;
			}
			if (got != want)
				BENCH_DIE("%s: %lld, not %lld", names[k], (long long)got, (long long)want);
		}
	}
	for (int k = 0; k < 4; k++) {
		bench_emit2(names[k], "us", t[k], c[k], (size_t)reps, "");
		free(t[k]);
		free(c[k]);
	}
	free(copy);
	fvm_destroy(&v);
	return 0;
}

/* Idle VMs: created, guest loaded, not run. RSS growth per VM. */
static int cmd_rss(void)
{
	static const int counts[] = { 1, 100, 1000 };
	size_t run_size;
	int kvm = open_kvm(&run_size);

	(void)bench_nofile_max(); /* the soft open-file limit up to the hard one */
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct fvm *v = bench_xcalloc((size_t)counts[c], sizeof(*v));
		long before = bench_rss_kib(), after;
		char name[64];

		for (int i = 0; i < counts[c]; i++)
			fvm_create(&v[i], kvm, run_size, &hello_long, NULL);
		after = bench_rss_kib();
		snprintf(name, sizeof(name), "floor.rss_per_vm_%d", counts[c]);
		bench_emit1(name, "KiB", (double)(after - before) / counts[c], "");
		for (int i = 0; i < counts[c]; i++)
			fvm_destroy(&v[i]);
		free(v);
	}
	return 0;
}

static int cmd_many(int n)
{
	struct fvm *v = bench_xcalloc((size_t)n, sizeof(*v));
	uint64_t t0, t1, t2, t3;
	long rss0, rss1, fds0, fds1;
	char name[64], extra[48], out[64];
	size_t run_size;
	int kvm = open_kvm(&run_size);

	/* Each VM keeps its VM fd, as kvmbox's do, unless the open-file limit has no room for
	 * two a VM (as kvmbox_bench many decides): then the vCPU's alone holds the VM. Keeping
	 * it matters beyond the count: KVM names each VM's debugfs directory after the VM fd's
	 * number, and a VM made while another lives under a reused number gets none ("KVM:
	 * debugfs: duplicate directory"), which saves its create and destroy ~0.1 ms. */
	bool one_fd = bench_nofile_max() < 2L * n + 64;

	rss0 = bench_rss_kib();
	fds0 = bench_fds();
	t0 = bench_now_ns();
	for (int i = 0; i < n; i++) {
		fvm_create(&v[i], kvm, run_size, &hello_long, NULL);
		if (one_fd) {
			close(v[i].vm);
			v[i].vm = -1;
		}
	}
	t1 = bench_now_ns();
	rss1 = bench_rss_kib();
	fds1 = bench_fds();
	for (int i = 0; i < n; i++) {
		size_t len = 0;

		if (run_hello(&v[i], out, &len, sizeof(out)) < 0 || len != 14)
			BENCH_DIE("VM %d of %d: hello failed", i, n);
	}
	t2 = bench_now_ns();
	for (int i = 0; i < n; i++)
		fvm_destroy(&v[i]);
	t3 = bench_now_ns();
	snprintf(extra, sizeof(extra), "\"vms\":%d,\"one_fd\":%d", n, one_fd);
#define MANY(what, unit, value)                                                       \
	do {                                                                          \
		snprintf(name, sizeof(name), "floor.many_%d.%s", n, what);            \
		bench_emit1(name, unit, value, extra);                                \
	} while (0)
	MANY("create", "us", (double)(t1 - t0) / 1e3 / n);
	MANY("run", "us", (double)(t2 - t1) / 1e3 / n);
	MANY("destroy", "us", (double)(t3 - t2) / 1e3 / n);
	MANY("rss", "KiB", (double)(rss1 - rss0) / n);
	MANY("fds", "fds", (double)(fds1 - fds0) / n);
#undef MANY
	free(v);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "hello") && argc > 2 && (!strcmp(argv[2], "long") || !strcmp(argv[2], "real")))
		return cmd_hello(argv[2][0] == 'l' ? &hello_long : &hello_real, argc > 3 ? argv[3] : "");
	if (!strcmp(cmd, "hold"))
		return cmd_hold(argc > 2 ? atof(argv[2]) : 3600);
	if (!strcmp(cmd, "spawn") && argc > 4)
		return cmd_spawn(atoi(argv[2]), argc - 3, argv + 3);
	if (!strcmp(cmd, "phases"))
		return cmd_phases(bench_arg_int(argc, argv, 2, 200));
	if (!strcmp(cmd, "exits"))
		return cmd_exits(bench_arg_int(argc, argv, 2, 200), bench_arg_int(argc, argv, 3, 200));
	if (!strcmp(cmd, "coalesced"))
		return cmd_coalesced(bench_arg_int(argc, argv, 2, 100),
				     bench_round_up(bench_arg_int(argc, argv, 3, 100000), BENCH_UNROLL));
	if (!strcmp(cmd, "insn"))
		return cmd_insn(bench_arg_int(argc, argv, 2, 5), bench_arg_int(argc, argv, 3, 2000));
	if (!strcmp(cmd, "crd"))
		return cmd_crd(bench_arg_int(argc, argv, 2, 200));
	if (!strcmp(cmd, "rerun"))
		return cmd_rerun(bench_arg_int(argc, argv, 2, 20000));
	if (!strcmp(cmd, "call"))
		return cmd_call(bench_arg_int(argc, argv, 2, 2000));
	if (!strcmp(cmd, "rss"))
		return cmd_rss();
	if (!strcmp(cmd, "many") && argc > 2 && atoi(argv[2]) > 0)
		return cmd_many(atoi(argv[2]));
	fprintf(stderr, "usage: floor hello long|real [coalesce|unregister|reaper|sandbox]|hold S|"
			"spawn R NAME CMD... [+ NAME CMD...]|phases R|exits R N|insn R N|"
			"coalesced R N|crd R|rerun R|call R|rss|many N\n");
	return 2;
}
