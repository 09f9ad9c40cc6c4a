/* kvmbox embedding API: create a VM (memory + one vCPU), load an image, run it, destroy it.
 * Every call returns 0 (or a count) on success and a negative errno on failure; when an
 * error buffer is passed, it receives one human-readable line saying what went wrong.
 * The library never prints to stdout and never exits. No global state: VMs are independent. */
#ifndef KVMBOX_KVMBOX_H
#define KVMBOX_KVMBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/kvm.h>
#include "kvmbox/visibility.h"

KVMBOX_API_BEGIN

#define KVMBOX_VERSION "0.1.0"

typedef uint64_t kvmbox_gpa_t; /* guest-physical address */
typedef uint64_t kvmbox_gva_t; /* guest-virtual (linear) address */

/* One line of diagnosis filled by a failing call. Callers may pass NULL. */
struct kvmbox_error {
	char msg[256];
};

/* ---- CPU modes ---------------------------------------------------------------------- */

enum kvmbox_mode {
	KVMBOX_MODE_AUTO = 0,  /* only for images: take the mode from the image */
	KVMBOX_MODE_REAL,      /* 16-bit real mode, segment bases 0 */
	KVMBOX_MODE_PROTECTED, /* 32-bit protected mode, flat 4 GiB segments, no paging */
	KVMBOX_MODE_PAGED32,   /* 32-bit paging with 4 MiB pages, identity map of guest memory */
	KVMBOX_MODE_LONG,      /* 64-bit mode, 4-level paging with 2 MiB pages, identity map */
};
#define KVMBOX_MODE_COUNT 5

/* "real", "protected", "paged32", "long" ("auto" for KVMBOX_MODE_AUTO). */
const char *kvmbox_mode_name(enum kvmbox_mode mode);
/* Parse a mode name; returns 0 or -EINVAL. */
int kvmbox_mode_parse(const char *name, enum kvmbox_mode *mode);

/* ---- Guest memory layout ------------------------------------------------------------ */

#define KVMBOX_MEM_DEFAULT (2ull << 20)
#define KVMBOX_MEM_MIN (256ull << 10)
#define KVMBOX_MEM_MAX (3ull << 30) /* guest memory ends below the TSS area at 0xfffbd000 */
/* The longest file a guest's writes may make in its share, unless the config says otherwise. */
#define KVMBOX_SHARE_FILE_SIZE_DEFAULT (1ull << 30)
/* The most a guest's writes may add to its share's files in all, and the most files it may
 * create there, over the VM's life, unless the config says otherwise (docs/security.md). */
#define KVMBOX_SHARE_BYTES_DEFAULT (4ull << 30)
#define KVMBOX_SHARE_FILES_DEFAULT 1024u

/* Where kvmbox puts the structures it builds in guest memory (docs/memory.md).
 * [sys_base, mem_size) holds the GDT and page tables; images may not overlap it.
 * The initial stack pointer is stack_top; the stack grows down from there. */
struct kvmbox_layout {
	uint64_t mem_size;
	kvmbox_gpa_t sys_base;  /* start of the host-made area (page aligned) */
	kvmbox_gpa_t gdt;       /* GDT (and the TSS it describes) */
	kvmbox_gpa_t pt_root;   /* CR3: page directory (paged32) or PML4 (long); 0 without paging */
	kvmbox_gpa_t stack_top; /* initial stack pointer (linear); in real mode SS:SP addresses it */
};

/* Compute the layout for MODE and MEM_SIZE. Returns 0 or -EINVAL (size out of range). */
int kvmbox_layout_get(enum kvmbox_mode mode, uint64_t mem_size, struct kvmbox_layout *layout,
		      struct kvmbox_error *err);

/* ---- Images ------------------------------------------------------------------------- */

#define KVMBOX_IMAGE_MAX_SEGMENTS 16
#define KVMBOX_IMAGE_MAX_SIZE (1ull << 30)
#define KVMBOX_IMAGE_MAX_EXPORTS 256 /* KVMBOX_EXPORTS_MAX of kvmbox/abi.h */

enum kvmbox_image_format { KVMBOX_IMAGE_FLAT, KVMBOX_IMAGE_ELF32, KVMBOX_IMAGE_ELF64 };

struct kvmbox_segment {
	kvmbox_gpa_t gpa; /* where it is loaded (guest-physical == guest-virtual: identity map) */
	uint64_t filesz;  /* bytes copied from the file */
	uint64_t memsz;   /* bytes it occupies; memsz - filesz are zeroed */
	uint64_t offset;  /* file offset of the bytes */
};

/* A parsed image. It borrows the caller's buffer (data, size), which must outlive it. */
struct kvmbox_image {
	const uint8_t *data;
	size_t size;
	enum kvmbox_image_format format;
	enum kvmbox_mode mode; /* from the ELF class or the kvmbox mode note; AUTO for flat */
	bool guard_null;       /* the kvmbox guard note asks for the NULL guard (page 0 unmapped) */
	/* Set by the caller (kvmbox_image_parse leaves it false): DATA stays valid and unchanged
	 * while any VM loaded from this image, or forked from one, lives (an image built into
	 * the program, a read-only mapping kept open). Fault reports then read their symbols
	 * from DATA in place instead of from a copy kvmbox_vm_load makes of the whole image. */
	bool data_kept;
	kvmbox_gva_t entry;
	unsigned nsegments;
	struct kvmbox_segment segments[KVMBOX_IMAGE_MAX_SEGMENTS];
	/* The functions the image exports (KVMBOX_EXPORT in the SDK, the kvmbox export notes
	 * of kvmbox/abi.h): read them with kvmbox_image_export. Flat images have none. */
	unsigned nexports;
	uint32_t export_desc[KVMBOX_IMAGE_MAX_EXPORTS]; /* file offset of each note's descriptor */
};

/* A function the guest exports: its name (63 bytes at most, KVMBOX_EXPORT_NAME_MAX, letters,
 * digits, '_', '.' and '$') and its guest-virtual address, inside an executable segment. */
struct kvmbox_export {
	const char *name;
	kvmbox_gva_t addr;
};

/* Parse an ELF32/ELF64 executable (data starts with the ELF magic) or, when FLAT is true,
 * a flat binary loaded at LOAD_ADDR and entered at ENTRY. Validates every field that later
 * matters (class, machine, type, program headers inside the file, segment sizes and
 * overflow); placement in guest memory is checked by kvmbox_vm_load. Returns 0 or -ENOEXEC
 * (malformed), -EINVAL (bad arguments), with ERR saying which field is wrong. */
int kvmbox_image_parse(struct kvmbox_image *img, const void *data, size_t size, bool flat,
		       kvmbox_gpa_t load_addr, kvmbox_gva_t entry, struct kvmbox_error *err);

/* Export I (0 <= I < IMG->nexports, in the image's note order) of a parsed image into *EXP;
 * EXP->name points into the image's buffer. Returns 0, or -ENOENT for I out of range. */
int kvmbox_image_export(const struct kvmbox_image *img, unsigned i, struct kvmbox_export *exp);

/* Read the whole regular file PATH into a new malloc'd buffer, for kvmbox_image_parse. On
 * success returns 0, sets *DATA (never NULL, even for an empty file; the caller frees it with
 * free()) and *SIZE (may be 0: the parser refuses empty images with a clear message). On
 * failure returns a negative errno with *DATA = NULL, *SIZE = 0 and ERR naming PATH:
 * -EISDIR (a directory), -EINVAL (not a regular file: device, FIFO, socket; never blocks),
 * -EFBIG (larger than KVMBOX_IMAGE_MAX_SIZE), -ENOMEM, or the errno of open/fstat/read. */
int kvmbox_image_read_file(const char *path, uint8_t **data, size_t *size,
			   struct kvmbox_error *err);

/* ---- Logging ------------------------------------------------------------------------ */

enum kvmbox_log_level { KVMBOX_LOG_ERROR, KVMBOX_LOG_WARN, KVMBOX_LOG_INFO, KVMBOX_LOG_DEBUG,
			KVMBOX_LOG_TRACE, KVMBOX_LOG_EXPLAIN };

/* A log sink owned by the caller and shared by any number of VMs. INFO states the mode,
 * layout and image of each VM; TRACE shows every KVM ioctl with its arguments and every exit
 * with its fields; EXPLAIN adds one line of why to each bring-up step (docs/walkthrough.md).
 * A NULL log in a config means "log nothing". */
struct kvmbox_log {
	enum kvmbox_log_level level;
	FILE *sink;
};

/* ---- VMs ---------------------------------------------------------------------------- */

struct kvmbox_vm;

/* Console output sink: called with guest console bytes (port 0xE9, HC_print*) in order. */
typedef void (*kvmbox_console_fn)(void *ctx, const char *buf, size_t len);

enum {
	KVMBOX_VM_STRICT = 1u << 0,      /* a bad hypercall stops the VM instead of returning an error */
	KVMBOX_VM_NO_COALESCE = 1u << 1, /* every console byte is a full exit (no coalesced PIO) */
	/* No hypercall tells the guest a host address: gvaToHva answers 0, gvaToHva64 -EPERM
	 * (for untrusted guests: host addresses would defeat the host's ASLR). */
	KVMBOX_VM_HIDE_HOST_ADDRESSES = 1u << 5,
	/* The NULL guard for an image that does not ask for it (the SDK's images do, with the
	 * kvmbox guard note): page 0 is unmapped in the paged modes (a NULL access is a page
	 * fault) and left out of the memory slot in protected mode (an MMIO exit); no image
	 * segment may lie in page 0. Real mode cannot have it: kvmbox_vm_create refuses it
	 * there (the interrupt vector table is at 0). docs/crash-reports.md. */
	KVMBOX_VM_GUARD_NULL = 1u << 7,
	/* The guest's CPUID is everything this host's KVM supports (KVM_GET_SUPPORTED_CPUID),
	 * instead of kvmbox's own small CPU model (docs/bringup.md); costs about 0.4 ms per VM
	 * where the CPUID instruction traps (a nested host). */
	KVMBOX_VM_HOST_CPUID = 1u << 8,
	/* One open file per VM instead of two: the VM's own descriptor is closed once the VM is
	 * made, and only its vCPU's stays (for thousands of VMs under a low open-file limit).
	 * Such a VM takes no reset point (kvmbox_vm_set_reset_point fails with ENOTSUP), and its console
	 * is coalesced from the start: registering the zone later would need that descriptor. */
	KVMBOX_VM_ONE_FD = 1u << 9,
	/* Offer the guest's memory to KSM (madvise MADV_MERGEABLE), so that a host running
	 * KSM (/sys/kernel/mm/ksm/run) may share identical pages between VMs. Not the default:
	 * the madvise and the teardown of KSM's record of the process cost a short-lived VM
	 * about 0.1-0.2 ms here, whether KSM runs or not (docs/performance.md). */
	KVMBOX_VM_MERGEABLE = 1u << 10,
};

/* Console exits on port 0xE9 served one by one before kvmbox asks KVM to queue the rest
 * without an exit (coalesced PIO), unless kvmbox_vm_config.coalesce_after says otherwise.
 * Registering the zone costs nothing at once, but the VM's last close (and any memory-slot
 * change) then waits out a kernel grace period, ~16 ms, if it comes within that time; a guest
 * that prints this much one byte at a time has already spent about as long in exits on a
 * nested host (docs/performance.md). */
#define KVMBOX_COALESCE_AFTER_DEFAULT 2048u

/* Guest I/O on ports the embedder serves (kvmbox_vm_config.user_port_*), called once per
 * element of the access, in order. For an OUT, *VALUE holds the element (zero-extended);
 * for an IN, the callback sets *VALUE (it starts at 0). SIZE is 1, 2 or 4. The callback may
 * record and count; it must not run, stop or destroy VMs. */
typedef void (*kvmbox_port_fn)(void *ctx, uint16_t port, bool out, uint32_t *value, unsigned size);

/* kvmbox_vm_config.console_fd: the zero value is standard output; -1 discards. */
#define KVMBOX_CONSOLE_STDOUT 0
#define KVMBOX_CONSOLE_DISCARD (-1)

struct kvmbox_vm_config {
	const char *name;         /* for messages; may be NULL */
	enum kvmbox_mode mode;    /* not AUTO */
	uint64_t mem_size;        /* 0: KVMBOX_MEM_DEFAULT */
	unsigned flags;           /* KVMBOX_VM_* */
	struct kvmbox_log *log;   /* may be NULL */
	/* Where the guest's console goes: the callback CONSOLE when it is not NULL, else the
	 * file descriptor console_fd: KVMBOX_CONSOLE_STDOUT (0, what a zeroed config says) is
	 * this process's standard output, KVMBOX_CONSOLE_DISCARD (-1) drops the bytes, any
	 * other descriptor (a file, a pipe to capture) is written to. Descriptor 0 itself is
	 * never the console: it is stdin, which a program under CI, cron or systemd gets as
	 * /dev/null opened for reading. */
	kvmbox_console_fn console;
	void *console_ctx;
	int console_fd;
	const char *share_dir;    /* host directory the file hypercalls may use; NULL: none */
	bool share_readonly;
	unsigned max_open_files;  /* 0: default 16 */
	uint64_t share_file_size_max; /* no guest write makes a share file longer (-EFBIG);
				       * 0: KVMBOX_SHARE_FILE_SIZE_DEFAULT */
	uint64_t share_bytes_max; /* the guest's writes add at most this much to the share's
				   * files, all together (then -EDQUOT); 0: KVMBOX_SHARE_BYTES_DEFAULT */
	unsigned share_files_max; /* the guest creates at most this many files in the share
				   * (then -EDQUOT); 0: KVMBOX_SHARE_FILES_DEFAULT */
	uint16_t user_port_first; /* ports [first, first + count) go to user_port, not a fault */
	uint16_t user_port_count;
	kvmbox_port_fn user_port; /* NULL: no such ports */
	void *user_port_ctx;
	/* A gdb server for this VM (docs/debugging.md): "tcp:[HOST:]PORT" (127.0.0.1 unless
	 * HOST is given; port 0 lets the kernel choose) or "unix:PATH"; NULL: none. The socket
	 * is made at create (a port in use fails it with -EADDRINUSE). gdb may attach while the
	 * guest runs; with gdb_wait the first run waits for gdb before the first instruction. */
	const char *gdb;
	bool gdb_wait;
	/* The guest's main(argc, argv) (SDK guests; KVMBOX_HC_ARGS in kvmbox/abi.h): ARGC
	 * strings, argv[0] by convention the program's name; copied at create. 0: the guest
	 * gets argc = 0. More than KVMBOX_ARGC_MAX strings or KVMBOX_ARGS_MAX bytes with their
	 * NULs fails the create with -E2BIG. */
	unsigned argc;
	const char *const *argv;
	/* Console exits on port 0xE9 before its output is coalesced (1: from the second byte
	 * on); 0: KVMBOX_COALESCE_AFTER_DEFAULT. Ignored with KVMBOX_VM_NO_COALESCE. */
	uint32_t coalesce_after;
	/* Where the guest's KVMBOX_HC_SNAPSHOT with an empty path saves the VM (docs/snapshot.md):
	 * a regular file open for writing, rewritten from its start at each request, which the
	 * caller keeps open and must not restore a running VM from; 0: none (the call then
	 * answers -ENOENT). A path names a new file in the share instead. */
	int save_fd;
};

/* Create a VM: open /dev/kvm, check API version 12 and every capability used, create the VM,
 * its memory and its vCPU, and put the vCPU in CFG->mode with the registers of an empty
 * guest (entry 0). On success *VMP owns every resource; release it with kvmbox_vm_destroy.
 * Returns 0, -ENODEV (/dev/kvm missing), -ENOTSUP (a capability missing), -EINVAL (bad
 * config) or the errno of the failing KVM call. */
int kvmbox_vm_create(struct kvmbox_vm **vmp, const struct kvmbox_vm_config *cfg,
		     struct kvmbox_error *err);

/* Release everything the VM owns (fds, mappings, timers, open guest files). NULL is fine. */
void kvmbox_vm_destroy(struct kvmbox_vm *vm);

/* Copy IMG's segments into guest memory and point the vCPU at IMG's entry. Refuses (with
 * -ENOEXEC) segments outside guest memory or over the host-made area, and an image whose
 * mode is not the VM's (unless the image mode is AUTO). Call before the first run. */
int kvmbox_vm_load(struct kvmbox_vm *vm, const struct kvmbox_image *img, struct kvmbox_error *err);

/* Why a run ended. */
enum kvmbox_stop {
	KVMBOX_STOP_NONE = 0,
	KVMBOX_STOP_HALT,      /* hlt */
	KVMBOX_STOP_EXIT,      /* HC_exit(status) */
	KVMBOX_STOP_FAULT,     /* triple fault, failed entry, internal error, bad MMIO/port */
	KVMBOX_STOP_ASSERT,    /* a guest-side assertion failed */
	KVMBOX_STOP_BAD_CALL,  /* a bad hypercall under KVMBOX_VM_STRICT */
	KVMBOX_STOP_TIMEOUT,   /* the run's deadline passed (only with KVMBOX_RUN_STOP_AT_DEADLINE) */
	KVMBOX_STOP_PREEMPTED, /* the run's deadline passed; the VM can be run again */
	KVMBOX_STOP_YIELD,     /* an I/O exit with KVMBOX_RUN_YIELD_ON_IO; can be run again */
	KVMBOX_STOP_BLOCKED,   /* waits on a channel; can be run again when it is ready */
	KVMBOX_STOP_HOST_ERROR, /* a KVM call failed */
	KVMBOX_STOP_CANCELLED, /* the caller's cancel flag was set (e.g. by a SIGINT handler) */
	KVMBOX_STOP_RETURNED,  /* a call (kvmbox_vm_call, kvmbox/call.h) returned: VALUE */
};

struct kvmbox_result {
	enum kvmbox_stop stop;
	int status;           /* HC_exit status */
	uint32_t exit_reason; /* KVM exit reason of the last exit */
	int64_t value;        /* RETURNED: the called function's return value */
	char msg[512];        /* for FAULT, ASSERT, BAD_CALL, HOST_ERROR: what happened, with RIP */
};

enum {
	KVMBOX_RUN_STOP_AT_DEADLINE = 1u << 0, /* deadline passing is a TIMEOUT, not a PREEMPT */
	KVMBOX_RUN_YIELD_ON_IO = 1u << 1,      /* return after each guest I/O exit */
};

struct kvmbox_run_opts {
	uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: none */
	unsigned flags;       /* KVMBOX_RUN_* */
	/* When non-NULL and set (typically by the caller's signal handler), the run ends with
	 * KVMBOX_STOP_CANCELLED. Checked before every KVM_RUN and whenever a signal interrupts
	 * it, and by every wait of the run (a console that takes no output, a debugger's
	 * stop). A handler that sets it should also call kvmbox_vm_kick for the VM the thread
	 * may be running: a signal that lands after the check and before KVM_RUN enters the
	 * guest is otherwise seen only at the guest's next exit (never, for a guest that spins
	 * without one). */
	const volatile int *cancel;
};

/* Make VM's current or next KVM_RUN return at once (kvm_run->immediate_exit; KVM API doc,
 * 5. "kvm_run"), so that its run looks at OPTS->cancel again. Async-signal-safe: a store,
 * no call; meant for the signal handler that sets the cancel flag, running in the thread
 * that runs VM (a KVM_RUN under way in another thread ends only when that thread gets a
 * signal too). A kick seen by no KVM_RUN is cleared when a run next checks its cancel flag:
 * kicking every VM a thread runs in turn (a scheduler's) is harmless. NULL is fine. */
void kvmbox_vm_kick(struct kvmbox_vm *vm);

/* Run the vCPU until it stops (halt, exit, fault ...), the deadline passes, or (with
 * YIELD_ON_IO) an I/O exit is handled. Deadlines use a per-thread POSIX timer and the
 * real-time signal SIGRTMIN+4: the first deadline run installs an empty handler for it
 * (process-wide) and leaves it blocked in the calling thread; KVM unblocks it only inside
 * KVM_RUN. Console output is flushed at the end of every run (and at newlines when the
 * console is a terminal); a console that cannot take output before the deadline ends the
 * run as the deadline would, dropping what it could not take. OPTS may be NULL. Returns 0 with RES filled for
 * every guest outcome (a guest fault is not a host error) and a negative errno only when
 * the arguments are bad. A VM whose run ended in HALT, EXIT, FAULT, ASSERT, BAD_CALL,
 * TIMEOUT or HOST_ERROR is stopped: running it again returns -ESRCH. */
int kvmbox_vm_run(struct kvmbox_vm *vm, const struct kvmbox_run_opts *opts, struct kvmbox_result *res);

/* Exit statistics of a VM. */
#define KVMBOX_EXIT_REASONS 64
struct kvmbox_stats {
	uint64_t exits;                        /* every exit KVM_RUN returned with (not EINTR) */
	uint64_t by_reason[KVMBOX_EXIT_REASONS]; /* by KVM_EXIT_* */
	uint64_t io_in, io_out;                /* KVM_EXIT_IO by direction */
	uint64_t hypercalls;                   /* well-formed hypercalls served */
	uint64_t bad_calls;                    /* malformed hypercalls (refused) */
	uint64_t console_bytes;                /* bytes written to the console */
	uint64_t console_dropped;              /* bytes a slow or blocked console never took */
	uint64_t coalesced_bytes;              /* console bytes that arrived without an exit */
	uint64_t snapshots;                    /* snapshots the guest asked for that were
						  written (KVMBOX_HC_SNAPSHOT) */
	uint64_t runs;                         /* KVM_RUN calls */
	uint64_t guest_ns;                     /* wall time of this VM's runs (kvmbox_vm_run):
						  KVM_RUN and serving the exits */
	uint64_t last_run_end_ns;              /* CLOCK_MONOTONIC when the last run ended; for a
						  run its deadline ended, when KVM_RUN returned */
};
const struct kvmbox_stats *kvmbox_vm_stats(const struct kvmbox_vm *vm);

/* For a console sink (kvmbox_vm_config.console) that had to drop BYTES of VM's output (a
 * reader slower than the guest): counted in stats.console_dropped, as the library's own
 * fd console counts what it drops, so reports and --stats-json show it. */
void kvmbox_vm_console_dropped(struct kvmbox_vm *vm, uint64_t bytes);

/* The console bytes VM has queued and not yet handed to its sink (they go at the next newline
 * on a terminal, when the buffer fills, and at the end of every run): *BYTES points at them
 * (valid until the VM runs again), the count is returned. Async-signal-safe (no call, no
 * lock), for a handler that must save the output of a process about to die (the sandbox's
 * on_trap); at any other time the next flush sends them anyway. */
size_t kvmbox_vm_console_pending(const struct kvmbox_vm *vm, const char **bytes);

/* Name of a KVM exit reason ("KVM_EXIT_HLT", ...); "KVM_EXIT_UNKNOWN_REASON" for one this
 * build does not know (fault messages then give the number). Never NULL. */
const char *kvmbox_exit_name(uint32_t reason);

/* General registers as of the last exit (kvm_run sync_regs; no ioctl). */
const struct kvm_regs *kvmbox_vm_regs(const struct kvmbox_vm *vm);

/* Where the VM's gdb server listens, as "tcp:127.0.0.1:1234" (the port the kernel chose
 * for port 0) or "unix:PATH"; "" when the VM has none. Static until kvmbox_vm_destroy. */
const char *kvmbox_vm_gdb_address(const struct kvmbox_vm *vm);

/* Write a register dump (general and special registers as of the last exit) into BUF;
 * returns the characters written (truncated to LEN, always NUL-terminated when LEN > 0). */
size_t kvmbox_vm_format_regs(const struct kvmbox_vm *vm, char *buf, size_t len);

/* Checked guest-memory access: [gpa, gpa+len) must lie inside guest memory.
 * Returns 0 or -EFAULT. */
int kvmbox_vm_read(const struct kvmbox_vm *vm, kvmbox_gpa_t gpa, void *buf, size_t len);
int kvmbox_vm_write(struct kvmbox_vm *vm, kvmbox_gpa_t gpa, const void *buf, size_t len);

/* Translate a guest-virtual address with the vCPU's current paging state (software walk,
 * no ioctl). Returns 0 with *GPA set, or -EFAULT when unmapped or outside guest memory. */
int kvmbox_vm_translate(const struct kvmbox_vm *vm, kvmbox_gva_t gva, kvmbox_gpa_t *gpa);

/* ---- Page walks (docs/page-walks.md) ------------------------------------------------ */

#define KVMBOX_WALK_LEVELS_MAX 5

/* One paging-structure entry a walk read. */
struct kvmbox_walk_level {
	const char *table;   /* "PML5", "PML4", "PDPT", "PD" or "PT" (static string) */
	kvmbox_gpa_t table_gpa; /* guest-physical address of the table */
	unsigned index;      /* the entry's index in it */
	unsigned entry_size; /* 4 (32-bit paging) or 8 bytes */
	uint64_t entry;      /* the entry as read (0 when !read) */
	bool read;           /* false: the entry lies outside guest memory */
};

/* How one guest-virtual address becomes guest-physical and then a host address. Plain data. */
struct kvmbox_walk {
	kvmbox_gva_t gva;      /* the address asked about: an offset in DS outside 64-bit code */
	/* Segmentation (SDM Vol 3A 3.4): real mode base = selector * 16, protected mode the
	 * descriptor's base, with the limit checked; none in 64-bit code. */
	const char *segment;   /* "ds"; NULL in 64-bit code (flat: linear == gva) and when
				  linear_given */
	bool linear_given;     /* KVMBOX_WALK_LINEAR: GVA was taken as a linear address */
	bool real_mode;
	uint16_t selector;
	uint64_t seg_base;
	uint32_t seg_limit;
	kvmbox_gva_t linear;   /* the linear address paging translates */
	/* Paging (SDM Vol 3A 4) */
	const char *paging;    /* "off", "32-bit", "PAE", "4-level" or "5-level" */
	uint64_t cr3;
	unsigned nlevels;      /* entries read, root first */
	struct kvmbox_walk_level levels[KVMBOX_WALK_LEVELS_MAX];
	bool mapped;           /* the address translates (what KVM_TRANSLATE calls valid) */
	const char *why;       /* when !mapped: "not present", "reserved bit", "beyond the ds
				  limit", ... (static string); the last level read is where */
	kvmbox_gpa_t gpa;      /* when mapped: the guest-physical address */
	uint64_t page_size;    /* when mapped with paging: 4 KiB, 2 MiB, 4 MiB or 1 GiB; else 0 */
	/* Guest memory: the memslot holding gpa and the host address it is mapped at. */
	bool in_slot;          /* false: gpa lies outside guest memory */
	uint32_t slot;
	kvmbox_gpa_t slot_gpa; /* the slot's guest_phys_addr ... */
	uint64_t slot_size;    /* ... memory_size ... */
	uint64_t slot_hva;     /* ... and userspace_addr */
	uint64_t hva;          /* host virtual address of gpa (when in_slot) */
};

enum {
	KVMBOX_WALK_WRITE = 1u << 0, /* check the rights of a write (RW at every level) */
	KVMBOX_WALK_USER = 1u << 1,  /* check the rights of a CPL 3 access (US at every level) */
	KVMBOX_WALK_LINEAR = 1u << 2, /* GVA is already linear (a CR2): no segment step */
};

/* Walk GVA as the vCPU would access it with its state as of the last exit (kvm_run
 * sync_regs, no ioctl), with the rights of ACCESS (KVMBOX_WALK_*; 0: a supervisor read of
 * an offset in DS).
 * Reads the guest's tables without setting accessed or dirty bits. Returns 0 with W filled
 * (W->mapped and W->in_slot say how far the address got), -EINVAL for NULL arguments. */
int kvmbox_vm_walk(const struct kvmbox_vm *vm, kvmbox_gva_t gva, unsigned access,
		   struct kvmbox_walk *w);

/* Render W into BUF (NUL-terminated, truncated to LEN). BRIEF: one line of the levels, as a
 * fault report ends, "PML4[0] -> PDPT[0] -> PD[2] not present"; else the full multi-line
 * description `kvmbox run --walk` prints. Returns the length of the whole rendering (a value
 * >= LEN means it was truncated), as snprintf does. */
size_t kvmbox_walk_format(const struct kvmbox_walk *w, bool brief, char *buf, size_t len);

/* KVM's own translation of the linear address LINEAR on the VM's vCPU (KVM_TRANSLATE, one
 * ioctl), to check the software walk against. Returns 0 with *GPA and *VALID set, or the
 * ioctl's -errno with ERR set. */
int kvmbox_vm_kvm_translate(const struct kvmbox_vm *vm, kvmbox_gva_t linear, kvmbox_gpa_t *gpa,
			    bool *valid, struct kvmbox_error *err);

enum kvmbox_mode kvmbox_vm_mode(const struct kvmbox_vm *vm);
const char *kvmbox_vm_name(const struct kvmbox_vm *vm);
uint64_t kvmbox_vm_mem_size(const struct kvmbox_vm *vm);

/* ---- Fast reset: a reset point in memory (not a snapshot file: kvmbox_vm_save) ------------- */

/* Remember the VM's state so kvmbox_vm_reset can return to it: guest memory and the vCPU.
 * Taken before the first kvmbox_vm_run, the point keeps the general and special registers
 * (a fresh vCPU's other state is KVM's, and a rerun from the entry point needs no more):
 * a reset then leaves the FPU/SSE registers, the MSRs other than EFER and the debug
 * registers as the runs left them. Taken after a run that ended in a halt, an exit or a
 * deadline (e.g. after the guest's main), it keeps the whole vCPU (XCR0 and the XSAVE area,
 * the MSRs a guest can set, the debug registers, the events) and the features' state, and
 * each reset puts them back (four more vCPU ioctls). A call with KVMBOX_CALL_RESET that
 * takes the point itself keeps the whole vCPU either way (kvmbox/call.h). Taking it again
 * moves it. Call it before kvmbox_sandbox_enter (whose filter allows no change to a memory
 * slot, and the reset's dirty-log reads on a VM only if it has its reset point). Turns on
 * KVM's dirty-page log for guest memory (KVM_MEM_LOG_DIRTY_PAGES) and keeps a copy of the
 * non-zero pages. Returns 0, -ENOEXEC (nothing loaded), -EBUSY (the last run ended in a
 * fault, an error or a wait on a channel: not a state to run on from), -ENOTSUP (a
 * KVMBOX_VM_ONE_FD VM), -ENOMEM or the errno of the failing KVM call. */
int kvmbox_vm_set_reset_point(struct kvmbox_vm *vm, struct kvmbox_error *err);

/* kvmbox_vm_set_reset_point with FLAGS: KVMBOX_POINT_WHOLE keeps the whole vCPU even before
 * the first run (what a call with KVMBOX_CALL_RESET takes by itself), so that each reset puts
 * back the FPU/SSE registers, the MSRs and the debug registers too: for runs or calls that
 * must not see each other's state, at four more vCPU ioctls a reset. Unknown flags: -EINVAL. */
enum { KVMBOX_POINT_WHOLE = 1u << 0 };
int kvmbox_vm_set_reset_point_with(struct kvmbox_vm *vm, unsigned flags, struct kvmbox_error *err);

/* Put the VM back in its reset point's state, whatever its runs did, so the next kvmbox_vm_run
 * starts as it did then: restores the pages written since the reset point or the last
 * reset (those in KVM's dirty log and those the host wrote through hypercalls or
 * kvmbox_vm_write), the general and special registers and the vCPU events (through
 * kvm_run sync_regs, no ioctl), the rest of the vCPU for a point that keeps it (above), the
 * statistics as they were at the point, and clears the stopped state. The TSC goes on.
 * Guest files opened since are closed; what runs wrote into the share stays (it is host
 * state). Costs one KVM_GET_DIRTY_LOG ioctl, plus one KVM_RUN with immediate_exit when the
 * last run ended inside an I/O exit. Returns 0, -ENOENT (no reset point) or the errno of a
 * failing KVM call (the VM is then stopped), with ERR saying why. */
int kvmbox_vm_reset(struct kvmbox_vm *vm, struct kvmbox_error *err);

/* ---- Host ---------------------------------------------------------------------------- */

/* Why this host's KVM device is usable or not (kvmbox_host_probe). Names for scripts:
 * kvmbox_host_state_name. */
enum kvmbox_host_state {
	KVMBOX_HOST_OK = 0,        /* opened, API 12, every required capability */
	KVMBOX_HOST_NO_MODULE,     /* no usable device and no kvm module loaded */
	KVMBOX_HOST_NO_VIRT,       /* as NO_MODULE, and the CPU shows no VMX/SVM */
	KVMBOX_HOST_NO_DEVICE,     /* the kvm module is loaded but the device node is missing */
	KVMBOX_HOST_NO_PERMISSION, /* the device exists; this user may not open it */
	KVMBOX_HOST_NOT_KVM,       /* the path is not a KVM device (KVM_GET_API_VERSION fails) */
	KVMBOX_HOST_BAD_API,       /* KVM_GET_API_VERSION is not 12 */
	KVMBOX_HOST_NO_CAP,        /* a capability kvmbox requires is missing or incomplete */
	KVMBOX_HOST_OPEN_FAILED,   /* open failed for another reason (the cause names errno) */
};
#define KVMBOX_HOST_STATE_COUNT 9

/* "ok", "no-module", "no-virt", "no-device", "no-permission", "not-kvm", "bad-api",
 * "no-cap", "open-failed" (stable: `kvmbox doctor --json` prints them); "?" out of range. */
const char *kvmbox_host_state_name(enum kvmbox_host_state state);

/* One KVM capability kvmbox uses, as this host answers KVM_CHECK_EXTENSION. */
struct kvmbox_host_cap {
	const char *name; /* "KVM_CAP_SYNC_REGS" (static string) */
	const char *use;  /* what kvmbox uses it for (static string) */
	int need;         /* bits the value must have; 0: optional (kvmbox works without it) */
	int value;        /* the answer; 0: absent; -1: not asked (the device did not open) */
};

#define KVMBOX_HOST_CAPS_MAX 12
#define KVMBOX_DEVICE_DEFAULT "/dev/kvm"

/* What kvmbox_host_probe found. Plain data: copy it, keep it, no release needed. */
struct kvmbox_host_info {
	enum kvmbox_host_state state;
	char cause[256];      /* one line saying why KVM is not usable; "" when state is OK */
	const char *device;   /* the path probed (the caller's string, or KVMBOX_DEVICE_DEFAULT) */
	bool exists;          /* stat(device) succeeded */
	bool is_chardev;
	uint32_t st_mode;     /* file type and permission bits (stat's st_mode) */
	uint32_t uid, gid;
	char owner[32], group[32]; /* names of uid and gid (the number when it has no name) */
	int open_errno;       /* 0: opened read-write; else open's errno; -1: not tried */
	int api_version;      /* KVM_GET_API_VERSION; -1: not read */
	unsigned ncaps;
	struct kvmbox_host_cap caps[KVMBOX_HOST_CAPS_MAX];
	bool kvm_module;      /* /sys/module/kvm exists */
	char module[16];      /* vendor module: "kvm_intel", "kvm_amd", "kvm_pvm", "other", "" (none) */
	bool paravirtual;     /* the vendor module is kvm_pvm (PVM: KVM without VMX/SVM) */
	bool cpu_virt;        /* /proc/cpuinfo flags has vmx or svm */
	bool nested;          /* this kernel runs under a hypervisor (cpuinfo flag "hypervisor") */
	char hypervisor[16];  /* its CPUID 0x40000000 vendor ("KVMKVMKVM", "Microsoft Hv"); "" */
	char user[32];        /* the user this process runs as (effective uid) */
};

/* Find out whether DEVICE (NULL: KVMBOX_DEVICE_DEFAULT) is a usable KVM device and describe
 * the host around it: opens the device, checks the API version and every capability kvmbox
 * uses (the table VM creation checks), reads /sys/module, /proc/cpuinfo and CPUID. Runs no
 * guest: kvmbox_host_supports_mode probes modes. DEVICE must outlive INFO. Returns 0 when
 * KVM is usable; otherwise a negative errno (-ENODEV no device or driver, -EACCES, -ENOTTY
 * not KVM, -ENOTSUP API or capability, or open's errno) with INFO->cause set, the same
 * sentence kvmbox_vm_create's error gives for that state. INFO is always filled. */
int kvmbox_host_probe(const char *device, struct kvmbox_host_info *info);

/* Probe whether this host's KVM can run MODE: builds a one-page guest in that mode and
 * runs it. Returns 1 (yes), 0 (no; ERR says why) or a negative errno (KVM unusable). */
int kvmbox_host_supports_mode(enum kvmbox_mode mode, struct kvmbox_error *err);

KVMBOX_API_END

#endif
