/* Snapshots (docs/snapshot.md): a guest saves itself halfway through printing and writing a
 * share file; restoring the snapshot, in this process and in another after the first ended,
 * twice from one file, prints exactly the rest and leaves the share file as an uninterrupted
 * run leaves it, and the restored guest's HC_snapshot returns 1 with a new generation. The
 * vCPU's state comes back (FPU/SSE, debug registers, MSRs), in every mode the host runs.
 * 100 forks of one VM each print their own number and leave the parent's memory as it was.
 * Every hostile file is refused with status 2, one line, and nothing mapped; a restore gets
 * what its command line grants, never what the snapshot had. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "kvmbox/abi.h"
#include "kvmbox/snapshot.h"
#include "harness.h"

#define LINES 20
#define FORKS 100

/* ---- Files and directories ---------------------------------------------------------------- */

static char *temp_dir(void)
{
	char *d = strdup("/tmp/kvmbox-snap-XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static const char *path_in(const char *dir, const char *name)
{
	static char buf[4][PATH_MAX];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", dir, name);
	return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void remove_tree(const char *dir)
{
	char sh[PATH_MAX + 16];
	struct cli c;

	snprintf(sh, sizeof(sh), "rm -rf '%s'", dir);
	run_command(&c, (const char *const[]){ "sh", "-c", sh, NULL });
}

/* What the guest snap_half writes and prints: "line 1\n" ... "line LINES\n", from FIRST on. */
static void lines_from(unsigned first, char *buf, size_t max)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = first; i <= LINES; i++)
		n += (size_t)snprintf(buf + n, max - n, "line %u\n", i);
}

/* A share holding out.txt as it was when snap_half saved itself: the first half written. */
static char *share_at_half(void)
{
	char *d = temp_dir(), all[512], rest[512];

	lines_from(1, all, sizeof(all));
	lines_from(LINES / 2 + 1, rest, sizeof(rest));
	write_file(path_in(d, "out.txt"), all, strlen(all) - strlen(rest));
	return d;
}

static void assert_file_is(const char *path, const char *want)
{
	size_t len;
	uint8_t *got = read_whole_file(path, &len);

	assert_non_null(got);
	if (len != strlen(want) || memcmp(got, want, len))
		fail_msg("%s holds %zu bytes, not the %zu of an uninterrupted run", path, len,
			 strlen(want));
	free(got);
}

/* ---- Running through the library --------------------------------------------------------- */


static struct kvmbox_vm *vm_from_image(const char *path, const char *share, struct out *out,
				       unsigned argc, const char *const *argv)
{
	struct kvmbox_vm_config cfg = { .console = capture_console, .console_ctx = out, .share_dir = share,
					.argc = argc, .argv = argv };
	struct kvmbox_error err = { "" };
	struct kvmbox_image img;
	struct kvmbox_vm *vm;
	size_t size;
	uint8_t *data = read_whole_file(path, &size);

	assert_non_null(data);
	assert_int_equal(kvmbox_image_parse(&img, data, size, false, 0, 0, &err), 0);
	cfg.mode = img.mode;
	if (kvmbox_vm_create(&vm, &cfg, &err) < 0 || kvmbox_vm_load(vm, &img, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	free(data);
	return vm;
}

static struct kvmbox_vm *vm_from_snapshot(const char *file, const char *share, struct out *out,
					  unsigned flags)
{
	struct kvmbox_vm_config cfg = { .console = capture_console, .console_ctx = out, .share_dir = share };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;
	int fd = open(file, O_RDONLY | O_CLOEXEC), ret;

	assert_true(fd >= 0);
	ret = kvmbox_vm_restore(&vm, &cfg, fd, flags, &err);
	close(fd);
	if (ret < 0)
		fail_msg("restore %s: %s", file, err.msg);
	return vm;
}

static void run_to_end(struct kvmbox_vm *vm, struct kvmbox_result *res)
{
	assert_int_equal(kvmbox_vm_run(vm, NULL, res), 0);
}

static void assert_exit(const struct kvmbox_result *res, int status)
{
	if (res->stop != KVMBOX_STOP_EXIT || res->status != status)
		fail_msg("the guest ended with stop %d, status %d (%s); expected exit(%d)", res->stop,
			 res->status, res->msg, status);
}

/* ---- Save halfway, restore the rest -------------------------------------------------------- */

/* The saver in this process: all the lines, status 10, the share's out.txt whole, the
 * snapshot in the share. Then two restores in this process from that file, each into a
 * share as it was at the save: the rest only, status 11, out.txt whole again, two new and
 * different generations. */
static void test_halfway_in_process(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	char all[512], rest[512], *share;
	uint64_t gen[2];
	struct kvmbox_result res;
	struct out out = { .len = 0 };
	struct kvmbox_vm *vm;

	skip_unless_host_runs(mode);
	share = temp_dir();
	lines_from(1, all, sizeof(all));
	lines_from(LINES / 2 + 1, rest, sizeof(rest));
	vm = vm_from_image(guest_image("test-snap_half", mode), share, &out, 0, NULL);
	run_to_end(vm, &res);
	assert_exit(&res, 10);
	assert_string_equal(out.buf, all);
	assert_int_equal(kvmbox_vm_generation(vm), 0);
	assert_int_equal(kvmbox_vm_stats(vm)->snapshots, 1);
	kvmbox_vm_destroy(vm);
	assert_file_is(path_in(share, "out.txt"), all);

	for (int i = 0; i < 2; i++) {
		char *half = share_at_half();

		out.len = 0;
		out.buf[0] = 0;
		vm = vm_from_snapshot(path_in(share, "snap"), half, &out, 0);
		gen[i] = kvmbox_vm_generation(vm);
		assert_true(gen[i] != 0);
		run_to_end(vm, &res);
		assert_exit(&res, 11);
		assert_string_equal(out.buf, rest);
		kvmbox_vm_destroy(vm);
		assert_file_is(path_in(half, "out.txt"), all);
		remove_tree(half);
		free(half);
	}
	assert_true(gen[0] != gen[1]);
	remove_tree(share);
	free(share);
}

/* The same across processes: the saver is `kvmbox run`, which ends; two more `kvmbox run
 * --restore` processes each print the rest and write it where the saver stopped, in a share
 * of their own (the snapshot names its files relative to the share). */
static void test_halfway_other_process(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	char all[512], rest[512], *share;
	struct cli c;

	skip_unless_host_runs(mode);
	share = temp_dir();
	lines_from(1, all, sizeof(all));
	lines_from(LINES / 2 + 1, rest, sizeof(rest));
	RUN(&c, "run", "--share", share, guest_image("test-snap_half", mode));
	assert_int_equal(c.status, 10);
	assert_string_equal(c.out, all);
	for (int i = 0; i < 2; i++) {
		char *half = share_at_half();

		RUN(&c, "run", "--restore", path_in(share, "snap"), "--share", half);
		if (c.status != 11)
			fail_msg("restore %d: status %d: %s", i, c.status, c.err);
		assert_string_equal(c.out, rest);
		assert_non_null(strstr(c.err, "the guest exited with status 11"));
		assert_file_is(path_in(half, "out.txt"), all);
		remove_tree(half);
		free(half);
	}
	/* And what the file holds, checked as a restore does. */
	RUN(&c, "snapshot", path_in(share, "snap"));
	assert_int_equal(c.status, 0);
	assert_non_null(strstr(c.out, "format version 1"));
	assert_non_null(strstr(c.out, kvmbox_mode_name(mode)));
	assert_non_null(strstr(c.out, "saved:      the guest asked"));
	assert_non_null(strstr(c.out, "generation: 0 (started from its image)"));
	assert_non_null(strstr(c.out, "files: fd 0 out.txt, write-only, at offset 71"));
	remove_tree(share);
	free(share);
}

/* The vCPU's state a guest set (snap_state.c: FPU/SSE in long mode, DR0-DR3, MSRs, CR4) is
 * what the restored guest finds, in this process and in another. */
static void test_cpu_state_kept(void **state)
{
	enum kvmbox_mode mode = MODE(state);
	char *share;
	struct kvmbox_result res;
	struct out out = { .len = 0 };
	struct kvmbox_vm *vm;
	struct cli c;

	skip_unless_host_runs(mode);
	share = temp_dir();
	vm = vm_from_image(guest_image("test-snap_state", mode), share, &out, 0, NULL);
	run_to_end(vm, &res);
	assert_exit(&res, 10);
	kvmbox_vm_destroy(vm);
	vm = vm_from_snapshot(path_in(share, "state"), NULL, &out, 0);
	run_to_end(vm, &res);
	assert_exit(&res, 11);
	kvmbox_vm_destroy(vm);
	RUN(&c, "run", "--restore", path_in(share, "state"));
	if (c.status != 11)
		fail_msg("status %d: %s", c.status, c.err);
	remove_tree(share);
	free(share);
}

/* A VM restored with its memory mapped from a file in its share may not open that file for
 * writing (ETXTBSY: it would change its own memory behind KVM); the command reads such a file
 * instead of mapping it (the guest then may). */
static void test_mapped_file_is_busy(void **state)
{
	const char *argv[] = { "snap_state", "state", "busy" };
	char *share;
	struct kvmbox_result res;
	struct out out = { .len = 0 };
	struct kvmbox_vm *vm;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	share = temp_dir();
	vm = vm_from_image(guest_image("test-snap_state", KVMBOX_MODE_LONG), share, &out, 3, argv);
	run_to_end(vm, &res);
	assert_exit(&res, 10);
	kvmbox_vm_destroy(vm);
	vm = vm_from_snapshot(path_in(share, "state"), share, &out, 0);
	run_to_end(vm, &res);
	assert_exit(&res, 11);
	kvmbox_vm_destroy(vm);
	/* Copied, the file backs nothing: the check the guest makes fails, as it should. */
	vm = vm_from_snapshot(path_in(share, "state"), share, &out, KVMBOX_RESTORE_COPY);
	run_to_end(vm, &res);
	assert_int_equal(res.stop, KVMBOX_STOP_ASSERT);
	assert_non_null(strstr(res.msg, "ETXTBSY"));
	kvmbox_vm_destroy(vm);
	remove_tree(share);
	free(share);
}

/* ---- --save ------------------------------------------------------------------------------- */

/* --save FILE: the guest's HC_snapshot("") writes FILE (kept at the end: it is what the guest
 * asked for); without a request the VM is saved when the run ends (here at its deadline), and
 * the restore goes on from there; after a fault nothing is saved. */
static void test_save_option(void **state)
{
	char *dir, *share, rest[512], file[PATH_MAX];
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	dir = temp_dir();
	share = temp_dir();
	snprintf(file, sizeof(file), "%s", path_in(dir, "s.snap"));
	lines_from(LINES / 2 + 1, rest, sizeof(rest));
	RUN(&c, "run", "--save", file, "--share", share, guest_image("test-snap_half", KVMBOX_MODE_LONG),
	    "--", "");
	assert_int_equal(c.status, 10);
	assert_non_null(strstr(c.err, "holds the snapshot the guest asked for"));
	remove_tree(share);
	free(share);
	share = share_at_half();
	RUN(&c, "run", "--restore", file, "--share", share);
	assert_int_equal(c.status, 11);
	assert_string_equal(c.out, rest);

	/* A guest stopped at its deadline, saved, goes on spinning when restored. */
	RUN(&c, "run", "--timeout", "0.2", "--save", file, guest_image("test-loop", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 66);
	assert_non_null(strstr(c.err, "saved into"));
	RUN(&c, "snapshot", file);
	assert_non_null(strstr(c.out, "saved:      between runs, at its deadline"));
	RUN(&c, "run", "--timeout", "0.2", "--restore", file);
	assert_int_equal(c.status, 66);

	/* A fault leaves nothing to resume: said, and the fault's status stays. */
	RUN(&c, "run", "--save", file, guest_image("test-exc_ud", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 65);
	assert_non_null(strstr(c.err, "not saved into"));

	/* Refused before anything runs: the file the run restores from, and an output's file. */
	RUN(&c, "run", "--restore", file, "--save", file);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "a snapshot the run restores from"));
	RUN(&c, "run", "--save", file, "--out", file, guest_image("hello", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 2);
	remove_tree(share);
	remove_tree(dir);
	free(share);
	free(dir);
}

/* The share's rules apply to the guest's snapshot: a new file only, within the caps; no
 * share, no snapshot. */
static void test_snapshot_call_refusals(void **state)
{
	char *share;
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	share = temp_dir();
	RUN(&c, "run", guest_image("test-snap_half", KVMBOX_MODE_LONG), "--", "snap");
	assert_int_equal(c.status, 64); /* no share: the guest's own open fails first */
	write_file(path_in(share, "snap"), "x", 1);
	RUN(&c, "run", "--share", share, guest_image("test-snap_half", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 30);
	assert_non_null(strstr(c.out, "snapshot: -17\n")); /* EEXIST */
	unlink(path_in(share, "snap"));
	RUN(&c, "run", "--share", share, "--file-size-max", "8K",
	    guest_image("test-snap_half", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 30);
	assert_non_null(strstr(c.out, "snapshot: -27\n")); /* EFBIG */
	RUN(&c, "run", "--share", share, "--share-bytes-max", "16K",
	    guest_image("test-snap_half", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 30);
	assert_non_null(strstr(c.out, "snapshot: -122\n")); /* EDQUOT */
	remove_tree(share);
	free(share);
}

/* ---- What the command line grants --------------------------------------------------------- */

/* A snapshot brings no share and no limit: the restore's command line says what the guest may
 * use, and --sandbox applies to it. */
static void test_restore_revalidates(void **state)
{
	char *share, *half, all[512], snap[PATH_MAX];
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	share = temp_dir();
	lines_from(1, all, sizeof(all));
	RUN(&c, "run", "--share", share, guest_image("test-snap_half", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 10);
	snprintf(snap, sizeof(snap), "%s", path_in(share, "snap"));

	RUN(&c, "run", "--restore", snap);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "has share file out.txt open (guest fd 0), and this VM has no share"));
	half = share_at_half();
	{
		char ro[PATH_MAX + 4];

		snprintf(ro, sizeof(ro), "%s:ro", half);
		RUN(&c, "run", "--restore", snap, "--share", ro);
	}
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "open for writing (guest fd 0) and this VM's share is read-only"));
	unlink(path_in(half, "out.txt"));
	RUN(&c, "run", "--restore", snap, "--share", half);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "cannot be reopened in this VM's share"));
	/* A limit of the command line, not the saver's: the rest does not fit in 100 bytes. */
	remove_tree(half);
	free(half);
	half = share_at_half();
	RUN(&c, "run", "--restore", snap, "--share", half, "--file-size-max", "100");
	assert_int_equal(c.status, 64);
	assert_non_null(strstr(c.err, "HC_write"));
	/* --sandbox: the restored guest runs under the sandbox's profile, and still completes. */
	remove_tree(half);
	free(half);
	half = share_at_half();
	RUN(&c, "run", "--sandbox", "--restore", snap, "--share", half);
	assert_int_equal(c.status, 11);
	assert_file_is(path_in(half, "out.txt"), all);
	/* The snapshot's mode and memory size are its own: asking others is refused. */
	RUN(&c, "run", "--restore", snap, "--share", half, "--mem", "4M");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "has 2048 KiB of memory, not the 4096 KiB asked for"));
	RUN(&c, "run", "--restore", snap, "--share", half, "-m", "real");
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "is of a long-mode VM, not real mode"));
	RUN(&c, "run", "--restore", snap, guest_image("hello", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 2);
	remove_tree(half);
	remove_tree(share);
	free(half);
	free(share);
}

/* Several VMs from snapshots, and one snapshot many times (restore= in --vm, count=N). */
static void test_several_from_snapshots(void **state)
{
	char *share, spec[PATH_MAX * 2];
	struct cli c;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	share = temp_dir();
	RUN(&c, "run", "--share", share, guest_image("test-snap_state", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 10);
	snprintf(spec, sizeof(spec), "w,restore=%s,count=3", path_in(share, "state"));
	RUN(&c, "run", "--vm", spec, "--vm", "x,restore=/nonexistent");
	assert_int_equal(c.status, 2);
	RUN(&c, "run", "--vm", spec);
	if (c.status != 11)
		fail_msg("status %d: %s", c.status, c.err);
	for (int i = 0; i < 3; i++) {
		char row[32];

		snprintf(row, sizeof(row), "\n  w%d ", i);
		assert_non_null(strstr(c.err, row));
	}
	snprintf(spec, sizeof(spec), "w,restore=%s,save=%s", path_in(share, "state"),
		 path_in(share, "again"));
	RUN(&c, "run", "--vm", spec);
	assert_int_equal(c.status, 11);
	assert_int_equal(access(path_in(share, "again"), R_OK), 0);
	remove_tree(share);
	free(share);
}

/* ---- Forks -------------------------------------------------------------------------------- */

static long rss_anon_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* FORKS forks of a halted VM (snap_fork.c), all alive at once: each prints "fork N" with its
 * own generation N, writes over the pattern and checks it; the parent's memory is as it was,
 * and it can still run itself. The forks' memory is the parent's until they write: together
 * they cost far less than FORKS copies of guest memory. */
static void test_forks(void **state)
{
	static struct out outs[FORKS];
	struct kvmbox_vm *parent, *child[FORKS];
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct out pout = { .len = 0 };
	uint64_t size;
	uint8_t *before, *after;
	long rss0, rss1;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	parent = vm_from_image(guest_image("test-snap_fork", KVMBOX_MODE_LONG), NULL, &pout, 0, NULL);
	run_to_end(parent, &res);
	assert_int_equal(res.stop, KVMBOX_STOP_HALT);
	size = kvmbox_vm_mem_size(parent);
	before = malloc(size);
	after = malloc(size);
	assert_non_null(before);
	assert_non_null(after);
	assert_int_equal(kvmbox_vm_read(parent, 0, before, size), 0);
	rss0 = rss_anon_kib();
	for (int i = 0; i < FORKS; i++) {
		struct kvmbox_vm_config cfg = { .console = capture_console, .console_ctx = &outs[i] };

		if (kvmbox_vm_fork(parent, &cfg, &child[i], &err) < 0)
			fail_msg("fork %d: %s", i, err.msg);
	}
	for (int i = 0; i < FORKS; i++) {
		char want[64];

		run_to_end(child[i], &res);
		if (res.stop != KVMBOX_STOP_HALT)
			fail_msg("fork %d: %s", i, res.msg);
		snprintf(want, sizeof(want), "fork %llu\n",
			 (unsigned long long)kvmbox_vm_generation(child[i]));
		assert_string_equal(outs[i].buf, want);
		for (int k = 0; k < i; k++)
			assert_true(kvmbox_vm_generation(child[k]) != kvmbox_vm_generation(child[i]));
	}
	rss1 = rss_anon_kib();
	print_message("%d live forks of a %llu KiB guest that each wrote 16 pages: RssAnon +%ld KiB "
		      "(%.1f KiB a fork)\n", FORKS, (unsigned long long)(size >> 10), rss1 - rss0,
		      (double)(rss1 - rss0) / FORKS);
	assert_true((uint64_t)(rss1 - rss0) < FORKS * (size >> 10) / 8);
	assert_int_equal(kvmbox_vm_read(parent, 0, after, size), 0);
	assert_memory_equal(before, after, size);
	for (int i = 0; i < FORKS; i++)
		kvmbox_vm_destroy(child[i]);
	kvmbox_vm_destroy(parent);
	free(before);
	free(after);
}

/* A fork of a VM that has not run yet, and of one whose run was cut short: the forks start
 * where the parent stands; a parent that faulted has nothing to fork. */
static void test_fork_refusals(void **state)
{
	struct kvmbox_vm *vm, *child = NULL;
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct out out = { .len = 0 }, cout = { .len = 0 };
	struct kvmbox_vm_config cfg = { .console = capture_console, .console_ctx = &cout };

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	vm = vm_from_image(guest_image("hello", KVMBOX_MODE_LONG), NULL, &out, 0, NULL);
	assert_int_equal(kvmbox_vm_fork(vm, &cfg, &child, &err), 0);
	run_to_end(child, &res);
	assert_int_equal(res.stop, KVMBOX_STOP_HALT);
	assert_string_equal(cout.buf, "Hello, world!\n");
	kvmbox_vm_destroy(child);
	cfg.mem_size = 4 << 20;
	assert_int_equal(kvmbox_vm_fork(vm, &cfg, &child, &err), -ENOEXEC);
	kvmbox_vm_destroy(vm);
	vm = vm_from_image(guest_image("test-exc_ud", KVMBOX_MODE_LONG), NULL, &out, 0, NULL);
	run_to_end(vm, &res);
	assert_int_equal(res.stop, KVMBOX_STOP_FAULT);
	assert_int_equal(kvmbox_vm_fork(vm, NULL, &child, &err), -EBUSY);
	assert_int_equal(kvmbox_vm_save(vm, 1, &err), -EINVAL); /* not a regular file */
	kvmbox_vm_destroy(vm);
}

/* A fork copies the VM as it is now, not as it was at the previous fork: a reset and a
 * write in between show in the next child. */
static void test_fork_follows_reset_and_write(void **state)
{
	struct out out = { .len = 0 }, cout = { .len = 0 };
	struct kvmbox_vm_config cfg = { .console = capture_console, .console_ctx = &cout };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm, *child = NULL;
	struct kvmbox_result res;
	uint32_t seven = 7, word = 0;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	vm = vm_from_image(guest_image("hello", KVMBOX_MODE_LONG), NULL, &out, 0, NULL);
	assert_int_equal(kvmbox_vm_set_reset_point(vm, &err), 0);
	run_to_end(vm, &res);
	assert_int_equal(res.stop, KVMBOX_STOP_HALT);
	assert_int_equal(kvmbox_vm_fork(vm, &cfg, &child, &err), 0); /* of the halted VM */
	kvmbox_vm_destroy(child);
	assert_int_equal(kvmbox_vm_reset(vm, &err), 0);
	assert_int_equal(kvmbox_vm_fork(vm, &cfg, &child, &err), 0);
	run_to_end(child, &res); /* from the start again: it prints */
	assert_int_equal(res.stop, KVMBOX_STOP_HALT);
	assert_string_equal(cout.buf, "Hello, world!\n");
	kvmbox_vm_destroy(child);
	assert_int_equal(kvmbox_vm_write(vm, 0x3000, &seven, sizeof(seven)), 0);
	assert_int_equal(kvmbox_vm_fork(vm, &cfg, &child, &err), 0);
	assert_int_equal(kvmbox_vm_read(child, 0x3000, &word, sizeof(word)), 0);
	assert_int_equal(word, 7);
	kvmbox_vm_destroy(child);
	kvmbox_vm_destroy(vm);
}

/* A VM restored from a file without KVMBOX_RESTORE_COPY has its memory mapped from it: a save
 * into that file is refused (EBUSY) and leaves the file as it was. (The refusal is the one
 * writer's, snap_write, which a guest's save into the VM's save_fd goes through too.) */
static void test_save_refuses_its_own_backing_file(void **state)
{
	char *dir, file[PATH_MAX];
	struct out out = { .len = 0 };
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct kvmbox_vm *vm;
	uint8_t *before, *after;
	size_t n_before, n_after;
	int fd;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	dir = temp_dir();
	snprintf(file, sizeof(file), "%s", path_in(dir, "hello.snap"));
	vm = vm_from_image(guest_image("hello", KVMBOX_MODE_LONG), NULL, &out, 0, NULL);
	run_to_end(vm, &res);
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(kvmbox_vm_save(vm, fd, &err), 0);
	kvmbox_vm_destroy(vm);
	before = read_whole_file(file, &n_before);
	assert_non_null(before);
	vm = vm_from_snapshot(file, NULL, &out, 0);
	assert_int_equal(kvmbox_vm_save(vm, fd, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "mapped from this file"));
	kvmbox_vm_destroy(vm);
	close(fd);
	after = read_whole_file(file, &n_after);
	assert_non_null(after);
	assert_int_equal(n_after, n_before);
	assert_memory_equal(after, before, n_before);
	free(before);
	free(after);
	remove_tree(dir);
	free(dir);
}

/* ---- Hostile files ------------------------------------------------------------------------ */

/* The file format as docs/snapshot.md describes it, enough to break files on purpose. */
#define HDR 64
#define ENTRY 32
enum { T_VM = 1, T_REGS = 3, T_SREGS = 4, T_MSRS = 8, T_FEATURE = 12, T_PAGES = 13, T_MEMORY = 14 };

struct file {
	uint8_t *b;
	size_t len;
};

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t *entry_of(struct file *f, uint32_t type)
{
	for (uint32_t i = 0; i < get32(f->b + 16); i++)
		if (get32(f->b + HDR + i * ENTRY) == type)
			return f->b + HDR + i * ENTRY;
	fail_msg("no section of type %u", type);
	return NULL;
}

static uint8_t *section_of(struct file *f, uint32_t type)
{
	return f->b + get64(entry_of(f, type) + 8);
}

/* The checksums after a change: section TYPE's (0: none), the table's, the header's. */
static void reseal(struct file *f, uint32_t type)
{
	uint32_t n = get32(f->b + 16);

	if (type) {
		uint8_t *e = entry_of(f, type);

		put32(e + 24, (uint32_t)crc32(0, f->b + get64(e + 8), (uInt)get64(e + 16)));
	}
	put32(f->b + 48, (uint32_t)crc32(0, f->b + HDR, n * ENTRY));
	put32(f->b + 60, (uint32_t)crc32(0, f->b, 60));
}

/* The section table entry of feature NAME's section. */
static uint8_t *feature_entry(struct file *f, const char *name)
{
	for (uint32_t i = 0; i < get32(f->b + 16); i++) {
		uint8_t *e = f->b + HDR + i * ENTRY;

		if (get32(e) == T_FEATURE && !strncmp((const char *)f->b + get64(e + 8), name, 16))
			return e;
	}
	fail_msg("no section for feature %s", name);
	return NULL;
}

/* Feature NAME's saved bytes (after its 16-byte name), resealed after CHANGE by the caller
 * with reseal_feature. */
static uint8_t *feature_data(struct file *f, const char *name)
{
	return f->b + get64(feature_entry(f, name) + 8) + 16;
}

static void reseal_feature(struct file *f, const char *name)
{
	uint8_t *e = feature_entry(f, name);

	put32(e + 24, (uint32_t)crc32(0, f->b + get64(e + 8), (uInt)get64(e + 16)));
	reseal(f, 0);
}

/* Is FILE's inode mapped into this process? */
static bool mapped_here(const char *file)
{
	char line[512], dev[16];
	struct stat st;
	unsigned long ino;
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_int_equal(stat(file, &st), 0);
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %15s %lu", dev, &ino) == 2 && ino == st.st_ino && ino)
			found = true;
	fclose(f);
	return found;
}

/* The hostile file F refused with ENOEXEC by the library (nothing made, nothing mapped) and
 * with status 2 and WANT in one line by `kvmbox run --restore` and `kvmbox snapshot`. */
static void expect_refused(const char *dir, const char *name, const struct file *f, const char *want,
			   bool valid_file)
{
	const char *path = path_in(dir, name);
	struct kvmbox_vm_config cfg = { .console_fd = KVMBOX_CONSOLE_DISCARD };
	struct kvmbox_error err = { "" };
	struct kvmbox_vm *vm = NULL;
	struct cli c;
	int fd, ret;

	write_file(path, f->b, f->len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ret = kvmbox_vm_restore(&vm, &cfg, fd, 0, &err);
	if (ret != -ENOEXEC || vm || !strstr(err.msg, want))
		fail_msg("%s: restore gave %d (%s), not -ENOEXEC with \"%s\"", name, ret, err.msg, want);
	assert_false(mapped_here(path));
	close(fd);
	RUN(&c, "run", "--restore", path);
	if (c.status != 2 || !strstr(c.err, want) || strchr(c.err, '\n') != c.err + strlen(c.err) - 1)
		fail_msg("%s: kvmbox run --restore: status %d, %s", name, c.status, c.err);
	print_message("%-22s refused: %s", name, c.err);
	RUN(&c, "snapshot", path);
	/* A file that is valid for another host says what it holds. */
	if (valid_file) {
		assert_int_equal(c.status, 0);
		return;
	}
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, want));
}

/* A copy of the valid file V to break. */
static struct file copy_of(const struct file *v)
{
	struct file f = { malloc(v->len), v->len };

	assert_non_null(f.b);
	memcpy(f.b, v->b, v->len);
	return f;
}

static void test_hostile_files(void **state)
{
	char *dir, *share;
	struct file v, f;
	struct cli c;
	uint8_t *p;

	(void)state;
	skip_unless_host_runs(KVMBOX_MODE_LONG);
	dir = temp_dir();
	share = temp_dir();
	RUN(&c, "run", "--share", share, guest_image("test-snap_state", KVMBOX_MODE_LONG));
	assert_int_equal(c.status, 10);
	v.b = read_whole_file(path_in(share, "state"), &v.len);
	assert_non_null(v.b);

#define CASE_(name, change, want, valid)                      \
	do {                                                  \
		f = copy_of(&v);                              \
		change;                                       \
		expect_refused(dir, name, &f, want, valid);   \
		free(f.b);                                    \
	} while (0)
#define CASE(name, change, want) CASE_(name, change, want, false)

	CASE("empty", f.len = 0, "not a kvmbox snapshot");
	CASE("bad-magic", f.b[0] ^= 1, "not a kvmbox snapshot");
	CASE("version-2", (put32(f.b + 8, 2), reseal(&f, 0)), "snapshot format version 2");
	CASE("header-checksum", f.b[24] ^= 1, "the header's checksum does not match");
	CASE("short-header", f.len = 40, "truncated: 40 bytes, shorter than a snapshot's header");
	CASE("cut-short", f.len -= 4096, "truncated: the header says");
	CASE("longer", (f.b = realloc(f.b, f.len + 1), f.b[f.len++] = 0), "corrupt: the header says");
	CASE("table-checksum", entry_of(&f, T_REGS)[24] ^= 1, "the section table's checksum");
	CASE("section-checksum", section_of(&f, T_REGS)[0] ^= 1,
	     "the REGS section's checksum does not match");
	CASE("page-checksum", f.b[f.len - 1] ^= 1, "the guest pages' checksum does not match");
	CASE("size-overflows", (put64(entry_of(&f, T_REGS) + 16, ~0ull), reseal(&f, 0)),
	     "does not lie between the section table and the file's end");
	CASE("past-the-end", (put64(entry_of(&f, T_REGS) + 16, f.len), reseal(&f, 0)),
	     "truncated: the REGS section ends at byte");
	CASE("overlap", (put64(entry_of(&f, T_SREGS) + 8, get64(entry_of(&f, T_REGS) + 8) + 8),
			 reseal(&f, 0)), "overlap");
	CASE("unknown-section", (put32(entry_of(&f, T_SREGS), 99), reseal(&f, 0)),
	     "a section of type 99");
	CASE("twice", (put32(entry_of(&f, T_SREGS), T_REGS), reseal(&f, 0)), "two REGS sections");
	CASE("too-many-sections", (put32(f.b + 16, 1000), reseal(&f, 0)), "1000 sections");
	CASE("pages-beyond-memory", (p = section_of(&f, T_PAGES),
				     put64(p + 8 + 16 * (get64(p) - 1), 511), put64(p + 16 + 16 * (get64(p) - 1), 2),
				     reseal(&f, T_PAGES)), "lie beyond the guest's 512 pages");
	CASE("pages-out-of-order", (p = section_of(&f, T_PAGES), put64(p + 8 + 16, 0),
				    reseal(&f, T_PAGES)), "out of order or overlapping");
	CASE("memory-size", (put64(section_of(&f, T_VM) + 8, 12345), reseal(&f, T_VM)),
	     "12345 bytes of guest memory");
	CASE("mode", (put32(section_of(&f, T_VM), 9), reseal(&f, T_VM)), "corrupt: CPU mode 9");
	CASE_("vendor", (memcpy(section_of(&f, T_VM) + 80,
			       memcmp(section_of(&f, T_VM) + 80, "Genu", 4) ? "GenuineIntel" : "AuthenticAMD", 12),
			reseal(&f, T_VM)), "saved on a CPU of another vendor", true);
	CASE("msr", (p = section_of(&f, T_MSRS), put32(p + 8, 0x10), reseal(&f, T_MSRS)),
	     "MSR 0x10 is not one a snapshot keeps");
	CASE("feature-name", (memcpy(section_of(&f, T_FEATURE), "Files", 5), reseal(&f, T_FEATURE)),
	     "characters other than a-z");
	/* The exports' own bytes: u32 count, u32 segments, the exports, then the segments (the
	 * guest here exports nothing and has its image's segments). The file's format is intact,
	 * so `kvmbox snapshot` describes it; the restore checks the feature's bytes. */
	CASE_("exports-count", (put32(feature_data(&f, "exports"), 1000),
				reseal_feature(&f, "exports")), "the exports' state says 1000 exports", true);
	CASE_("exports-segment", (put64(feature_data(&f, "exports") + 8 + 8, 1ull << 40),
				  reseal_feature(&f, "exports")), "lies outside the guest's memory", true);
	CASE("feature-unknown", (memcpy(section_of(&f, T_FEATURE), "filez", 5), reseal(&f, T_FEATURE)),
	     "a feature this kvmbox does not have (\"filez\")");
#undef CASE
#undef CASE_
	/* Not a file at all. */
	RUN(&c, "run", "--restore", dir);
	assert_int_equal(c.status, 2);
	RUN(&c, "snapshot", dir);
	assert_int_equal(c.status, 2);
	assert_non_null(strstr(c.err, "not a regular file"));
	free(v.b);
	remove_tree(dir);
	remove_tree(share);
	free(dir);
	free(share);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PER_MODE(test_halfway_in_process),
		PER_MODE(test_halfway_other_process),
		PER_MODE(test_cpu_state_kept),
		cmocka_unit_test(test_mapped_file_is_busy),
		cmocka_unit_test(test_save_option),
		cmocka_unit_test(test_snapshot_call_refusals),
		cmocka_unit_test(test_restore_revalidates),
		cmocka_unit_test(test_several_from_snapshots),
		cmocka_unit_test(test_forks),
		cmocka_unit_test(test_fork_refusals),
		cmocka_unit_test(test_fork_follows_reset_and_write),
		cmocka_unit_test(test_save_refuses_its_own_backing_file),
		cmocka_unit_test(test_hostile_files),
	};

	return cmocka_run_group_tests_name("snapshot", tests, NULL, NULL);
}
