/* kvmbox's CPU model: the CPUID table a guest gets unless its embedder asks for everything
 * the host's KVM supports (KVMBOX_VM_HOST_CPUID). */
#include <cpuid.h>
#include <string.h>
#if __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h> /* glibc 2.33: the leaves it read at its start */
#endif
#include "x86/x86.h"

/* CPUID.01H:EDX (SDM Vol 2A, CPUID, Table 3-11): the features every x86-64 processor has
 * (the AMD64 baseline), which KVM offers on every x86-64 host. */
#define CPUID_1_EDX_FPU (1u << 0)
#define CPUID_1_EDX_DE (1u << 2)
#define CPUID_1_EDX_PSE (1u << 3)  /* 4 MiB pages: paged32 mode */
#define CPUID_1_EDX_TSC (1u << 4)
#define CPUID_1_EDX_MSR (1u << 5)
#define CPUID_1_EDX_PAE (1u << 6)  /* 64-bit page-table entries: long mode */
#define CPUID_1_EDX_CX8 (1u << 8)
#define CPUID_1_EDX_SEP (1u << 11)
#define CPUID_1_EDX_PGE (1u << 13)
#define CPUID_1_EDX_CMOV (1u << 15)
#define CPUID_1_EDX_PAT (1u << 16)
#define CPUID_1_EDX_MMX (1u << 23)
#define CPUID_1_EDX_FXSR (1u << 24)
#define CPUID_1_EDX_SSE (1u << 25)
#define CPUID_1_EDX_SSE2 (1u << 26)
/* CPUID.80000001H:EDX (SDM Vol 2A, Table 3-11; AMD APM Vol 3, E.4.2). */
#define CPUID_X1_EDX_SYSCALL (1u << 11)
#define CPUID_X1_EDX_NX (1u << 20)
#define CPUID_X1_EDX_LM (1u << 29) /* long mode: KVM refuses EFER.LME without it */

#define CPUID_EXT 0x80000000u

/* Why a model instead of the host's table: KVM_GET_SUPPORTED_CPUID executes the CPUID
 * instruction for every leaf it reports, and where CPUID traps to an outer hypervisor (a
 * nested host: ~4 us each) that is ~0.4 ms per VM, about a third of a whole `kvmbox run`.
 * A guest needs CPUID for what KVM lets it switch on (EFER.LME needs LM, EFER.NXE needs NX;
 * CR4.PAE and CR4.PSE need nothing, KVM API doc and arch/x86/kvm/x86.c kvm_is_valid_cr4),
 * and kvmbox's guests (freestanding, no SSE) need no more. The model also reads the same on
 * every host, except for the vendor and the family/model/stepping, taken from the host's
 * own leaves 0 and 1 (two CPUID instructions) because KVM's instruction emulation follows
 * the guest's vendor where Intel and AMD differ (SYSCALL outside 64-bit mode, for one). */
size_t x86_cpuid_model(struct kvm_cpuid_entry2 *e, size_t max)
{
	unsigned int a, b, c, d, sig, ebx1, ecx1, edx1;
	size_t n = 0;

	(void)ebx1;
	(void)ecx1;
	(void)edx1;
	if (max < X86_CPUID_MODEL_ENTRIES)
		return 0;
	memset(e, 0, X86_CPUID_MODEL_ENTRIES * sizeof(*e));
	__cpuid(0, a, b, c, d);
#if __has_include(<sys/platform/x86.h>)
	/* The C library ran leaf 1 at its start and keeps it: one CPUID less (~5 us where the
	 * instruction traps). */
	sig = __x86_get_cpuid_feature_leaf(CPUID_INDEX_1)->cpuid_array[cpuid_register_index_eax];
#else
	__cpuid(1, sig, ebx1, ecx1, edx1);
#endif
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 1, .ebx = b, .ecx = c, .edx = d };
	e[n++] = (struct kvm_cpuid_entry2){
		.function = 1, .eax = sig,
		.edx = CPUID_1_EDX_FPU | CPUID_1_EDX_DE | CPUID_1_EDX_PSE | CPUID_1_EDX_TSC |
		       CPUID_1_EDX_MSR | CPUID_1_EDX_PAE | CPUID_1_EDX_CX8 | CPUID_1_EDX_SEP |
		       CPUID_1_EDX_PGE | CPUID_1_EDX_CMOV | CPUID_1_EDX_PAT | CPUID_1_EDX_MMX |
		       CPUID_1_EDX_FXSR | CPUID_1_EDX_SSE | CPUID_1_EDX_SSE2,
	};
	e[n++] = (struct kvm_cpuid_entry2){ .function = CPUID_EXT, .eax = CPUID_EXT + 1 };
	e[n++] = (struct kvm_cpuid_entry2){
		.function = CPUID_EXT + 1,
		.edx = CPUID_X1_EDX_SYSCALL | CPUID_X1_EDX_NX | CPUID_X1_EDX_LM,
	};
	return n;
}
