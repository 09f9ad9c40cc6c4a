/* Sandboxed host files for guests (--share DIR): open/read/write/lseek/close/fstat with Linux
 * semantics on regular files beneath one host directory, through a per-VM descriptor table.
 * docs/abi.md ("Files") is the contract; this comment says how it is kept. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "mem/mem.h"
#include "snap/snap_buf.h"
#include "base/log.h"
#include "base/util.h"
#include "vm/vm.h"
#include "hc/hc.h"

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
		       KVMBOX_EFBIG == EFBIG && KVMBOX_ETXTBSY == ETXTBSY &&
		       KVMBOX_EROFS == EROFS && KVMBOX_EBADF == EBADF && KVMBOX_ENOENT == ENOENT,
	       "host errno values pass through to the guest unchanged");

extern const struct vm_feature hc_files_feature;

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
	char **paths;   /* the path each open descriptor was opened with (a snapshot reopens it) */
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
	f->paths = calloc(max, sizeof(*f->paths));
	if (!f->chunk || !f->paths) {
		free(f->chunk);
		free(f->paths);
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
		free(f->paths);
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
		free(f->paths[i]);
		f->paths[i] = NULL;
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
	free(f->paths);
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
	/* The file the VM's memory is mapped from (a snapshot restored in place): a write
	 * would change guest memory behind KVM's back, a truncation would take it away, as
	 * for a running program's file (ETXTBSY). */
	if (fd == 0 && (flags & O_MODIFY) && mem_backed_by(&vm->mem, st.st_dev, st.st_ino))
		fd = -ETXTBSY;
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
	f->paths[slot] = strdup(path);
	if (!f->paths[slot]) {
		close(fd);
		f->fds[slot] = -1;
		return -KVMBOX_ENOSPC;
	}
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
	free(f->paths[gfd]);
	f->paths[gfd] = NULL;
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

/* ---- Snapshots ------------------------------------------------------------------------ */

/* What a snapshot keeps of the share: the totals (the VM's writes so far count against the
 * restoring config's caps) and each open descriptor: its number, access mode and O_APPEND,
 * offset and the path it was opened with. Layout (little-endian): u64 bytes_added, u32
 * files_created, u32 open count, then per descriptor u32 fd, u32 flags, u64 offset, u32
 * path length, the path (no NUL). */
static int files_save(struct kvmbox_vm *vm, void *state, struct snap_buf *out,
		      struct kvmbox_error *err)
{
	struct hc_files *f = state;
	uint32_t nopen = 0;

	(void)vm;
	if (!f)
		return 0;
	for (unsigned i = 0; i < f->max; i++)
		nopen += f->fds[i] >= 0;
	sbuf_u64(out, f->bytes_added);
	sbuf_u32(out, f->files_created);
	sbuf_u32(out, nopen);
	for (unsigned i = 0; i < f->max; i++) {
		off_t at;
		int fl;

		if (f->fds[i] < 0)
			continue;
		at = lseek(f->fds[i], 0, SEEK_CUR);
		fl = fcntl(f->fds[i], F_GETFL);
		if (at < 0 || fl < 0)
			return set_error(err, errno, "files: guest fd %u (%s): %s", i, f->paths[i],
					 strerror(errno));
		sbuf_u32(out, i);
		sbuf_u32(out, (uint32_t)fl & (O_ACCMODE_MASK | KVMBOX_O_APPEND));
		sbuf_u64(out, (uint64_t)at);
		sbuf_u32(out, (uint32_t)strlen(f->paths[i]));
		sbuf_put(out, f->paths[i], strlen(f->paths[i]));
	}
	return 0;
}

/* One descriptor of a snapshot, read and checked. */
struct saved_fd {
	uint32_t fd, flags;
	uint64_t offset;
	char path[KVMBOX_PATH_MAX];
};

static int read_saved_fd(struct snap_reader *r, struct saved_fd *s, struct kvmbox_error *err)
{
	uint32_t len;

	s->fd = srd_u32(r);
	s->flags = srd_u32(r);
	s->offset = srd_u64(r);
	len = srd_u32(r);
	if (r->bad || len == 0 || len >= sizeof(s->path) || !srd_get(r, s->path, len))
		return set_error(err, ENOEXEC, "corrupt: the files feature's state is cut short or "
				 "names a path of %u bytes", len);
	s->path[len] = 0;
	if (memchr(s->path, 0, len) || (s->flags & ~(uint32_t)(O_ACCMODE_MASK | KVMBOX_O_APPEND)) ||
	    (s->flags & O_ACCMODE_MASK) == O_ACCMODE_MASK || s->offset > INT64_MAX)
		return set_error(err, ENOEXEC, "corrupt: the files feature's guest fd %u has bad "
				 "flags, offset or path", s->fd);
	return 0;
}

/* Reopen what DATA names beneath the share this VM was given, at each offset. The snapshot
 * brings no share: a descriptor needs one, read-write where it was open for writing. */
static int files_restore(struct kvmbox_vm *vm, void *state, const uint8_t *data, size_t len,
			 struct kvmbox_error *err)
{
	struct snap_reader r = { .p = data, .len = len };
	struct hc_files *f = state;
	char shown[64];
	uint64_t bytes;
	uint32_t created, nopen;
	int ret;

	if (f)
		files_reset(vm, f);
	if (!len)
		return 0;
	bytes = srd_u64(&r);
	created = srd_u32(&r);
	nopen = srd_u32(&r);
	if (r.bad || nopen > FILES_LIMIT)
		return set_error(err, ENOEXEC, "corrupt: the files feature's state is cut short");
	if (f) {
		f->bytes_added = bytes;
		f->files_created = created;
	}
	for (uint32_t k = 0; k < nopen; k++) {
		struct saved_fd sv;
		int fd;

		ret = read_saved_fd(&r, &sv, err);
		if (ret < 0)
			return ret;
		text_printable(shown, sizeof(shown), sv.path);
		if (!f)
			return set_error(err, ENOENT, "the snapshot has share file %s open (guest fd %u), "
					 "and this VM has no share (--share DIR)", shown, sv.fd);
		if (sv.fd >= f->max || f->fds[sv.fd] >= 0)
			return set_error(err, sv.fd >= f->max ? EMFILE : ENOEXEC, "the snapshot's guest "
					 "fd %u (%s) is not below this VM's %u open files or comes twice",
					 sv.fd, shown, f->max);
		if (f->readonly && (sv.flags & O_MODIFY))
			return set_error(err, EROFS, "the snapshot has %s open for writing (guest fd %u) "
					 "and this VM's share is read-only", shown, sv.fd);
		fd = open_regular(vm, f, sv.path, sv.flags, 0);
		if (fd < 0)
			return set_error(err, -fd, "the snapshot's share file %s (guest fd %u) cannot be "
					 "reopened in this VM's share: %s", shown, sv.fd, strerror(-fd));
		f->fds[sv.fd] = fd;
		f->paths[sv.fd] = strdup(sv.path);
		if (!f->paths[sv.fd])
			return set_error(err, ENOMEM, "out of memory");
		if (lseek(fd, (off_t)sv.offset, SEEK_SET) < 0)
			return set_error(err, errno, "%s (guest fd %u): cannot seek to %llu: %s", shown,
					 sv.fd, (unsigned long long)sv.offset, strerror(errno));
	}
	if (!srd_done(&r))
		return set_error(err, ENOEXEC, "corrupt: the files feature's state has bytes left over");
	return 0;
}

/* "files: 120 bytes added, 1 file created\nfiles: fd 3 out.txt, for writing, at 120\n" */
static size_t files_describe(const uint8_t *data, size_t len, char *buf, size_t size)
{
	struct snap_reader r = { .p = data, .len = len };
	uint64_t bytes = srd_u64(&r);
	uint32_t created = srd_u32(&r), nopen = srd_u32(&r);
	size_t n = 0;

#define SAY(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
	if (r.bad || nopen > FILES_LIMIT)
		return (size_t)snprintf(buf, size, "files: (unreadable)\n");
	SAY("files: %llu bytes added to the share, %u files created, %u open\n",
	    (unsigned long long)bytes, created, nopen);
	for (uint32_t k = 0; k < nopen && n < size; k++) {
		struct saved_fd sv;
		char shown[80];

		if (read_saved_fd(&r, &sv, NULL) < 0) {
			SAY("files: (unreadable)\n");
			break;
		}
		SAY("files: fd %u %s, %s%s, at offset %llu\n", sv.fd,
		    text_printable(shown, sizeof(shown), sv.path),
		    (sv.flags & O_ACCMODE_MASK) == KVMBOX_O_RDONLY ? "read-only"
		    : (sv.flags & O_ACCMODE_MASK) == KVMBOX_O_WRONLY ? "write-only" : "read-write",
		    sv.flags & KVMBOX_O_APPEND ? " append" : "", (unsigned long long)sv.offset);
	}
#undef SAY
	return n < size ? n : size - 1;
}

int hc_files_create_sized(struct kvmbox_vm *vm, const char *path, uint64_t size, int *fdp)
{
	struct hc_files *f = vm_feature_state(vm, &hc_files_feature);
	int fd;

	if (!f)
		return NO_SHARE;
	if (f->readonly)
		return -KVMBOX_EROFS;
	if (size > f->size_max)
		return -KVMBOX_EFBIG;
	if (size > f->bytes_max || f->bytes_added > f->bytes_max - size)
		return -KVMBOX_EDQUOT;
	fd = open_regular(vm, f, path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fd;
	f->bytes_added += size;
	*fdp = fd;
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
	.save = files_save,
	.restore = files_restore,
	.describe = files_describe,
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
