/* Deadline timers (vm_deadline.h): one POSIX timer per VM and thread, its signal unblocked
 * only inside KVM_RUN. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "vm/vm_deadline.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "base/rtsig.h"
#include "vm/vm.h"

/* The signal that ends KVM_RUN at a deadline. It is blocked in the running thread and
 * unblocked only inside KVM_RUN (KVM_SET_SIGNAL_MASK), so a tick that fires between two
 * KVM_RUNs stays pending and interrupts the next one: it is never lost. */
#define RUN_SIGNAL DEADLINE_SIGNAL

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
	int ret;

	if (vm->timer_ready && vm->timer_tid == tid)
		return 0;
	if (vm->timer_ready)
		timer_delete(vm->timer);
	vm->timer_ready = false;
	sigemptyset(&block);
	sigaddset(&block, RUN_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, &in_run);
	sigdelset(&in_run, RUN_SIGNAL);
	/* The kernel's sigset is 8 bytes on x86-64, not glibc's 128 (KVM API doc, 4.35). The
	 * request encodes struct kvm_signal_mask alone, its sigset a flexible array: the
	 * argument is that header, with the 8 bytes after it in the union. */
	kmask.m.len = 8;
	memcpy(kmask.m.sigset, &in_run, 8);
	ret = vcpu_ioctl(vm, KVM_SET_SIGNAL_MASK, &kmask.m, err);
	if (ret < 0)
		return ret;
	if (sigaction(RUN_SIGNAL, &sa, NULL) < 0)
		return set_error(err, errno, "sigaction: %s", strerror(errno));
	sev._sigev_un._tid = tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &vm->timer) < 0)
		return set_error(err, errno, "timer_create: %s", strerror(errno));
	vm->timer_tid = tid;
	vm->timer_ready = true;
	return 0;
}

int deadline_arm(struct kvmbox_vm *vm, uint64_t deadline, struct kvmbox_error *err)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(deadline / 1000000000ull),
			      .tv_nsec = (long)(deadline % 1000000000ull) },
	};
	sigset_t block;
	int ret = timer_prepare(vm, err);

	if (ret < 0)
		return ret;
	sigemptyset(&block);
	sigaddset(&block, RUN_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	if (timer_settime(vm->timer, TIMER_ABSTIME, &its, NULL) < 0)
		return set_error(err, errno, "timer_settime: %s", strerror(errno));
	return 0;
}

/* KVM_RUN returned EINTR because RUN_SIGNAL was pending; KVM restored the blocking mask,
 * so the signal is still queued. */
void deadline_consume_tick(void)
{
	static const struct timespec zero;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, RUN_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) == RUN_SIGNAL)
		;
}

void deadline_release(struct kvmbox_vm *vm)
{
	if (vm->timer_ready)
		timer_delete(vm->timer);
	vm->timer_ready = false;
}
