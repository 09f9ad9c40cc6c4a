/* Host functions: C functions an embedder registers by name (kvmbox_vm_host_fn,
 * include/kvmbox/call.h), which the guest calls with KVMBOX_HC_HOST_CALL, one exit a call.
 * The registry is the feature's state, made by the first registration; every guest pointer a
 * host function follows goes through the checked accessors of src/mem/. docs/abi.md, "Host
 * functions". */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "kvmbox/call.h"
#include "base/util.h"
#include "mem/mem.h"
#include "vm/vm.h"
#include "hc/hc.h"
#include "image/image.h"

struct hostfn {
	char name[KVMBOX_HOST_FN_NAME_MAX + 1];
	kvmbox_host_fn fn;
	void *ctx;
};

struct hostfn_state {
	unsigned n, cap;
	struct hostfn *fns; /* in registration order */
};

struct kvmbox_host_call {
	struct kvmbox_vm *vm;
	const char *name;
	unsigned nargs;
	uint64_t args[KVMBOX_HOST_CALL_ARGS_MAX];
};

const struct vm_feature hc_hostfn_feature;

static const struct hostfn *find(const struct hostfn_state *st, const char *name)
{
	for (unsigned i = 0; st && i < st->n; i++)
		if (!strcmp(st->fns[i].name, name))
			return &st->fns[i];
	return NULL;
}

/* What a name may hold: the characters of a C or assembler symbol, as export names. */
static bool good_name(const char *name)
{
	size_t len = name ? strnlen(name, KVMBOX_HOST_FN_NAME_MAX + 1) : 0;

	if (len == 0 || len > KVMBOX_HOST_FN_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!image_name_char(name[i]))
			return false;
	return true;
}

int kvmbox_vm_host_fn(struct kvmbox_vm *vm, const char *name, kvmbox_host_fn fn, void *ctx,
		      struct kvmbox_error *err)
{
	struct hostfn_state *st;

	if (!vm || !fn)
		return set_error(err, EINVAL, "kvmbox_vm_host_fn: NULL %s", vm ? "function" : "VM");
	if (!good_name(name))
		return set_error(err, EINVAL, "kvmbox_vm_host_fn: a host function's name is 1 to %d "
				 "letters, digits, '_', '.' or '$'", KVMBOX_HOST_FN_NAME_MAX);
	st = vm_feature_state(vm, &hc_hostfn_feature);
	if (find(st, name))
		return set_error(err, EEXIST, "kvmbox_vm_host_fn: %s is already registered", name);
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return set_error(err, ENOMEM, "out of memory");
		vm_feature_set_state(vm, &hc_hostfn_feature, st);
	}
	if (st->n == KVMBOX_HOST_FNS_MAX)
		return set_error(err, ENOSPC, "kvmbox_vm_host_fn: %d host functions already",
				 KVMBOX_HOST_FNS_MAX);
	if (st->n == st->cap) {
		unsigned cap = st->cap ? st->cap * 2 : 8;
		struct hostfn *fns = realloc(st->fns, cap * sizeof(*fns));

		if (!fns)
			return set_error(err, ENOMEM, "out of memory");
		st->fns = fns;
		st->cap = cap;
	}
	memset(&st->fns[st->n], 0, sizeof(st->fns[st->n]));
	strcpy(st->fns[st->n].name, name); /* good_name bounded it */
	st->fns[st->n].fn = fn;
	st->fns[st->n].ctx = ctx;
	st->n++;
	return 0;
}

/* KVMBOX_HC_HOST_CALL: read the request, find the function, call it, write its result back.
 * An unknown name is an answer (-ENOENT), not a malformed call: a guest may look for an
 * optional host function. */
static int32_t hc_host_call(struct kvmbox_vm *vm, const struct hc_call *c)
{
	struct kvmbox_hc_host_call req;
	char name[KVMBOX_HOST_FN_NAME_MAX + 1];
	struct kvmbox_host_call hc = { .vm = vm, .name = name };
	const struct hostfn *f;
	int64_t ret;
	int n;

	/* Readable and writable before the function runs: its result must reach the guest. */
	if (guest_check(vm, c->arg, sizeof(req), true) < 0 || guest_read(vm, c->arg, &req, sizeof(req)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "host_call: bad struct address 0x%llx",
				   (unsigned long long)c->arg);
	if (req.nargs > KVMBOX_HOST_CALL_ARGS_MAX)
		return vm_bad_call(vm, KVMBOX_EINVAL, "host_call: %u arguments (at most %d)", req.nargs,
				   KVMBOX_HOST_CALL_ARGS_MAX);
	n = guest_read_str(vm, req.name, name, sizeof(name));
	if (n < 0)
		return vm_bad_call(vm, n == -KVMBOX_EFAULT ? KVMBOX_EFAULT : KVMBOX_EINVAL,
				   "host_call: %s", n == -KVMBOX_EFAULT ? "bad name address"
				   : "a name longer than 63 bytes");
	f = find(c->state, name);
	if (!f)
		return -KVMBOX_ENOENT;
	hc.nargs = req.nargs;
	memcpy(hc.args, req.args, sizeof(hc.args));
	ret = f->fn(&hc, f->ctx);
	if (guest_write(vm, c->arg + offsetof(struct kvmbox_hc_host_call, ret), &ret, sizeof(ret)) < 0)
		return vm_bad_call(vm, KVMBOX_EFAULT, "host_call: the struct at 0x%llx became unwritable",
				   (unsigned long long)c->arg);
	return 0;
}

struct kvmbox_vm *kvmbox_host_call_vm(const struct kvmbox_host_call *hc)
{
	return hc->vm;
}

const char *kvmbox_host_call_name(const struct kvmbox_host_call *hc)
{
	return hc->name;
}

unsigned kvmbox_host_call_nargs(const struct kvmbox_host_call *hc)
{
	return hc->nargs;
}

uint64_t kvmbox_host_call_arg(const struct kvmbox_host_call *hc, unsigned i)
{
	return i < hc->nargs ? hc->args[i] : 0;
}

int kvmbox_host_call_read(const struct kvmbox_host_call *hc, kvmbox_gva_t gva, void *buf, size_t len)
{
	return guest_read(hc->vm, gva, buf, len) < 0 ? -EFAULT : 0;
}

int kvmbox_host_call_write(struct kvmbox_host_call *hc, kvmbox_gva_t gva, const void *buf, size_t len)
{
	return guest_write(hc->vm, gva, buf, len) < 0 ? -EFAULT : 0;
}

int kvmbox_host_call_read_str(const struct kvmbox_host_call *hc, kvmbox_gva_t gva, char *buf,
			      size_t size)
{
	int n = guest_read_str(hc->vm, gva, buf, size);

	if (n == -KVMBOX_EFAULT)
		return -EFAULT;
	return n < 0 ? -ENAMETOOLONG : n;
}

static void hostfn_release(struct kvmbox_vm *vm, void *state)
{
	struct hostfn_state *st = state;

	(void)vm;
	if (st)
		free(st->fns);
	free(st);
}

static const struct hc_def hostfn_calls[] = {
	{ KVMBOX_HC_HOST_CALL, "host_call", hc_host_call },
};

/* The registry is the embedder's, not the guest's: resets, reset points and snapshots keep
 * it as it is (no reset, save or restore hook). A fork gets none: its embedder registers
 * its own. */
const struct vm_feature hc_hostfn_feature = {
	.name = "hostfn",
	.calls = hostfn_calls,
	.ncalls = ARRAY_SIZE(hostfn_calls),
	.release = hostfn_release,
};
