/* The guest's command-line arguments (`kvmbox run IMAGE -- ARG...`, kvmbox_vm_config.argv):
 * kept packed per VM from create on and handed to the guest as a ready argv by
 * KVMBOX_HC_ARGS, which the SDK's start code calls before main(argc, argv). docs/abi.md
 * ("Arguments") is the contract. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mem/mem.h"
#include "base/util.h"
#include "vm/vm.h"
#include "hc/hc.h"

/* A VM's arguments: ARGC strings, each with its NUL, one after the other in TEXT[0..LEN);
 * string I starts at TEXT + OFF[I]. */
struct hc_args {
	uint32_t argc;
	uint32_t len;
	uint16_t off[KVMBOX_ARGC_MAX];
	char text[KVMBOX_ARGS_MAX];
};

/* Check CFG->argv[0..argc) against the ABI's limits (the start code's buffer is sized by
 * them). Returns the bytes of the strings with their NULs, or -errno with ERR set. */
static long args_size(const struct kvmbox_vm_config *cfg, struct kvmbox_error *err)
{
	size_t len = 0;
	unsigned i;

	if (!cfg->argv)
		return set_error(err, EINVAL, "guest arguments: argc is %u but argv is NULL", cfg->argc);
	if (cfg->argc > KVMBOX_ARGC_MAX)
		return set_error(err, E2BIG, "guest arguments: %u strings, at most %d", cfg->argc,
				 KVMBOX_ARGC_MAX);
	for (i = 0; i < cfg->argc; i++) {
		if (!cfg->argv[i])
			return set_error(err, EINVAL, "guest arguments: argv[%u] is NULL", i);
		len += strnlen(cfg->argv[i], KVMBOX_ARGS_MAX) + 1;
		if (len > KVMBOX_ARGS_MAX)
			return set_error(err, E2BIG, "guest arguments: more than %d bytes with their NULs",
					 KVMBOX_ARGS_MAX);
	}
	return (long)len;
}

/* Pack CFG->argv once, so the guest call is one bounded copy. Without arguments the state
 * stays NULL and the guest gets argc = 0. */
static int args_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, void **state,
		     struct kvmbox_error *err)
{
	struct hc_args *a;
	size_t len = 0, n;
	long size;
	unsigned i;

	(void)vm;
	if (!cfg->argc)
		return 0;
	if ((size = args_size(cfg, err)) < 0)
		return (int)size;
	if (!(a = calloc(1, sizeof(*a))))
		return set_error(err, ENOMEM, "guest arguments: out of memory");
	a->argc = cfg->argc;
	a->len = (uint32_t)size;
	for (i = 0; i < cfg->argc; i++) {
		n = strlen(cfg->argv[i]) + 1;
		a->off[i] = (uint16_t)len;
		memcpy(a->text + len, cfg->argv[i], n);
		len += n;
	}
	*state = a;
	return 0;
}

static void args_release(struct kvmbox_vm *vm, void *state)
{
	(void)vm;
	free(state);
}

/* Lay out argv for a guest buffer at BUF in OUT: ARGC + 1 pointers of WIDTH bytes, then
 * the strings. Returns the bytes used. */
static size_t args_layout(const struct hc_args *a, uint32_t argc, gva_t buf, unsigned width,
			  uint8_t *out)
{
	size_t table = (size_t)(argc + 1) * width;
	uint64_t p;

	for (uint32_t i = 0; i <= argc; i++) {
		p = i < argc ? buf + table + a->off[i] : 0;
		memcpy(out + (size_t)i * width, &p, width); /* x86 is little-endian */
	}
	if (argc)
		memcpy(out + table, a->text, a->len);
	return table + (argc ? a->len : 0);
}

/* KVMBOX_HC_ARGS: a ready argv into the guest's buffer, argc into the struct. Every guest
 * address goes through the checked accessors; a refused call writes nothing. */
static int32_t hc_args(struct kvmbox_vm *vm, const struct hc_call *c)
{
	const struct hc_args *a = c->state;
	uint8_t block[KVMBOX_ARGS_BUF_SIZE];
	unsigned width = vm->mode == KVMBOX_MODE_LONG ? 8 : 4;
	struct kvmbox_hc_args req;
	size_t len;

	if (guest_read(vm, c->arg, &req, sizeof(req)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "args: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	req.argc = a ? a->argc : 0;
	len = args_layout(a, req.argc, req.buf, width, block);
	if (len > req.size)
		return vm_bad_call(vm, KVMBOX_ERANGE, "args: buffer of %u bytes, the arguments need %zu",
				   req.size, len);
	if (guest_write(vm, req.buf, block, len) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "args: bad buffer 0x%llx+%zu",
				   (unsigned long long)req.buf, len);
	if (guest_write(vm, c->arg, &req, sizeof(req)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "args: struct not writable");
	return (int32_t)req.argc;
}

static const struct hc_def args_calls[] = {
	{ KVMBOX_HC_ARGS, "args", hc_args },
};

const struct vm_feature hc_args_feature = {
	.name = "args",
	.calls = args_calls,
	.ncalls = ARRAY_SIZE(args_calls),
	.init = args_init,
	.release = args_release,
};
