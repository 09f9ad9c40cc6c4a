/* Console output of a scheduled run that never blocks the scheduler thread: a bounded
 * buffer per VM, written to its fd only as fast as the fd takes it (docs/scheduler.md,
 * "Slow readers"). A reader slower than the guests loses the bytes that no longer fit; they
 * are counted, and the guests and the run's deadlines never wait for it. */
#ifndef KVMBOX_CLI_CONOUT_H
#define KVMBOX_CLI_CONOUT_H

#include <stddef.h>
#include <stdint.h>

#define CONOUT_MAX (64 * 1024) /* bytes one VM may have waiting for its reader */

struct conout {
	int fd;          /* stdout or the VM's out=FILE */
	size_t len;      /* bytes waiting in buf */
	int err;         /* errno of the first failed write (EPIPE, EIO, ENOSPC ...), else 0 */
	char buf[CONOUT_MAX];
};

/* Queue LEN bytes; WHOLE: all or nothing (a prefixed line), else as much as fits. Returns
 * the bytes that did not fit (dropped). Writes nothing: call conout_pump. */
size_t conout_put(struct conout *o, const char *p, size_t len, int whole);

/* Write what the fd takes now without waiting: poll for POLLOUT, then at most PIPE_BUF bytes
 * a write (a pipe takes that much without blocking once it polls writable), cut after a
 * newline when there is one so that lines of VMs sharing stdout never interleave. Returns 0,
 * or -errno of a failed write (also kept in o->err; later calls then do nothing). */
int conout_pump(struct conout *o);

/* conout_pump, then until the buffer is empty, waiting for the fd at most until UNTIL_NS
 * (CLOCK_MONOTONIC; 0: no limit) and not once *STOP is set (a signal). Returns the bytes
 * still waiting (0: all written) or -errno of a failed write. */
long conout_drain(struct conout *o, uint64_t until_ns, const volatile int *stop);

/* For a process about to die (a signal handler): write the N bytes at P to FD as far as FD
 * takes them, waiting at most 100 ms for each PIPE_BUF bytes. Async-signal-safe (poll and
 * write only). */
void conout_salvage(int fd, const char *p, size_t n);

#endif
