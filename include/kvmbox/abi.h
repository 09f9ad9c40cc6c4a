/* kvmbox guest/host ABI: I/O ports, hypercall numbers and argument structs.
 * Shared verbatim by the host (src/) and the guest SDK (guest/); freestanding C, no libc.
 * docs/abi.md is the prose version of this file; keep them in step. */
#ifndef KVMBOX_ABI_H
#define KVMBOX_ABI_H

#include <stdint.h>

/* ABI version a guest can query with KVMBOX_HC_ABI_VERSION: major in bits 31..16, minor in 15..0.
 * A new call bumps the minor; a changed meaning or layout bumps the major. */
#define KVMBOX_ABI_MAJOR 1
#define KVMBOX_ABI_MINOR 1 /* 1: KVMBOX_HC_ARGS */
#define KVMBOX_ABI_VERSION ((KVMBOX_ABI_MAJOR << 16) | KVMBOX_ABI_MINOR)

/* Debug console: one byte per `outb` (the kvm-hello-world convention). */
#define KVMBOX_PORT_CONSOLE 0xE9

/* Exception reports: kvmbox's default exception handlers (docs/crash-reports.md) execute
 * `out %al, $KVMBOX_PORT_EXC` (an 8-bit port: the imm8 form clobbers no register). Only the
 * host's own handler stubs may use it; any other access is a fault. */
#define KVMBOX_PORT_EXC 0xEA

/* Hypercalls. Call number NR is port KVMBOX_PORT_HC_BASE + NR. The guest executes ONE
 * 32-bit `in eax, dx` with the argument in rbx (ebx outside long mode): either a value
 * or the guest-virtual address of an argument struct. The 32-bit result comes back in
 * eax: >= 0 on success, a negative Linux errno (KVMBOX_E*) on failure, except where a
 * call documents otherwise. Results wider than 32 bits are written into the struct. */
#define KVMBOX_PORT_HC_BASE 0x600
#define KVMBOX_HC_MAX 64 /* call numbers are 0 .. KVMBOX_HC_MAX-1 */

enum kvmbox_hc_nr {
	KVMBOX_HC_ABI_VERSION = 0,  /* arg: -;            ret: KVMBOX_ABI_VERSION */
	KVMBOX_HC_PRINT32 = 1,      /* arg: u32 value;    ret: 0. Prints "%u\n" */
	KVMBOX_HC_PRINTSTR = 2,     /* arg: gva of NUL-terminated string; ret: length */
	KVMBOX_HC_NUM_EXITS = 3,    /* arg: -;            ret: exits so far (low 32 bits), this one included */
	KVMBOX_HC_EXITS_BY_TYPE = 4, /* arg: gva of struct kvmbox_hc_buf; ret: length written */
	KVMBOX_HC_GVA_TO_HVA = 5,   /* arg: u32 gva;      ret: low 32 bits of the host address, 0 if invalid */
	KVMBOX_HC_GVA_TO_HVA64 = 6, /* arg: gva of struct kvmbox_hc_xlate; ret: 0 or -EFAULT */
	KVMBOX_HC_TIMESTAMP = 7,    /* arg: gva of struct kvmbox_hc_time; ret: 0 */
	KVMBOX_HC_EXIT = 8,         /* arg: i32 status;   does not return */
	KVMBOX_HC_ASSERT_FAIL = 9,  /* arg: gva of struct kvmbox_hc_assert; does not return */
	KVMBOX_HC_FILE_OPEN = 10,   /* arg: gva of struct kvmbox_hc_open; ret: guest fd */
	KVMBOX_HC_FILE_READ = 11,   /* arg: gva of struct kvmbox_hc_rw; ret: bytes read */
	KVMBOX_HC_FILE_WRITE = 12,  /* arg: gva of struct kvmbox_hc_rw; ret: bytes written */
	KVMBOX_HC_FILE_LSEEK = 13,  /* arg: gva of struct kvmbox_hc_lseek; ret: 0 */
	KVMBOX_HC_FILE_CLOSE = 14,  /* arg: guest fd;     ret: 0 */
	KVMBOX_HC_FILE_FSTAT = 15,  /* arg: gva of struct kvmbox_hc_fstat; ret: 0 */
	KVMBOX_HC_CHAN_SEND = 16,   /* arg: gva of struct kvmbox_hc_chan; ret: bytes sent */
	KVMBOX_HC_CHAN_RECV = 17,   /* arg: gva of struct kvmbox_hc_chan; ret: bytes received */
	KVMBOX_HC_ARGS = 18,        /* arg: gva of struct kvmbox_hc_args; ret: argc (ABI 1.1) */
	KVMBOX_HC_COUNT             /* one past the last call; a new call is added just above */
};

/* Errors returned in eax (negated): Linux x86 errno values, fixed here so guests need no libc. */
#define KVMBOX_EPERM 1
#define KVMBOX_ENOENT 2
#define KVMBOX_EIO 5
#define KVMBOX_EBADF 9
#define KVMBOX_EAGAIN 11
#define KVMBOX_EACCES 13
#define KVMBOX_EFAULT 14
#define KVMBOX_EEXIST 17
#define KVMBOX_EXDEV 18
#define KVMBOX_ENOTDIR 20
#define KVMBOX_EISDIR 21
#define KVMBOX_EINVAL 22
#define KVMBOX_EMFILE 24
#define KVMBOX_EFBIG 27  /* a write past the share's file-size cap */
#define KVMBOX_ENOSPC 28
#define KVMBOX_ESPIPE 29
#define KVMBOX_EROFS 30
#define KVMBOX_ERANGE 34
#define KVMBOX_ENAMETOOLONG 36
#define KVMBOX_ENOSYS 38
#define KVMBOX_ELOOP 40
#define KVMBOX_EDQUOT 122 /* the share's total: bytes added or files created */

/* Longest string a hypercall reads from the guest, terminating NUL included. */
#define KVMBOX_STR_MAX 4096
/* Longest path a file hypercall accepts, terminating NUL included. */
#define KVMBOX_PATH_MAX 256
/* Most bytes one read/write/printStr moves. */
#define KVMBOX_IO_MAX (1u << 20)

/* Every struct below has the same layout for -m16, -m32 and -m64 guests: 64-bit fields
 * sit at 8-byte offsets with explicit padding, and guest addresses are plain integers
 * (never pointers) so the host cannot dereference one by accident. */

/* KVMBOX_HC_EXITS_BY_TYPE: the host writes "IO in: X\nIO out: Y\n" + NUL into [addr, addr+len). */
struct kvmbox_hc_buf {
	uint64_t addr; /* gva of the buffer */
	uint32_t len;  /* its size in bytes */
	uint32_t pad;
};
_Static_assert(sizeof(struct kvmbox_hc_buf) == 16, "ABI layout");

struct kvmbox_hc_xlate {
	uint64_t gva; /* in */
	uint64_t hva; /* out: host virtual address, 0 if invalid */
};
_Static_assert(sizeof(struct kvmbox_hc_xlate) == 16, "ABI layout");

/* KVMBOX_HC_TIMESTAMP: CLOCK_MONOTONIC of the host, in nanoseconds. */
struct kvmbox_hc_time {
	uint64_t ns; /* out */
};
_Static_assert(sizeof(struct kvmbox_hc_time) == 8, "ABI layout");

struct kvmbox_hc_assert {
	uint64_t file; /* gva of the file name */
	uint64_t expr; /* gva of the failed expression text */
	uint32_t line;
	uint32_t pad;
};
_Static_assert(sizeof(struct kvmbox_hc_assert) == 24, "ABI layout");

/* Open flags: the Linux x86 values. Anything else is refused with -EINVAL. */
#define KVMBOX_O_RDONLY 00
#define KVMBOX_O_WRONLY 01
#define KVMBOX_O_RDWR 02
#define KVMBOX_O_CREAT 0100
#define KVMBOX_O_EXCL 0200
#define KVMBOX_O_TRUNC 01000
#define KVMBOX_O_APPEND 02000

struct kvmbox_hc_open {
	uint64_t path;  /* gva of a NUL-terminated path relative to the share */
	uint32_t flags; /* KVMBOX_O_* */
	uint32_t mode;  /* permission bits for O_CREAT (masked with 0777) */
};
_Static_assert(sizeof(struct kvmbox_hc_open) == 16, "ABI layout");

struct kvmbox_hc_rw {
	uint32_t fd;
	uint32_t pad;
	uint64_t buf; /* gva */
	uint64_t len;
};
_Static_assert(sizeof(struct kvmbox_hc_rw) == 24, "ABI layout");

#define KVMBOX_SEEK_SET 0
#define KVMBOX_SEEK_CUR 1
#define KVMBOX_SEEK_END 2

struct kvmbox_hc_lseek {
	uint32_t fd;
	uint32_t whence; /* KVMBOX_SEEK_* */
	int64_t offset;  /* in */
	int64_t result;  /* out: the new offset */
};
_Static_assert(sizeof(struct kvmbox_hc_lseek) == 24, "ABI layout");

struct kvmbox_stat {
	uint64_t size;
	uint32_t mode; /* Linux st_mode */
	uint32_t pad;
	uint64_t mtime_ns;
};
_Static_assert(sizeof(struct kvmbox_stat) == 24, "ABI layout");

struct kvmbox_hc_fstat {
	uint32_t fd;
	uint32_t pad;
	uint64_t stat; /* gva of a struct kvmbox_stat */
};
_Static_assert(sizeof(struct kvmbox_hc_fstat) == 16, "ABI layout");

/* Channels between VMs (several-VM runs). A channel is named by a small integer. */
struct kvmbox_hc_chan {
	uint32_t chan;
	uint32_t flags; /* KVMBOX_CHAN_NONBLOCK: fail with -EAGAIN instead of blocking */
	uint64_t buf;   /* gva */
	uint64_t len;
};
_Static_assert(sizeof(struct kvmbox_hc_chan) == 24, "ABI layout");
#define KVMBOX_CHAN_NONBLOCK 1u

/* KVMBOX_HC_ARGS: the guest's command-line arguments (`kvmbox run IMAGE -- ARG...`), which
 * the SDK's start code asks for before main(argc, argv). The host writes at buf a ready
 * argv: argc + 1 pointers of the guest's width (8 bytes in long mode, 4 in the others;
 * guest-virtual addresses, the last 0), then the argc strings, each with its NUL; it
 * returns argc (also written back into the struct), 0 when the VM has none (argv = {0}).
 * The guest needs no loop to use it (on hosts that emulate guest instructions every
 * instruction costs). A buffer too small is -KVMBOX_ERANGE (nothing written). The host
 * never gives more than KVMBOX_ARGC_MAX strings nor more than KVMBOX_ARGS_MAX bytes of
 * strings (NULs included), so a buffer of KVMBOX_ARGS_BUF_SIZE bytes, 8-byte aligned,
 * always suffices; a VM configured with more fails to create. */
#define KVMBOX_ARGC_MAX 32
#define KVMBOX_ARGS_MAX 1024
#define KVMBOX_ARGS_BUF_SIZE (8 * (KVMBOX_ARGC_MAX + 1) + KVMBOX_ARGS_MAX)
struct kvmbox_hc_args {
	uint64_t buf;  /* in: gva of the buffer */
	uint32_t size; /* in: its size in bytes */
	uint32_t argc; /* out: the number of strings written */
};
_Static_assert(sizeof(struct kvmbox_hc_args) == 16, "ABI layout");

/* ELF note that tells the loader which CPU mode an image wants (guest/start/ emits it).
 * Owner "kvmbox", type KVMBOX_NOTE_MODE, descriptor: one uint32_t, a KVMBOX_NOTE_MODE_* value.
 * It is how a 16-bit real-mode ELF32 image is told apart from a 32-bit one. */
#define KVMBOX_NOTE_NAME "kvmbox"
#define KVMBOX_NOTE_MODE 1
#define KVMBOX_NOTE_MODE_REAL 1
#define KVMBOX_NOTE_MODE_PROTECTED 2
#define KVMBOX_NOTE_MODE_PAGED32 3
#define KVMBOX_NOTE_MODE_LONG 4

/* ELF note that says whether the guest leaves page 0 (guest-physical and virtual 0-0xfff)
 * alone, so kvmbox may unmap it and a NULL pointer faults (docs/crash-reports.md).
 * Owner "kvmbox", type KVMBOX_NOTE_GUARD_NULL, descriptor: one uint32_t, 1 (guard page 0)
 * or 0 (the guest uses page 0, as the classic guests' word at 0x400 does). The SDK's start
 * code emits it with 1 unless the guest says KVMBOX_NO_GUARD_NULL. */
#define KVMBOX_NOTE_GUARD_NULL 2

#endif
