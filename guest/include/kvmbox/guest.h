/* kvmbox guest SDK: hypercalls (the CS695 HC_* names), console output and guest-side
 * assertions for freestanding guests in real, protected, paged32 and long mode.
 * Implemented in guest/lib/; see docs/sdk.md. Needs no libc. */
#ifndef KVMBOX_GUEST_H
#define KVMBOX_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvmbox/abi.h"
#include "kvmbox/io.h"
#include "kvmbox/note.h"

_Static_assert(KVMBOX_ASM_NOTE_MODE == KVMBOX_NOTE_MODE, "note.h out of step with abi.h");
_Static_assert(KVMBOX_ASM_NOTE_GUARD_NULL == KVMBOX_NOTE_GUARD_NULL, "note.h out of step with abi.h");
_Static_assert(KVMBOX_ASM_NOTE_EXPORT == KVMBOX_NOTE_EXPORT, "note.h out of step with abi.h");

/* The build (mk/guests.mk) passes -DKVMBOX_GUEST_MODE=N, a KVMBOX_NOTE_MODE_* value, so a
 * guest can pick mode-specific code with #if. */
#ifdef KVMBOX_GUEST_MODE
#if KVMBOX_GUEST_MODE < KVMBOX_NOTE_MODE_REAL || KVMBOX_GUEST_MODE > KVMBOX_NOTE_MODE_LONG
#error "KVMBOX_GUEST_MODE must be a KVMBOX_NOTE_MODE_* value (1..4)"
#endif
#endif

#define KVMBOX_NORETURN __attribute__((noreturn))
#define KVMBOX_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* The guest program is `int main(void)` or `int main(int argc, char **argv)`: the start
 * code calls it with the stack set up and argv[0..argc) the strings given to the VM
 * (`kvmbox run IMAGE -- ARG...`; argv[0] is the image; argv[argc] is NULL). Its return
 * value is the guest's status: 0 halts (eax = 0), any other value N ends the run with
 * HC_exit(N), so `kvmbox run` exits with N (docs/sdk.md, "main, its arguments and its
 * status"). */

/* Write `KVMBOX_NO_ARGS;` at file scope in a guest that takes no arguments and whose exit
 * counts are part of its contract (the classic hello and CS695 guests, benchmarks): the
 * start code then skips its KVMBOX_HC_ARGS call (one exit less) and main gets argc = 0,
 * argv = { NULL }. The choice is made at link time, not by a test at run time, because where
 * kernel-mode guest instructions are emulated each one costs (docs/performance.md): in long
 * mode the macro brings its own _start (overriding the SDK's weak one), two instructions to
 * main: argc is the host's zeroed RDI (docs/sdk.md, the entry state); in the 32-bit modes,
 * whose C convention passes arguments on the stack, it defines the kvmbox_start_main the
 * SDK's _start calls (overriding the SDK's weak one) as a jump to kvmbox_start_main_noargs. */
#if defined(__x86_64__)
#define KVMBOX_NO_ARGS_ENTRY                                                                \
	".section .text.start, \"ax\", @progbits\n"                                          \
	".globl _start\n"                                                                    \
	".type _start, @function\n"                                                          \
	"_start:\n"                                                                          \
	"	.reloc ., R_X86_64_NONE, __kvmbox_start64\n"                                 \
	"	movl $kvmbox_no_argv, %esi\n"                                                \
	"	call main\n"                                                                 \
	"	testl %eax, %eax\n"                                                          \
	"	jnz 2f\n"                                                                    \
	"1:	hlt\n"                                                                       \
	"	jmp 1b\n"                                                                    \
	"2:	movl %eax, %edi\n"                                                           \
	"	call HC_exit\n"                                                              \
	"	jmp 1b\n"                                                                    \
	".size _start, . - _start\n"
#else
#define KVMBOX_NO_ARGS_ENTRY                                                                \
	".section .text.kvmbox_start_main, \"ax\", @progbits\n"                              \
	".globl kvmbox_start_main\n"                                                         \
	".type kvmbox_start_main, @function\n"                                               \
	"kvmbox_start_main:\n"                                                               \
	"	jmp kvmbox_start_main_noargs\n"                                              \
	".size kvmbox_start_main, . - kvmbox_start_main\n"
#endif
#define KVMBOX_NO_ARGS                                                                      \
	__asm__(".pushsection .text\n" KVMBOX_NO_ARGS_ENTRY ".popsection");                    \
	extern const char kvmbox_no_args

/* An SDK image asks kvmbox for the NULL guard: page 0 (addresses 0-0xfff) is unmapped, so a
 * NULL pointer dereference faults and is reported with its source line (protected mode: page
 * 0 is left out of guest memory; real mode has no guard, its interrupt vector table is at 0;
 * docs/crash-reports.md). Write `KVMBOX_NO_GUARD_NULL;` at file scope in a guest that uses
 * page 0 itself, as the classic guests' 42 at 0x400 does. */
#define KVMBOX_NO_GUARD_NULL                                    \
	__asm__(".globl __kvmbox_guard_null\n\t"              \
		".set __kvmbox_guard_null, 0")

/* Halt with eax = EAX and stay halted: the classic kvm-hello-world ending (`mov $42, %eax;
 * hlt`), which kvmbox reports as status 0 whatever EAX is; the built-in hello's check reads
 * EAX. Never returns. */
static inline KVMBOX_NORETURN void kvmbox_halt(uint32_t eax)
{
	for (;;)
		__asm__ volatile("hlt" : : "a"(eax) : "memory");
}

/* ---- Raw hypercall ------------------------------------------------------------------ */

/* Hypercall NR (enum kvmbox_hc_nr) with ARG (a value, or the address of an argument struct;
 * addresses are identity-mapped, so a pointer cast to uintptr_t is the gva). Exactly one
 * 32-bit `in` from port KVMBOX_PORT_HC_BASE + NR, ARG in ebx/rbx, result in eax: >= 0 on
 * success, -KVMBOX_E* on failure. The "memory" clobber makes the compiler write argument
 * structs before the call and re-read buffers the host filled after it. */
static inline int32_t kvmbox_hypercall(uint32_t nr, uintptr_t arg)
{
	int32_t ret;

	__asm__ volatile("inl %w1, %0"
			 : "=a"(ret)
			 : "d"((uint16_t)(KVMBOX_PORT_HC_BASE + nr)), "b"(arg)
			 : "memory");
	return ret;
}

/* A guest pointer as the u64 gva ABI structs carry. */
static inline uint64_t kvmbox_gva(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* A pointer to the fixed guest address ADDR (e.g. 0x400). The empty asm hides the constant
 * from the optimizer, which otherwise (gcc >= 12, -Warray-bounds) takes a store to a small
 * constant address for a null-pointer dereference. */
static inline void *kvmbox_ptr(uintptr_t addr)
{
	__asm__("" : "+r"(addr));
	return (void *)addr;
}

/* ---- Console and statistics (CS695 names) ------------------------------------------- */

/* One byte to the debug console (outb to port 0xE9; not a hypercall). */
void HC_print8bit(uint8_t val);
/* VAL in decimal and one newline, in one exit. */
void HC_print32bit(uint32_t val);
/* The NUL-terminated string STR, no newline added, in one exit (at most KVMBOX_STR_MAX-1 bytes). */
void HC_printStr(const char *str);
/* Number of exits of this VM so far, this call's own exit included. */
uint32_t HC_numExits(void);
/* A fresh guest string "IO in: X\nIO out: Y\n" with the counts of I/O exits by direction.
 * Every call returns a new buffer (from a static pool of 64 buffers of 64 bytes; never
 * freed), so results of two calls never alias. Returns NULL once the pool is used up; on a
 * hypercall error the buffer holds "" . */
char *HC_numExitsByType(void);
/* Low 32 bits of the host virtual address backing GVA; 0 (and "Invalid GVA" on the console)
 * when GVA is unmapped or beyond guest memory. */
uint32_t HC_gvaToHva(uint32_t gva);
/* The full 64-bit host virtual address backing GVA, 0 when invalid. */
uint64_t HC_gvaToHva64(uint64_t gva);
/* Host CLOCK_MONOTONIC in nanoseconds. */
uint64_t HC_getTimestamp(void);
/* End the run with STATUS (the host reports KVMBOX_STOP_EXIT). Never returns. */
KVMBOX_NORETURN void HC_exit(int status);
/* KVMBOX_ABI_VERSION of the host: major << 16 | minor. */
uint32_t HC_abiVersion(void);

/* Older assignment names. */
static inline void HC_printVal(uint32_t val) { HC_print32bit(val); }
static inline uint32_t HC_getNumExits(void) { return HC_numExits(); }
static inline void HC_display(const char *str) { HC_printStr(str); }

/* ---- Errors --------------------------------------------------------------------------- */

/* The text for ERR, a hypercall's result: "no such file or directory" for -KVMBOX_ENOENT,
 * and so on for every -KVMBOX_E* of include/kvmbox/abi.h (the C library's strerror wording
 * in lower case; -KVMBOX_EXDEV reads "path leaves the share", its meaning in kvmbox).
 * "success" for ERR >= 0, "unknown error" for any other negative number. The string is
 * static and constant; never NULL. */
const char *errstr(int err);

/* ---- Files in the host's share directory (Linux semantics) ------------------------------ */

/* PATH is relative to the share; FLAGS are KVMBOX_O_*; MODE is used with KVMBOX_O_CREAT.
 * Each returns what the Linux call would, with -KVMBOX_E* instead of -1/errno. */
int HC_open(const char *path, int flags, int mode);
long HC_read(int fd, void *buf, size_t len);
long HC_write(int fd, const void *buf, size_t len);
/* The new offset, or -KVMBOX_E*. */
long long HC_lseek(int fd, long long off, int whence);
int HC_close(int fd);
int HC_fstat(int fd, struct kvmbox_stat *st);

/* ---- Channels between VMs ---------------------------------------------------------------- */

/* Send/receive up to LEN bytes on channel CHAN; blocks until the peer is ready. Returns the
 * byte count or -KVMBOX_E*. */
long HC_chanSend(uint32_t chan, const void *buf, size_t len);
long HC_chanRecv(uint32_t chan, void *buf, size_t len);
/* The same with KVMBOX_CHAN_* FLAGS (KVMBOX_CHAN_NONBLOCK: -KVMBOX_EAGAIN instead of blocking). */
long kvmbox_chan_send(uint32_t chan, const void *buf, size_t len, uint32_t flags);
long kvmbox_chan_recv(uint32_t chan, void *buf, size_t len, uint32_t flags);

/* ---- Calls from the host, calls to the host (docs/abi.md, "Calls") ---------------------------- */

/* Make the function FN callable from the host by its name (kvmbox_vm_call, `kvmbox call IMAGE
 * FN`): write `KVMBOX_EXPORT(fn);` at file scope after FN's declaration. It emits a kvmbox
 * export note (KVMBOX_NOTE_EXPORT: FN's address and name), which the linker script keeps and
 * which keeps FN itself under --gc-sections, static or not. The host enters FN with its
 * integer or pointer arguments in the mode's C convention (System V registers in long mode,
 * 4-byte stack slots in the others: every argument is one `long`), a fresh stack and a return
 * address that ends the call; FN returns an integer (`long`, or narrower). At most
 * KVMBOX_EXPORTS_MAX exports an image; a name is at most KVMBOX_EXPORT_NAME_MAX bytes. */
#define KVMBOX_EXPORT_STR_(x) #x
#define KVMBOX_EXPORT_XSTR_(x) KVMBOX_EXPORT_STR_(x)
#if defined(__x86_64__)
#define KVMBOX_EXPORT_ADDR_(fn) ".quad " #fn "\n"
#else
#define KVMBOX_EXPORT_ADDR_(fn) ".long " #fn ", 0\n"
#endif
#define KVMBOX_EXPORT(fn)                                                                     \
	__asm__(".pushsection .note.kvmbox, \"a\", @note\n"                                   \
		".balign 4\n"                                                                 \
		".long 7\n"                                                                   \
		".long 8579f - 8578f\n"                                                       \
		".long " KVMBOX_EXPORT_XSTR_(KVMBOX_ASM_NOTE_EXPORT) "\n"                     \
		".asciz \"kvmbox\"\n"                                                         \
		".balign 4\n"                                                                 \
		"8578:\n" KVMBOX_EXPORT_ADDR_(fn)                                             \
		".asciz \"" #fn "\"\n"                                                         \
		"8579:\n"                                                                     \
		".balign 4\n"                                                                 \
		".popsection");                                                               \
	/* The address taken in C: a static FN is emitted, under its own name, for the note. */ \
	static void *const kvmbox_export_ref_##fn                                             \
		__attribute__((used, section(".note.kvmbox.ref"))) = (void *)fn;               \
	_Static_assert(sizeof(#fn) <= KVMBOX_EXPORT_NAME_MAX + 1, "KVMBOX_EXPORT: name too long")

/* Call the host function the embedder registered as NAME (kvmbox_vm_host_fn) with NARGS
 * integer arguments ARGS[0..NARGS) (a buffer: its address and its length, as two arguments),
 * in one exit. Returns 0 with *RET (may be NULL) set to the host function's result,
 * -KVMBOX_ENOENT when the host has no function of that name, -KVMBOX_EINVAL for more than
 * KVMBOX_HOST_CALL_ARGS_MAX arguments or a name longer than KVMBOX_HOST_FN_NAME_MAX bytes. */
int kvmbox_host_call(const char *name, const uint64_t *args, unsigned nargs, int64_t *ret);

/* ---- Snapshots (docs/snapshot.md) -------------------------------------------------------- */

/* Save this VM, as it is at this call, into PATH, a new file in the share (an existing one is
 * -KVMBOX_EEXIST: a snapshot may back running VMs), or with "" (or NULL) into the file the
 * host named (`kvmbox run --save FILE`). Like fork(): returns 0 here once the snapshot is
 * written, and 1 in every VM later restored from it; -KVMBOX_E* when there is no snapshot
 * (no share: -EPERM; no file named: -ENOENT; the share's caps: -EFBIG, -EDQUOT ...). */
int HC_snapshot(const char *path);
/* 0 in a VM started from its image; a new random non-zero number in each VM restored from a
 * snapshot or forked, different from the one it was saved with: reseed or rename with it. */
uint64_t HC_generation(void);

/* ---- Console helpers: formatting in the guest, bytes on port 0xE9 ------------------------ */

/* One byte: one outb on port 0xE9. */
void console_putc(char c);

/* LEN bytes from BUF with one `rep outsb` on port 0xE9: still one byte-sized port write per
 * byte (the host's coalesced-PIO ring takes each), but one instruction for the guest to run
 * instead of a loop of several per byte. Where KVM emulates the guest's instructions (the
 * kvm_pvm host, docs/performance.md), every instruction saved is about 0.75 us. */
static inline void console_write(const char *buf, size_t len)
{
	__asm__ volatile("rep outsb"
			 : "+S"(buf), "+c"(len)
			 : "d"((uint16_t)KVMBOX_PORT_CONSOLE)
			 : "memory");
}

/* The NUL-terminated string S. For a string literal the compiler folds the length, so the
 * whole string is a single `rep outsb`. */
static inline void console_puts(const char *s)
{
	console_write(s, __builtin_strlen(s));
}
/* Decimal. */
void console_put_u32(uint32_t v);
void console_put_u64(uint64_t v);
void console_put_i64(int64_t v);
/* "0x" and lowercase hex digits, no leading zeros. */
void console_put_hex(uint64_t v);
/* A small printf: %c %s %d %i %u %x %p %% with the modifiers l, ll, z and a field width
 * with optional '0' flag. Returns the number of bytes written. */
int console_printf(const char *fmt, ...) KVMBOX_PRINTF(1, 2);

/* Format into BUF (always NUL-terminated when SIZE > 0), like C99 snprintf but with the
 * conversions of console_printf. Returns the length the full output would have. All
 * arithmetic is 32-bit (no libgcc needed for -m16/-m32). */
int kvmbox_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int kvmbox_snprintf(char *buf, size_t size, const char *fmt, ...) KVMBOX_PRINTF(3, 4);

/* ---- Guest-side assertions (cf. Linux KVM selftests GUEST_ASSERT / ucall) ---------------- */

/* Report a failed assertion to the host with KVMBOX_HC_ASSERT_FAIL (struct kvmbox_hc_assert:
 * FILE, EXPR, LINE) and never return; the host stops the VM with KVMBOX_STOP_ASSERT and the
 * guest's "file:line". */
KVMBOX_NORETURN void kvmbox_assert_fail(const char *file, uint32_t line, const char *expr);
/* The same for GUEST_ASSERT_EQ: EXPR becomes "<a> == <b> (<va> != <vb>)". */
KVMBOX_NORETURN void kvmbox_assert_eq_fail(const char *file, uint32_t line, const char *expr,
					   int64_t a, int64_t b);

/* Fail the test with this file and line when COND is false. */
#define GUEST_ASSERT(cond)                                                   \
	do {                                                                 \
		if (!(cond))                                                 \
			kvmbox_assert_fail(__FILE__, __LINE__, #cond);       \
	} while (0)

/* Fail when the integers A and B differ; both are evaluated once and compared as int64_t
 * (integers only: a pointer does not convert to int64_t in 32-bit guests). The report's
 * expression text carries both values, e.g. "1 + 1 == 3 (2 != 3)". */
#define GUEST_ASSERT_EQ(a, b)                                                         \
	do {                                                                          \
		int64_t kvmbox_a_ = (int64_t)(a), kvmbox_b_ = (int64_t)(b);           \
		if (kvmbox_a_ != kvmbox_b_)                                           \
			kvmbox_assert_eq_fail(__FILE__, __LINE__, #a " == " #b,       \
					      kvmbox_a_, kvmbox_b_);                  \
	} while (0)

/* ---- Freestanding string library (guest/lib/string.c) ------------------------------------ */

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
