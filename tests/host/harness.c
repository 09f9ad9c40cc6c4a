/* Test harness: run guests through the library with captured consoles; host-limit skips. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "harness.h"

const enum kvmbox_mode all_modes[4] = { KVMBOX_MODE_REAL, KVMBOX_MODE_PROTECTED,
					KVMBOX_MODE_PAGED32, KVMBOX_MODE_LONG };

const char *build_path(const char *rel)
{
	static char buf[4][512];
	static int next;
	const char *dir = getenv("BUILD");
	char *b = buf[next++ % 4];

	snprintf(b, sizeof(buf[0]), "%s/%s", dir && *dir ? dir : "build", rel);
	return b;
}

const char *guest_image(const char *prefix, enum kvmbox_mode mode)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "guests/%s-%s.elf", prefix, kvmbox_mode_name(mode));
	return build_path(rel);
}

static void capture(void *ctx, const char *buf, size_t len)
{
	struct guest_run *r = ctx;
	size_t room = sizeof(r->out) - 1 - r->out_len;

	if (len > room)
		len = room;
	memcpy(r->out + r->out_len, buf, len);
	r->out_len += len;
	r->out[r->out_len] = 0;
}

uint8_t *read_whole_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(n > 0 ? (size_t)n : 1);
	*size = data ? fread(data, 1, (size_t)n, f) : 0;
	fclose(f);
	if (data && *size != (size_t)n) {
		free(data);
		data = NULL;
	}
	return data;
}

void guest_prepare(struct guest_run *r, const struct guest_spec *spec)
{
	struct kvmbox_vm_config cfg = {
		.name = spec->path, .mem_size = spec->mem, .flags = spec->flags,
		.console = capture, .console_ctx = r, .share_dir = spec->share,
		.share_readonly = spec->share_ro, .max_open_files = spec->max_open_files,
		.coalesce_after = spec->coalesce_after,
	};
	struct kvmbox_image img;
	uint8_t *data = NULL;
	size_t size = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	data = read_whole_file(spec->path, &size);
	if (!data)
		fail_msg("cannot read guest image %s (did `make guests` run?)", spec->path);
	ret = kvmbox_image_parse(&img, data, size, spec->flat, spec->load_addr, spec->load_addr, &r->err);
	if (ret < 0) {
		free(data);
		fail_msg("%s: %s", spec->path, r->err.msg);
	}
	cfg.mode = spec->mode ? spec->mode : img.mode;
	ret = kvmbox_vm_create(&r->vm, &cfg, &r->err);
	if (ret < 0) {
		free(data);
		fail_msg("kvmbox_vm_create: %s", r->err.msg);
	}
	ret = kvmbox_vm_load(r->vm, &img, &r->err);
	free(data);
	if (ret < 0)
		fail_msg("kvmbox_vm_load: %s", r->err.msg);
	r->st = kvmbox_vm_stats(r->vm);
}

void guest_start(struct guest_run *r, const struct guest_spec *spec)
{
	struct kvmbox_run_opts opts = { .flags = KVMBOX_RUN_STOP_AT_DEADLINE };
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	opts.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
			   (uint64_t)((spec->timeout > 0 ? spec->timeout : 10.0) * 1e9);
	assert_int_equal(kvmbox_vm_run(r->vm, &opts, &r->res), 0);
}

void guest_run(struct guest_run *r, const struct guest_spec *spec)
{
	guest_prepare(r, spec);
	guest_start(r, spec);
}

void guest_run_free(struct guest_run *r)
{
	kvmbox_vm_destroy(r->vm);
	r->vm = NULL;
}

int in_realkvm_lane(void)
{
	const char *lane = getenv("KVMBOX_LANE");

	return lane && strcmp(lane, "realkvm") == 0;
}

void skip_unless_host_runs(enum kvmbox_mode mode)
{
	static int known[KVMBOX_MODE_COUNT]; /* 0 unknown, 1 yes, 2 no */
	static char why[KVMBOX_MODE_COUNT][256];
	struct kvmbox_error err = { "" };

	if (!known[mode]) {
		int ret = kvmbox_host_supports_mode(mode, &err);

		if (ret < 0)
			fail_msg("probing %s mode: %s", kvmbox_mode_name(mode), err.msg);
		known[mode] = ret ? 1 : 2;
		snprintf(why[mode], sizeof(why[mode]), "%s", err.msg);
	}
	if (known[mode] == 2) {
		/* The lane exists to run every mode: a refusal there is a failure, not a skip. */
		if (in_realkvm_lane())
			fail_msg("real-KVM lane cannot run %s mode: %s", kvmbox_mode_name(mode), why[mode]);
		printf("SKIP: %s mode: %s\n", kvmbox_mode_name(mode), why[mode]);
		skip();
	}
}

int marker_line(const char *file, const char *marker)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, marker)) {
			fclose(f);
			return n + 1;
		}
	}
	fclose(f);
	return -1;
}

void read_all_fd(int fd, char *buf, size_t max)
{
	size_t len = 0;
	ssize_t n;

	while (len < max - 1 && (n = read(fd, buf + len, max - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fd);
}

extern char **environ;

void run_command(struct cli *c, const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	int out[2], err[2], st;
	pid_t pid;

	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	posix_spawn_file_actions_addclose(&fa, err[0]);
	assert_int_equal(posix_spawnp(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	read_all_fd(out[0], c->out, sizeof(c->out)); /* small outputs: the pipe never fills both */
	read_all_fd(err[0], c->err, sizeof(c->err));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	c->status = WEXITSTATUS(st);
}

void run_cli(struct cli *c, const char *const *args)
{
	const char *argv[48] = { build_path("kvmbox") };
	int i;

	for (i = 0; args[i]; i++) {
		assert_true(i + 2 < (int)(sizeof(argv) / sizeof(argv[0])));
		argv[i + 1] = args[i];
	}
	run_command(c, argv);
}

void capture_console(void *ctx, const char *buf, size_t len)
{
	struct out *o = ctx;

	if (len > sizeof(o->buf) - 1 - o->len)
		len = sizeof(o->buf) - 1 - o->len;
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	o->buf[o->len] = 0;
}
