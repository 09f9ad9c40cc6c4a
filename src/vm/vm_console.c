/* The guest console: the coalesced ring of port 0xE9, the per-VM buffer and its flush to
 * the embedder's sink or fd (vm_console.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "vm/vm_console.h"
#include "kvm/kvm.h"
#include "base/log.h"
#include "vm/vm_ports.h"
#include "base/util.h"
#include "vm/vm.h"

_Static_assert(VM_CONSOLE_BUF <= PIPE_BUF, "one console flush is one non-blocking pipe write");

/* Console output on port 0xE9 without an exit per byte: KVM queues the bytes in the
 * coalesced ring and the run loop drains it on every exit (KVM API doc, 4.116). The zone is
 * registered only after the guest's first coalesce_after console exits (console_port):
 * registering it makes the VM's last close wait out a kernel grace period (~16 ms, wall
 * time) when it comes soon after, which would cost a short-lived VM ten times its whole run,
 * while a guest that prints byte by byte for long gains far more (docs/performance.md). */
static void console_coalesce(struct kvmbox_vm *vm);

int console_setup(struct kvmbox_vm *vm, struct kvmbox_error *err)
{
	long page = sysconf(_SC_PAGESIZE);

	(void)err;
	if (vm->flags & KVMBOX_VM_NO_COALESCE) {
		vm->coalesce_left = 0;
		return 0;
	}
	if (kvm_sys_cap(vm, KVM_CAP_COALESCED_PIO) <= 0 ||
	    kvm_sys_cap(vm, KVM_CAP_COALESCED_MMIO) <= 0 ||
	    (size_t)(KVM_COALESCED_MMIO_PAGE_OFFSET + 1) * (size_t)page > vm->run_size) {
		log_msg(vm->log, KVMBOX_LOG_INFO, vm->name,
			"no coalesced PIO on this host: one exit per console byte");
		vm->coalesce_left = 0;
		return 0;
	}
	vm->ring_max = (uint32_t)(((size_t)page - sizeof(struct kvm_coalesced_mmio_ring)) /
				  sizeof(struct kvm_coalesced_mmio));
	if (vm->flags & KVMBOX_VM_ONE_FD) {
		/* The VM fd is about to be closed: now or never. The wait the zone costs comes
		 * only if the VM is destroyed within a grace period of this. */
		vm->coalesce_left = 0;
		console_coalesce(vm);
	}
	return 0;
}

/* Register the console's zone: from the next KVM_RUN on, KVM queues 0xE9 bytes in the ring.
 * Bytes that came by exit are already in the console buffer, and the ring is drained before
 * every exit is served, so the output keeps guest program order across the switch. A
 * failure leaves one exit per byte (logged, not an error: the output is the same). */
static void console_coalesce(struct kvmbox_vm *vm)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = KVMBOX_PORT_CONSOLE, .size = 1, .pio = 1 };
	struct kvmbox_error err;

	if (vm_ioctl(vm, KVM_REGISTER_COALESCED_MMIO, &zone, &err) < 0) {
		log_msg(vm->log, KVMBOX_LOG_INFO, vm->name, "%s: one exit per console byte", err.msg);
		return;
	}
	vm->ring = (struct kvm_coalesced_mmio_ring *)((char *)vm->run +
						      KVM_COALESCED_MMIO_PAGE_OFFSET *
						      sysconf(_SC_PAGESIZE));
}

/* How long one wait for the console fd lasts before the run's cancel flag is looked at again
 * (a signal usually cuts it short: poll returns EINTR). */
#define CONSOLE_WAIT_SLICE_MS 100

enum console_wait { CONSOLE_READY, CONSOLE_DEADLINE, CONSOLE_CANCELLED };

/* Wait until the console fd takes output. Without a deadline a slow reader may slow the guest
 * down (it is the user's pipe), but a signal (the run's cancel flag) always ends the wait; a
 * reader that stalls past the run's deadline ends it too (a guest could otherwise outlive
 * --timeout by printing). Past the deadline or the signal a reader that is ready still gets
 * the output: Ctrl-C loses nothing a reader takes. */
static enum console_wait console_wait(struct kvmbox_vm *vm)
{
	struct pollfd pfd = { .fd = vm->console_fd, .events = POLLOUT };

	for (;;) {
		bool cancelled = vm->cancel && *vm->cancel;
		int ms = cancelled ? 0 : CONSOLE_WAIT_SLICE_MS, n;
		uint64_t now = 0;

		if (vm->deadline_ns) {
			now = now_ns();
			if (now >= vm->deadline_ns)
				ms = 0;
			else if ((vm->deadline_ns - now) / 1000000u < (uint64_t)ms)
				ms = (int)((vm->deadline_ns - now) / 1000000u) + 1;
		}
		n = poll(&pfd, 1, ms);
		if (n > 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return CONSOLE_READY; /* a poll error or a bad fd: let write() report it */
		if (n == 0 && cancelled)
			return CONSOLE_CANCELLED;
		if (n == 0 && vm->deadline_ns && (ms == 0 || now_ns() >= vm->deadline_ns))
			return CONSOLE_DEADLINE;
	}
}

bool console_fd_always_ready(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false;
	/* /dev/null is the memory devices' character device 1:3 (Documentation/admin-guide/
	 * devices.txt). */
	return S_ISREG(st.st_mode) ||
	       (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
}

/* Write the queued bytes to the console fd. After POLLOUT a write of at most PIPE_BUF bytes
 * (the buffer's size) does not block on a pipe (pipe(7)), so every wait is console_wait's;
 * a console that is always ready (con_ready) is written without asking. */
static void flush_fd(struct kvmbox_vm *vm)
{
	size_t off = 0;

	while (off < vm->con_len) {
		enum console_wait w = vm->con_ready ? CONSOLE_READY : console_wait(vm);
		ssize_t n;

		if (w != CONSOLE_READY) {
			vm->stats.console_dropped += vm->con_len - off;
			if (w == CONSOLE_DEADLINE)
				vm_request_stop(vm, KVMBOX_STOP_TIMEOUT, 0,
						"deadline passed while the console was not taking output");
			else
				vm_request_stop(vm, KVMBOX_STOP_CANCELLED, 0,
						"cancelled while the console was not taking output");
			return;
		}
		n = write(vm->console_fd, vm->con_buf + off, vm->con_len - off);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			/* Nobody will ever read the rest (EPIPE: `kvmbox run | head`): stop rather
			 * than run a guest whose output goes nowhere. */
			vm->stats.console_dropped += vm->con_len - off;
			vm_request_stop(vm, KVMBOX_STOP_HOST_ERROR, 0, "console: %s",
					n < 0 ? strerror(errno) : "write returned 0");
			return;
		}
		off += (size_t)n;
	}
}

void vm_console_flush(struct kvmbox_vm *vm)
{
	if (!vm->con_len)
		return;
	if (vm->console)
		vm->console(vm->console_ctx, vm->con_buf, vm->con_len);
	else if (vm->console_fd >= 0)
		flush_fd(vm);
	vm->con_len = 0;
}

void vm_console_write(struct kvmbox_vm *vm, const char *buf, size_t len)
{
	vm->stats.console_bytes += len;
	while (len) {
		size_t n = VM_CONSOLE_BUF - vm->con_len;

		if (n > len)
			n = len;
		memcpy(vm->con_buf + vm->con_len, buf, n);
		vm->con_len += n;
		buf += n;
		len -= n;
		if (vm->con_len == VM_CONSOLE_BUF || (vm->con_lines && memchr(buf - n, '\n', n)))
			vm_console_flush(vm);
	}
}

/* Console bytes KVM queued in the coalesced ring since the last exit. Drained before the
 * exit is handled, so they come out in guest program order with hypercall output. */
void console_drain_ring(struct kvmbox_vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->ring;
	uint32_t max = vm->ring_max;

	if (!ring)
		return;
	while (ring->first != ring->last) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->first % max];
		char c = (char)e->data[0];

		vm_console_write(vm, &c, 1);
		vm->stats.coalesced_bytes++;
		__atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
	}
}

int console_port(struct kvmbox_vm *vm, void *ctx, const struct port_io *io)
{
	(void)ctx;
	if (!io->out)
		return -EOPNOTSUPP;
	/* The low byte of each element, as the 0xE9 convention has it. */
	for (uint32_t i = 0; i < io->count; i++)
		vm_console_write(vm, (const char *)io->data + (size_t)i * io->size, 1);
	if (vm->coalesce_left && --vm->coalesce_left == 0)
		console_coalesce(vm);
	return 0;
}

size_t kvmbox_vm_console_pending(const struct kvmbox_vm *vm, const char **bytes)
{
	*bytes = vm ? vm->con_buf : "";
	return vm ? vm->con_len : 0;
}

void kvmbox_vm_console_dropped(struct kvmbox_vm *vm, uint64_t bytes)
{
	if (vm)
		vm->stats.console_dropped += bytes;
}
