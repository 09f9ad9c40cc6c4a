/* What this host's KVM does with the debug registers, found by running a three-instruction
 * real-mode guest in a bare VM of its own (KVM ioctls only: no kvmbox VM, no feature, so the
 * gdb feature that asks cannot recurse into itself). KVM_CAP_GUEST_DEBUG_HW_BPS is no answer:
 * kvm_pvm reads 0 and fires execution breakpoints, the QEMU lane's kvm_amd fires none. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "gdb/kvm_target.h"
#include "kvm/kvm.h"

#define PROBE_MEM 0x10000
#define PROBE_ADDR 0x1000
#define PROBE_DATA 0x2000
#define PROBE_TSS 0xfffbd000ull /* VMX's real-mode TSS pages, outside the probe's memory */
#define DR7_L0 1u
#define DR7_GE (1u << 9)
#define DR7_FIXED1 (1u << 10)

/* The probe's ioctls, checked as every other (kvm/kvm.h): no log and no error line, since a
 * failure only means the probe has no answer. */
#define probe_ioctl(fd, req, arg) kvm_ioctl_checked(NULL, NULL, fd, req, #req, arg, NULL)

struct probe {
	int kvm, vm, cpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

/* A VM with PROBE_MEM bytes of memory holding CODE at PROBE_ADDR and one vCPU about to run
 * it in real mode with segment bases 0. 0 or -1. */
static int probe_open(struct probe *p, const uint8_t *code, size_t len)
{
	struct kvm_userspace_memory_region region = { .memory_size = PROBE_MEM };
	struct kvm_regs regs = { .rip = PROBE_ADDR, .rflags = 2 };
	struct kvm_sregs sregs;
	int size;

	if ((p->kvm = kvm_open_checked(NULL, NULL)) < 0 ||
	    (p->vm = probe_ioctl(p->kvm, KVM_CREATE_VM, 0)) < 0 ||
	    probe_ioctl(p->vm, KVM_SET_TSS_ADDR, PROBE_TSS) < 0)
		return -1;
	p->mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->mem == MAP_FAILED)
		return -1;
	memcpy(p->mem + PROBE_ADDR, code, len);
	region.userspace_addr = (uintptr_t)p->mem;
	if (probe_ioctl(p->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 ||
	    (p->cpu = probe_ioctl(p->vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (size = probe_ioctl(p->kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return -1;
	p->run_size = (size_t)size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->cpu, 0);
	if (p->run == MAP_FAILED || probe_ioctl(p->cpu, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs.base = 0; /* out of reset CS is f000 with base ffff0000 */
	sregs.cs.selector = 0;
	if (probe_ioctl(p->cpu, KVM_SET_SREGS, &sregs) < 0 ||
	    probe_ioctl(p->cpu, KVM_SET_REGS, &regs) < 0)
		return -1;
	return 0;
}

static void probe_close(struct probe *p)
{
	if (p->run && p->run != MAP_FAILED)
		munmap(p->run, p->run_size);
	if (p->mem && p->mem != MAP_FAILED)
		munmap(p->mem, PROBE_MEM);
	if (p->cpu >= 0)
		close(p->cpu);
	if (p->vm >= 0)
		close(p->vm);
	if (p->kvm >= 0)
		close(p->kvm);
}

/* Run until the next exit with DR0 = ADDR (R/W and LEN bits RWLEN); a debug exit for DR0? */
static bool probe_hit(struct probe *p, uint64_t addr, unsigned rwlen)
{
	uint64_t dr[GDB_KVM_DRS] = { addr };
	uint64_t dr7 = DR7_L0 | (uint64_t)rwlen << 16 | DR7_GE | DR7_FIXED1;
	struct kvm_guest_debug dbg;

	kvm_guest_debug_init(&dbg, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP, dr, dr7);
	if (probe_ioctl(p->cpu, KVM_SET_GUEST_DEBUG, &dbg) < 0 || probe_ioctl(p->cpu, KVM_RUN, 0) < 0)
		return false;
	return p->run->exit_reason == KVM_EXIT_DEBUG && (p->run->debug.arch.dr6 & 1);
}

unsigned gdb_kvm_probe(void)
{
	/* nop; mov [PROBE_DATA], al; hlt (16-bit code) */
	static const uint8_t code[] = { 0x90, 0xa2, PROBE_DATA & 0xff, PROBE_DATA >> 8, 0xf4 };
	struct probe p = { .kvm = -1, .vm = -1, .cpu = -1 };
	unsigned caps = 0;

	if (probe_open(&p, code, sizeof(code)) == 0 && probe_hit(&p, PROBE_ADDR + 1, 0)) {
		caps |= GDB_KVM_DR_EXEC;
		/* From the breakpoint on, the mov runs: a write watchpoint traps after it. */
		if (probe_hit(&p, PROBE_DATA, 1))
			caps |= GDB_KVM_DR_WRITE;
	}
	probe_close(&p);
	return caps;
}
