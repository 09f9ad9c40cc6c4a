/* Images, VM creation and the after-run words shared by the single-VM run (cli/single.c)
 * and the scheduled run (cli/multi.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "kvmbox/snapshot.h"
#include "doctor.h"
#include "load.h"
#include "status.h"

/* The classic hello guest's contract, checked after it halts. */
#define HELLO_RESULT 42
#define HELLO_RESULT_ADDR 0x400

extern const uint8_t kvmbox_hello_real[], kvmbox_hello_real_end[];
extern const uint8_t kvmbox_hello_protected[], kvmbox_hello_protected_end[];
extern const uint8_t kvmbox_hello_paged32[], kvmbox_hello_paged32_end[];
extern const uint8_t kvmbox_hello_long[], kvmbox_hello_long_end[];

static const struct {
	const uint8_t *start, *end;
} builtin_hello[KVMBOX_MODE_COUNT] = {
	[KVMBOX_MODE_REAL] = { kvmbox_hello_real, kvmbox_hello_real_end },
	[KVMBOX_MODE_PROTECTED] = { kvmbox_hello_protected, kvmbox_hello_protected_end },
	[KVMBOX_MODE_PAGED32] = { kvmbox_hello_paged32, kvmbox_hello_paged32_end },
	[KVMBOX_MODE_LONG] = { kvmbox_hello_long, kvmbox_hello_long_end },
};

int cli_image_read(const struct vm_opts *v, uint8_t **file, struct kvmbox_image *img,
		   enum kvmbox_mode *mode)
{
	struct kvmbox_error err = { "" };
	enum kvmbox_mode m = v->mode ? v->mode : KVMBOX_MODE_LONG;
	const uint8_t *data = builtin_hello[m].start;
	size_t size = (size_t)(builtin_hello[m].end - builtin_hello[m].start);
	const char *what = v->image ? v->image : "built-in hello";

	*file = NULL;
	if (v->image) {
		if (kvmbox_image_read_file(v->image, file, &size, &err) < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return EXIT_USAGE;
		}
		data = *file;
	}
	if (kvmbox_image_parse(img, data, size, v->flat, v->load, v->entry, &err) < 0) {
		fprintf(stderr, "kvmbox: %s: %s\n", what, err.msg);
		return EXIT_USAGE;
	}
	if (img->mode == KVMBOX_MODE_AUTO && !v->mode) {
		fprintf(stderr, "kvmbox: %s: a flat binary needs --mode (real, protected, paged32, long)\n",
			what);
		return EXIT_USAGE;
	}
	if (img->mode != KVMBOX_MODE_AUTO && v->mode && v->mode != img->mode) {
		fprintf(stderr, "kvmbox: %s: a %s-mode image runs in %s mode only, not %s (an ELF "
			"runs in its own mode)\n", what, kvmbox_mode_name(img->mode),
			kvmbox_mode_name(img->mode), kvmbox_mode_name(v->mode));
		return EXIT_USAGE;
	}
	/* A built-in image is part of this program: fault reports may read it in place. */
	img->data_kept = !v->image;
	*mode = v->mode ? v->mode : img->mode;
	return EXIT_OK;
}

int cli_vm_start(const struct kvmbox_vm_config *cfg, const struct kvmbox_image *img,
		 const char *who, struct kvmbox_vm **vmp)
{
	struct kvmbox_error err = { "" };
	int ret;

	ret = kvmbox_vm_create(vmp, cfg, &err);
	if (ret < 0 && cfg->gdb && !strncmp(err.msg, "gdb ", 4)) {
		fprintf(stderr, "kvmbox: %s\n", err.msg);
		return EXIT_USAGE; /* the address given: in use, unknown host, bad port */
	}
	if (ret < 0) {
		if (doctor_say_no_kvm())
			return EXIT_NO_KVM;
		fprintf(stderr, "kvmbox: %s: %s\n", who, err.msg);
		return EXIT_HOST; /* options and paths were checked already: this is KVM or the host */
	}
	/* Probed with the VM already open: creating a second VM is much cheaper than the first. */
	if (cfg->mode == KVMBOX_MODE_PAGED32) {
		ret = kvmbox_host_supports_mode(cfg->mode, &err);
		if (ret < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return EXIT_HOST;
		}
		if (ret == 0) { /* which VM, and where it runs: the QEMU lane has every mode */
			fprintf(stderr, "kvmbox: %s: %s; scripts/kvm-in-qemu runs it under a real KVM "
				"(from the source tree: docs/realkvm.md)\n", who, err.msg);
			return EXIT_UNSUPPORTED;
		}
	}
	if (kvmbox_vm_load(*vmp, img, &err) < 0) {
		fprintf(stderr, "kvmbox: %s: %s\n", who, err.msg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* After a refused restore: the status of what went wrong, its line said. */
static int restore_failed(int ret, const char *who, const char *msg)
{
	switch (-ret) {
	case ENOEXEC: case ENOENT: case EROFS: case EMFILE: case ENOTDIR: case EISDIR:
	case EACCES: case EXDEV: case ELOOP: case EINVAL:
		/* The file, or what the command line gives it (its mode, memory, share). */
		fprintf(stderr, "kvmbox: %s: %s\n", who, msg);
		return EXIT_USAGE;
	case ENOTSUP:
		fprintf(stderr, "kvmbox: %s: %s\n", who, msg);
		return EXIT_UNSUPPORTED;
	default:
		if (doctor_say_no_kvm())
			return EXIT_NO_KVM;
		fprintf(stderr, "kvmbox: %s: %s\n", who, msg);
		return EXIT_HOST;
	}
}

int cli_vm_restore(const struct kvmbox_vm_config *cfg, const struct vm_opts *v, bool copy,
		   const char *who, struct kvmbox_vm **vmp)
{
	struct kvmbox_vm_config c = *cfg;
	struct kvmbox_error err = { "" };
	const char *path = v->restore;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		fprintf(stderr, "kvmbox: %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	c.mode = v->mode; /* AUTO: the snapshot's; another mode is refused */
	ret = kvmbox_vm_restore(vmp, &c, fd, copy ? KVMBOX_RESTORE_COPY : 0, &err);
	close(fd);
	if (ret < 0)
		return restore_failed(ret, who, err.msg);
	if (kvmbox_vm_mode(*vmp) == KVMBOX_MODE_PAGED32) {
		ret = kvmbox_host_supports_mode(KVMBOX_MODE_PAGED32, &err);
		if (ret < 0) {
			fprintf(stderr, "kvmbox: %s\n", err.msg);
			return EXIT_HOST;
		}
		if (ret == 0) {
			fprintf(stderr, "kvmbox: %s: a paged32-mode snapshot: %s; scripts/kvm-in-qemu runs "
				"it under a real KVM (from the source tree: docs/realkvm.md)\n", who, err.msg);
			return EXIT_UNSUPPORTED;
		}
	}
	return EXIT_OK;
}

int cli_save_after(struct kvmbox_vm *vm, const char *who, const char *file, int fd, int status,
		   uint64_t asked_before)
{
	struct kvmbox_error err = { "" };

	if (kvmbox_vm_stats(vm)->snapshots > asked_before) {
		fprintf(stderr, "kvmbox: %s: %s holds the snapshot the guest asked for\n", who, file);
		return status;
	}
	if (kvmbox_vm_save(vm, fd, &err) < 0) {
		fprintf(stderr, "kvmbox: %s: not saved into %s: %s\n", who, file, err.msg);
		return status == EXIT_OK ? EXIT_HOST : status;
	}
	fprintf(stderr, "kvmbox: %s: saved into %s (--restore %s goes on from there)\n", who, file,
		file);
	return status;
}

unsigned cli_guest_argv(const struct vm_opts *v, const char **argv)
{
	argv[0] = v->image ? v->image : "hello";
	for (unsigned i = 0; i < v->nargs; i++)
		argv[i + 1] = v->args[i];
	return v->nargs + 1;
}

int cli_check_hello(const struct kvmbox_vm *vm, bool quiet)
{
	uint64_t rax = kvmbox_vm_regs(vm)->rax;
	uint32_t mem = 0;

	kvmbox_vm_read(vm, HELLO_RESULT_ADDR, &mem, sizeof(mem));
	if (rax != HELLO_RESULT) {
		fprintf(stderr, "kvmbox: Wrong result: RAX is %llu (expected %d)\n",
			(unsigned long long)rax, HELLO_RESULT);
		return EXIT_CHECK;
	}
	if (mem != HELLO_RESULT) {
		fprintf(stderr, "kvmbox: Wrong result: memory at 0x%x is %u (expected %d)\n",
			HELLO_RESULT_ADDR, mem, HELLO_RESULT);
		return EXIT_CHECK;
	}
	if (!quiet) {
		char line[96];

		/* Formatted here and written whole: fprintf to the unbuffered stderr formats
		 * through an 8 KiB buffer on the stack, new stack pages at every hello's end. */
		snprintf(line, sizeof(line), "kvmbox: %s mode: Ok (rax = %llu, memory[0x%x] = %u)\n",
			 kvmbox_mode_name(kvmbox_vm_mode(vm)), (unsigned long long)rax,
			 HELLO_RESULT_ADDR, mem);
		fputs(line, stderr);
	}
	return EXIT_OK;
}

void cli_print_regs(const struct kvmbox_vm *vm)
{
	char buf[2048];
	size_t n = kvmbox_vm_format_regs(vm, buf, sizeof(buf));

	fputs(buf, stderr);
	if (n && buf[n - 1] != '\n')
		fputc('\n', stderr);
}

void cli_print_stats(const struct kvmbox_vm *vm)
{
	const struct kvmbox_stats *s = kvmbox_vm_stats(vm);
	unsigned r;

	fprintf(stderr, "exits: %llu (KVM_RUN calls: %llu, time in guest: %.3f ms)\n",
		(unsigned long long)s->exits, (unsigned long long)s->runs, (double)s->guest_ns / 1e6);
	for (r = 0; r < KVMBOX_EXIT_REASONS; r++)
		if (s->by_reason[r])
			fprintf(stderr, "  %-22s %llu\n", kvmbox_exit_name(r),
				(unsigned long long)s->by_reason[r]);
	fprintf(stderr, "  I/O in %llu, out %llu; hypercalls %llu, bad %llu\n",
		(unsigned long long)s->io_in, (unsigned long long)s->io_out,
		(unsigned long long)s->hypercalls, (unsigned long long)s->bad_calls);
	fprintf(stderr, "  console bytes %llu (%llu without an exit)\n",
		(unsigned long long)s->console_bytes, (unsigned long long)s->coalesced_bytes);
}

/* Closing a VM while its process lives costs more than leaving it to the exit: KVM then stops
 * the VM's helper thread (the huge-page recovery worker a first KVM_RUN started) and waits for
 * it, and waits out an SRCU grace period when it lets go of the process's memory. At the
 * exit the thread is already gone with the others and the memory with the process: the
 * same teardown without the waits, ~30 us of a hello run on a nested host
 * (docs/performance.md). Nothing is lost: the console was flushed when the run ended, and
 * every descriptor closes with the process. */
void cli_vm_leave(struct kvmbox_vm *vm)
{
#ifdef KVMBOX_SANITIZE
	kvmbox_vm_destroy(vm);
#else
	(void)vm;
#endif
}
