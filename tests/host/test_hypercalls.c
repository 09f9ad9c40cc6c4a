/* Hypercall tests: every call in every CPU mode this host runs, with the guest's source in
 * tests/guests/hc_*.c (or examples/cs695.c) and the host's checks here, side by side: the
 * classic CS695 sequence, malformed calls and --strict, a fuzzer, and the file calls with
 * their sandbox (copy, limits, read-only, no share, malformed calls, escape attempts). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include "kvmbox/abi.h"
#include "harness.h"
#include "../guests/hc_test.h"

extern char **environ;

/* ---- Running a guest with the memory it expects ------------------------------------- */

struct hrun_spec {
	const char *image;        /* "cs695" for build/guests/cs695-MODE.elf, "test-hc_bad" ... */
	enum kvmbox_mode mode;
	unsigned flags;           /* KVMBOX_VM_* */
	const char *share;
	bool share_ro;
	unsigned max_open_files;
	uint32_t case_nr;         /* written at HCT_CASE_ADDR before the run */
};

/* Create a VM for SPEC, load its image, fill the tail of guest memory with HCT_TAIL_BYTE and
 * HCT_CASE_ADDR with the case, run it (10 s safety deadline), and check the invariants every
 * run must keep: the counters add up and no refused call wrote into the tail. */
static void hrun(struct guest_run *r, const struct hrun_spec *s)
{
	struct guest_spec g = {
		.path = guest_image(s->image, s->mode), .mode = s->mode, .flags = s->flags,
		.share = s->share, .share_ro = s->share_ro, .max_open_files = s->max_open_files,
	};
	uint8_t tail[HCT_TAIL_LEN], back[HCT_TAIL_LEN];
	uint64_t sum = 0;

	guest_prepare(r, &g);
	assert_int_equal(kvmbox_vm_mem_size(r->vm), HCT_MEM_END);
	memset(tail, HCT_TAIL_BYTE, sizeof(tail));
	assert_int_equal(kvmbox_vm_write(r->vm, HCT_TAIL, tail, sizeof(tail)), 0);
	assert_int_equal(kvmbox_vm_write(r->vm, HCT_CASE_ADDR, &s->case_nr, sizeof(s->case_nr)), 0);
	guest_start(r, &g);

	/* Invariants of every run. */
	for (unsigned i = 0; i < KVMBOX_EXIT_REASONS; i++)
		sum += r->st->by_reason[i];
	assert_int_equal(r->st->exits, sum);
	assert_int_equal(r->st->io_in + r->st->io_out, r->st->by_reason[KVM_EXIT_IO]);
	assert_int_equal(kvmbox_vm_read(r->vm, HCT_TAIL, back, sizeof(back)), 0);
	assert_memory_equal(back, tail, sizeof(tail));
}

/* The run ended with HC_exit(STATUS). */
static void assert_exit(const struct guest_run *r, int status)
{
	if (r->res.stop != KVMBOX_STOP_EXIT)
		fail_msg("expected HC_exit(%d), got stop %d: %s", status, r->res.stop, r->res.msg);
	assert_int_equal(r->res.status, status);
}

/* Every I/O exit of the run was a hypercall-port access (the guest printed nothing through
 * port 0xE9 exits), and each counts exactly once: served or bad. */
static void assert_all_io_was_hypercalls(const struct guest_run *r)
{
	assert_int_equal(r->st->hypercalls + r->st->bad_calls, r->st->by_reason[KVM_EXIT_IO]);
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- Host files: a temporary share inside a parent we can watch ---------------------- */

struct share {
	char parent[64];  /* P: mkdtemp */
	char dir[96];     /* P/share: the share */
};

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	assert_true(n > 0 && (size_t)n < size);
}

static void put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char p[256];
	FILE *f;

	path_in(p, sizeof(p), dir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_link(const char *dir, const char *name, const char *target)
{
	char p[256];

	path_in(p, sizeof(p), dir, name);
	assert_int_equal(symlink(target, p), 0);
}

/* Contents of DIR/NAME (malloc'ed, NULL when absent), size in *LEN. */
static uint8_t *get_file(const char *dir, const char *name, size_t *len)
{
	char p[256];

	path_in(p, sizeof(p), dir, name);
	return read_whole_file(p, len);
}

#define SRC_SIZE 100003u
static uint8_t src_bytes[SRC_SIZE];
static const char secret[] = "SECRET-7f3a: outside the share\n";

/* P/secret.txt, P/share/src.bin (SRC_SIZE pseudo-random bytes), P/share/sub/inner.txt. */
static void share_make(struct share *s)
{
	char p[256];
	uint32_t x = 12345;

	snprintf(s->parent, sizeof(s->parent), "/tmp/kvmbox-hc-XXXXXX");
	assert_non_null(mkdtemp(s->parent));
	snprintf(s->dir, sizeof(s->dir), "%s/share", s->parent);
	assert_int_equal(mkdir(s->dir, 0700), 0);
	for (size_t i = 0; i < SRC_SIZE; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		src_bytes[i] = (uint8_t)x;
	}
	put_file(s->parent, "secret.txt", secret, strlen(secret));
	put_file(s->dir, "src.bin", src_bytes, SRC_SIZE);
	path_in(p, sizeof(p), s->dir, "sub");
	assert_int_equal(mkdir(p, 0700), 0);
	put_file(p, "inner.txt", "inner\n", 6);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void share_remove(struct share *s)
{
	nftw(s->parent, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Every entry but "..", which is /tmp and changes with everything else running. */
static int not_dotdot(const struct dirent *d)
{
	return strcmp(d->d_name, "..") != 0;
}

/* One line per entry of DIR (name, type, size, mtime; "." included, whose mtime changes when
 * anything is created in or removed from DIR), sorted, into BUF: what must not change. */
static void listing(const char *dir, char *buf, size_t size)
{
	struct dirent **names;
	size_t off = 0;
	int n = scandir(dir, &names, not_dotdot, alphasort);

	assert_true(n >= 0);
	buf[0] = 0;
	for (int i = 0; i < n; i++) {
		char p[512];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", dir, names[i]->d_name);
		assert_int_equal(lstat(p, &st), 0);
		off += (size_t)snprintf(buf + off, size - off, "%s %o %lld %lld.%09ld\n", names[i]->d_name,
					st.st_mode, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
					st.st_mtim.tv_nsec);
		assert_true(off < size);
		free(names[i]);
	}
	free(names);
}

static int open_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- The classic CS695 guest ------------------------------------------------------------ */

/* examples/cs695.c. Every number it prints is predicted from the sequence: with O console
 * bytes that were real exits (0 with coalesced PIO, 11 without), a = O+3, b = O+5,
 * numExitsByType sees 8 and then 13 IN exits, and the run ends after O+16 exits. */
static void cs695_checks(enum kvmbox_mode mode, unsigned flags)
{
	struct guest_run r;
	struct hrun_spec s = { .image = "cs695", .mode = mode, .flags = flags };
	char want[512];
	unsigned long long o, a, b;
	unsigned long hva;
	uint32_t at400 = 0;
	int n;

	skip_unless_host_runs(mode);
	hrun(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_HALT);
	assert_int_equal(kvmbox_vm_regs(r.vm)->rax & 0xffffffff, 42);
	assert_int_equal(kvmbox_vm_read(r.vm, 0x400, &at400, sizeof(at400)), 0);
	assert_int_equal(at400, 42);

	o = r.st->io_out;
	assert_int_equal(o + r.st->coalesced_bytes, 11);
	if (flags & KVMBOX_VM_NO_COALESCE)
		assert_int_equal(o, 11);
	assert_int_equal(r.st->io_in, 15);
	assert_int_equal(r.st->hypercalls, 15);
	assert_int_equal(r.st->bad_calls, 0);
	assert_int_equal(r.st->by_reason[KVM_EXIT_HLT], 1);
	assert_int_equal(r.st->exits, o + 16);

	/* The HVA line is the host's; everything else is predicted exactly. */
	n = sscanf(r.out, "Hello 695!\n2048\n4294967295\nCS695 Assignment 2\n%llu\n%llu\n%lu\n", &a, &b, &hva);
	assert_int_equal(n, 3);
	assert_int_equal(a, o + 3);
	assert_int_equal(b - a, 2);
	assert_int_equal(hva & 0xfff, 1024 & 0xfff); /* guest memory is page-aligned on the host */
	snprintf(want, sizeof(want),
		 "Hello 695!\n2048\n4294967295\nCS695 Assignment 2\n%llu\n%llu\n%lu\n"
		 "Invalid GVA\n0\n"
		 "IO in: 8\nIO out: %llu\n"
		 "IO in: 13\nIO out: %llu\n",
		 a, b, hva, o, o);
	assert_string_equal(r.out, want);
	guest_run_free(&r);
}

static void test_cs695(void **state)
{
	cs695_checks(MODE(state), 0);
}

/* The same sequence when every console byte is a full exit: "IO out" becomes 11. */
static void test_cs695_every_byte_an_exit(void **state)
{
	cs695_checks(MODE(state), KVMBOX_VM_NO_COALESCE);
}

/* ---- Console and statistics calls ---------------------------------------------------------- */

/* tests/guests/hc_basic.c: every console/statistics call succeeds, each in one exit. */
static void test_basic_calls(void **state)
{
	struct guest_run r;
	struct hrun_spec s = { .image = "test-hc_basic", .mode = MODE(state) };

	skip_unless_host_runs(MODE(state));
	hrun(&r, &s);
	assert_exit(&r, 7);
	assert_string_equal(r.out, "2048\nstr\n");
	assert_int_equal(r.st->bad_calls, 0);
	assert_all_io_was_hypercalls(&r);
	/* One exit per call: 12 calls, the last one HC_exit. */
	assert_int_equal(r.st->hypercalls, 12);
	assert_int_equal(r.st->exits, 12);
	guest_run_free(&r);
}

/* tests/guests/hc_bad.c: bad pointers, lengths, unterminated strings, unknown numbers and
 * wrong widths/directions come back as errors, each counted once as a bad call; nothing of
 * a refused call reaches the console or guest memory (the tail check in hrun). */
static void test_bad_calls(void **state)
{
	struct guest_run r;
	struct hrun_spec s = { .image = "test-hc_bad", .mode = MODE(state) };
	char xs[KVMBOX_STR_MAX];

	skip_unless_host_runs(MODE(state));
	hrun(&r, &s);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("%s", r.res.msg);
	assert_int_equal((uint64_t)r.res.status, r.st->bad_calls);
	/* 10 refused pointers/lengths (+2 in long mode), the unknown numbers, 5 bad widths. */
	assert_int_equal(r.st->bad_calls,
			 10 + HCT_UNKNOWN_COUNT + 5 + (MODE(state) == KVMBOX_MODE_LONG ? 2 : 0));
	assert_all_io_was_hypercalls(&r);
	/* The longest string that fits was printed whole, the refused ones not at all. */
	memset(xs, 'x', sizeof(xs) - 1);
	xs[sizeof(xs) - 1] = 0;
	assert_int_equal(count_str(r.out, xs), 1);
	assert_null(strstr(r.out, "AAAA"));
	assert_int_equal(count_str(r.out, "Invalid GVA\n"), 3);
	guest_run_free(&r);
}

/* ---- --strict ------------------------------------------------------------------------------ */

struct strict_case {
	enum kvmbox_mode mode;
	enum hct_strict_case which;
	const char *why; /* in the stop message */
};

#define STRICT_CASES(m)                                                             \
	{ m, HCT_STRICT_BAD_POINTER, "printStr(0xfffff000): bad address" },         \
	{ m, HCT_STRICT_UNKNOWN_NR, "hypercall 63: no such call" },                 \
	{ m, HCT_STRICT_OUTB, "hypercall 1: an OUT" },                              \
	{ m, HCT_STRICT_INW, "hypercall 3: 1 x 2-byte IN" }
static const struct strict_case strict_cases[] = {
	STRICT_CASES(KVMBOX_MODE_REAL), STRICT_CASES(KVMBOX_MODE_PROTECTED),
	STRICT_CASES(KVMBOX_MODE_PAGED32), STRICT_CASES(KVMBOX_MODE_LONG),
};

/* tests/guests/hc_strict.c without --strict: the bad call returns its error, the guest goes on. */
static void test_bad_call_returns(void **state)
{
	const struct strict_case *c = *state;
	struct guest_run r;
	struct hrun_spec s = { .image = "test-hc_strict", .mode = c->mode, .case_nr = c->which };

	skip_unless_host_runs(c->mode);
	hrun(&r, &s);
	if (r.res.stop != KVMBOX_STOP_HALT)
		fail_msg("%s", r.res.msg);
	assert_string_equal(r.out, "before\nafter\n");
	assert_int_equal(r.st->bad_calls, 1);
	assert_all_io_was_hypercalls(&r);
	guest_run_free(&r);
}

/* The same with --strict: the VM stops at the bad call, saying which and why. */
static void test_strict_stops(void **state)
{
	const struct strict_case *c = *state;
	struct guest_run r;
	struct hrun_spec s = { .image = "test-hc_strict", .mode = c->mode, .case_nr = c->which,
			       .flags = KVMBOX_VM_STRICT };

	skip_unless_host_runs(c->mode);
	hrun(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_BAD_CALL);
	assert_int_equal(r.res.exit_reason, KVM_EXIT_IO);
	printf("strict: %s\n", r.res.msg);
	assert_non_null(strstr(r.res.msg, "bad hypercall (--strict): "));
	assert_non_null(strstr(r.res.msg, c->why));
	assert_string_equal(r.out, "before\n");
	assert_int_equal(r.st->bad_calls, 1);
	/* A stopped VM stays stopped. */
	assert_int_equal(kvmbox_vm_run(r.vm, NULL, &r.res), -ESRCH);
	guest_run_free(&r);
}

/* ---- Fuzzing -------------------------------------------------------------------------------- */

/* tests/guests/hc_fuzz.c: 5000 random calls (numbers, widths, directions, arguments) against a
 * writable share. The host survives, the guest halts normally, every access is counted once,
 * and nothing outside the share changed. */
static void test_fuzz(void **state)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_fuzz", .mode = MODE(state) };
	char before[4096], after[4096];
	uint32_t res[3];
	size_t len = 0;
	uint8_t *data;

	skip_unless_host_runs(MODE(state));
	share_make(&sh);
	s.share = sh.dir;
	put_link(sh.dir, "to-parent", "..");
	listing(sh.parent, before, sizeof(before));
	hrun(&r, &s);
	if (r.res.stop != KVMBOX_STOP_HALT)
		fail_msg("fuzz guest: %s", r.res.msg);
	assert_int_equal(kvmbox_vm_regs(r.vm)->rax & 0xffffffff, 0);
	assert_int_equal(kvmbox_vm_read(r.vm, HCT_RESULT_ADDR, res, sizeof(res)), 0);
	printf("fuzz %s: %u accesses (%u in, %u out): %" PRIu64 " served, %" PRIu64 " bad\n",
	       kvmbox_mode_name(MODE(state)), res[0], res[1], res[2], r.st->hypercalls, r.st->bad_calls);
	assert_int_equal(res[0], 5001);
	assert_int_equal(res[1] + res[2], res[0]);
	assert_int_equal(r.st->io_in, res[1]);
	assert_int_equal(r.st->io_out, res[2]);
	assert_int_equal(r.st->by_reason[KVM_EXIT_IO], res[0]);
	assert_all_io_was_hypercalls(&r);
	assert_int_equal(r.st->by_reason[KVM_EXIT_HLT], 1);
	assert_int_equal(r.st->exits, res[0] + 1);
	/* Both kinds in bulk (OUTs and wrong widths alone are 3 in 8). */
	assert_true(r.st->bad_calls > 2000);
	assert_true(r.st->hypercalls > 500);
	guest_run_free(&r);
	listing(sh.parent, after, sizeof(after));
	/* The share's own entry may change (the fuzzer may create fuzz.txt); nothing else. */
	*strstr(before, "share ") = 0;
	*strstr(after, "share ") = 0;
	assert_string_equal(before, after);
	data = get_file(sh.parent, "secret.txt", &len);
	assert_non_null(data);
	assert_int_equal(len, strlen(secret));
	free(data);
	share_remove(&sh);
}

/* ---- Files ------------------------------------------------------------------------------------ */

/* tests/guests/hc_files.c copies src.bin twice, appends to log.txt, uses in-share links. */
static void test_files_copy(void **state)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_files", .mode = MODE(state) };
	size_t len = 0;
	uint8_t *data;

	skip_unless_host_runs(MODE(state));
	share_make(&sh);
	put_link(sh.dir, "link-inside", "sub/inner.txt");
	s.share = sh.dir;
	hrun(&r, &s);
	assert_exit(&r, 1);
	assert_int_equal(r.st->bad_calls, 1);
	assert_all_io_was_hypercalls(&r);
	guest_run_free(&r);

	data = get_file(sh.dir, "copy.bin", &len);
	assert_non_null(data);
	assert_int_equal(len, SRC_SIZE);
	assert_memory_equal(data, src_bytes, SRC_SIZE);
	free(data);
	data = get_file(sh.dir, "copy2.bin", &len);
	if (MODE(state) == KVMBOX_MODE_REAL) {
		assert_null(data);
	} else {
		assert_non_null(data);
		assert_int_equal(len, SRC_SIZE);
		assert_memory_equal(data, src_bytes, SRC_SIZE);
		free(data);
	}
	data = get_file(sh.dir, "log.txt", &len);
	assert_non_null(data);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "abcd", 4);
	free(data);
	share_remove(&sh);
}

/* tests/guests/hc_files_limit.c: the per-VM limit (default 16, or as configured) gives
 * -EMFILE, and destroying the VM closes every host fd its guest opened. */
static void files_limit(enum kvmbox_mode mode, unsigned max, int expect)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_files_limit", .mode = mode, .max_open_files = max };
	char p[256];
	struct stat st;
	int fds;

	skip_unless_host_runs(mode);
	share_make(&sh);
	s.share = sh.dir;
	fds = open_fd_count();
	hrun(&r, &s);
	assert_exit(&r, expect);
	assert_int_equal(r.st->bad_calls, 0);
	guest_run_free(&r);
	assert_int_equal(open_fd_count(), fds);
	path_in(p, sizeof(p), sh.dir, "new.txt");
	assert_int_equal(stat(p, &st), -1);
	share_remove(&sh);
}

static void test_files_limit_default(void **state)
{
	files_limit(MODE(state), 0, 16);
}

static void test_files_limit_configured(void **state)
{
	files_limit(MODE(state), 3, 3);
}

/* Guest files still open at the end are closed by kvmbox_vm_destroy. */
static void test_files_closed_at_destroy(void **state)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_files_limit", .mode = MODE(state) };
	int fds;

	skip_unless_host_runs(MODE(state));
	share_make(&sh);
	s.share = sh.dir;
	fds = open_fd_count();
	/* The guest's assertion at the limit fails on purpose when the limit is 64 or more, so
	 * it stops with 64 files open. */
	s.max_open_files = 100;
	hrun(&r, &s);
	assert_int_equal(r.res.stop, KVMBOX_STOP_ASSERT);
	assert_true(open_fd_count() >= fds + 64);
	guest_run_free(&r);
	assert_int_equal(open_fd_count(), fds);
	share_remove(&sh);
}

/* A reset closes the guest files the last run left open, as a fresh VM has none: every run
 * of `kvmbox run --repeat --share` starts with the whole table. Left open, the second run
 * would meet the limit after 36 files and end with HC_exit(36) instead of the assertion. */
static void test_files_closed_at_reset(void **state)
{
	struct guest_spec g = {
		.path = guest_image("test-hc_files_limit", MODE(state)), .mode = MODE(state),
		.max_open_files = 100,
	};
	struct kvmbox_error err;
	struct guest_run r;
	struct share sh;
	char first[sizeof(r.res.msg)];
	int fds, loaded;

	skip_unless_host_runs(MODE(state));
	share_make(&sh);
	g.share = sh.dir;
	fds = open_fd_count();
	guest_prepare(&r, &g);
	loaded = open_fd_count();
	assert_int_equal(kvmbox_vm_snapshot(r.vm, &err), 0);
	for (int i = 0; i < 3; i++) {
		if (i) {
			assert_int_equal(kvmbox_vm_reset(r.vm, NULL), 0);
			assert_int_equal(open_fd_count(), loaded);
		}
		guest_start(&r, &g);
		assert_int_equal(r.res.stop, KVMBOX_STOP_ASSERT);
		assert_int_equal(open_fd_count(), loaded + 64);
		if (!i)
			snprintf(first, sizeof(first), "%s", r.res.msg);
		assert_string_equal(r.res.msg, first);
	}
	guest_run_free(&r);
	assert_int_equal(open_fd_count(), fds);
	share_remove(&sh);
}

/* tests/guests/hc_files_ro.c: a read-only share reads, and refuses every modifying flag. */
static void test_files_readonly(void **state)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_files_ro", .mode = MODE(state), .share_ro = true };
	char before[4096], after[4096];
	size_t len = 0;
	uint8_t *data;

	skip_unless_host_runs(MODE(state));
	share_make(&sh);
	s.share = sh.dir;
	listing(sh.dir, before, sizeof(before));
	hrun(&r, &s);
	assert_exit(&r, 0);
	assert_int_equal(r.st->bad_calls, 0);
	guest_run_free(&r);
	listing(sh.dir, after, sizeof(after));
	assert_string_equal(before, after);
	data = get_file(sh.dir, "src.bin", &len);
	assert_int_equal(len, SRC_SIZE);
	assert_memory_equal(data, src_bytes, SRC_SIZE);
	free(data);
	share_remove(&sh);
}

/* tests/guests/hc_files_none.c: without a share every file call fails with -EPERM. */
static void test_files_without_share(void **state)
{
	struct guest_run r;
	struct hrun_spec s = { .image = "test-hc_files_none", .mode = MODE(state) };

	skip_unless_host_runs(MODE(state));
	hrun(&r, &s);
	assert_exit(&r, 0);
	assert_int_equal(r.st->bad_calls, 0);
	guest_run_free(&r);
}

/* tests/guests/hc_files_bad.c: malformed file calls are refused, counted, and change nothing. */
static void test_files_bad_calls(void **state)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_files_bad", .mode = MODE(state) };
	char before[4096], after[4096];

	skip_unless_host_runs(MODE(state));
	share_make(&sh);
	s.share = sh.dir;
	listing(sh.dir, before, sizeof(before));
	hrun(&r, &s);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("%s", r.res.msg);
	assert_int_equal((uint64_t)r.res.status, r.st->bad_calls);
	/* open 4 + 8 flags, read 6, write 4, lseek 4, fstat 4, close 2 */
	assert_int_equal(r.st->bad_calls, 4 + 8 + 6 + 4 + 4 + 4 + 2);
	assert_all_io_was_hypercalls(&r);
	guest_run_free(&r);
	listing(sh.dir, after, sizeof(after));
	assert_string_equal(before, after);
	share_remove(&sh);
}

/* tests/guests/hc_escape.c: 31 ways out of the share, each refused in the guest; on the host,
 * nothing next to the share (or in it) appeared or changed, and the secret never reached the
 * guest's console. */
static void test_escape_attempts(void **state)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_escape", .mode = MODE(state) };
	char before[4096], after[4096], in_before[4096], in_after[4096], p[256];
	size_t len = 0;
	uint8_t *data;

	skip_unless_host_runs(MODE(state));
	share_make(&sh);
	put_link(sh.dir, "to-etc", "/etc");
	put_link(sh.dir, "to-parent", "..");
	put_link(sh.dir, "to-secret", "../secret.txt");
	put_link(sh.dir, "proc-cwd", "/proc/self/cwd");
	put_link(sh.dir, "proc-fd", "/proc/self/fd/0");
	put_link(sh.dir, "rel-proc", "../../../../../../../../proc/self/root");
	put_link(sh.dir, "dangling", "../created-by-link");
	path_in(p, sizeof(p), sh.dir, "sub");
	put_link(p, "up", "../..");
	s.share = sh.dir;
	listing(sh.parent, before, sizeof(before));
	listing(sh.dir, in_before, sizeof(in_before));
	hrun(&r, &s);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("%s", r.res.msg);
	assert_true(r.res.status >= 15);
	printf("escape %s: %d attempts refused\n", kvmbox_mode_name(MODE(state)), r.res.status);
	/* Over-long and unterminated paths are the only bad calls. */
	assert_int_equal(r.st->bad_calls, 2);
	assert_null(strstr(r.out, "SECRET"));
	guest_run_free(&r);
	listing(sh.parent, after, sizeof(after));
	listing(sh.dir, in_after, sizeof(in_after));
	assert_string_equal(before, after);
	assert_string_equal(in_before, in_after);
	data = get_file(sh.parent, "secret.txt", &len);
	assert_non_null(data);
	assert_int_equal(len, strlen(secret));
	assert_memory_equal(data, secret, len);
	free(data);
	assert_null(get_file(sh.parent, "created", &len));
	assert_null(get_file(sh.parent, "created-by-link", &len));
	share_remove(&sh);
}

/* tests/guests/hc_special.c: a FIFO and device nodes in the share are refused with -EACCES
 * and never opened. The FIFO has a reader waiting: had kvmbox opened its write end, even
 * briefly, the reader would see the hang-up of a writer that came and went. The device
 * nodes use the unassigned major 240 ("local/experimental use"): opening one fails in the
 * kernel with ENXIO, which is what an open that reached the driver would return. */
static void test_special_files_never_opened(void **state)
{
	struct guest_run r;
	struct share sh;
	struct hrun_spec s = { .image = "test-hc_special", .mode = MODE(state) };
	struct pollfd pfd = { .events = POLLIN };
	char p[256];
	size_t len;
	uint8_t *data;

	skip_unless_host_runs(MODE(state));
	if (geteuid() != 0) {
		printf("SKIP: making device nodes needs root\n");
		skip();
	}
	share_make(&sh);
	put_file(sh.dir, "plain.txt", "plain\n", 6);
	path_in(p, sizeof(p), sh.dir, "fifo");
	assert_int_equal(mkfifo(p, 0666), 0);
	pfd.fd = open(p, O_RDONLY | O_NONBLOCK);
	assert_true(pfd.fd >= 0);
	path_in(p, sizeof(p), sh.dir, "chardev");
	assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(240, 0)), 0);
	path_in(p, sizeof(p), sh.dir, "blockdev");
	assert_int_equal(mknod(p, S_IFBLK | 0666, makedev(240, 0)), 0);
	s.share = sh.dir;
	hrun(&r, &s);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("%s", r.res.msg);
	assert_int_equal(r.res.status, 15);
	guest_run_free(&r);
	assert_int_equal(poll(&pfd, 1, 0), 0); /* no writer ever came: no POLLHUP */
	close(pfd.fd);
	data = get_file(sh.dir, "new.txt", &len);
	assert_non_null(data);
	assert_memory_equal(data, "new\n", 4);
	free(data);
	share_remove(&sh);
}

/* tests/guests/hc_magic.c with the share at /proc/self: magic links inside a share are
 * refused (-ELOOP), which RESOLVE_BENEATH alone would not do. */
static void test_magic_links(void **state)
{
	struct guest_run r;
	struct hrun_spec s = { .image = "test-hc_magic", .mode = MODE(state), .share = "/proc/self",
			       .share_ro = true };

	skip_unless_host_runs(MODE(state));
	hrun(&r, &s);
	if (r.res.stop != KVMBOX_STOP_EXIT)
		fail_msg("%s", r.res.msg);
	assert_int_equal(r.res.status, 6);
	assert_int_equal(r.st->bad_calls, 0);
	guest_run_free(&r);
}

/* A share that is not a directory is refused when the VM is created, naming it. */
static void test_share_must_exist(void **state)
{
	struct kvmbox_vm_config cfg = { .mode = KVMBOX_MODE_LONG, .console_fd = -1,
					.share_dir = "/nonexistent/kvmbox-share" };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;

	(void)state;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -ENOENT);
	assert_null(vm);
	assert_non_null(strstr(err.msg, "/nonexistent/kvmbox-share"));
	cfg.share_dir = "/proc/self/status"; /* a file on every Linux, initramfs included */
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -ENOTDIR);
	cfg.share_dir = "/tmp";
	cfg.max_open_files = 100000;
	assert_int_equal(kvmbox_vm_create(&vm, &cfg, &err), -EINVAL);
}

/* ---- The command ---------------------------------------------------------------------------- */

/* Run build/kvmbox with ARGV; stdout and stderr go to files read back into OUT and ERR. */
static int spawn_cli(char *const argv[], char *out, size_t outlen, char *err, size_t errlen)
{
	char opath[] = "/tmp/kvmbox-hc-out-XXXXXX", epath[] = "/tmp/kvmbox-hc-err-XXXXXX";
	int ofd = mkstemp(opath), efd = mkstemp(epath), status = 0;
	posix_spawn_file_actions_t fa;
	ssize_t n;
	pid_t pid;

	assert_true(ofd >= 0 && efd >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	n = pread(ofd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = 0;
	n = pread(efd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = 0;
	close(ofd);
	close(efd);
	unlink(opath);
	unlink(epath);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* `kvmbox run --share DIR` gives the guest its files; HC_exit's status is kvmbox's. */
static void test_cli_share(void **state)
{
	struct share sh;
	char kvmbox[256], image[256], out[4096], err[4096];
	size_t len = 0;
	uint8_t *data;

	(void)state;
	share_make(&sh);
	put_link(sh.dir, "link-inside", "sub/inner.txt");
	snprintf(kvmbox, sizeof(kvmbox), "%s", build_path("kvmbox"));
	snprintf(image, sizeof(image), "%s", guest_image("test-hc_files", KVMBOX_MODE_LONG));
	{
		char *argv[] = { kvmbox, "run", "--share", sh.dir, image, NULL };

		assert_int_equal(spawn_cli(argv, out, sizeof(out), err, sizeof(err)), 1);
	}
	data = get_file(sh.dir, "copy.bin", &len);
	assert_non_null(data);
	assert_int_equal(len, SRC_SIZE);
	assert_memory_equal(data, src_bytes, SRC_SIZE);
	free(data);
	share_remove(&sh);
}

/* `kvmbox run --strict` stops at a bad call with a clear message and the fault status 65. */
static void test_cli_strict(void **state)
{
	char kvmbox[256], image[256], out[4096], err[4096];
	char *argv[] = { kvmbox, "run", "--strict", image, NULL };

	(void)state;
	snprintf(kvmbox, sizeof(kvmbox), "%s", build_path("kvmbox"));
	snprintf(image, sizeof(image), "%s", guest_image("test-hc_bad", KVMBOX_MODE_LONG));
	assert_int_equal(spawn_cli(argv, out, sizeof(out), err, sizeof(err)), 65);
	printf("stderr: %s", err);
	assert_non_null(strstr(err, "bad hypercall (--strict): printStr(0xfffff000): bad address"));
	assert_string_equal(out, "");
}

#define STRICT_ONE(fn, i, name)                                                               \
	{ #fn "/" name, fn, NULL, NULL, (void *)&strict_cases[i] }
#define STRICT_MODE(fn, base, m)                                                              \
	STRICT_ONE(fn, base + 0, m "/bad-pointer"), STRICT_ONE(fn, base + 1, m "/unknown-nr"),    \
	STRICT_ONE(fn, base + 2, m "/outb"), STRICT_ONE(fn, base + 3, m "/inw")
#define PER_STRICT_CASE(fn)                                                                   \
	STRICT_MODE(fn, 0, "real"), STRICT_MODE(fn, 4, "protected"),                          \
	STRICT_MODE(fn, 8, "paged32"), STRICT_MODE(fn, 12, "long")

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_cs695),
		PER_MODE(test_cs695_every_byte_an_exit),
		PER_MODE(test_basic_calls),
		PER_MODE(test_bad_calls),
		PER_STRICT_CASE(test_bad_call_returns),
		PER_STRICT_CASE(test_strict_stops),
		PER_MODE(test_fuzz),
		PER_MODE(test_files_copy),
		PER_MODE(test_files_limit_default),
		PER_MODE(test_files_limit_configured),
		PER_MODE(test_files_closed_at_destroy),
		PER_MODE(test_files_closed_at_reset),
		PER_MODE(test_files_readonly),
		PER_MODE(test_files_without_share),
		PER_MODE(test_files_bad_calls),
		PER_MODE(test_escape_attempts),
		PER_MODE(test_magic_links),
		PER_MODE(test_special_files_never_opened),
		cmocka_unit_test(test_share_must_exist),
		cmocka_unit_test(test_cli_share),
		cmocka_unit_test(test_cli_strict),
	};

	return cmocka_run_group_tests_name("hypercalls", tests, NULL, NULL);
}
