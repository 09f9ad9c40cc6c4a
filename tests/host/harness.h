/* Test harness shared by the host tests: run a built guest through the library with its
 * console captured, find built artefacts, and skip (with the reason) what the host lacks. */
#ifndef KVMBOX_TEST_HARNESS_H
#define KVMBOX_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "kvmbox/kvmbox.h"

#define OUT_MAX (1 << 16)

/* Built with AddressSanitizer (make check-asan): the process sandbox also allows what its
 * runtime calls (docs/security.md), so tests of exactly what it forbids skip there. */
#if defined(__SANITIZE_ADDRESS__)
#define HARNESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HARNESS_ASAN 1
#endif
#endif

struct guest_run {
	struct kvmbox_vm *vm;       /* kept for inspection; guest_run_free releases it */
	struct kvmbox_result res;
	const struct kvmbox_stats *st; /* the VM's counters (valid once the VM exists) */
	char out[OUT_MAX];          /* console output, NUL-terminated (truncated beyond) */
	size_t out_len;
	struct kvmbox_error err;
};

/* Console output captured through kvmbox_vm_config.console (capture_console, CTX a struct
 * out): NUL-terminated, truncated beyond OUT_MAX - 1 bytes. */
struct out {
	char buf[OUT_MAX];
	size_t len;
};
void capture_console(void *ctx, const char *buf, size_t len);

struct guest_spec {
	const char *path;           /* image file */
	enum kvmbox_mode mode;      /* VM mode (AUTO: from the image) */
	uint64_t mem;               /* 0: default */
	unsigned flags;             /* KVMBOX_VM_* */
	double timeout;             /* seconds; 0: 10 s safety net (a TIMEOUT then fails tests) */
	int flat;                   /* load as a flat binary at load_addr, entry load_addr */
	kvmbox_gpa_t load_addr;
	const char *share;
	int share_ro;
	unsigned max_open_files;    /* 0: the library's default */
	uint32_t coalesce_after;    /* kvmbox_vm_config.coalesce_after (0: the default) */
};

/* The whole of PATH in a malloc'ed buffer (size in *SIZE), or NULL when it cannot be read. */
uint8_t *read_whole_file(const char *path, size_t *size);

/* The build directory ($BUILD, default "build") joined with REL into a static buffer. */
const char *build_path(const char *rel);

/* "build/guests/PREFIX-MODE.elf" for a guest built for MODE. */
const char *guest_image(const char *prefix, enum kvmbox_mode mode);

/* Create, load and run SPEC. Fails the calling test (cmocka assertion) when the VM cannot be
 * created or loaded; every guest outcome is left in R for the test to check. */
void guest_run(struct guest_run *r, const struct guest_spec *spec);

/* guest_run in two steps, for tests that prepare guest memory between load and run:
 * guest_prepare creates and loads (R->vm ready); guest_start runs it with SPEC's timeout. */
void guest_prepare(struct guest_run *r, const struct guest_spec *spec);
void guest_start(struct guest_run *r, const struct guest_spec *spec);
void guest_run_free(struct guest_run *r);

/* Skip the current test, printing "SKIP: NAME: REASON" (tests/run.sh lists these), when this
 * host's KVM cannot run MODE. The answer is probed once per mode per process. */
void skip_unless_host_runs(enum kvmbox_mode mode);

/* Is this the real-KVM lane (KVMBOX_LANE=realkvm, set by mk/realkvm.mk)? */
int in_realkvm_lane(void);

/* Line number of the line after the first line of FILE containing MARKER, or -1. */
int marker_line(const char *file, const char *marker);

/* The four modes, in order, for table-driven tests. */
extern const enum kvmbox_mode all_modes[4];

/* Read FD to its end (or until BUF, MAX bytes, is full but for the NUL), NUL-terminate it
 * and close FD. For the outputs of commands a test runs. */
void read_all_fd(int fd, char *buf, size_t max);

/* A command a test ran: its exit status and its stdout and stderr, captured apart. */
struct cli {
	int status;
	char out[OUT_MAX], err[OUT_MAX];
};

/* Run ARGV (argv[0] looked up in PATH when it has no '/'); the command must exit normally. */
void run_command(struct cli *c, const char *const *argv);

/* Run build/kvmbox with the NULL-terminated ARGS (at most 46). */
void run_cli(struct cli *c, const char *const *args);
#define RUN(c, ...) run_cli((c), (const char *const[]){ __VA_ARGS__, NULL })

/* One cmocka test per CPU mode: FN runs four times, named FN/real ... FN/long, with
 * MODE(state) its mode; PER_MODE_WITH adds a setup and teardown for each. */
#define MODE(state) (*(const enum kvmbox_mode *)*(state))
#define PER_MODE_WITH(fn, setup, teardown)                                                    \
	{ #fn "/real", fn, setup, teardown, (void *)&all_modes[0] },                          \
	{ #fn "/protected", fn, setup, teardown, (void *)&all_modes[1] },                     \
	{ #fn "/paged32", fn, setup, teardown, (void *)&all_modes[2] },                       \
	{ #fn "/long", fn, setup, teardown, (void *)&all_modes[3] }
#define PER_MODE(fn) PER_MODE_WITH(fn, NULL, NULL)

#endif
