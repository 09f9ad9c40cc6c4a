/* The guest's command-line arguments (`kvmbox run IMAGE -- ARG...`, kvmbox_vm_config.argv):
 * kept packed per VM from create on and copied into the guest by KVMBOX_HC_ARGS, which the
 * SDK's start code calls before main(argc, argv). docs/abi.md ("Arguments") is the contract. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../mem.h"
#include "../util.h"
#include "../vm.h"
#include "hc.h"

/* A VM's arguments: ARGC strings, each with its NUL, one after the other in TEXT[0..LEN). */
struct hc_args {
	uint32_t argc;
	uint32_t len;
	char text[];
};

/* Pack CFG->argv[0..argc) once, so the guest call is one bounded copy. Arguments beyond
 * the ABI's limits fail the create: the start code's buffers are sized by them. Without
 * arguments the state stays NULL and the guest gets argc = 0. */
static int args_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, void **state,
		     struct kvmbox_error *err)
{
	struct hc_args *a;
	size_t len = 0, n;
	unsigned i;

	(void)vm;
	if (!cfg->argc)
		return 0;
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
	if (!(a = malloc(sizeof(*a) + len)))
		return set_error(err, ENOMEM, "guest arguments: out of memory");
	a->argc = cfg->argc;
	a->len = (uint32_t)len;
	for (i = 0, len = 0; i < cfg->argc; i++) {
		n = strlen(cfg->argv[i]) + 1;
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

/* KVMBOX_HC_ARGS: the packed strings into the guest's buffer, argc into the struct. Every
 * guest address goes through the checked accessors; a refused call writes nothing. */
static int32_t hc_args(struct kvmbox_vm *vm, const struct hc_call *c)
{
	const struct hc_args *a = c->state;
	struct kvmbox_hc_args req;
	uint32_t len = a ? a->len : 0;

	if (guest_read(vm, c->arg, &req, sizeof(req)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "args: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	if (len > req.size)
		return vm_bad_call(vm, KVMBOX_ERANGE, "args: buffer of %u bytes, the arguments need %u",
				   req.size, len);
	if (len && guest_write(vm, req.buf, a->text, len) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "args: bad buffer 0x%llx+%u",
				   (unsigned long long)req.buf, len);
	req.argc = a ? a->argc : 0;
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
