/* Sandboxed host files for guests (--share DIR): open/read/write/lseek/close/fstat with Linux
 * semantics on regular files beneath one host directory, through a per-VM descriptor table.
 * docs/abi.md ("Files") is the contract; this comment says how it is kept. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "../mem.h"
#include "../log.h"
#include "../util.h"
#include "../vm.h"
#include "hc.h"

#define FILES_DEFAULT 16   /* kvmbox_vm_config.max_open_files == 0 */
#define FILES_LIMIT 4096   /* the most a config may ask for */
#define CHUNK (64u << 10)  /* bytes moved per read(2)/write(2) between host and guest */

/* The open-flag bits a guest may pass (Linux x86 values, include/kvmbox/abi.h). */
#define O_ALLOWED (KVMBOX_O_WRONLY | KVMBOX_O_RDWR | KVMBOX_O_CREAT | KVMBOX_O_EXCL | \
		   KVMBOX_O_TRUNC | KVMBOX_O_APPEND)
/* The ones that could change something in the share. */
#define O_MODIFY (KVMBOX_O_WRONLY | KVMBOX_O_RDWR | KVMBOX_O_CREAT | KVMBOX_O_TRUNC | KVMBOX_O_APPEND)
#define O_ACCMODE_MASK 03

_Static_assert(KVMBOX_O_WRONLY == O_WRONLY && KVMBOX_O_RDWR == O_RDWR && KVMBOX_O_CREAT == O_CREAT &&
		       KVMBOX_O_EXCL == O_EXCL && KVMBOX_O_TRUNC == O_TRUNC &&
		       KVMBOX_O_APPEND == O_APPEND,
	       "the ABI's open flags are the host's");
_Static_assert(KVMBOX_SEEK_SET == SEEK_SET && KVMBOX_SEEK_CUR == SEEK_CUR && KVMBOX_SEEK_END == SEEK_END,
	       "the ABI's whence values are the host's");
_Static_assert(KVMBOX_EXDEV == EXDEV && KVMBOX_ELOOP == ELOOP && KVMBOX_EMFILE == EMFILE &&
		       KVMBOX_EFBIG == EFBIG &&
		       KVMBOX_EROFS == EROFS && KVMBOX_EBADF == EBADF && KVMBOX_ENOENT == ENOENT,
	       "host errno values pass through to the guest unchanged");

/* A VM's open guest files. Guest descriptor N is fds[N]; -1 marks a free slot. */
struct hc_files {
	int dir_fd;     /* the share, O_PATH: only a base for openat2 */
	int proc_fd;    /* /proc/self/fd, O_PATH: reopens a checked file */
	bool readonly;
	uint64_t size_max; /* no write makes a file longer than this */
	/* The share's totals over the VM's life (a reset keeps them: what runs wrote stays):
	 * bytes the guest's writes added to files (their growth, not what they overwrote) and
	 * files it created, against their caps. */
	uint64_t bytes_added, bytes_max;
	unsigned files_created, files_max;
	unsigned max;   /* slots in fds[] */
	uint8_t *chunk; /* CHUNK bytes of bounce buffer between guest memory and read/write */
	int fds[];
};

/* Give a VM created with CFG->share_dir its file table: opens the share once (O_PATH |
 * O_DIRECTORY) and sets the open-file limit (CFG->max_open_files, 0: 16, at most 4096).
 * Without a share the state stays NULL and every file call answers NO_SHARE. */
static int files_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, void **state,
		      struct kvmbox_error *err)
{
	unsigned max = cfg->max_open_files ? cfg->max_open_files : FILES_DEFAULT;
	struct hc_files *f;

	(void)vm;
	if (!cfg->share_dir)
		return 0;
	if (max > FILES_LIMIT)
		return set_error(err, EINVAL, "max_open_files %u: at most %u", max, FILES_LIMIT);
	f = calloc(1, sizeof(*f) + max * sizeof(f->fds[0]));
	if (!f)
		return set_error(err, ENOMEM, "out of memory");
	f->chunk = malloc(CHUNK);
	if (!f->chunk) {
		free(f);
		return set_error(err, ENOMEM, "out of memory");
	}
	f->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	f->dir_fd = open(cfg->share_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (f->dir_fd < 0 || f->proc_fd < 0) {
		int e = errno;
		const char *what = f->dir_fd < 0 ? cfg->share_dir : "/proc/self/fd";

		if (f->dir_fd >= 0)
			close(f->dir_fd);
		if (f->proc_fd >= 0)
			close(f->proc_fd);
		free(f->chunk);
		free(f);
		return set_error(err, e, "share directory %s: %s", what, strerror(e));
	}
	for (unsigned i = 0; i < max; i++)
		f->fds[i] = -1;
	f->readonly = cfg->share_readonly;
	f->size_max = cfg->share_file_size_max ? cfg->share_file_size_max
					       : KVMBOX_SHARE_FILE_SIZE_DEFAULT;
	f->bytes_max = cfg->share_bytes_max ? cfg->share_bytes_max : KVMBOX_SHARE_BYTES_DEFAULT;
	f->files_max = cfg->share_files_max ? cfg->share_files_max : KVMBOX_SHARE_FILES_DEFAULT;
	f->max = max;
	*state = f;
	return 0;
}

/* Close every guest file, keeping the share: the table is as a new VM's. Without this,
 * every run of `--repeat` would inherit the last one's and soon meet the open-file limit. */
static void files_reset(struct kvmbox_vm *vm, void *state)
{
	struct hc_files *f = state;

	(void)vm;
	if (!f)
		return;
	for (unsigned i = 0; i < f->max; i++) {
		if (f->fds[i] >= 0)
			close(f->fds[i]);
		f->fds[i] = -1;
	}
}

static void files_release(struct kvmbox_vm *vm, void *state)
{
	struct hc_files *f = state;

	if (!f)
		return;
	files_reset(vm, f);
	close(f->dir_fd);
	close(f->proc_fd);
	free(f->chunk);
	free(f);
}

/* Without a share every file call fails alike, before reading any argument. Not a bad call:
 * the guest asked for a service this VM was not given, it did not break the ABI. */
#define NO_SHARE (-KVMBOX_EPERM)

/* The host fd behind guest descriptor GFD, or -1 (a bad call for the caller to report). */
static int host_fd(const struct hc_files *f, uint32_t gfd)
{
	return gfd < f->max ? f->fds[gfd] : -1;
}

/* openat2 beneath the share. RESOLVE_BENEATH refuses absolute paths, ".." above the share
 * and symlinks leading out (-EXDEV); RESOLVE_NO_MAGICLINKS refuses /proc-style links
 * (-ELOOP) (openat2(2)). Without openat2 (Linux < 5.6) nothing is opened: a weaker
 * fallback (openat + checks) is exactly the check-then-use race this avoids. FLAGS are
 * passed as they are (openat2 refuses flags O_PATH does not take), plus O_CLOEXEC. */
static int open_beneath(struct kvmbox_vm *vm, int dir_fd, const char *path, uint32_t flags,
			uint32_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = (flags & O_CREAT) ? (mode & 0777) : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));

	if (fd >= 0)
		return (int)fd;
	if (errno == ENOSYS) {
		log_msg(vm->log, KVMBOX_LOG_WARN, vm->name,
			"file hypercalls: this kernel has no openat2; every open is refused");
		return -EPERM;
	}
	return -errno;
}

/* Open PATH beneath the share for I/O only if it is a regular file, without ever opening
 * anything else: a FIFO's, device's or socket's open would run host code (a driver's open,
 * a FIFO peer noticing a writer) before any check could refuse it. The name is resolved with
 * O_PATH, which opens nothing (open(2)); the type is checked on that descriptor; a regular
 * file is then opened through /proc/self/fd, which reopens the very inode checked, so a name
 * swapped meanwhile cannot slip another object in. A name that does not exist is created
 * with O_EXCL, which makes a new regular file or fails. Returns the fd or -errno (-EISDIR
 * for a directory, -EACCES for anything else that is not a regular file). */
static int open_regular(struct kvmbox_vm *vm, struct hc_files *f, const char *path,
			uint32_t flags, uint32_t mode)
{
	int dir_fd = f->dir_fd;
	char proc[32];
	struct stat st;
	int pfd, fd;

	pfd = open_beneath(vm, dir_fd, path, O_PATH, 0);
	if (pfd == -ENOENT && (flags & O_CREAT)) {
		if (f->files_created >= f->files_max)
			return -KVMBOX_EDQUOT; /* nothing is created past the share's file cap */
		fd = open_beneath(vm, dir_fd, path, flags | O_EXCL | O_NOCTTY, mode);
		if (fd >= 0)
			f->files_created++;
		if (fd != -EEXIST || (flags & O_EXCL))
			return fd;
		pfd = open_beneath(vm, dir_fd, path, O_PATH, 0); /* made meanwhile: check it */
	}
	if (pfd < 0)
		return pfd;
	fd = (flags & O_CREAT) && (flags & O_EXCL) ? -EEXIST : 0; /* as open(2): whatever it is */
	if (fd == 0 && fstat(pfd, &st) < 0)
		fd = -errno;
	if (fd == 0 && !S_ISREG(st.st_mode))
		fd = S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
	if (fd == 0) {
		snprintf(proc, sizeof(proc), "%d", pfd);
		fd = openat(f->proc_fd, proc, (int)(flags & ~(uint32_t)(O_CREAT | O_EXCL)) | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			fd = -errno;
	}
	close(pfd);
	return fd;
}

static int32_t hc_open(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct hc_files *f = c->state;
	char path[KVMBOX_PATH_MAX], shown[64];
	struct kvmbox_hc_open a;
	unsigned slot;
	int fd, n;

	if (!f)
		return NO_SHARE;
	if (guest_read(vm, c->arg, &a, sizeof(a)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "open: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	if ((a.flags & ~(uint32_t)O_ALLOWED) || (a.flags & O_ACCMODE_MASK) == O_ACCMODE_MASK)
		return vm_bad_call(vm, KVMBOX_EINVAL, "open: flags 0%o outside the allowed set 0%o",
				   a.flags, O_ALLOWED);
	n = guest_read_str(vm, a.path, path, sizeof(path));
	if (n < 0)
		return vm_bad_call(vm, -n, "open(0x%llx): %s", (unsigned long long)a.path,
				   n == -KVMBOX_EFAULT ? "bad path address"
						       : "no NUL within KVMBOX_PATH_MAX bytes");
	if (n == 0)
		return -KVMBOX_ENOENT; /* as open("") */
	if (f->readonly && (a.flags & O_MODIFY))
		return -KVMBOX_EROFS;
	/* Like Linux, take the descriptor first: at the limit nothing is opened or created. */
	for (slot = 0; slot < f->max && f->fds[slot] >= 0; slot++)
		;
	if (slot == f->max)
		return -KVMBOX_EMFILE;
	fd = open_regular(vm, f, path, a.flags, a.mode);
	if (fd < 0) {
		log_msg(vm->log, KVMBOX_LOG_DEBUG, vm->name, "open(\"%s\", 0%o): refused: %s",
			text_printable(shown, sizeof(shown), path), a.flags, strerror(-fd));
		return fd;
	}
	f->fds[slot] = fd;
	return (int32_t)slot;
}

/* The fd and buffer of a read/write. Returns 0, or the guest's error (a bad call). */
static int32_t rw_args(struct kvmbox_vm *vm, const struct hc_call *c, const char *what,
		       bool to_guest, struct kvmbox_hc_rw *a, int *fd)
{
	if (guest_read(vm, c->arg, a, sizeof(*a)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "%s: bad struct address 0x%llx", what,
				   (unsigned long long)c->arg);
	*fd = host_fd(c->state, a->fd);
	if (*fd < 0)
		return vm_bad_call(vm, KVMBOX_EBADF, "%s: fd %u is not open", what, a->fd);
	/* Linux moves at most a bounded count per call too (MAX_RW_COUNT); the rest is a short
	 * count the guest loops on. */
	if (a->len > KVMBOX_IO_MAX)
		a->len = KVMBOX_IO_MAX;
	/* The whole buffer is checked before any byte moves, so a bad one neither consumes file
	 * data nor writes part of it. */
	if (guest_check(vm, a->buf, a->len, to_guest) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "%s: buffer [0x%llx, +%llu) is not guest memory%s",
				   what, (unsigned long long)a->buf, (unsigned long long)a->len,
				   to_guest ? " the guest may write" : "");
	return 0;
}

static int32_t hc_read(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct hc_files *f = c->state;
	struct kvmbox_hc_rw a;
	uint64_t total = 0;
	int32_t ret;
	int fd;

	if (!f)
		return NO_SHARE;
	ret = rw_args(vm, c, "read", true, &a, &fd);
	if (ret < 0)
		return ret;
	while (total < a.len) {
		size_t want = a.len - total < CHUNK ? (size_t)(a.len - total) : CHUNK;
		ssize_t n = read(fd, f->chunk, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (total)
				break; /* report what arrived; the error comes again next call */
			return -errno;
		}
		if (n == 0)
			break;
		if (guest_write(vm, a.buf + total, f->chunk, (uint64_t)n) < 0)
			return vm_bad_call(vm, KVMBOX_EFAULT, "read: buffer became unwritable");
		total += (uint64_t)n;
		if ((size_t)n < want)
			break; /* end of file (regular files only come short there) */
	}
	return (int32_t)total;
}

/* Where a write of LEN bytes to FD lands and how many of them it may write: up to the
 * file-size cap (as RLIMIT_FSIZE does for write(2): up to the cap, then -EFBIG) and up to what
 * is left of the share's byte budget for growing files (then -EDQUOT; overwriting bytes that
 * exist costs nothing). An O_APPEND file writes at its end. Returns the count or -errno;
 * *POS and *SIZE are the offset and the file's size before the write. */
static int64_t write_room(const struct hc_files *f, int fd, uint64_t len, uint64_t *pos,
			  uint64_t *size)
{
	uint64_t room, limit;
	struct stat st;
	off_t at;
	int fl;

	if (fstat(fd, &st) < 0 || (fl = fcntl(fd, F_GETFL)) < 0)
		return -errno;
	at = fl & O_APPEND ? st.st_size : lseek(fd, 0, SEEK_CUR);
	if (at < 0)
		return -errno;
	*pos = (uint64_t)at;
	*size = (uint64_t)st.st_size;
	if (!len)
		return 0;
	if (*pos >= f->size_max)
		return -KVMBOX_EFBIG;
	room = len < f->size_max - *pos ? len : f->size_max - *pos;
	/* The furthest the file may reach with the budget left. */
	limit = *size + (f->bytes_added < f->bytes_max ? f->bytes_max - f->bytes_added : 0);
	if (limit < *size) /* overflow: a budget larger than any offset */
		limit = UINT64_MAX;
	if (*pos + room > limit)
		room = *pos < limit ? limit - *pos : 0;
	return room ? (int64_t)room : -KVMBOX_EDQUOT;
}

static int32_t hc_write(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct hc_files *f = c->state;
	struct kvmbox_hc_rw a;
	uint64_t total = 0, pos = 0, size = 0;
	int64_t room;
	int32_t ret;
	int fd;

	if (!f)
		return NO_SHARE;
	ret = rw_args(vm, c, "write", false, &a, &fd);
	if (ret < 0)
		return ret;
	room = write_room(f, fd, a.len, &pos, &size);
	if (room < 0)
		return (int32_t)room;
	a.len = (uint64_t)room;
	while (total < a.len) {
		size_t want = a.len - total < CHUNK ? (size_t)(a.len - total) : CHUNK;
		ssize_t n;

		if (guest_read(vm, a.buf + total, f->chunk, want) < 0) {
			ret = vm_bad_call(vm, KVMBOX_EFAULT, "write: buffer became unreadable");
			break;
		}
		n = write(fd, f->chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (!total)
				ret = -errno;
			break;
		}
		total += (uint64_t)n;
		if ((size_t)n < want)
			break; /* disk full or a file size limit: a short count, as write(2) */
	}
	/* Growth, by what reached the file whatever ended the loop. */
	if (pos + total > size)
		f->bytes_added += pos + total - size;
	return ret < 0 ? ret : (int32_t)total;
}

static int32_t hc_lseek(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct kvmbox_hc_lseek a;
	off_t off;
	int fd;

	if (!c->state)
		return NO_SHARE;
	/* Writable as well as readable: the result goes back into the struct, and the offset
	 * must not move when it cannot. */
	if (guest_check(vm, c->arg, sizeof(a), true) < 0 || guest_read(vm, c->arg, &a, sizeof(a)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "lseek: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	fd = host_fd(c->state, a.fd);
	if (fd < 0)
		return vm_bad_call(vm, KVMBOX_EBADF, "lseek: fd %u is not open", a.fd);
	if (a.whence > KVMBOX_SEEK_END)
		return vm_bad_call(vm, KVMBOX_EINVAL, "lseek: whence %u", a.whence);
	off = lseek(fd, (off_t)a.offset, (int)a.whence);
	if (off < 0)
		return -errno;
	a.result = (int64_t)off;
	if (guest_write(vm, c->arg, &a, sizeof(a)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "lseek: struct became unwritable");
	return 0;
}

static int32_t hc_close(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct hc_files *f = c->state;
	uint32_t gfd = (uint32_t)c->arg;
	int fd;

	if (!f)
		return NO_SHARE;
	fd = host_fd(f, gfd);
	if (fd < 0)
		return vm_bad_call(vm, KVMBOX_EBADF, "close: fd %u is not open", gfd);
	f->fds[gfd] = -1;
	/* The slot is free whatever close says (close(2): never retry). */
	return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

static int32_t hc_fstat(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct kvmbox_hc_fstat a;
	struct kvmbox_stat ks;
	struct stat st;
	int fd;

	if (!c->state)
		return NO_SHARE;
	if (guest_read(vm, c->arg, &a, sizeof(a)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "fstat: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	fd = host_fd(c->state, a.fd);
	if (fd < 0)
		return vm_bad_call(vm, KVMBOX_EBADF, "fstat: fd %u is not open", a.fd);
	if (fstat(fd, &st) < 0)
		return -errno;
	memset(&ks, 0, sizeof(ks));
	ks.size = (uint64_t)st.st_size;
	ks.mode = (uint32_t)st.st_mode;
	ks.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	if (guest_write(vm, a.stat, &ks, sizeof(ks)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "fstat: bad stat address 0x%llx",
				   (unsigned long long)a.stat);
	return 0;
}

static const struct hc_def files_calls[] = {
	{ KVMBOX_HC_FILE_OPEN, "file_open", hc_open },
	{ KVMBOX_HC_FILE_READ, "file_read", hc_read },
	{ KVMBOX_HC_FILE_WRITE, "file_write", hc_write },
	{ KVMBOX_HC_FILE_LSEEK, "file_lseek", hc_lseek },
	{ KVMBOX_HC_FILE_CLOSE, "file_close", hc_close },
	{ KVMBOX_HC_FILE_FSTAT, "file_fstat", hc_fstat },
};

const struct vm_feature hc_files_feature = {
	.name = "files",
	.calls = files_calls,
	.ncalls = ARRAY_SIZE(files_calls),
	.init = files_init,
	.reset = files_reset,
	.release = files_release,
};

int hc_files_share(const struct kvmbox_vm *vm, int *dir_fd, bool *readonly)
{
	const struct hc_files *f = vm_feature_state(vm, &hc_files_feature);

	if (!f)
		return -1;
	*dir_fd = f->dir_fd;
	*readonly = f->readonly;
	return 0;
}
