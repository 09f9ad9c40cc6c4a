/* The one list of features and the walks over it that VM create, reset and destroy make.
 * To add a hypercall group: write src/hc/NAME.c ending in `const struct vm_feature
 * hc_NAME_feature = {...}`, add X(hc_NAME) to FEATURES below and the file to LIB_SRCS. */
#include <errno.h>
#include <string.h>
#include "vm/vm_features.h"
#include "snap/snap_buf.h"
#include "base/log.h"
#include "base/util.h"
#include "vm/vm.h"

/* In init order; release runs backwards. */
#define FEATURES(X) X(hc_console) X(hc_stats) X(hc_files) X(hc_chan) X(hc_args) X(hc_snap) X(hc_hostfn) \
	X(call_exports) X(exc) X(gdb)

#define DECLARE(n) extern const struct vm_feature n##_feature;
FEATURES(DECLARE)
#undef DECLARE

#define ENTRY(n) &n##_feature,
static const struct vm_feature *const features[] = { FEATURES(ENTRY) };
#undef ENTRY

_Static_assert(ARRAY_SIZE(features) <= VM_FEATURES_MAX, "raise VM_FEATURES_MAX");
_Static_assert(ARRAY_SIZE(features) <= UINT8_MAX, "hc_table.owner is a uint8_t");

/* Remember which features hook the run loop: those with a hook and a state. */
static void note_hooks(struct kvmbox_vm *vm, unsigned i)
{
	const struct vm_feature *f = vm->feat[i].desc;

	if (vm->feat[i].state && (f->before_run || f->exit || f->run_end))
		vm->hooked[vm->nhooked++] = (uint8_t)i;
}

int features_init(struct kvmbox_vm *vm, const struct kvmbox_vm_config *cfg, struct kvmbox_error *err)
{
	unsigned i;
	int ret;

	memset(&vm->hc, 0, sizeof(vm->hc));
	vm->nhooked = 0;
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		const struct vm_feature *f = features[i];

		ret = hc_register(&vm->hc, f->calls, f->ncalls, (uint8_t)i);
		if (ret < 0)
			return set_error(err, -ret, "hypercall table: registration failed (%s)", f->name);
		vm->feat[i].desc = f;
		vm->nfeat = i + 1;
		if (f->init) {
			ret = f->init(vm, cfg, &vm->feat[i].state, err);
			if (ret < 0)
				return ret;
		}
		note_hooks(vm, i);
	}
	return 0;
}

void features_before_run(struct kvmbox_vm *vm, const struct kvmbox_run_opts *opts)
{
	for (unsigned k = 0; k < vm->nhooked; k++) {
		struct vm_feature_slot *slot = &vm->feat[vm->hooked[k]];

		if (slot->desc->before_run)
			slot->desc->before_run(vm, slot->state, opts);
	}
}

bool features_exit(struct kvmbox_vm *vm)
{
	for (unsigned k = 0; k < vm->nhooked; k++) {
		struct vm_feature_slot *slot = &vm->feat[vm->hooked[k]];

		if (slot->desc->exit && slot->desc->exit(vm, slot->state))
			return true;
	}
	return false;
}

void features_run_end(struct kvmbox_vm *vm, const struct kvmbox_result *res)
{
	for (unsigned k = 0; k < vm->nhooked; k++) {
		struct vm_feature_slot *slot = &vm->feat[vm->hooked[k]];

		if (slot->desc->run_end)
			slot->desc->run_end(vm, slot->state, res);
	}
}

void features_load(struct kvmbox_vm *vm, const struct kvmbox_image *img)
{
	unsigned i;

	for (i = 0; i < vm->nfeat; i++)
		if (vm->feat[i].desc->load)
			vm->feat[i].desc->load(vm, vm->feat[i].state, img);
}

void features_reset(struct kvmbox_vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->nfeat; i++)
		if (vm->feat[i].desc->reset)
			vm->feat[i].desc->reset(vm, vm->feat[i].state);
}

int features_save(struct kvmbox_vm *vm, struct feature_bytes *out, struct kvmbox_error *err)
{
	unsigned i;

	memset(out, 0, vm->nfeat * sizeof(*out));
	for (i = 0; i < vm->nfeat; i++) {
		const struct vm_feature *f = vm->feat[i].desc;
		struct snap_buf b = { 0 };
		int ret;

		out[i].name = f->name;
		if (!f->save)
			continue;
		ret = f->save(vm, vm->feat[i].state, &b, err);
		if (ret == 0 && b.err)
			ret = set_error(err, b.err, "%s: out of memory", f->name);
		if (ret < 0) {
			sbuf_free(&b);
			features_bytes_free(out, i);
			return ret;
		}
		out[i].data = b.data;
		out[i].len = b.len;
	}
	return 0;
}

void features_bytes_free(struct feature_bytes *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(b[i].data);
		b[i].data = NULL;
		b[i].len = 0;
	}
}

int features_restore(struct kvmbox_vm *vm, const struct feature_bytes *in, unsigned n,
		     struct kvmbox_error *err)
{
	unsigned i, k;

	for (k = 0; k < n; k++) {
		for (i = 0; i < vm->nfeat && strcmp(vm->feat[i].desc->name, in[k].name); i++)
			;
		if (i == vm->nfeat || (in[k].len && !vm->feat[i].desc->restore))
			return set_error(err, ENOEXEC, "the snapshot keeps state of a feature this "
					 "kvmbox does not have (\"%s\")", in[k].name);
	}
	for (i = 0; i < vm->nfeat; i++) {
		const struct vm_feature *f = vm->feat[i].desc;
		const uint8_t *data = NULL;
		size_t len = 0;
		int ret;

		for (k = 0; k < n; k++)
			if (!strcmp(f->name, in[k].name)) {
				data = in[k].data;
				len = in[k].len;
			}
		if (!f->restore)
			continue;
		ret = f->restore(vm, vm->feat[i].state, data, len, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

bool features_known(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (!strcmp(features[i]->name, name))
			return true;
	return false;
}

size_t features_describe(const char *name, const uint8_t *data, size_t len, char *buf, size_t size)
{
	if (size)
		buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (!strcmp(features[i]->name, name) && features[i]->describe && size)
			return features[i]->describe(data, len, buf, size);
	return 0;
}

void features_fork(struct kvmbox_vm *vm, const struct kvmbox_vm *parent)
{
	unsigned i;

	for (i = 0; i < vm->nfeat && i < parent->nfeat; i++)
		if (vm->feat[i].desc->fork)
			vm->feat[i].desc->fork(vm, vm->feat[i].state, parent, parent->feat[i].state);
}

void features_release(struct kvmbox_vm *vm)
{
	/* The slot stays visible while its release runs: a release may look its state up. */
	while (vm->nfeat) {
		struct vm_feature_slot *slot = &vm->feat[vm->nfeat - 1];

		if (slot->desc->release)
			slot->desc->release(vm, slot->state);
		*slot = (struct vm_feature_slot){ 0 };
		vm->nfeat--;
	}
	vm->nhooked = 0;
}
