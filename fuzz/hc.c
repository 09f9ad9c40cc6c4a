/* libFuzzer target: every hypercall handler (src/hc/) served through the real dispatcher
 * (hc_dispatch) against two fake VMs: no KVM, a calloc'ed struct kvmbox_vm with random
 * guest memory, random paging state and a random call sequence, every feature initialised
 * as kvmbox_vm_create would (a share directory, a channel hub joining both VMs). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "vm/vm.h"
#include "kvmbox/chan.h"
#include "fuzz.h"
#include "../tests/guests/hc_test.h"

#define NVMS 2
#define PAGE 4096u
#define CALLS_MAX 32
#define HDR 34 /* cr0 cr3 cr4 efer (8 each), flags, number of calls */
#define CALL 10 /* access byte, call number, rbx (8) */
/* The I/O data of a kvm_run sits after the struct in the same page (KVM API doc, KVM_EXIT_IO):
 * a blocked call's result is written there by vm_complete_io. */
#define RUN_SIZE PAGE
#define IO_DATA_OFFSET 2048u

/* Flags byte. */
#define F_STRICT 0x01
#define F_CS_L 0x02
#define F_CS_DB 0x04
#define F_SHARE_RO 0x08
/* bits 4..7: guest memory pages - 1 */

struct fake {
	struct kvmbox_vm *vm;
	struct kvm_run *run;
	bool blocked; /* its last call waits on a channel: it makes no call until woken */
	unsigned calls;
};

/* The share every fake VM gets: made once per process, emptied now and then so that what
 * the guests create does not pile up. Files grow at most to RLIMIT_FSIZE (set below). */
static char share[64];
static const char *const share_files[][2] = { { "a.txt", "hello from the share\n" },
					      { "sub/b.txt", "nested\n" } };

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

static int remove_any(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* At exit: the share and everything in it. */
static void share_remove(void)
{
	nftw(share, remove_any, 16, FTW_DEPTH | FTW_PHYS);
}

static void share_fill(void)
{
	char path[128];

	nftw(share, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(path, sizeof(path), "%s/sub", share);
	mkdir(path, 0755);
	for (size_t i = 0; i < sizeof(share_files) / sizeof(share_files[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", share, share_files[i][0]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (write(fd, share_files[i][1], strlen(share_files[i][1])) < 0)
				abort();
			close(fd);
		}
	}
	snprintf(path, sizeof(path), "%s/escape", share);
	if (symlink("/etc/passwd", path) < 0 && errno != EEXIST)
		abort();
}

static void share_setup(void)
{
	struct rlimit fsize = { 1u << 20, 1u << 20 };

	strcpy(share, "/tmp/kvmbox-fuzz-hc-XXXXXX");
	if (!mkdtemp(share))
		abort();
	atexit(share_remove);
	/* A write past 1 MiB fails with EFBIG instead of filling the disk over millions of runs. */
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &fsize);
	share_fill();
}

/* The lowest free fd: equal before and after an input, or a handler leaked one. */
static int lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	close(fd);
	return fd;
}

static void on_wake(void *ctx, struct kvmbox_vm *vm)
{
	struct fake *f = ctx;

	for (unsigned i = 0; i < NVMS; i++)
		if (f[i].vm == vm) {
			f[i].blocked = false;
			vm->pending = KVMBOX_STOP_NONE; /* as the run loop starts its next run */
		}
}

/* A fake VM as kvmbox_vm_create leaves it, without KVM: memory, kvm_run, features. */
static int fake_create(struct fake *f, const uint8_t *data, uint64_t mem_size, const uint8_t *image,
		       size_t image_len)
{
	uint8_t flags = data[32];
	/* Small share totals, so that a few calls reach them (the defaults are 4 GiB and 1024). */
	struct kvmbox_vm_config cfg = { .share_dir = share, .share_readonly = flags & F_SHARE_RO,
					.share_bytes_max = 96 << 10, .share_files_max = 4 };
	struct kvmbox_error err;
	struct kvm_sregs *sr;

	f->vm = calloc(1, sizeof(*f->vm));
	f->run = calloc(1, RUN_SIZE);
	if (!f->vm || !f->run)
		return -1;
	snprintf(f->vm->name, sizeof(f->vm->name), "fuzz");
	f->vm->flags = flags & F_STRICT ? KVMBOX_VM_STRICT : 0;
	f->vm->console_fd = -1;
	f->vm->run = f->run;
	f->run->io.data_offset = IO_DATA_OFFSET;
	/* Exactly the guest's size: ASan catches any byte a handler touches past it. */
	f->vm->mem.host = malloc(mem_size);
	if (!f->vm->mem.host)
		return -1;
	f->vm->mem.size = mem_size;
	memset(f->vm->mem.host, 0, mem_size);
	memcpy(f->vm->mem.host, image, image_len < mem_size ? image_len : mem_size);
	sr = &f->run->s.regs.sregs;
	memcpy(&sr->cr0, data, 8);
	memcpy(&sr->cr3, data + 8, 8);
	memcpy(&sr->cr4, data + 16, 8);
	memcpy(&sr->efer, data + 24, 8);
	sr->cs.l = !!(flags & F_CS_L);
	sr->cs.db = !!(flags & F_CS_DB);
	return features_init(f->vm, &cfg, &err);
}

static void fake_destroy(struct fake *f)
{
	if (f->vm) {
		features_release(f->vm);
		free(f->vm->mem.host);
	}
	free(f->vm);
	free(f->run);
}

/* One call as the guest makes it: ACCESS bits 1-2 choose a well-formed 32-bit IN (0) or one
 * the dispatcher must refuse (an OUT, 3 x 2 bytes, 2 x 4 bytes). */
static void call(struct fake *f, uint8_t access, uint8_t nr, uint64_t rbx)
{
	static const struct { bool out; uint8_t size; uint32_t count; } shapes[4] = {
		{ false, 4, 1 }, { true, 4, 1 }, { false, 2, 3 }, { false, 4, 2 } };
	unsigned s = (access >> 1) & 3;
	uint8_t data[16] = { 0 };
	struct port_io io = { .port = (uint16_t)(KVMBOX_PORT_HC_BASE + nr % KVMBOX_HC_MAX),
			      .out = shapes[s].out, .size = shapes[s].size, .count = shapes[s].count,
			      .data = data };
	int32_t ret;

	f->run->s.regs.regs.rbx = rbx;
	FUZZ_REQUIRE(hc_dispatch(f->vm, &f->vm->hc, &io) == 0);
	memcpy(&ret, data, sizeof(ret));
	/* A well-formed call's eax is a count or -KVMBOX_E*, never an errno the ABI does not know,
	 * but for the calls that return a 32-bit value (a host address's low half, an exit
	 * count). A malformed one gets the error's low bytes in every element. */
	if (s == 0 && !HCT_RETURNS_VALUE(nr % KVMBOX_HC_MAX))
		FUZZ_REQUIRE(ret >= -4095);
	f->calls++;
	if (f->vm->pending == KVMBOX_STOP_BLOCKED)
		f->blocked = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned long inputs;
	struct fake f[NVMS] = { 0 };
	struct kvmbox_chan_hub *hub = NULL;
	struct kvmbox_error err;
	unsigned ncalls, i;
	uint64_t mem_size;
	size_t img;
	int fd0;

	if (size < HDR)
		return 0;
	if (!share[0])
		share_setup();
	if (++inputs % 256 == 0)
		share_fill();
	ncalls = data[33] % (CALLS_MAX + 1);
	if (size < HDR + (size_t)ncalls * CALL)
		return 0;
	img = HDR + (size_t)ncalls * CALL;
	mem_size = ((data[32] >> 4) + 1) * (uint64_t)PAGE;
	fd0 = lowest_free_fd();
	if (kvmbox_chan_hub_create(&hub, &err) < 0)
		abort();
	kvmbox_chan_hub_set_wake(hub, on_wake, f);
	for (i = 0; i < NVMS; i++) {
		FUZZ_REQUIRE(fake_create(&f[i], data, mem_size, data + img, size - img) == 0);
		FUZZ_REQUIRE(kvmbox_chan_hub_attach(hub, f[i].vm, &err) == 0);
	}
	for (i = 0; i < ncalls; i++) {
		const uint8_t *c = data + HDR + (size_t)i * CALL;
		struct fake *caller = &f[c[0] & 1];
		uint64_t rbx;

		/* A VM that waits, or whose call ended its run (exit, assert, strict bad call),
		 * runs no more guest code, so it makes no call. */
		if (caller->blocked || caller->vm->pending != KVMBOX_STOP_NONE)
			continue;
		memcpy(&rbx, c + 2, 8);
		call(caller, c[0], c[1], rbx);
	}
	for (i = 0; i < NVMS; i++)
		FUZZ_REQUIRE(f[i].vm->stats.hypercalls + f[i].vm->stats.bad_calls >= f[i].calls);
	for (i = 0; i < NVMS; i++)
		kvmbox_chan_hub_detach(f[i].vm);
	kvmbox_chan_hub_destroy(hub);
	for (i = 0; i < NVMS; i++)
		fake_destroy(&f[i]);
	FUZZ_REQUIRE(lowest_free_fd() == fd0); /* every file a guest opened was closed */
	return 0;
}
