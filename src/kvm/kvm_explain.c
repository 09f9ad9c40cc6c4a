/* The one table of --explain sentences (kvm_explain.h): why each bring-up step is there, in
 * the order kvmbox_vm_create and kvmbox_vm_load make them (docs/bringup.md), then the exits.
 * A sentence is a fact a learner can check in the KVM API doc or the SDM, not a restatement
 * of the trace line above it. */
#include <string.h>
#include "kvm/kvm_explain.h"
#include "base/log.h"

static const struct {
	const char *step, *why;
} sentences[] = {
	{ "open /dev/kvm", "the KVM system device: its fd answers questions about KVM itself "
	  "(API version, capabilities) and creates VMs" },
	{ "KVM_GET_API_VERSION", "the KVM API has been stable at version 12 since Linux 2.6.22; "
	  "any other answer is an interface kvmbox does not speak" },
	{ "KVM_CHECK_EXTENSION", "optional parts of the API are capabilities: kvmbox asks for each "
	  "one it uses before relying on it, so a missing one is a clear error, not a failure later" },
	{ "KVM_CREATE_VM", "an empty virtual machine: no memory and no vCPU yet; the VM fd sets up "
	  "what all its vCPUs share (memory slots, TSS address, coalesced I/O)" },
	{ "KVM_SET_TSS_ADDR", "Intel VMX without unrestricted guest runs real mode as vm86 and "
	  "needs three pages of guest-physical space for that TSS; kvmbox puts them above guest "
	  "memory, where no memslot is (AMD SVM ignores it)" },
	{ "KVM_SET_USER_MEMORY_REGION", "a memslot: guest-physical [guest_phys_addr, +memory_size) "
	  "is this process's memory at userspace_addr, so guest RAM is an ordinary mmap; the "
	  "hardware's second translation (EPT on Intel, NPT on AMD) maps those GPAs to its host pages" },
	{ "KVM_CREATE_VCPU", "virtual CPU 0: its fd runs it (KVM_RUN) and holds its registers; "
	  "underneath is a VMCS (Intel) or VMCB (AMD), the hardware's guest-state area" },
	{ "KVM_GET_VCPU_MMAP_SIZE", "the size of the vCPU's shared area: struct kvm_run and the "
	  "page(s) after it (the coalesced-I/O ring)" },
	{ "mmap kvm_run", "mapping the vCPU fd shares struct kvm_run with the kernel: after each "
	  "KVM_RUN it holds why the guest stopped (exit_reason) and the exit's data, with no "
	  "further system call" },
	{ "KVM_GET_SUPPORTED_CPUID", "which CPUID leaves and bits this host's KVM can offer a guest "
	  "(asked only when the embedder wants the host's whole CPUID: KVMBOX_VM_HOST_CPUID)" },
	{ "KVM_SET_CPUID2", "a new vCPU has an empty CPUID table, and KVM takes the guest CPUID as "
	  "the features the guest may turn on: long mode (CPUID 0x80000001 EDX.LM) needs its bit; "
	  "kvmbox gives its own small CPU model (the host's vendor, the x86-64 baseline, LM, NX), "
	  "the same on every host" },
	{ "KVM_REGISTER_COALESCED_MMIO", "writes to port 0xE9 (the console) are queued by KVM in "
	  "the ring after kvm_run instead of one exit per byte; kvmbox drains it at every exit. "
	  "Registered once the guest has printed enough byte by byte: the zone makes the VM's "
	  "teardown wait out a kernel grace period" },
	{ "KVM_GET_SREGS", "the vCPU's special registers as KVM resets them (real mode, CS:IP "
	  "f000:fff0); kvmbox changes only what the mode needs" },
	{ "mode tables", "the CPU reads the GDT, TSS and page tables from guest memory, so kvmbox "
	  "writes them into the system area at the top of guest memory (docs/memory.md)" },
	{ "sync_regs", "the registers are written into kvm_run->s.regs with kvm_dirty_regs set, so "
	  "the first KVM_RUN loads them (no KVM_SET_SREGS/KVM_SET_REGS call); kvm_valid_regs makes "
	  "KVM store them back there at every exit, so exits need no KVM_GET_REGS" },
	{ "CR0.PE", "protection enable: segment registers hold selectors into the GDT and "
	  "privilege levels apply (protected mode)" },
	{ "CR0.ET", "extension type: hardwired to 1 since the i486; set so the value reads back as "
	  "written" },
	{ "CR0.NE", "native x87 error reporting (#MF) instead of the PC's legacy IRQ 13, as every "
	  "modern OS uses" },
	{ "CR0.WP", "write protect: read-only pages stay read-only for CPL 0 too, so a stray "
	  "kernel write faults" },
	{ "CR0.PG", "paging: every linear address is translated through the tables at CR3 "
	  "(guest-virtual to guest-physical)" },
	{ "CR4.PSE", "page size extension: a 32-bit page-directory entry with PS maps a 4 MiB page, "
	  "so one page directory maps all of guest memory" },
	{ "CR4.PAE", "64-bit page-table entries, which 4-level paging (long mode) requires" },
	{ "EFER.LME", "long mode enable: with CR4.PAE and CR0.PG the CPU runs in IA-32e mode" },
	{ "EFER.LMA", "long mode active: the CPU sets it when paging turns on with LME; KVM takes "
	  "it directly in sregs" },
	{ "segments", "the segment caches (base, limit, type) are what the CPU uses: KVM takes them "
	  "as given, the same values as the GDT's descriptors (real mode: base = selector * 16)" },
	{ "load image", "the image's segments are copied to their guest-physical addresses: guest "
	  "RAM is kvmbox's own mapping, so loading is a memcpy" },
	{ "entry", "rip = the image's entry point, written into sync_regs for the first KVM_RUN" },
	{ "close /dev/kvm", "the system fd is no longer needed: the VM and vCPU fds keep the VM" },
	{ "KVM_SET_SIGNAL_MASK", "the deadline timer's signal is blocked in the thread and "
	  "unblocked only inside KVM_RUN, so a tick ends the run and is never lost" },
	{ "KVM_GET_DIRTY_LOG", "which guest pages the guest wrote since the last call, so a reset "
	  "restores only those" },
	{ "KVM_RUN", "enters the guest: the CPU runs guest code (VMX non-root / SVM guest mode) "
	  "until something needs the host, then KVM_RUN returns with kvm_run->exit_reason" },
	{ "KVM_EXIT_IO", "the guest executed in/out: KVM hands the access (port, size, direction, "
	  "data in kvm_run) to kvmbox, which serves the console and hypercall ports and resumes (an "
	  "out to port 0xEA is kvmbox's exception handler reporting a guest fault)" },
	{ "KVM_EXIT_HLT", "the guest executed hlt with nothing that could wake it: the run is over" },
	{ "KVM_EXIT_MMIO", "the guest touched a guest-physical address no memslot backs: KVM asks "
	  "kvmbox, which has no device there" },
	{ "KVM_EXIT_SHUTDOWN", "a triple fault (an exception while delivering a double fault): "
	  "real hardware would reset" },
	{ "KVM_EXIT_INTERNAL_ERROR", "KVM itself could not go on: an instruction it could not "
	  "emulate or an event it could not deliver" },
	{ "KVM_EXIT_FAIL_ENTRY", "the hardware refused to enter the guest with this state "
	  "(VM-entry checks, SDM Vol 3C chapter 26)" },
};

const char *explain_text(const char *step)
{
	size_t i;

	for (i = 0; step && i < ARRAY_SIZE(sentences); i++)
		if (!strcmp(sentences[i].step, step))
			return sentences[i].why;
	return NULL;
}

void explain_step(const struct kvmbox_log *log, const char *who, const char *step)
{
	const char *why;

	if (!log_on(log, KVMBOX_LOG_EXPLAIN) || !(why = explain_text(step)))
		return;
	log_msg(log, KVMBOX_LOG_EXPLAIN, who, "%s: %s", step, why);
}
