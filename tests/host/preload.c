/* An LD_PRELOAD shim for tests/host/test_robust.c: it wraps ioctl to make something happen at
 * an exact point of kvmbox's run loop, just before the Nth KVM_RUN enters the guest:
 *   KVMBOX_TEST_SIGNAL_AT_RUN=N      SIGINT to the process (the window between the run
 *                                    loop's cancel check and KVM_RUN)
 *   KVMBOX_TEST_FORBIDDEN_AT_RUN=N   a system call the process sandbox forbids (uname), as a
 *                                    subverted or buggy kvmbox would make mid-run
 * The real ioctl is the system call itself. */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/kvm.h>

int ioctl(int fd, unsigned long req, ...);

static unsigned long runs;

static unsigned long at(const char *name)
{
	const char *v = getenv(name);

	return v ? strtoul(v, NULL, 10) : 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	unsigned long arg;

	va_start(ap, req);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (req == KVM_RUN) {
		runs++;
		if (runs == at("KVMBOX_TEST_SIGNAL_AT_RUN"))
			kill(getpid(), SIGINT);
		if (runs == at("KVMBOX_TEST_FORBIDDEN_AT_RUN")) {
			struct utsname u;

			syscall(SYS_uname, &u);
		}
	}
	return (int)syscall(SYS_ioctl, fd, req, arg);
}
