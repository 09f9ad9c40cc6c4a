/* A small embedding program, built out of tree against an installed kvmbox with only
 * `pkg-config --cflags --libs kvmbox` (tests/install/run.sh; docs/embedding.md shows it): it
 * loads IMAGE (e.g. build/guests/hello-long.elf) into a VM whose config is zero but for the
 * mode, so the guest's console goes to stdout, runs it and checks what the built-in hello
 * check checks. Its own words go to stderr, so stdout is the guest's alone. Exit status: 0
 * pass, 1 fail, 77 no usable /dev/kvm. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <kvmbox/kvmbox.h>

#define HELLO_RESULT 42
#define HELLO_RESULT_ADDR 0x400

/* The guest halted with 42 in rax and at guest address 0x400. */
static int check(const struct kvmbox_vm *vm, const struct kvmbox_result *res)
{
	uint32_t mem = 0;

	if (res->stop != KVMBOX_STOP_HALT) {
		fprintf(stderr, "embed: the guest did not halt (stop %d: %s)\n", res->stop, res->msg);
		return 1;
	}
	if (kvmbox_vm_regs(vm)->rax != HELLO_RESULT ||
	    kvmbox_vm_read(vm, HELLO_RESULT_ADDR, &mem, sizeof(mem)) < 0 || mem != HELLO_RESULT) {
		fprintf(stderr, "embed: rax %llu, memory[0x%x] %u (expected %d)\n",
			(unsigned long long)kvmbox_vm_regs(vm)->rax, HELLO_RESULT_ADDR, mem,
			HELLO_RESULT);
		return 1;
	}
	return 0;
}

static int run_image(const struct kvmbox_image *img, const char *path)
{
	struct kvmbox_vm_config cfg = { .name = path, .mode = img->mode }; /* console: stdout */
	struct kvmbox_error err = { "" };
	struct kvmbox_result res;
	struct kvmbox_vm *vm;
	int ret;

	ret = kvmbox_vm_create(&vm, &cfg, &err);
	if (ret < 0) {
		fprintf(stderr, "embed: %s\n", err.msg);
		return ret == -ENODEV || ret == -EACCES ? 77 : 1;
	}
	if (kvmbox_vm_load(vm, img, &err) < 0) {
		fprintf(stderr, "embed: %s: %s\n", path, err.msg);
		kvmbox_vm_destroy(vm);
		return 1;
	}
	ret = kvmbox_vm_run(vm, NULL, &res);
	ret = ret < 0 ? 1 : check(vm, &res);
	kvmbox_vm_destroy(vm);
	return ret;
}

int main(int argc, char **argv)
{
	struct kvmbox_error err = { "" };
	struct kvmbox_image img;
	uint8_t *data;
	size_t size;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: embed IMAGE\n");
		return 1;
	}
	if (kvmbox_image_read_file(argv[1], &data, &size, &err) < 0 ||
	    kvmbox_image_parse(&img, data, size, false, 0, 0, &err) < 0) {
		fprintf(stderr, "embed: %s\n", err.msg);
		return 1;
	}
	ret = run_image(&img, argv[1]);
	free(data);
	if (ret == 0)
		fprintf(stderr, "embed: %s: %s mode: halted, rax = memory[0x%x] = %d\n", argv[1],
			kvmbox_mode_name(img.mode), HELLO_RESULT_ADDR, HELLO_RESULT);
	return ret;
}
