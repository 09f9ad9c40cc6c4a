/* The vCPU loop: run, retry on signals, hand each exit to its handler (port I/O through the
 * VM's port registry), end the run when a handler or an exit asks for it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "vm/vm_console.h"
#include "vm/vm_deadline.h"
#include "vm/vm_exit.h"
#include "fault/fault_exit.h"
#include "vm/vm_features.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "vm/vm_ports.h"
#include "base/util.h"
#include "vm/vm.h"
#include "x86/x86.h"

/* Serve a port I/O exit through the VM's port registry; a port nobody serves is a fault. */
static void handle_io(struct kvmbox_vm *vm)
{
	struct kvm_run *run = vm->run;
	struct port_io io = {
		.port = run->io.port,
		.out = run->io.direction == KVM_EXIT_IO_OUT,
		.size = run->io.size,
		.count = run->io.count,
		.data = (uint8_t *)run + run->io.data_offset,
	};
	const struct port_range *r = ports_find(&vm->ports, io.port);

	if (io.out)
		vm->stats.io_out++;
	else
		vm->stats.io_in++;
	if (r && r->fn(vm, r->ctx, &io) == 0)
		return;
	exit_port_fault(vm, io.port, io.out, io.size, r != NULL);
}

static void finish(struct kvmbox_vm *vm, struct kvmbox_result *res, enum kvmbox_stop stop,
		   int status, const char *msg)
{
	uint64_t now;

	/* Copied first: MSG may be vm->pending_msg, which a failing flush below rewrites. */
	snprintf(res->msg, sizeof(res->msg), "%s", msg);
	/* A console that blocks until the deadline (a timeout) or is gone (a host error)
	 * changes the outcome, unless the guest had already stopped for its own reasons. */
	vm->pending = KVMBOX_STOP_NONE;
	vm_console_flush(vm);
	if (vm->pending != KVMBOX_STOP_NONE && vm->pending != stop &&
	    (stop == KVMBOX_STOP_PREEMPTED || stop == KVMBOX_STOP_YIELD || stop == KVMBOX_STOP_BLOCKED ||
	     stop == KVMBOX_STOP_HALT || stop == KVMBOX_STOP_CANCELLED)) {
		stop = vm->pending;
		snprintf(res->msg, sizeof(res->msg), "%s", vm->pending_msg);
	}
	/* The run is charged whole, from kvmbox_vm_run's start to here: KVM_RUN and serving the
	 * exits. One clock read per run, none per exit. */
	now = now_ns();
	vm->stats.guest_ns += now - vm->run_start_ns;
	vm->stats.last_run_end_ns = now;
	res->stop = stop;
	res->status = status;
	res->exit_reason = vm->run->exit_reason;
	switch (stop) {
	case KVMBOX_STOP_PREEMPTED:
	case KVMBOX_STOP_YIELD:
	case KVMBOX_STOP_BLOCKED:
		break;
	default:
		vm->stopped = true;
	}
	/* The deadline still bounds what a feature does at the end (a debugger's stop at a
	 * fault), then no wait of this run has one. */
	if (vm->nhooked)
		features_run_end(vm, res);
	vm->deadline_ns = 0;
	vm->cancel = NULL; /* the caller's flag may not outlive the run */
}

/* KVM_RUN failed with RET. Returns true when that ends the run (RES is filled), false when
 * the loop goes on: a tick meant for an earlier deadline, or a signal of the caller's (the
 * cancel flag is checked before the next KVM_RUN). T1: when KVM_RUN returned. */
static bool run_failed(struct kvmbox_vm *vm, const struct kvmbox_run_opts *opts, int ret,
		       uint64_t t1, struct kvmbox_error *err, struct kvmbox_result *res)
{
	if (ret == -EINTR || ret == -EAGAIN) {
		deadline_consume_tick();
		/* That also drains our own tick when it fired after KVM_RUN returned for an
		 * older one: look at the clock again, or it is lost. */
		if (!opts->deadline_ns || (t1 < opts->deadline_ns && now_ns() < opts->deadline_ns))
			return false;
		if (opts->flags & KVMBOX_RUN_STOP_AT_DEADLINE)
			finish(vm, res, KVMBOX_STOP_TIMEOUT, 0, "deadline passed: the guest was stopped");
		else
			finish(vm, res, KVMBOX_STOP_PREEMPTED, 0, "preempted");
		vm->stats.last_run_end_ns = t1;
		return true;
	}
	/* The initial registers reach KVM with the first KVM_RUN (sync_regs), so that is where
	 * KVM refuses a CPU state it cannot enter. */
	if (!vm->ran && ret == -EINVAL)
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
			 " (KVM refused the initial %s-mode registers)", kvmbox_mode_name(vm->mode));
	finish(vm, res, KVMBOX_STOP_HOST_ERROR, 0, err->msg);
	return true;
}

/* Count and serve the exit KVM_RUN returned with. Returns true when it ends the run. */
static bool handle_exit(struct kvmbox_vm *vm, const struct kvmbox_run_opts *opts,
			struct kvmbox_result *res)
{
	uint32_t reason = vm->run->exit_reason;

	vm->ran = true;
	vm->stats.exits++;
	if (reason < KVMBOX_EXIT_REASONS)
		vm->stats.by_reason[reason]++;
	if (log_on(vm->log, KVMBOX_LOG_TRACE))
		exit_trace(vm);
	if (reason != KVM_EXIT_SHUTDOWN) {
		vm->last_exit_pc = vm->run->s.regs.sregs.cs.base + vm->run->s.regs.regs.rip;
		vm->last_exit_count = vm->stats.exits;
	}
	if (vm->nhooked && features_exit(vm))
		; /* a feature's own exit (a debugger's breakpoint or step) */
	else if (reason == KVM_EXIT_IO)
		handle_io(vm);
	else
		exit_stop(vm);
	if (vm->pending != KVMBOX_STOP_NONE) {
		finish(vm, res, vm->pending, vm->pending_status, vm->pending_msg);
		return true;
	}
	if (reason == KVM_EXIT_IO && (opts->flags & KVMBOX_RUN_YIELD_ON_IO)) {
		finish(vm, res, KVMBOX_STOP_YIELD, 0, "yield on I/O");
		return true;
	}
	return false;
}

int kvmbox_vm_run(struct kvmbox_vm *vm, const struct kvmbox_run_opts *opts, struct kvmbox_result *res)
{
	static const struct kvmbox_run_opts no_opts;
	struct kvmbox_error err;

	if (!vm || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	if (!vm->loaded)
		return -ENOEXEC;
	if (vm->stopped)
		return -ESRCH;
	if (!opts)
		opts = &no_opts;
	vm->run_start_ns = now_ns();
	if (opts->deadline_ns && deadline_arm(vm, opts->deadline_ns, &err) < 0) {
		finish(vm, res, KVMBOX_STOP_HOST_ERROR, 0, err.msg);
		return 0;
	}
	vm->pending = KVMBOX_STOP_NONE;
	/* Only a hard deadline bounds console waits; a scheduler's quantum must not drop output. */
	vm->deadline_ns = opts->flags & KVMBOX_RUN_STOP_AT_DEADLINE ? opts->deadline_ns : 0;
	vm->cancel = opts->cancel;
	for (;;) {
		uint64_t t1 = 0;
		int ret;

		/* A kick (kvmbox_vm_kick) is cleared before the cancel flag is read: a signal
		 * after this store sets both, and the KVM_RUN below then returns at once. */
		__atomic_store_n(&vm->run->immediate_exit, 0, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (opts->cancel && *opts->cancel) {
			finish(vm, res, KVMBOX_STOP_CANCELLED, 0, "cancelled");
			return 0;
		}
		if (vm->nhooked) {
			features_before_run(vm, opts);
			if (vm->pending != KVMBOX_STOP_NONE) {
				finish(vm, res, vm->pending, vm->pending_status, vm->pending_msg);
				return 0;
			}
		}
		ret = vcpu_ioctl(vm, KVM_RUN, 0, &err);
		if (ret == -EINTR || ret == -EAGAIN)
			t1 = now_ns(); /* a deadline's latency ends when KVM_RUN returns */
		vm->stats.runs++;
		console_drain_ring(vm);
		if (ret < 0 ? run_failed(vm, opts, ret, t1, &err, res) : handle_exit(vm, opts, res))
			return 0;
	}
}

void kvmbox_vm_kick(struct kvmbox_vm *vm)
{
	if (vm && vm->run) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&vm->run->immediate_exit, 1, __ATOMIC_RELAXED);
	}
}

size_t kvmbox_vm_format_regs(const struct kvmbox_vm *vm, char *buf, size_t len)
{
	return x86_format_regs(buf, len, &vm->run->s.regs.regs, &vm->run->s.regs.sregs);
}
