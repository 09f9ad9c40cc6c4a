/* The vCPU's whole state (snap_cpu.h): settle, take, put back. What each step does was
 * measured on kvm_pvm and on kvm_amd in the QEMU lane; docs/snapshot.md keeps the findings
 * that decided it. */
#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>
#include "kvm/kvm.h"
#include "base/log.h"
#include "base/util.h"
#include "snap/snap_cpu.h"
#include "vm/vm.h"
#include "x86/x86.h"

#define MSR_IA32_TSC 0x10u

/* The MSRs a snapshot keeps: those a kvmbox guest can change with wrmsr and that KVM keeps
 * per vCPU, outside the special registers (EFER, FS and GS bases travel there). Each is read
 * at a save; one this host's KVM does not have is left out (it reads as KVM's default in the
 * restored VM too). HOST_CPUID: only with the host's CPUID table (KVMBOX_VM_HOST_CPUID), the
 * only way a guest sees the features (MTRRs) that enable them. ZERO: KVM's paravirtual MSRs,
 * which kvmbox does not keep (a paravirtual clock would need KVM_SET_CLOCK and more): a guest
 * that turned one on is not saved rather than restored without it. */
enum { MSR_HOST_CPUID = 1, MSR_ZERO = 2 };
static const struct {
	uint32_t index;
	uint8_t flags;
	const char *name;
} msr_known[] = {
	{ 0x174, 0, "IA32_SYSENTER_CS" },
	{ 0x175, 0, "IA32_SYSENTER_ESP" },
	{ 0x176, 0, "IA32_SYSENTER_EIP" },
	{ 0x1a0, 0, "IA32_MISC_ENABLE" },
	{ 0x277, 0, "IA32_PAT" },
	{ 0xc0000081, 0, "STAR" },
	{ 0xc0000082, 0, "LSTAR" },
	{ 0xc0000083, 0, "CSTAR" },
	{ 0xc0000084, 0, "SFMASK" },
	{ 0xc0000102, 0, "KERNEL_GS_BASE" },
	{ 0xc0000103, 0, "TSC_AUX" },
	{ 0x2ff, MSR_HOST_CPUID, "IA32_MTRR_DEF_TYPE" },
	{ 0x200, MSR_HOST_CPUID, "IA32_MTRR_PHYSBASE0" },
	{ 0x201, MSR_HOST_CPUID, "IA32_MTRR_PHYSMASK0" },
	{ 0x202, MSR_HOST_CPUID, "IA32_MTRR_PHYSBASE1" },
	{ 0x203, MSR_HOST_CPUID, "IA32_MTRR_PHYSMASK1" },
	{ 0x250, MSR_HOST_CPUID, "IA32_MTRR_FIX64K_00000" },
	{ 0x258, MSR_HOST_CPUID, "IA32_MTRR_FIX16K_80000" },
	{ 0x259, MSR_HOST_CPUID, "IA32_MTRR_FIX16K_A0000" },
	{ 0x4b564d00, MSR_HOST_CPUID | MSR_ZERO, "KVM_WALL_CLOCK_NEW" },
	{ 0x4b564d01, MSR_HOST_CPUID | MSR_ZERO, "KVM_SYSTEM_TIME_NEW" },
	{ 0x4b564d02, MSR_HOST_CPUID | MSR_ZERO, "KVM_ASYNC_PF_EN" },
	{ 0x4b564d03, MSR_HOST_CPUID | MSR_ZERO, "KVM_STEAL_TIME" },
	{ 0x4b564d04, MSR_HOST_CPUID | MSR_ZERO, "KVM_PV_EOI_EN" },
	{ 0x4b564d05, MSR_HOST_CPUID | MSR_ZERO, "KVM_POLL_CONTROL" },
	{ 0x11, MSR_HOST_CPUID | MSR_ZERO, "KVM_WALL_CLOCK" },
	{ 0x12, MSR_HOST_CPUID | MSR_ZERO, "KVM_SYSTEM_TIME" },
};
_Static_assert(ARRAY_SIZE(msr_known) + 1 <= SNAP_MSRS_MAX, "the MSR list fits a snapshot");

const char *cpu_msr_name(uint32_t index)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_known); i++)
		if (msr_known[i].index == index && !(msr_known[i].flags & MSR_ZERO))
			return msr_known[i].name;
	return NULL;
}

void cpu_host_vendor(char vendor[16])
{
	unsigned a, b, c, d;

	memset(vendor, 0, 16);
	__cpuid(0, a, b, c, d);
	(void)a;
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
}

void cpu_state_free(struct cpu_state *st)
{
	free(st->xsave);
	free(st->cpuid);
	st->xsave = NULL;
	st->cpuid = NULL;
}

int cpu_settle(struct kvmbox_vm *vm, bool force, struct kvmbox_error *err)
{
	struct kvm_run *run = vm->run;
	int ret;

	if (!force && (!vm->ran || (run->exit_reason != KVM_EXIT_IO &&
				    run->exit_reason != KVM_EXIT_MMIO)))
		return 0;
	run->immediate_exit = 1;
	ret = vcpu_ioctl(vm, KVM_RUN, 0, err);
	run->immediate_exit = 0;
	/* -EINTR is the answer to immediate_exit: nothing ran, everything was applied. */
	if (ret < 0 && ret != -EINTR)
		return ret;
	run->kvm_dirty_regs = 0;
	return 0;
}

/* ---- MSRs --------------------------------------------------------------------------------- */

/* The list to read from VM's vCPU: the TSC first, then what the VM's CPUID makes reachable. */
static uint32_t msr_wanted(const struct kvmbox_vm *vm, struct kvm_msr_entry *e)
{
	uint32_t n = 0;

	e[n++] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC };
	for (size_t i = 0; i < ARRAY_SIZE(msr_known); i++)
		if (!(msr_known[i].flags & MSR_HOST_CPUID) || (vm->flags & KVMBOX_VM_HOST_CPUID))
			e[n++] = (struct kvm_msr_entry){ .index = msr_known[i].index };
	return n;
}

/* KVM_GET_MSRS / KVM_SET_MSRS on the N entries at E; returns how many KVM handled (it stops
 * at the first it refuses) or -errno. */
static int msrs_ioctl(struct kvmbox_vm *vm, unsigned long req, struct kvm_msr_entry *e, uint32_t n,
		      struct kvmbox_error *err)
{
	/* struct kvm_msrs and its entries after it, as the ioctl reads them. */
	union {
		struct kvm_msrs h;
		uint8_t bytes[sizeof(struct kvm_msrs) + SNAP_MSRS_MAX * sizeof(struct kvm_msr_entry)];
	} m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = n;
	memcpy(m.h.entries, e, n * sizeof(*e));
	ret = req == KVM_GET_MSRS ? vcpu_ioctl(vm, KVM_GET_MSRS, &m.h, err)
				  : vcpu_ioctl(vm, KVM_SET_MSRS, &m.h, err);
	if (ret > 0)
		memcpy(e, m.h.entries, (size_t)ret * sizeof(*e));
	return ret;
}

static uint8_t msr_flags(uint32_t index)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_known); i++)
		if (msr_known[i].index == index)
			return msr_known[i].flags;
	return 0;
}

static const char *msr_any_name(uint32_t index)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_known); i++)
		if (msr_known[i].index == index)
			return msr_known[i].name;
	return "IA32_TSC";
}

/* Read the wanted MSRs, leaving out those this host's KVM does not have. */
static int capture_msrs(struct kvmbox_vm *vm, struct cpu_state *st, struct kvmbox_error *err)
{
	struct kvm_msr_entry e[SNAP_MSRS_MAX];
	uint32_t n = msr_wanted(vm, e), done = 0;

	while (done < n) {
		int ret = msrs_ioctl(vm, KVM_GET_MSRS, e + done, n - done, err);

		if (ret < 0)
			return ret;
		done += (uint32_t)ret;
		if (done < n) /* not on this host: left out */
			memmove(e + done, e + done + 1, (--n - done) * sizeof(*e));
	}
	st->nmsrs = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].index == MSR_IA32_TSC) {
			st->tsc = e[i].data;
			continue;
		}
		if ((msr_flags(e[i].index) & MSR_ZERO) && e[i].data)
			return set_error(err, ENOTSUP, "the guest uses KVM's paravirtual MSR %s "
					 "(0x%x = 0x%llx), which a snapshot does not keep",
					 msr_any_name(e[i].index), e[i].index,
					 (unsigned long long)e[i].data);
		if (!(msr_flags(e[i].index) & MSR_ZERO))
			st->msrs[st->nmsrs++] = e[i];
	}
	return 0;
}

/* Set the MSRs of ST; one KVM refuses is an error unless the vCPU holds that value already
 * (a fresh vCPU's default, saved by a host that had it). */
static int put_msrs(struct kvmbox_vm *vm, const struct cpu_state *st, struct kvmbox_error *err)
{
	struct kvm_msr_entry e[SNAP_MSRS_MAX];
	uint32_t done = 0;

	memcpy(e, st->msrs, st->nmsrs * sizeof(*e));
	while (done < st->nmsrs) {
		struct kvm_msr_entry now;
		int ret = msrs_ioctl(vm, KVM_SET_MSRS, e + done, st->nmsrs - done, err);

		if (ret < 0)
			return ret;
		done += (uint32_t)ret;
		if (done == st->nmsrs)
			break;
		now = (struct kvm_msr_entry){ .index = e[done].index };
		if (msrs_ioctl(vm, KVM_GET_MSRS, &now, 1, NULL) != 1 || now.data != e[done].data)
			return set_error(err, ENOTSUP, "this host's KVM refuses MSR %s (0x%x) = 0x%llx",
					 msr_any_name(e[done].index), e[done].index,
					 (unsigned long long)e[done].data);
		done++;
	}
	return 0;
}

/* ---- FPU, CPUID, TSC -------------------------------------------------------------------------- */

/* The XSAVE area: KVM_GET_XSAVE (4 KiB, enough for x87, SSE and AVX), or KVM_GET_XSAVE2 at
 * the size KVM_CAP_XSAVE2 gives when the guest may have more state (AMX: only with the host's
 * CPUID table), which KVM_GET_XSAVE then refuses with EINVAL (KVM API doc, 4.42). */
static int capture_xsave(struct kvmbox_vm *vm, struct cpu_state *st, struct kvmbox_error *err)
{
	int size, ret;

	st->xsave = calloc(1, sizeof(struct kvm_xsave));
	if (!st->xsave)
		return set_error(err, ENOMEM, "out of memory");
	ret = vcpu_ioctl(vm, KVM_GET_XSAVE, (struct kvm_xsave *)st->xsave, err);
	if (ret == 0) {
		st->xsave_size = sizeof(struct kvm_xsave);
		return 0;
	}
	if (ret != -EINVAL || vm->vm_fd < 0)
		return ret;
	size = kvm_cap(vm->log, vm->vm_fd, KVM_CAP_XSAVE2);
	if (size <= (int)sizeof(struct kvm_xsave) || size > (int)SNAP_XSAVE_MAX || size % 64)
		return ret;
	free(st->xsave);
	st->xsave = calloc(1, (size_t)size);
	if (!st->xsave)
		return set_error(err, ENOMEM, "out of memory");
	/* Its header: KVM writes the size KVM_CAP_XSAVE2 gave (KVM API doc, 4.42). */
	ret = vcpu_ioctl(vm, KVM_GET_XSAVE2, (struct kvm_xsave *)st->xsave, err);
	if (ret == 0)
		st->xsave_size = (uint32_t)size;
	return ret;
}

/* The table the vCPU was given. KVM_GET_CPUID2 fills a buffer of SNAP_CPUID_MAX entries; a
 * 6.1 kernel leaves nent as it was passed (it writes it back only on E2BIG), so the buffer is
 * zeroed and trailing empty entries are dropped (docs/snapshot.md). */
static int capture_cpuid(struct kvmbox_vm *vm, struct cpu_state *st, struct kvmbox_error *err)
{
	struct kvm_cpuid2 *c;
	int ret;

	if (vm->cpuid_kind == SNAP_CPUID_NONE)
		return 0;
	/* kvmbox's model as it was given: what KVM_GET_CPUID2 returns is not (kvm_pvm adds
	 * leaves and bits of its own, which it adds again to the same table at a restore). */
	if (vm->cpuid_kind == SNAP_CPUID_MODEL) {
		st->cpuid = calloc(X86_CPUID_MODEL_ENTRIES, sizeof(*st->cpuid));
		if (!st->cpuid)
			return set_error(err, ENOMEM, "out of memory");
		st->ncpuid = (uint32_t)x86_cpuid_model(st->cpuid, X86_CPUID_MODEL_ENTRIES);
		for (uint32_t i = 0; i < st->ncpuid; i++)
			if (st->cpuid[i].function == 1)
				st->cpuid[i].eax = vm->cpuid_sig;
		return 0;
	}
	c = calloc(1, sizeof(*c) + SNAP_CPUID_MAX * sizeof(c->entries[0]));
	if (!c)
		return set_error(err, ENOMEM, "out of memory");
	c->nent = SNAP_CPUID_MAX;
	ret = vcpu_ioctl(vm, KVM_GET_CPUID2, c, err);
	if (ret == 0) {
		uint32_t n = c->nent <= SNAP_CPUID_MAX ? c->nent : SNAP_CPUID_MAX;
		static const struct kvm_cpuid_entry2 empty;

		while (n && !memcmp(&c->entries[n - 1], &empty, sizeof(empty)))
			n--;
		st->ncpuid = n;
		if (n) {
			st->cpuid = malloc(n * sizeof(*st->cpuid));
			if (!st->cpuid)
				ret = set_error(err, ENOMEM, "out of memory");
			else
				memcpy(st->cpuid, c->entries, n * sizeof(*st->cpuid));
		}
	}
	free(c);
	return ret;
}

/* The guest's TSC where ST took it: through the vCPU's TSC offset (guest TSC = host TSC +
 * offset, no scaling on these hosts), which KVM applies as given. Writing MSR_IA32_TSC
 * instead falls into KVM's "vCPU synchronization" heuristic (a write within a second of what
 * KVM expects is dropped: arch/x86/kvm/x86.c, kvm_synchronize_tsc), which a short-lived guest
 * always meets. kvm_pvm accepts the offset and ignores it: its guests read the host's TSC. */
static void put_tsc(struct kvmbox_vm *vm, const struct cpu_state *st)
{
	int64_t off = (int64_t)(st->tsc - __rdtsc());
	struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				     .addr = (uintptr_t)&off };
	struct kvm_msr_entry now = { .index = MSR_IA32_TSC };
	uint64_t khz = st->tsc_khz ? st->tsc_khz : 1000000;

	if (vcpu_ioctl(vm, KVM_SET_DEVICE_ATTR, &a, NULL) < 0) {
		now.data = st->tsc;
		msrs_ioctl(vm, KVM_SET_MSRS, &now, 1, NULL);
		log_msg(vm->log, KVMBOX_LOG_INFO, vm->name, "no TSC offset attribute: the guest's "
			"TSC is set through MSR_IA32_TSC, which KVM may take for a resynchronization");
	}
	if (!log_on(vm->log, KVMBOX_LOG_INFO))
		return;
	/* Said, not refused: a TSC that moved is what a guest paused for that long sees. */
	now.index = MSR_IA32_TSC;
	if (msrs_ioctl(vm, KVM_GET_MSRS, &now, 1, NULL) == 1 &&
	    (now.data < st->tsc || now.data - st->tsc > khz * 1000))
		log_msg(vm->log, KVMBOX_LOG_INFO, vm->name, "the guest's TSC follows this host's: it "
			"moved by %+.3f s since the save (this host's KVM does not apply a TSC offset)",
			((double)now.data - (double)st->tsc) / ((double)khz * 1000.0));
}

/* ---- Capture and put ------------------------------------------------------------------------- */

int cpu_capture(struct kvmbox_vm *vm, unsigned what, struct cpu_state *st, struct kvmbox_error *err)
{
	int ret = 0;

	memset(st, 0, sizeof(*st));
	st->what = what;
	if (what & CPU_REGS) {
		st->regs = vm->run->s.regs.regs;
		st->sregs = vm->run->s.regs.sregs;
		/* Events handed over for the next KVM_RUN are those that will be (a reset's). */
		if (vm->run->kvm_dirty_regs & KVM_SYNC_X86_EVENTS)
			st->events = vm->run->s.regs.events;
		else
			ret = vcpu_ioctl(vm, KVM_GET_VCPU_EVENTS,
					&st->events, err);
	}
	if (ret == 0 && (what & CPU_FPU))
		ret = vcpu_ioctl(vm, KVM_GET_XCRS, &st->xcrs, err);
	if (ret == 0 && (what & CPU_FPU))
		ret = capture_xsave(vm, st, err);
	if (ret == 0 && (what & (CPU_MSRS | CPU_TSC)))
		ret = capture_msrs(vm, st, err);
	if (ret == 0 && (what & CPU_DEBUG))
		ret = vcpu_ioctl(vm, KVM_GET_DEBUGREGS, &st->debugregs, err);
	if (ret == 0 && (what & CPU_MP))
		ret = vcpu_ioctl(vm, KVM_GET_MP_STATE, &st->mp_state, err);
	if (ret == 0 && (what & CPU_TSC)) {
		int khz = vcpu_ioctl(vm, KVM_GET_TSC_KHZ, 0, NULL);

		st->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	}
	if (ret == 0 && (what & CPU_CPUID))
		ret = capture_cpuid(vm, st, err);
	if (ret < 0)
		cpu_state_free(st);
	return ret < 0 ? ret : 0;
}

int cpu_refused(struct kvmbox_error *err, int ret, const char *what)
{
	char why[sizeof(err->msg)];

	if (!err)
		return ret;
	snprintf(why, sizeof(why), "%s", err->msg);
	return set_error(err, -ret, "this host's KVM refuses the %s (%s)", what, why);
}

int cpu_put(struct kvmbox_vm *vm, unsigned what, const struct cpu_state *st, struct kvmbox_error *err)
{
	struct kvm_run *run = vm->run;
	int ret = 0;

	/* XCR0 first: it decides which parts of the XSAVE area KVM takes. KVM_SET_FPU would not
	 * do for the area: on a fresh vCPU it leaves XSTATE_BV 0, so every register loads as
	 * its reset value (measured on both hosts). */
	if (what & CPU_FPU) {
		ret = vcpu_ioctl(vm, KVM_SET_XCRS, &st->xcrs, err);
		if (ret > 0) /* KVM returns 1 for a value it refuses */
			ret = set_error(err, EINVAL, "KVM_SET_XCRS: value refused");
		if (ret < 0)
			return cpu_refused(err, ret, "extended control registers (XCR0)");
		ret = vcpu_ioctl(vm, KVM_SET_XSAVE, (struct kvm_xsave *)st->xsave, err);
		if (ret < 0)
			return cpu_refused(err, ret, "FPU/SSE state (XSAVE area)");
	}
	if ((what & CPU_MSRS) && (ret = put_msrs(vm, st, err)) < 0)
		return ret;
	if (what & CPU_DEBUG) {
		ret = vcpu_ioctl(vm, KVM_SET_DEBUGREGS, &st->debugregs, err);
		if (ret < 0)
			return cpu_refused(err, ret, "debug registers");
	}
	if (what & CPU_MP) {
		ret = vcpu_ioctl(vm, KVM_SET_MP_STATE, &st->mp_state, err);
		if (ret < 0)
			return cpu_refused(err, ret, "multiprocessing state");
	}
	if (what & CPU_TSC)
		put_tsc(vm, st);
	if ((what & CPU_REGS) && (what & CPU_REGS_NOW)) {
		ret = vcpu_ioctl(vm, KVM_SET_SREGS, &st->sregs, err);
		if (ret < 0)
			return cpu_refused(err, ret, "special registers");
		ret = vcpu_ioctl(vm, KVM_SET_REGS, &st->regs, err);
		if (ret < 0)
			return cpu_refused(err, ret, "general registers");
		ret = vcpu_ioctl(vm, KVM_SET_VCPU_EVENTS, &st->events, err);
		if (ret < 0)
			return cpu_refused(err, ret, "pending events");
		/* kvm_run shows them as an exit would (what kvmbox reads before the first). */
		run->s.regs.regs = st->regs;
		run->s.regs.sregs = st->sregs;
		run->kvm_dirty_regs = 0;
	} else if (what & CPU_REGS) {
		/* Applied by the next KVM_RUN (KVM API doc, 5. kvm_run, kvm_dirty_regs): three
		 * ioctls fewer. The events: whatever was pending (an exception, an interrupt
		 * shadow) comes back with them. */
		run->s.regs.regs = st->regs;
		run->s.regs.events = st->events;
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_EVENTS;
		if (!(what & CPU_SREGS_LAZY) ||
		    memcmp(&run->s.regs.sregs, &st->sregs, sizeof(st->sregs))) {
			run->s.regs.sregs = st->sregs;
			run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		}
	}
	return 0;
}
