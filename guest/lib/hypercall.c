/* The HC_* hypercall wrappers and the guest side of assertions: each fills an ABI struct
 * from include/kvmbox/abi.h and makes one kvmbox_hypercall. */
#include "kvmbox/guest.h"

/* Buffers for HC_numExitsByType: handed out once each, never reused, so two results never
 * alias (a single static buffer is the classic bug). The host zeroes bss before entry. */
#define EXITS_BUF_SIZE 64
#define EXITS_BUF_COUNT 64
static char exits_pool[EXITS_BUF_COUNT][EXITS_BUF_SIZE];
static unsigned exits_used;

static KVMBOX_NORETURN void halt_forever(void)
{
	for (;;)
		hlt();
}

void HC_print8bit(uint8_t val)
{
	outb(KVMBOX_PORT_CONSOLE, val);
}

void HC_print32bit(uint32_t val)
{
	kvmbox_hypercall(KVMBOX_HC_PRINT32, val);
}

void HC_printStr(const char *str)
{
	kvmbox_hypercall(KVMBOX_HC_PRINTSTR, (uintptr_t)str);
}

uint32_t HC_numExits(void)
{
	return (uint32_t)kvmbox_hypercall(KVMBOX_HC_NUM_EXITS, 0);
}

char *HC_numExitsByType(void)
{
	struct kvmbox_hc_buf arg;
	char *buf;

	if (exits_used >= EXITS_BUF_COUNT)
		return NULL;
	buf = exits_pool[exits_used++];
	arg.addr = kvmbox_gva(buf);
	arg.len = EXITS_BUF_SIZE;
	arg.pad = 0;
	if (kvmbox_hypercall(KVMBOX_HC_EXITS_BY_TYPE, (uintptr_t)&arg) < 0)
		buf[0] = '\0';
	return buf;
}

uint32_t HC_gvaToHva(uint32_t gva)
{
	return (uint32_t)kvmbox_hypercall(KVMBOX_HC_GVA_TO_HVA, gva);
}

uint64_t HC_gvaToHva64(uint64_t gva)
{
	struct kvmbox_hc_xlate arg = { .gva = gva, .hva = 0 };

	if (kvmbox_hypercall(KVMBOX_HC_GVA_TO_HVA64, (uintptr_t)&arg) < 0)
		return 0;
	return arg.hva;
}

uint64_t HC_getTimestamp(void)
{
	struct kvmbox_hc_time arg = { .ns = 0 };

	kvmbox_hypercall(KVMBOX_HC_TIMESTAMP, (uintptr_t)&arg);
	return arg.ns;
}

void HC_exit(int status)
{
	/* Zero-extend so ebx/rbx carry the same 32 bits in every mode; the host reads an i32. */
	kvmbox_hypercall(KVMBOX_HC_EXIT, (uint32_t)status);
	halt_forever();
}

uint32_t HC_abiVersion(void)
{
	return (uint32_t)kvmbox_hypercall(KVMBOX_HC_ABI_VERSION, 0);
}

int HC_open(const char *path, int flags, int mode)
{
	struct kvmbox_hc_open arg = {
		.path = kvmbox_gva(path),
		.flags = (uint32_t)flags,
		.mode = (uint32_t)mode,
	};

	return kvmbox_hypercall(KVMBOX_HC_FILE_OPEN, (uintptr_t)&arg);
}

static long file_rw(uint32_t nr, int fd, const void *buf, size_t len)
{
	struct kvmbox_hc_rw arg = {
		.fd = (uint32_t)fd,
		.pad = 0,
		.buf = kvmbox_gva(buf),
		.len = len,
	};

	return kvmbox_hypercall(nr, (uintptr_t)&arg);
}

long HC_read(int fd, void *buf, size_t len)
{
	return file_rw(KVMBOX_HC_FILE_READ, fd, buf, len);
}

long HC_write(int fd, const void *buf, size_t len)
{
	return file_rw(KVMBOX_HC_FILE_WRITE, fd, buf, len);
}

long long HC_lseek(int fd, long long off, int whence)
{
	struct kvmbox_hc_lseek arg = {
		.fd = (uint32_t)fd,
		.whence = (uint32_t)whence,
		.offset = off,
		.result = 0,
	};
	int32_t ret = kvmbox_hypercall(KVMBOX_HC_FILE_LSEEK, (uintptr_t)&arg);

	return ret < 0 ? ret : arg.result;
}

int HC_close(int fd)
{
	return kvmbox_hypercall(KVMBOX_HC_FILE_CLOSE, (uint32_t)fd);
}

int HC_fstat(int fd, struct kvmbox_stat *st)
{
	struct kvmbox_hc_fstat arg = {
		.fd = (uint32_t)fd,
		.pad = 0,
		.stat = kvmbox_gva(st),
	};

	return kvmbox_hypercall(KVMBOX_HC_FILE_FSTAT, (uintptr_t)&arg);
}

static long chan_xfer(uint32_t nr, uint32_t chan, const void *buf, size_t len, uint32_t flags)
{
	struct kvmbox_hc_chan arg = {
		.chan = chan,
		.flags = flags,
		.buf = kvmbox_gva(buf),
		.len = len,
	};

	return kvmbox_hypercall(nr, (uintptr_t)&arg);
}

long kvmbox_chan_send(uint32_t chan, const void *buf, size_t len, uint32_t flags)
{
	return chan_xfer(KVMBOX_HC_CHAN_SEND, chan, buf, len, flags);
}

long kvmbox_chan_recv(uint32_t chan, void *buf, size_t len, uint32_t flags)
{
	return chan_xfer(KVMBOX_HC_CHAN_RECV, chan, buf, len, flags);
}

long HC_chanSend(uint32_t chan, const void *buf, size_t len)
{
	return kvmbox_chan_send(chan, buf, len, 0);
}

long HC_chanRecv(uint32_t chan, void *buf, size_t len)
{
	return kvmbox_chan_recv(chan, buf, len, 0);
}

int HC_snapshot(const char *path)
{
	return kvmbox_hypercall(KVMBOX_HC_SNAPSHOT, (uintptr_t)(path ? path : ""));
}

uint64_t HC_generation(void)
{
	struct kvmbox_hc_generation arg = { .generation = 0 };

	kvmbox_hypercall(KVMBOX_HC_GENERATION, (uintptr_t)&arg);
	return arg.generation;
}

int kvmbox_host_call(const char *name, const uint64_t *args, unsigned nargs, int64_t *ret)
{
	struct kvmbox_hc_host_call arg = { .name = kvmbox_gva(name), .nargs = nargs };
	int r;

	/* More than the struct holds goes to the host as NARGS alone, which refuses it. */
	for (unsigned i = 0; i < nargs && i < KVMBOX_HOST_CALL_ARGS_MAX; i++)
		arg.args[i] = args[i];
	r = kvmbox_hypercall(KVMBOX_HC_HOST_CALL, (uintptr_t)&arg);
	if (r == 0 && ret)
		*ret = arg.ret;
	return r;
}

void kvmbox_assert_fail(const char *file, uint32_t line, const char *expr)
{
	struct kvmbox_hc_assert arg = {
		.file = kvmbox_gva(file),
		.expr = kvmbox_gva(expr),
		.line = line,
		.pad = 0,
	};

	kvmbox_hypercall(KVMBOX_HC_ASSERT_FAIL, (uintptr_t)&arg);
	halt_forever();
}

void kvmbox_assert_eq_fail(const char *file, uint32_t line, const char *expr, int64_t a, int64_t b)
{
	/* On the stack: this frame never returns, so the host can still read it. */
	char text[256];

	kvmbox_snprintf(text, sizeof(text), "%s (%lld != %lld)", expr, (long long)a, (long long)b);
	kvmbox_assert_fail(file, line, text);
}
