/* The snapshot file format (docs/snapshot.md is its prose; keep the two in step): a header,
 * a table of sections with a CRC-32 each, the VM's state in fixed-layout sections and its
 * non-zero guest pages, page-aligned, last. This file knows no VM and makes no KVM call: it
 * builds the bytes of a file from a struct snap_file and parses and checks the bytes of one
 * into a struct snap_file, refusing anything a hostile writer could put there. The parser is
 * what fuzz/snap.c exercises. */
#ifndef KVMBOX_SNAP_FILE_H
#define KVMBOX_SNAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>
#include "kvmbox/kvmbox.h"

#define SNAP_MAGIC "KVMBOXSN"
#define SNAP_VERSION 1u
#define SNAP_HEADER_SIZE 64u
#define SNAP_ENTRY_SIZE 32u
#define SNAP_SECTIONS_MAX 64u
/* Everything but the guest pages: read whole into memory by a restore, so bounded. */
#define SNAP_META_MAX (1u << 20)
#define SNAP_CPUID_MAX 256u     /* KVM's own bound (KVM_MAX_CPUID_ENTRIES) */
#define SNAP_MSRS_MAX 64u
#define SNAP_XSAVE_MIN 4096u    /* struct kvm_xsave */
#define SNAP_XSAVE_MAX (64u << 10)
#define SNAP_FEATURE_NAME 16u   /* bytes of a feature section's name, NUL-padded */
#define SNAP_FEATURE_MAX (64u << 10)
#define SNAP_STATS_WORDS (1u + KVMBOX_EXIT_REASONS + 9u)

/* Section types. Each appears at most once, but FEATURE (once per feature name). */
enum snap_section {
	SNAP_SEC_VM = 1,        /* struct snap_vm_rec */
	SNAP_SEC_CPUID = 2,     /* u32 nent, u32 0, nent x struct kvm_cpuid_entry2 */
	SNAP_SEC_REGS = 3,      /* struct kvm_regs */
	SNAP_SEC_SREGS = 4,     /* struct kvm_sregs */
	SNAP_SEC_EVENTS = 5,    /* struct kvm_vcpu_events */
	SNAP_SEC_XCRS = 6,      /* struct kvm_xcrs */
	SNAP_SEC_XSAVE = 7,     /* the KVM_GET_XSAVE area as KVM gave it */
	SNAP_SEC_MSRS = 8,      /* u32 n, u32 0, n x struct kvm_msr_entry */
	SNAP_SEC_DEBUGREGS = 9, /* struct kvm_debugregs */
	SNAP_SEC_MP_STATE = 10, /* struct kvm_mp_state */
	SNAP_SEC_STATS = 11,    /* SNAP_STATS_WORDS x u64 (snap_stats_pack's order) */
	SNAP_SEC_FEATURE = 12,  /* char name[16], then the feature's own bytes */
	SNAP_SEC_PAGES = 13,    /* u64 nruns, then nruns x { u64 first page, u64 pages } */
	SNAP_SEC_MEMORY = 14,   /* the pages of the runs, in order; page-aligned, last */
	SNAP_SEC_TYPES = 15,
};

/* What the guest was given for CPUID (the restore sets the same table). */
enum snap_cpuid_kind {
	SNAP_CPUID_NONE = 0,  /* no table: the 16- and 32-bit modes of kvmbox's model */
	SNAP_CPUID_MODEL = 1, /* kvmbox's CPU model (src/x86/cpuid.c) */
	SNAP_CPUID_HOST = 2,  /* the host KVM's supported table (KVMBOX_VM_HOST_CPUID) */
};

/* Why the VM was saved (`kvmbox snapshot` says it). */
enum snap_reason {
	SNAP_AT_STOP = 0,     /* between runs, by the embedder (kvmbox_vm_save) */
	SNAP_AT_REQUEST = 1,  /* the guest asked (KVMBOX_HC_SNAPSHOT) */
	SNAP_AT_FORK = 2,     /* a fork's template (kvmbox_vm_fork) */
};

/* SNAP_SEC_VM, 128 bytes. */
struct snap_vm_rec {
	uint32_t mode;          /* enum kvmbox_mode, not AUTO */
	uint32_t flags;         /* SNAP_VM_* */
	uint64_t mem_size;
	uint64_t slot_base;     /* 0, or 4096 with protected mode's NULL guard */
	uint64_t generation;    /* KVMBOX_HC_GENERATION's answer at the save */
	uint64_t pc;            /* cs.base + rip where the guest stood */
	uint64_t guest_tsc;     /* the guest's TSC at the save (MSR_IA32_TSC) */
	uint64_t saved_ns;      /* CLOCK_REALTIME of the save, for people */
	uint32_t tsc_khz;       /* 0: unknown */
	uint32_t stop;          /* enum kvmbox_stop of the run before the save */
	uint32_t reason;        /* enum snap_reason */
	uint32_t cpuid_kind;    /* enum snap_cpuid_kind */
	uint32_t coalesce_left; /* console exits before the coalesced zone (0: registered or never) */
	uint32_t pad0;
	char vendor[16];        /* the saving host's CPUID vendor string, NUL-padded */
	uint8_t reserved[32];
};
_Static_assert(sizeof(struct snap_vm_rec) == 128, "snapshot VM section layout");

enum {
	SNAP_VM_GUARD_NULL = 1u << 0, /* the NULL guard was on (page 0 unmapped or out of the slot) */
	SNAP_VM_COALESCED = 1u << 1,  /* the console's coalesced zone was registered */
	SNAP_VM_FLAGS = (1u << 2) - 1,
};

/* One stretch of consecutive guest pages stored in the file. */
struct snap_run {
	uint64_t first; /* guest page number */
	uint64_t pages;
};

struct snap_feature {
	char name[SNAP_FEATURE_NAME + 1];
	const uint8_t *data;
	uint32_t len;
};

/* A snapshot as the writer is given it and the parser returns it. The parser's pointers
 * point into the bytes it was given; the writer copies what they point to. */
struct snap_file {
	char writer[17];              /* the kvmbox version that wrote it */
	struct snap_vm_rec vm;
	const struct kvm_cpuid_entry2 *cpuid;
	uint32_t ncpuid;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	struct kvm_xcrs xcrs;
	const uint8_t *xsave;
	uint32_t xsave_size;
	const struct kvm_msr_entry *msrs;
	uint32_t nmsrs;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	uint64_t stats[SNAP_STATS_WORDS];
	struct snap_feature features[SNAP_SECTIONS_MAX];
	uint32_t nfeatures;
	const struct snap_run *runs;
	uint64_t nruns;
	uint64_t pages;               /* the runs' pages in all */
	uint64_t mem_offset;          /* where the MEMORY section starts (page-aligned) */
	uint32_t mem_crc;
	uint64_t file_size;
};

/* The metadata (everything before the pages) of a file holding F, in a new malloc'd buffer
 * (*BUF, *LEN), with F->mem_offset and F->file_size set: the pages go at F->mem_offset, one
 * run after the other, and their CRC-32 must already be in F->mem_crc. Returns 0 or
 * -ENOMEM / -E2BIG (more sections or bytes than the format allows) with ERR set. */
int snap_file_build(struct snap_file *f, uint8_t **buf, size_t *len, struct kvmbox_error *err);

/* Check the first SNAP_HEADER_SIZE bytes of a file of FILE_SIZE bytes and say how many of
 * its first bytes hold the metadata (header, table and every section but the pages), which
 * the caller then reads whole for snap_file_parse. Returns 0 with *META_LEN set, or -ENOEXEC
 * with ERR saying what is wrong (not a snapshot, another version, truncated ...). */
int snap_file_head(const uint8_t *head, size_t len, uint64_t file_size, size_t *meta_len,
		   struct kvmbox_error *err);

/* Parse and check the metadata META (META_LEN bytes, from offset 0 of a file of FILE_SIZE
 * bytes) into F, whose pointers then point into META: every size, offset, count, checksum
 * (the pages' CRC is left to the caller, who holds them: snap_file_pages_crc) and field the
 * format constrains. Returns 0, or -ENOEXEC with ERR giving one line of what is wrong. */
int snap_file_parse(const uint8_t *meta, size_t meta_len, uint64_t file_size,
		    struct snap_file *f, struct kvmbox_error *err);

/* The CRC-32 (zlib's) of LEN bytes at P continuing CRC (start with 0). */
uint32_t snap_crc(uint32_t crc, const void *p, size_t len);

/* The statistics as the STATS section stores them, and back. */
void snap_stats_pack(const struct kvmbox_stats *s, uint64_t *words);
void snap_stats_unpack(const uint64_t *words, struct kvmbox_stats *s);

/* "VM", "CPUID", ... for messages ("section 7"-like text for an unknown type). */
const char *snap_section_name(uint32_t type, char *buf, size_t len);

#endif
