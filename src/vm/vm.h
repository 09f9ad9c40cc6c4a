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
#include "kvm/kvm.h"

struct cpu_state;
struct feature_bytes;
struct fork_template;
struct vm_point;

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
	bool con_ready;      /* console_fd never makes a writer wait: no poll before a write */
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
	/* While a call into the guest runs (src/call/): the linear address after the `hlt` of its
	 * return stub, where a halt ends the call as RETURNED; 0 otherwise. */
	uint64_t call_ret;
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

	/* The reset point (vm_reset.c): its state lives on the heap, so a VM that never takes
	 * one (most of thousands of idle VMs) pays a pointer for it, not a kilobyte. */
	struct {
		bool taken;              /* kvmbox_vm_set_reset_point succeeded (memory: vm->mem.point) */
		struct vm_point *state;  /* what it saw beyond memory (vm_reset.c) */
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

/* KVM ioctls on VM's own descriptors, in the manner of the KVM selftests' vm_ioctl and
 * vcpu_ioctl: the descriptor, the log and the name for errors and traces come from VM (a
 * struct kvmbox_vm *), and REQ's argument ARG is checked at compile time against the size
 * REQ encodes (kvm_ioctl_checked, kvm/kvm.h): a pointer to exactly that many bytes, or an
 * integer for a request without one. Each returns the ioctl's non-negative result, or -errno
 * with ERR (may be NULL) set to "REQ: strerror".
 *   kvm_sys_ioctl  a system ioctl, on /dev/kvm (KVM_CREATE_VM, KVM_GET_VCPU_MMAP_SIZE ...)
 *   vm_ioctl       a VM ioctl (KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG ...)
 *   vcpu_ioctl     a vCPU ioctl, on the VM's one vCPU (KVM_RUN, KVM_GET_SREGS ...) */
#define kvm_sys_ioctl(vm, req, arg, err) vm_fd_ioctl(vm, kvm_fd, req, #req, arg, err)
#define vm_ioctl(vm, req, arg, err) vm_fd_ioctl(vm, vm_fd, req, #req, arg, err)
#define vcpu_ioctl(vm, req, arg, err) vm_fd_ioctl(vm, vcpu_fd, req, #req, arg, err)
#define vm_fd_ioctl(vm, fd_field, req, req_name, arg, err)                                   \
	({                                                                                   \
		const struct kvmbox_vm *vm_ioctl_vm_ = (vm);                                 \
		kvm_ioctl_checked(vm_ioctl_vm_->log, vm_ioctl_vm_->name,                     \
				  vm_ioctl_vm_->fd_field, req, req_name, arg, err);          \
	})

/* KVM_CHECK_EXTENSION of CAP on VM's /dev/kvm descriptor (kvm_cap_named, kvm/kvm.h):
 * the capability's value, 0 when absent. */
#define kvm_sys_cap(vm, cap) kvm_cap_named((vm)->log, (vm)->kvm_fd, (cap), #cap)

#endif
