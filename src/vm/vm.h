/* struct kvmbox_vm: everything one VM owns, and the helpers (src/vm/vm_service.c) its exit
 * handlers and features share (src/vm/vm_service.h). Internal: only src/ includes it. */
#ifndef KVMBOX_VM_H
#define KVMBOX_VM_H

#include <stdbool.h>
#include <time.h>
#include <linux/kvm.h>
#include "kvmbox/kvmbox.h"
#include "vm/vm_features.h"
#include "mem/mem.h"
#include "hc/hc.h"
#include "vm/vm_ports.h"
#include "vm/vm_service.h"

struct cpu_state;
struct feature_bytes;
struct fork_template;


#define VM_CONSOLE_BUF 4096

struct kvmbox_vm {
	char name[32];
	enum kvmbox_mode mode;
	unsigned flags;
	struct kvmbox_log *log;

	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	struct kvm_coalesced_mmio_ring *ring; /* console bytes KVM queued without an exit;
					       * NULL until the zone is registered */
	uint32_t ring_max;                    /* entries in the ring (KVM_COALESCED_MMIO_MAX) */
	uint32_t coalesce_left;               /* console exits before the zone is registered;
					       * 0: registered, or never (console.c) */

	struct gmem mem;
	struct kvmbox_layout layout;
	struct kvmbox_stats stats;
	struct hc_table hc;
	struct port_map ports; /* every port the guest may use (console, hypercalls, user) */

	kvmbox_console_fn console;
	void *console_ctx;
	int console_fd;
	size_t con_len;
	bool con_lines;      /* console_fd is a terminal: flush at every newline */
	uint64_t deadline_ns; /* of the run in progress, 0 without one: bounds console waits */
	const volatile int *cancel; /* the run's cancel flag (NULL: none): ends console and
				     * debugger waits too */
	uint64_t run_start_ns; /* when the run in progress started (charged to stats.guest_ns) */

	bool loaded;
	bool guard_null;     /* page 0 is unmapped or left out of the memory slot (src/vm/vm_guard.c) */
	bool stopped;        /* a finished run: running again is refused */
	bool ran;            /* KVM_RUN has applied the initial registers at least once */
	/* Where the guest stood at its last exit other than a shutdown (cs base + rip), and how
	 * many exits ago: a triple-fault report on a host that resets the vCPU at shutdown
	 * (AMD SVM) has nothing else to show. */
	uint64_t last_exit_pc, last_exit_count;
	enum kvmbox_stop pending; /* set by a handler; the run loop ends the run with it */
	int pending_status;
	char pending_msg[512];

	bool timer_ready;    /* timer created for timer_tid, signal mask set on the vCPU */
	timer_t timer;
	int timer_tid;

	struct vm_feature_slot feat[VM_FEATURES_MAX]; /* vm_features.c's list, in order */
	unsigned nfeat;                               /* slots in use */
	uint8_t hooked[VM_FEATURES_MAX];              /* slots with run-loop hooks and a state */
	unsigned nhooked;

	/* The reset point (vm_reset.c). Taken before the first run it needs only the registers
	 * kvmbox chose (KVM holds a fresh vCPU's state for the rest) and a fresh VM's features;
	 * taken after a run, the whole vCPU (CPU and the features' saved bytes). */
	struct {
		bool taken;            /* kvmbox_vm_set_reset_point succeeded (memory: vm->mem.point) */
		struct kvm_regs regs;  /* the registers it saw */
		struct kvm_sregs sregs;
		struct cpu_state *cpu; /* taken after a run: CPU_RESET of it; else NULL */
		struct feature_bytes *feat; /* taken after a run: vm->nfeat entries; else NULL */
		struct kvmbox_stats stats;
		enum kvmbox_stop last_stop;
	} point;

	/* Snapshots (src/snap/). */
	uint64_t generation;       /* KVMBOX_HC_GENERATION: 0 from an image, new at each restore
				    * and fork (never 0 then) */
	enum kvmbox_stop last_stop; /* how the last run ended (NONE before the first) */
	uint8_t cpuid_kind;        /* enum snap_cpuid_kind: what the vCPU was given */
	uint32_t cpuid_sig;        /* with kvmbox's model: its family/model/stepping (CPUID.1:EAX) */
	int save_fd;               /* kvmbox_vm_config.save_fd (borrowed), or -1 */
	struct {
		bool pending;          /* the guest asked for a save: the run loop makes it */
		char path[KVMBOX_PATH_MAX]; /* in the share; "": save_fd */
	} save_req;
	struct fork_template *fork; /* kvmbox_vm_fork's saved state while the VM does not run */

	uint16_t user_port_first, user_port_count; /* embedder-served ports (kvmbox_vm_config) */
	kvmbox_port_fn user_port;
	void *user_port_ctx;

	/* Last: the fields every exit reads stay together, ahead of this 4 KiB. */
	char con_buf[VM_CONSOLE_BUF];
};

#endif
