/* The vCPU loop: run, retry on signals, hand each exit to its handler, report the exits
 * that end a run with the exit's name, RIP and registers. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "console.h"
#include "kvm.h"
#include "log.h"
#include "util.h"
#include "vm.h"
#include "x86/x86.h"

/* The signal that ends KVM_RUN at a deadline. It is blocked in the running thread and
 * unblocked only inside KVM_RUN (KVM_SET_SIGNAL_MASK), so a tick that fires between two
 * KVM_RUNs stays pending and interrupts the next one: it is never lost. */
#define RUN_SIGNAL (SIGRTMIN + 4)

static const char *const exit_names[] = {
#define X(n) [KVM_EXIT_##n] = "KVM_EXIT_" #n
	X(UNKNOWN), X(EXCEPTION), X(IO), X(HYPERCALL), X(DEBUG), X(HLT), X(MMIO),
	X(IRQ_WINDOW_OPEN), X(SHUTDOWN), X(FAIL_ENTRY), X(INTR), X(SET_TPR), X(TPR_ACCESS),
	X(S390_SIEIC), X(S390_RESET), X(DCR), X(NMI), X(INTERNAL_ERROR), X(OSI), X(PAPR_HCALL),
	X(S390_UCONTROL), X(WATCHDOG), X(S390_TSCH), X(EPR), X(SYSTEM_EVENT), X(S390_STSI),
	X(IOAPIC_EOI), X(HYPERV), X(ARM_NISV), X(X86_RDMSR), X(X86_WRMSR), X(DIRTY_RING_FULL),
	X(AP_RESET_HOLD), X(X86_BUS_LOCK), X(XEN), X(RISCV_SBI), X(RISCV_CSR), X(NOTIFY),
#undef X
};

static const char *known_exit(uint32_t reason)
{
	return reason < sizeof(exit_names) / sizeof(exit_names[0]) ? exit_names[reason] : NULL;
}

const char *kvmbox_exit_name(uint32_t reason)
{
	const char *name = known_exit(reason);

	return name ? name : "KVM_EXIT_UNKNOWN_REASON";
}

/* "KVM_EXIT_HLT", or "KVM exit 77" for a reason this build does not know. */
static const char *exit_label(uint32_t reason, char *buf, size_t len)
{
	const char *name = known_exit(reason);

	if (name)
		return name;
	snprintf(buf, len, "KVM exit %u", reason);
	return buf;
}

static void empty_handler(int sig)
{
	(void)sig;
}

/* Create this thread's deadline timer and tell KVM to unblock RUN_SIGNAL inside KVM_RUN. */
static int timer_prepare(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	int tid = (int)syscall(SYS_gettid);
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = RUN_SIGNAL };
	struct sigaction sa = { .sa_handler = empty_handler };
	union {
		struct kvm_signal_mask m;
		uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
	} kmask;
	sigset_t block, in_run;

	if (vm->timer_ready && vm->timer_tid == tid)
		return 0;
	if (vm->timer_ready)
		timer_delete(vm->timer);
	vm->timer_ready = false;
	sigemptyset(&block);
	sigaddset(&block, RUN_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, &in_run);
	sigdelset(&in_run, RUN_SIGNAL);
	/* The kernel's sigset is 8 bytes on x86-64, not glibc's 128 (KVM API doc, 4.35). */
	kmask.m.len = 8;
	memcpy(kmask.m.sigset, &in_run, 8);
	if (kvm_ioctl(vm->log, vm->name, vm->vcpu_fd, KVM_SET_SIGNAL_MASK, &kmask, err) < 0)
		return -1;
	if (sigaction(RUN_SIGNAL, &sa, NULL) < 0)
		return set_error(err, errno, "sigaction: %s", strerror(errno));
	sev._sigev_un._tid = tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &vm->timer) < 0)
		return set_error(err, errno, "timer_create: %s", strerror(errno));
	vm->timer_tid = tid;
	vm->timer_ready = true;
	return 0;
}

static int timer_arm(struct kvmbox_vm *vm, uint64_t deadline, struct kvmbox_error *err)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(deadline / 1000000000ull),
			      .tv_nsec = (long)(deadline % 1000000000ull) },
	};
	sigset_t block;

	if (timer_prepare(vm, err) < 0)
		return -1;
	sigemptyset(&block);
	sigaddset(&block, RUN_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	if (timer_settime(vm->timer, TIMER_ABSTIME, &its, NULL) < 0)
		return set_error(err, errno, "timer_settime: %s", strerror(errno));
	return 0;
}

/* KVM_RUN returned EINTR because RUN_SIGNAL was pending; KVM restored the blocking mask,
 * so the signal is still queued and would end every later KVM_RUN at once. Dequeue it. */
static void consume_tick(void)
{
	static const struct timespec zero;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, RUN_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) == RUN_SIGNAL)
		;
}

/* End the run with STOP: a message with the exit's name, RIP and what happened. */
static void fault(struct kvmbox_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fault(struct kvmbox_vm *vm, const char *fmt, ...)
{
	char what[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	char label[32];

	vm_request_stop(vm, KVMBOX_STOP_FAULT, 0, "%s: %s at rip=0x%llx",
			exit_label(vm->run->exit_reason, label, sizeof(label)), what,
			(unsigned long long)vm->run->s.regs.regs.rip);
}

static void handle_io(struct kvmbox_vm *vm)
{
	struct kvm_run *run = vm->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	if (out)
		vm->stats.io_out++;
	else
		vm->stats.io_in++;
	if (run->io.port == KVMBOX_PORT_CONSOLE && out) {
		/* The low byte of each element, as the 0xE9 convention has it. */
		for (uint32_t i = 0; i < run->io.count; i++)
			vm_console_write(vm, (const char *)data + (size_t)i * run->io.size, 1);
		return;
	}
	if (hc_is_port(run->io.port)) {
		hc_dispatch(vm, run);
		return;
	}
	if (vm->user_port && (uint16_t)(run->io.port - vm->user_port_first) < vm->user_port_count) {
		for (uint32_t i = 0; i < run->io.count; i++) {
			uint8_t *el = data + (size_t)i * run->io.size;
			uint32_t v = 0;

			if (out)
				memcpy(&v, el, run->io.size);
			vm->user_port(vm->user_port_ctx, run->io.port, out, &v, run->io.size);
			if (!out)
				memcpy(el, &v, run->io.size);
		}
		return;
	}
	fault(vm, "%s of %u byte(s) to unknown port 0x%x", out ? "out" : "in", run->io.size,
	      run->io.port);
}

static const char *const internal_suberrors[] = {
	[KVM_INTERNAL_ERROR_EMULATION] = "instruction emulation failed",
	[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception while delivering an exception",
	[KVM_INTERNAL_ERROR_DELIVERY_EV] = "event delivery failed",
	[KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "unexpected exit reason",
};

static void handle_exit(struct kvmbox_vm *vm)
{
	struct kvm_run *run = vm->run;
	uint32_t sub;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vm);
		break;
	case KVM_EXIT_HLT:
		vm_request_stop(vm, KVMBOX_STOP_HALT, 0, "halted");
		break;
	case KVM_EXIT_MMIO:
		fault(vm, "%s of %u byte(s) at unbacked guest-physical 0x%llx",
		      run->mmio.is_write ? "write" : "read", run->mmio.len,
		      (unsigned long long)run->mmio.phys_addr);
		break;
	case KVM_EXIT_SHUTDOWN:
		fault(vm, "triple fault (the guest hit an exception it could not handle)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		fault(vm, "VM entry failed, hardware reason 0x%llx",
		      (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		sub = run->internal.suberror;
		fault(vm, "KVM internal error %u (%s)", sub,
		      sub < sizeof(internal_suberrors) / sizeof(internal_suberrors[0]) &&
				      internal_suberrors[sub]
			      ? internal_suberrors[sub]
			      : "unknown");
		break;
	default:
		fault(vm, "unhandled exit");
		break;
	}
}

static void trace_exit(struct kvmbox_vm *vm)
{
	struct kvm_run *run = vm->run;
	char label[32];

	if (run->exit_reason == KVM_EXIT_IO)
		log_msg(vm->log, KVMBOX_LOG_TRACE, vm->name,
			"exit %s: %s port 0x%x size %u count %u at rip=0x%llx",
			exit_label(run->exit_reason, label, sizeof(label)),
			run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
			run->io.size, run->io.count, (unsigned long long)run->s.regs.regs.rip);
	else
		log_msg(vm->log, KVMBOX_LOG_TRACE, vm->name, "exit %s at rip=0x%llx",
			exit_label(run->exit_reason, label, sizeof(label)),
			(unsigned long long)run->s.regs.regs.rip);
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
	vm->deadline_ns = 0;
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
}

int kvmbox_vm_run(struct kvmbox_vm *vm, const struct kvmbox_run_opts *opts, struct kvmbox_result *res)
{
	static const struct kvmbox_run_opts no_opts;
	struct kvmbox_error err;
	bool io;

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
	if (opts->deadline_ns && timer_arm(vm, opts->deadline_ns, &err) < 0) {
		finish(vm, res, KVMBOX_STOP_HOST_ERROR, 0, err.msg);
		return 0;
	}
	vm->pending = KVMBOX_STOP_NONE;
	/* Only a hard deadline bounds console waits; a scheduler's quantum must not drop output. */
	vm->deadline_ns = opts->flags & KVMBOX_RUN_STOP_AT_DEADLINE ? opts->deadline_ns : 0;
	for (;;) {
		uint64_t t1 = 0;
		int ret;

		if (opts->cancel && *opts->cancel) {
			finish(vm, res, KVMBOX_STOP_CANCELLED, 0, "cancelled");
			return 0;
		}
		ret = kvm_ioctl(vm->log, vm->name, vm->vcpu_fd, KVM_RUN, 0, &err);
		if (ret == -EINTR || ret == -EAGAIN)
			t1 = now_ns(); /* a deadline's latency ends when KVM_RUN returns */
		vm->stats.runs++;
		console_drain_ring(vm);
		if (ret < 0) {
			if (ret == -EINTR || ret == -EAGAIN) {
				consume_tick();
				/* consume_tick also drains our own tick when it fired after KVM_RUN
				 * returned for an older one: look at the clock again, or it is lost. */
				if (opts->deadline_ns &&
				    (t1 >= opts->deadline_ns || now_ns() >= opts->deadline_ns)) {
					if (opts->flags & KVMBOX_RUN_STOP_AT_DEADLINE)
						finish(vm, res, KVMBOX_STOP_TIMEOUT, 0,
						       "deadline passed: the guest was stopped");
					else
						finish(vm, res, KVMBOX_STOP_PREEMPTED, 0, "preempted");
					vm->stats.last_run_end_ns = t1;
					return 0;
				}
				continue; /* a tick meant for an earlier deadline, or a signal of
					     the caller's: the cancel flag is checked above */
			}
			/* The initial registers reach KVM with the first KVM_RUN (sync_regs), so
			 * that is where KVM refuses a CPU state it cannot enter. */
			if (!vm->ran && ret == -EINVAL)
				snprintf(err.msg + strlen(err.msg), sizeof(err.msg) - strlen(err.msg),
					 " (KVM refused the initial %s-mode registers)",
					 kvmbox_mode_name(vm->mode));
			finish(vm, res, KVMBOX_STOP_HOST_ERROR, 0, err.msg);
			return 0;
		}
		vm->ran = true;
		vm->stats.exits++;
		if (vm->run->exit_reason < KVMBOX_EXIT_REASONS)
			vm->stats.by_reason[vm->run->exit_reason]++;
		if (log_on(vm->log, KVMBOX_LOG_TRACE))
			trace_exit(vm);
		io = vm->run->exit_reason == KVM_EXIT_IO;
		handle_exit(vm);
		if (vm->pending != KVMBOX_STOP_NONE) {
			finish(vm, res, vm->pending, vm->pending_status, vm->pending_msg);
			return 0;
		}
		if (io && (opts->flags & KVMBOX_RUN_YIELD_ON_IO)) {
			finish(vm, res, KVMBOX_STOP_YIELD, 0, "yield on I/O");
			return 0;
		}
	}
}

size_t kvmbox_vm_format_regs(const struct kvmbox_vm *vm, char *buf, size_t len)
{
	return x86_format_regs(buf, len, &vm->run->s.regs.regs, &vm->run->s.regs.sregs);
}
